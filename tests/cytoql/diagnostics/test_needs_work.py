"""Known-poor messages, pinned at their current output until they are improved."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import pytest

from cytoql.api import compile, schema_of
from cytoql.errors import QueryError

SCHEMA = schema_of(ad.read_h5ad(Path(__file__).parents[3] / "cytoql/datasets/data/cosmx_kidney.h5ad"))


def _only(text):
    with pytest.raises(QueryError) as info:
        compile(text, SCHEMA)
    (diag,) = info.value.diagnostics
    return diag


def test_t_cell_suggests_b_cell_by_edit_distance_not_the_t_cell_subtypes():
    # Better: "T CD4 memory" / "T CD8 memory" (same lineage); edit distance sees "B-cell".
    assert _only('count(cells where type == "T cell")').help == 'did you mean "B-cell"?'


def test_transposed_let_name_gets_no_suggestion():
    # Better: "did you mean `Pod`?" (a transposition is one edit in Damerau distance).
    diag = _only('let Pod = cells where type == "Podocyte"\ncount(Pdo)')
    assert diag.code == "E0201" and diag.help is None
