"""Each code's failing example raises that code; its fixed example is clean."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import anndata as ad
import pytest

import cytoql
from cytoql.api import compile, schema_of
from cytoql.diagnostics.codes import CODES
from cytoql.errors import EvaluationError, QueryError

DATA = Path(__file__).parents[3] / "cytoql/datasets/data/cosmx_kidney.h5ad"


@pytest.fixture(scope="module")
def kidney():
    return ad.read_h5ad(DATA)


@pytest.fixture(scope="module")
def schema(kidney):
    return schema_of(kidney)


@pytest.mark.parametrize("code", [c for c in CODES if c[:3] in ("E01", "E02", "E03") or c == "E0402"])
def test_failing_example_raises_its_code_and_fixed_example_compiles(schema, code):
    entry = CODES[code]
    failing = entry.failing.split("  #")[0]
    if code == "E0108":  # too long to print: the comment says what it stands for
        failing = 'count(cells where type in (' + '"PCT", ' * 3000 + '"PCT"))'
    if code == "E0402":
        schema = dataclasses.replace(schema, type_key=None)
    with pytest.raises(QueryError) as info:
        compile(failing, schema)
    assert code in [d.code for d in info.value.diagnostics]
    fixed = dataclasses.replace(schema, type_key="cell_type") if code == "E0402" else schema
    compile(entry.fixed, fixed)


def test_k_larger_than_the_set_is_a_runtime_error_with_a_span(kidney):
    entry = CODES["E0401"]
    with pytest.raises(EvaluationError) as info:
        cytoql.query(kidney, entry.failing)
    (diag,) = info.value.diagnostics
    assert diag.code == "E0401"
    assert entry.failing[diag.span.start:diag.span.end].startswith("distance(")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cytoql.query(kidney, entry.fixed)


@pytest.mark.parametrize("code", ["W0501", "W0502"])
def test_warning_examples_warn_and_give_nan_where_empty(kidney, code):
    text = CODES[code].failing.split("  #")[0]
    with pytest.warns(cytoql.EmptySelectionWarning, match=code):
        result = cytoql.query(kidney, text)
    assert any(w.code == code for w in result.warnings)
