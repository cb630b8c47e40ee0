"""The fuzzer: any text compiles to a Plan or raises a QueryError whose spans lie in
the text; a compiled plan runs or raises a CytoQLError that is not an InternalError.

Inputs: texts drawn from the grammar, cookbook queries with tokens mutated, and with
bytes mutated. The budget scales with the hypothesis profile: ``ci`` (the default)
keeps the file at ~25 s here, ``HYPOTHESIS_PROFILE=thorough`` runs ~16x more.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from cookbook import cookbook
from cytoql.api import compile, query, schema_of
from cytoql.catalog import builtins
from cytoql.errors import CytoQLError, InternalError, QueryError
from query_strategies import byte_mutated_queries, grammar_queries, mutated_queries

KIDNEY = ad.read_h5ad(Path(__file__).parents[2] / "cytoql/datasets/data/cosmx_kidney.h5ad")
SCHEMA = schema_of(KIDNEY)
# A few hundred cells of the kidney data: the same schema, so that fuzzed queries that
# check also run, quickly.
SMALL = KIDNEY[np.sort(np.random.default_rng(0).choice(KIDNEY.n_obs, 400, replace=False))].copy()
COOKBOOK = list(cookbook().values())

NAMES = ["cells", "type", "fov", *SCHEMA.numeric, *sorted({e.name for e in builtins()}),
         "k", "q", "r", "A", "B"]
STRINGS = [*SCHEMA.categories[SCHEMA.type_key][:8], *SCHEMA.genes[:4], "nope"]

_EXAMPLES = settings.default.max_examples  # 60 in `ci`, 1000 in `thorough`


def _budget(factor: int) -> settings:
    return settings(max_examples=factor * _EXAMPLES, suppress_health_check=list(HealthCheck))


texts = st.one_of(grammar_queries(NAMES, STRINGS), mutated_queries(COOKBOOK),
                  byte_mutated_queries(COOKBOOK))


def _compile(text: str):
    """The Plan, or None after checking the QueryError's diagnostics."""
    try:
        return compile(text, SCHEMA)
    except QueryError as err:
        assert err.diagnostics, "a QueryError without diagnostics"
        for diag in err.diagnostics:
            assert 0 <= diag.span.start <= diag.span.end <= len(text), (diag.code, diag.span)
            assert diag.message and diag.code[0] in "EW"
        assert str(err)
        return None


@_budget(2)  # drawing from the grammar is the slow part (~40 ms a text)
@given(grammar_queries(NAMES, STRINGS))
def test_grammar_drawn_texts_compile_or_raise_a_query_error(text):
    _compile(text)


@_budget(5)
@given(mutated_queries(COOKBOOK))
def test_token_mutated_cookbook_queries_compile_or_raise_a_query_error(text):
    _compile(text)


@_budget(5)
@given(byte_mutated_queries(COOKBOOK))
def test_byte_mutated_cookbook_queries_compile_or_raise_a_query_error(text):
    _compile(text)


@_budget(3)
@given(st.one_of(mutated_queries(COOKBOOK), texts))
def test_a_compiled_fuzzed_query_runs_or_raises_a_cytoql_error(text):
    if _compile(text) is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            query(SMALL, text, pool=True)
        except InternalError:
            raise
        except CytoQLError:
            pass


def _reaches_the_checker(text: str) -> bool:
    try:
        compile(text, SCHEMA)
    except QueryError as err:
        return not err.diagnostics[0].code.startswith("E01")
    return True


def test_the_fuzzer_draws_texts_that_get_past_the_parser():
    """Guard against strategies that only ever produce syntax errors."""
    first = settings(phases=[Phase.generate], database=None, max_examples=500)
    find(mutated_queries(COOKBOOK), lambda t: _compile(t) is not None, settings=first)
    find(grammar_queries(NAMES, STRINGS), _reaches_the_checker, settings=first)
    find(byte_mutated_queries(COOKBOOK), lambda t: _compile(t) is None, settings=first)


@pytest.mark.parametrize("text", ["", "\n", "(", "mean(", "\x00", "\ufeffcount(cells)",
                                  "count(cells)\r\n", "count(cells) \\\n"])
def test_edge_texts_compile_or_raise_a_query_error(text):
    _compile(text)
