"""Generated pages are fresh; the catalog and the diagnostic codes are complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from cytoql import docgen
from cytoql.catalog import builtins
from cytoql.catalog.spec import ADDITIVE, GATHER, NOT_POOLED, PER_CELL, RATIO_OF_SUMS
from cytoql.diagnostics.codes import CODES, explain

DOCS = Path(__file__).parents[2] / "docs"


@pytest.mark.parametrize("name", sorted(docgen.PAGES))
def test_committed_page_is_fresh(name):
    assert (DOCS / name).read_text(encoding="utf-8") == docgen.PAGES[name](), (
        f"docs/{name} is stale: run `python -m cytoql.docgen`")


def test_docgen_check_reports_a_stale_page(tmp_path):
    assert docgen.main(["--docs", str(tmp_path)]) == 0
    assert docgen.main(["--docs", str(tmp_path), "--check"]) == 0
    (tmp_path / "reference.md").write_text("old", encoding="utf-8")
    assert docgen.main(["--docs", str(tmp_path), "--check"]) == 1


def test_every_builtin_is_documented_with_conventions_and_an_evaluator():
    for entry in builtins():
        assert entry.doc and entry.conventions and entry.returns, entry.name
        assert all(p.doc for p in entry.params), entry.name
        assert entry.combine in (ADDITIVE, RATIO_OF_SUMS, GATHER, PER_CELL, NOT_POOLED)


def test_every_code_is_explained_with_failing_and_fixed_queries():
    for code in CODES:
        text = explain(code)
        assert code in text and "Failing query" in text and "Fixed query" in text
    with pytest.raises(KeyError, match="E0101"):
        explain("E9999")


def test_every_guide_query_compiles_against_the_kidney_data():
    import re

    import anndata as ad

    from cytoql.api import compile, schema_of

    schema = schema_of(ad.read_h5ad(DOCS.parent / "cytoql/datasets/data/cosmx_kidney.h5ad"))
    blocks = re.findall(r"```cytoql\n(.*?)```", (DOCS / "guide.md").read_text(encoding="utf-8"),
                        re.S)
    assert len(blocks) >= 8
    for block in blocks:
        compile(block, schema)
