"""``cytoql query``, ``fmt``, ``explain`` and the demo's queries."""

from __future__ import annotations

import json

import pytest

from cytoql.cli import main
from cytoql.datasets import cosmx_kidney

Q = 'count(cells where type == "Podocyte")'


@pytest.fixture(scope="module")
def kidney_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "kidney.h5ad"
    cosmx_kidney().write_h5ad(path)
    return str(path)


def test_query_prints_per_fov_and_pooled_values(kidney_path, capsys):
    assert main(["query", kidney_path, Q]) == 0
    out = capsys.readouterr().out
    assert "18  108 cells" in out and "23  119 cells" in out and "all (pooled)  227 cells" in out
    assert "pooling: count: additive" in out


def test_query_json_has_rows_unit_and_assumptions(kidney_path, capsys):
    assert main(["query", kidney_path, Q, "--json", "--explain"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unit"] == "cells" and data["query"] == Q
    assert {r["fov"]: r["value"] for r in data["rows"]} == {"18": 108, "23": 119,
                                                             "all (pooled)": 227}
    assert any("bounding box" in a for a in data["assumptions"])
    assert "plan" in data and "Summary" in data["plan"]


def test_query_explain_shows_plan_defaults_and_assumptions(kidney_path, capsys):
    text = "mean(distance(cells -> nearest cells))"
    assert main(["query", kidney_path, text, "--explain"]) == 0
    out = capsys.readouterr().out
    assert "plan (one pass per field of view" in out
    assert "distance: k = 1" in out and "assumptions:" in out


def test_query_error_is_rendered_on_stderr_with_exit_1(kidney_path, capsys):
    assert main(["query", kidney_path, 'count(cells where type == "Podocyt")']) == 1
    err = capsys.readouterr().err
    assert 'error[E0203]: unknown cell type "Podocyt"' in err and "^^^^^^^^^" in err


def test_query_error_short_and_json_forms(kidney_path, capsys):
    bad = "count(cells within 30)"
    assert main(["query", kidney_path, bad, "--errors", "short"]) == 1
    assert capsys.readouterr().err.strip() == (
        "query:1:20: error[E0303]: `radius` needs a length, got a bare number")
    assert main(["query", kidney_path, bad, "--json"]) == 1
    (err,) = json.loads(capsys.readouterr().out)["error"]
    assert err["code"] == "E0303" and err["suggestions"][0]["replacement"] == " um"


def test_fmt_prints_canonical_text(capsys):
    assert main(["fmt", "mean(distance(cells->nearest cells,k=2))"]) == 0
    assert capsys.readouterr().out == "mean(distance(cells -> nearest cells, k = 2))\n"


def test_explain_prints_a_code_and_rejects_unknown_ones(capsys):
    assert main(["explain", "E0203"]) == 0
    assert capsys.readouterr().out.startswith("E0203: unknown category")
    assert main(["explain", "E9999"]) == 2


def test_demo_runs_its_queries(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "all (pooled)  227 cells" in out and "cells/mm²" in out


def test_query_json_of_a_table_has_shares_per_fov_and_pooled(kidney_path, capsys):
    text = 'composition(cells within 30 um of cells where type == "macrophage")'
    assert main(["query", kidney_path, text, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "table" and set(data["rows"]) == {"18", "23", "all (pooled)"}
    assert sum(data["rows"]["all (pooled)"].values()) == pytest.approx(1.0)
