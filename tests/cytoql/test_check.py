"""Checker and plan: only QueryError escapes compile, units convert, plans share."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql import plan as p
from cytoql.api import compile, schema_of
from cytoql.catalog.neighbourhoods import CountWithin
from cytoql.errors import QueryError, QueryNameError, QueryTypeError
from cytoql.printer import to_text
from query_strategies import programs
from cookbook import cookbook

DATA = Path(__file__).parents[2] / "cytoql/datasets/data/cosmx_kidney.h5ad"
SCHEMA = schema_of(ad.read_h5ad(DATA))
QUERIES = sorted(cookbook().values())


def _compiles_or_query_error(text):
    try:
        compile(text, SCHEMA)
    except QueryError:
        pass


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(QUERIES))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 8)))
        piece = draw(st.sampled_from(["", "(", ")", ",", " where ", " within ", "um", "0",
                                      '"', "->", " nearest ", "k = ", "-", "==", "by", "x",
                                      "cells", "type", ";", "\n", "mm2", "1e9", ".."]))
        text = text[:i] + piece + text[j:]
    return text


@given(mutated())
def test_mutated_cookbook_queries_raise_only_query_error(text):
    _compiles_or_query_error(text)


@given(programs)
def test_grammar_drawn_programs_raise_only_query_error(prog):
    _compiles_or_query_error(to_text(prog))


@given(st.text(max_size=40))
def test_random_text_raises_only_query_error(text):
    _compiles_or_query_error(text)


def test_unit_literals_convert_to_micrometres():
    def radius(text):
        (op,) = [o for o in compile(text, SCHEMA).ops() if isinstance(o, CountWithin)]
        return op.radius

    assert radius("mean(count(cells within 30 um))") == 30.0
    assert radius("mean(count(cells within 30µm))") == 30.0
    assert radius("mean(count(cells within 0.1 mm))") == pytest.approx(100.0)
    assert radius("mean(count(cells within 1500 nm))") == pytest.approx(1.5)
    assert radius("mean(count(cells within 10 um + 0.01 mm))") == pytest.approx(20.0)


def test_equal_subexpressions_are_one_plan_node():
    plan = compile('let A = cells where type == "PCT"\n'
                   "mean(count(A within 30 um) + count(A within 30 um))", SCHEMA)
    ops = plan.ops()
    assert sum(isinstance(o, CountWithin) for o in ops) == 1
    assert sum(isinstance(o, p.Filter) for o in ops) == 1


def test_adding_a_length_to_a_count_is_a_compile_error():
    with pytest.raises(QueryTypeError) as info:
        compile("mean(distance(cells -> nearest cells) + count(cells within 30 um))", SCHEMA)
    assert [d.code for d in info.value.diagnostics] == ["E0304"]


def test_an_unknown_name_does_not_cascade_into_type_errors():
    with pytest.raises(QueryNameError) as info:
        compile("mean(distance(Tcells -> nearest cells) + 3 um) > 2 um", SCHEMA)
    assert [d.code for d in info.value.diagnostics] == ["E0201"]


def test_plan_records_defaults_and_conventions():
    plan = compile("mean(distance(cells -> nearest cells))", SCHEMA)
    assert plan.defaults == ("distance: k = 1",)
    assert any("never its own nearest neighbour" in c for c in plan.conventions)
    assert "NearestDistance" in plan.explain()


@pytest.mark.parametrize("text, fix", [("density(cells) > 3", " cells/mm2"),
                                       ("mean(distance(cells -> nearest cells)) > 30", " um")])
def test_a_bare_number_compared_with_a_quantity_gets_the_report_unit(text, fix):
    with pytest.raises(QueryTypeError) as info:
        compile(text, SCHEMA)
    (diag,) = info.value.diagnostics
    assert diag.code == "E0303" and diag.suggestions[0].replacement == fix
    fixed = text[:diag.suggestions[0].span.start] + fix + text[diag.suggestions[0].span.end:]
    compile(fixed, SCHEMA)


def test_compile_against_an_anndata_says_to_pass_its_schema():
    from cytoql.datasets import cosmx_kidney

    with pytest.raises(TypeError, match=r"checks against a Schema, got AnnData: pass "
                                        r"cytoql.schema_of\(adata\)"):
        compile("count(cells)", cosmx_kidney())
