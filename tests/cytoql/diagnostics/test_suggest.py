"""Did-you-mean: Unicode forms, case and spaces; bounded work on huge names."""

from __future__ import annotations

import unicodedata

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.api import compile, schema_of
from cytoql.diagnostics import suggest
from cytoql.diagnostics.suggest import MAX_SUGGEST_CHARS, closest, edit_distance, shorten
from cytoql.errors import QueryError


def _levenshtein(a, b):
    """Plain full-table reference."""
    table = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1,
                              table[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return table[-1][-1]


words = st.text("abcé", max_size=9)


@given(words, words, st.integers(0, 10))
def test_banded_edit_distance_is_exact_up_to_its_limit(a, b, limit):
    true = _levenshtein(a, b)
    assert edit_distance(a, b) == true
    assert edit_distance(a, b, limit) == (true if true <= limit else limit + 1)


def _schema(types):
    n = 2 * len(types)
    adata = ad.AnnData(X=np.zeros((n, 1), dtype=np.float32),
                       obs=pd.DataFrame({"cell_type": pd.Categorical(list(types) * 2)},
                                        index=[f"c{i}" for i in range(n)]),
                       var=pd.DataFrame(index=["G"]))
    adata.obsm["spatial"] = np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    return schema_of(adata, fov_key=None)


def _only(text, schema):
    with pytest.raises(QueryError) as info:
        compile(text, schema)
    (diag,) = info.value.diagnostics
    return diag


@pytest.mark.parametrize("written", [
    unicodedata.normalize("NFD", "Müller glia"),  # decomposed ü
    "müller glia", "MÜLLER GLIA", "Müller  glia", "Müller_glia",
])
def test_a_cell_type_in_another_unicode_form_case_or_spacing_gets_a_confident_fix(written):
    schema = _schema([unicodedata.normalize("NFC", "Müller glia"), "Mueller", "Rod"])
    diag = _only(f'count(cells where type == "{written}")', schema)
    assert diag.code == "E0203" and diag.help == 'did you mean "Müller glia"?'
    assert diag.suggestions[0].replacement == '"Müller glia"' and diag.suggestions[0].confident


def test_a_label_column_without_values_says_so_instead_of_an_empty_example_list():
    schema = _schema(["Rod"])
    schema.categories["cell_type"].clear()
    schema.category_counts["cell_type"].clear()
    diag = _only('count(cells where type == "Rod")', schema)
    assert diag.notes == ('obs["cell_type"] has no values here: every cell is unlabelled',)


def test_the_suggestion_search_only_measures_short_names(monkeypatch):
    seen = []

    def counting(a, b, limit=None):
        seen.append((len(a), len(b), limit))
        return edit_distance(a, b, limit)

    monkeypatch.setattr(suggest, "edit_distance", counting)
    huge = "x" * 9_000
    candidates = ["x" * n for n in range(1, 200)] + [huge + "y", "T cell"]
    assert closest(huge, candidates) == []
    assert seen == []  # every candidate is too long to compare or too different in length
    closest("Podocyt", ["Podocyte", "PCT", "x" * 10_000, "Podocytes" * 20])
    assert seen and all(max(a, b) <= MAX_SUGGEST_CHARS and limit <= MAX_SUGGEST_CHARS // 3
                        for a, b, limit in seen)


def test_a_huge_unknown_name_gets_a_short_message():
    schema = _schema(["Rod"])
    name = "q" * 9_000
    diag = _only(f"count({name})", schema)
    assert diag.message == f"unknown name `{'q' * MAX_SUGGEST_CHARS}… (9,000 characters)`"
    assert shorten("Rod") == "Rod"
