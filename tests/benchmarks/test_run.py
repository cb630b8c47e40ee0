"""The runner's markdown output keeps the prose around its results section."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results_section_is_replaced_and_prose_kept(run, tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# Title\n\n{run.RESULTS_START}\nold table\n{run.RESULTS_END}\n\nAfter.\n")
    page.write_text(run.with_results(page, "| new |\n"))
    page.write_text(run.with_results(page, "| newer |\n"))
    assert page.read_text() == (f"# Title\n\n{run.RESULTS_START}\n| newer |\n"
                                f"{run.RESULTS_END}\n\nAfter.\n")


@pytest.mark.parametrize("text", [None, "no markers\n", "only the start <!-- results: written"
                                  " by benchmarks/run.py --markdown -->\n"])
def test_a_file_without_both_markers_becomes_the_table(run, tmp_path, text):
    page = tmp_path / "table.md"
    if text is not None:
        page.write_text(text)
    assert run.with_results(page, "| table |\n") == "| table |\n"


def test_the_docs_page_has_a_results_section(run):
    text = (RUN.parents[1] / "docs" / "benchmarks.md").read_text()
    assert text.count(run.RESULTS_START) == text.count(run.RESULTS_END) == 1
    assert text.index(run.RESULTS_START) < text.index(run.RESULTS_END)


def test_scaling_exponents_between_consecutive_sizes(run):
    times = {("bench_x", "case", "CytoQL"): {10: 1.0, 100: 10.0, 1000: 1000.0},
             ("bench_x", "case", "one size"): {10: 1.0}}
    rows = run.scaling_rows(times)
    assert rows[2] == "| x | case | CytoQL | 10 → 100: 1.00; 100 → 1,000: 2.00 |"
    assert len(rows) == 3  # a single size has no exponent
    assert run.scaling_rows({}) == []
