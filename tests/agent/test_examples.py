"""The shipped examples match the cookbook; ranking is deterministic."""

from __future__ import annotations

import json
from pathlib import Path

from cytoql.agent import examples

REPO = Path(__file__).resolve().parents[2]


def test_committed_examples_are_fresh():
    assert (REPO / "agent" / "examples.json").read_text(encoding="utf-8") == \
        examples.generate(REPO / "docs"), "run `python -m cytoql.agent.examples`"


def test_check_reports_a_stale_file_and_reads_split_pages(tmp_path):
    docs = tmp_path / "docs"
    (docs / "cookbook").mkdir(parents=True)
    entry = "### {}\n\n<!-- id: {} -->\n```cytoql\n{}\n```\n"
    (docs / "cookbook.md").write_text(entry.format("1. How many?", "a", "count(cells)"))
    (docs / "cookbook" / "more.md").write_text(entry.format("Density?", "b", "density(cells)"))
    out = tmp_path / "examples.json"
    assert examples.main(["--docs", str(docs), "--out", str(out)]) == 0
    assert [e["id"] for e in json.loads(out.read_text())] == ["a", "b"]
    assert json.loads(out.read_text())[1]["question"] == "Density?"
    assert examples.main(["--docs", str(docs), "--out", str(out), "--check"]) == 0
    out.write_text("[]")
    assert examples.main(["--docs", str(docs), "--out", str(out), "--check"]) == 1


def test_every_cookbook_entry_is_shipped():
    pages = [REPO / "docs" / "cookbook.md", *sorted((REPO / "docs" / "cookbook").glob("*.md"))]
    ids = sum(page.read_text(encoding="utf-8").count("<!-- id: ") for page in pages)
    assert len(examples.examples()) == ids


def test_rank_prefers_similar_questions():
    top = examples.rank("What is the density of macrophages in cells per mm²?", k=2)
    assert top[0].id == "density_macrophage"
    assert examples.rank("mean distance PCT nearest podocyte", k=3) == \
        examples.rank("mean distance PCT nearest podocyte", k=3)
