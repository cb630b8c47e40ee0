"""The benchmark harness: references, pass@k, resumable runs, report, export, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cytoql.agent import RecordingBackend, ScriptedBackend
from cytoql.agent import bench
from cytoql.cli import main

REPO = Path(__file__).resolve().parents[2]


def _close(shipped, fresh) -> bool:
    """Equal, numbers to 1e-12 relative: the last bits of a float reference may move
    with the numpy/scipy release a fresh install resolves (seen: 0.29123535710870374
    against …396 for a mean of local Moran values)."""
    if isinstance(shipped, dict) and isinstance(fresh, dict):
        return shipped.keys() == fresh.keys() and all(_close(shipped[k], fresh[k])
                                                      for k in shipped)
    if isinstance(shipped, float) or isinstance(fresh, float):
        return fresh == pytest.approx(shipped, rel=1e-12, abs=1e-300, nan_ok=True)
    return shipped == fresh


def test_shipped_references_still_match():
    shipped = [json.loads(line) for line in
               (REPO / "agent" / "bench_questions.jsonl").read_text(encoding="utf-8").splitlines()]
    fresh = [json.loads(line) for line in bench.build_questions().splitlines()]
    hint = "run `python -m cytoql.agent.bench --build`"
    assert [q["id"] for q in shipped] == [q["id"] for q in fresh], hint
    for old, new in zip(shipped, fresh):
        assert {k: v for k, v in old.items() if k != "reference"} == \
            {k: v for k, v in new.items() if k != "reference"}, hint
        assert _close(old["reference"], new["reference"]), (old["id"], hint)


def test_pass_at_k_unbiased_estimator():
    assert bench.pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert bench.pass_at_k(5, 2, 2) == pytest.approx(0.7)  # 1 - C(3,2)/C(5,2)
    assert bench.pass_at_k(5, 0, 3) == 0.0 and bench.pass_at_k(3, 1, 3) == 1.0


def test_correct_with_tolerance_and_groups():
    assert bench.correct(2421.0000001, 2421.0) and not bench.correct(2422, 2421.0)
    assert bench.correct({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5})
    assert not bench.correct({"a": 0.5}, {"a": 0.5, "b": 0.5}) and not bench.correct("x", 1.0)


def _oracle(questions, wrong=()):
    """A backend per attempt answering with the cookbook query (or a wrong one)."""
    by_id = {q["id"]: q for q in questions}

    def backend_for(q, mode, run):
        query = "count(cells)" if (q["id"], run) in wrong else by_id[q["id"]]["query"]
        return ScriptedBackend([f"```cytoql\n{query}\n```"])
    return backend_for


def test_run_report_resume_export(tmp_path):
    questions = bench.load_questions()[:3]
    results = tmp_path / "results.jsonl"
    wrong = {(questions[0]["id"], 1)}
    records = bench.run_bench(questions, _oracle(questions, wrong),
                              modes=("dsl-first", "single-shot"), runs=2, results=results)
    assert len(records) == 12
    rep = bench.report(records, n_boot=200)
    dsl = rep["dsl-first"]["all"]
    assert dsl["success"] == pytest.approx(5 / 6)
    assert dsl["pass@k"]["1"] == pytest.approx(5 / 6) and dsl["pass@k"]["2"] == 1.0
    assert dsl["aup"] == pytest.approx((5 / 6 + 1) / 2)
    assert dsl["agreement"] == pytest.approx(2 / 3)  # the first question's runs disagree
    assert dsl["model_calls_per_correct"] == pytest.approx(6 / 5)
    assert 0 <= dsl["success_ci"][0] <= dsl["success"] <= dsl["success_ci"][1] <= 1
    assert set(rep["dsl-first"]["by_category"]) == {questions[0]["category"]}

    def no_calls(*_):
        raise AssertionError("a finished attempt was asked again")
    assert len(bench.run_bench(questions, no_calls, modes=("dsl-first", "single-shot"),
                               runs=2, results=results)) == 12  # resumed: nothing to do
    out = tmp_path / "chat.jsonl"
    assert bench.export_trajectories(records, out) == 10
    first = json.loads(out.read_text().splitlines()[0])
    assert first["messages"][0]["role"] == "system" and first["answer"]["verified"]
    assert first["answer"]["value"] == first["answer"]["reference"]
    assert "success" in bench.format_report(rep)


def test_agent_bench_cli_with_a_replayed_run(tmp_path, capsys):
    questions = bench.load_questions()[:2]
    log = tmp_path / "run.jsonl"
    inner = ScriptedBackend([f"```cytoql\n{q['query']}\n```" for q in questions])
    recorder = RecordingBackend(inner, log)
    bench.run_bench(questions, lambda *_: recorder, results=tmp_path / "first.jsonl")
    args = ["agent-bench", "--backend", "replay", "--replay", str(log), "--limit", "2",
            "--modes", "dsl-first", "--results", str(tmp_path / "r.jsonl"),
            "--report", str(tmp_path / "rep.json"), "--export", str(tmp_path / "chat.jsonl")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "dsl-first" in out and "success 1.00" in out and "exported 2" in out
    assert json.loads((tmp_path / "rep.json").read_text())["dsl-first"]["all"]["success"] == 1.0
    assert main(["agent-bench", "--modes", "fast", "--backend", "replay", "--replay",
                 str(log)]) == 2


def test_scale_mode_reasks_on_a_synthetic_tissue(tmp_path):
    questions = bench.load_questions()
    scaled = bench.scale_questions(questions, 4000)
    ids = {q["id"] for q in scaled}
    assert "count_pct" in ids and "except_spp1" not in ids  # no SPP1 on the synthetic tissue
    assert all(q["data"] == "synthetic:4000" and q["reference"] is None for q in scaled)
    tissue = bench.scale_tissue(4000)
    assert tissue.n_obs == 4000 and "PCT" in set(tissue.obs["cell_type"])
    records = bench.run_bench(scaled[:2], _oracle(scaled), results=tmp_path / "s.jsonl")
    s = bench.report(records, n_boot=50)["dsl-first"]["all"]
    assert s["answered"] == 1.0 and s["success"] == 0.0 and s["wall_s_per_answer"] > 0
    assert not any(r["graded"] for r in records)
