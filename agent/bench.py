"""``cytoql agent-bench``: what the DSL buys, measured.

A question set (JSONL: ``id``, ``question``, ``data``, ``reference``, ``tolerance``,
``category``) is asked ``runs`` times in each mode (``dsl-first``, ``codeact-only``,
``single-shot``). Results append to a JSONL file keyed by (id, mode, run), so a run
resumes where it stopped. The report gives, per mode and category: success rate,
unbiased pass@k (k = 1..runs) and AUP (the mean of pass@1..pass@K: the normalised area
under the pass@k curve) with bootstrap 95 % intervals over questions, model calls /
steps / tokens / wall time per correct answer, and run-to-run agreement (share of run
pairs giving the same value). Successful trajectories export as chat JSONL with the
verified answer attached.

The shipped set (``bench_questions.jsonl``) is the cookbook on the bundled kidney data;
``python -m cytoql.agent.bench --build`` recomputes its references.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from itertools import combinations
from pathlib import Path

import numpy as np

__all__ = ["build_questions", "correct", "export_trajectories", "load_questions",
           "pass_at_k", "report", "run_bench", "scale_questions", "scale_tissue"]

QUESTIONS = "bench_questions.jsonl"
BUNDLED = "cosmx_kidney"


def load_questions(path=None) -> list[dict]:
    """The question set at ``path``, or the shipped one."""
    if path is None:
        text = resources.files("cytoql.agent").joinpath(QUESTIONS).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _reference(result):
    from cytoql.agent.core import answer_value
    from cytoql.agent.answer import jsonable

    return jsonable(answer_value(result))


def build_questions() -> str:
    """The JSONL of the shipped set: each cookbook entry, its reference computed by CytoQL
    on the bundled data (the cookbook tests check those queries against brute force)."""
    import cytoql
    from cytoql.agent.examples import examples
    from cytoql.datasets import cosmx_kidney

    adata = cosmx_kidney()
    lines = []
    for e in examples():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = cytoql.query(adata, e.query)
        if result.kind not in ("scalar", "table", "cell set"):
            continue
        lines.append(json.dumps({"id": e.id, "question": e.question, "data": BUNDLED,
                                 "reference": _reference(result), "unit": result.unit,
                                 "tolerance": 1e-6, "category": e.section,
                                 "query": e.query}, ensure_ascii=False))
    return "\n".join(lines) + "\n"


_KIDNEY_DENSITY = 5600.0  # cells/mm² of the bundled FOVs (`cytoql info`)


def scale_tissue(n_cells: int, seed: int = 0):
    """A synthetic tissue of ``n_cells`` in two FOVs with the kidney's cell types,
    proportions and density (Matérn clusters), for the scale mode."""
    from cytoql.datasets import cosmx_kidney, synthetic

    counts = cosmx_kidney().obs["cell_type"].value_counts()
    side = math.sqrt(n_cells / 2 / _KIDNEY_DENSITY) * 1000.0
    return synthetic(n_cells, process="matern", seed=seed, n_fovs=2, fov_size=(side, side),
                     cell_types=list(counts.index.astype(str)),
                     proportions=list(counts.to_numpy() / counts.sum()))


def scale_questions(questions: list[dict], n_cells: int) -> list[dict]:
    """The questions re-asked on :func:`scale_tissue`: those whose reference query
    compiles there (the synthetic tissue lacks the kidney's genes).
    They carry no reference: the scale mode reports which route answers, and how fast."""
    import cytoql
    from cytoql.errors import QueryError

    schema = cytoql.schema_of(scale_tissue(n_cells))
    kept = []
    for q in questions:
        try:
            cytoql.compile(q["query"], schema)
        except QueryError:
            continue
        kept.append({**q, "data": f"synthetic:{n_cells}", "reference": None,
                     "graded": False})
    return kept


def _load_data(name: str):
    if name == BUNDLED:
        from cytoql.datasets import cosmx_kidney

        return cosmx_kidney()
    if name.startswith("synthetic:"):
        return scale_tissue(int(name.split(":", 1)[1]))
    import anndata as ad

    return ad.read_h5ad(name)


def correct(value, reference, tolerance: float = 1e-6) -> bool:
    """Equal within ``tolerance`` relative to max(1, |reference|); dicts key by key."""
    if isinstance(reference, dict):
        if not isinstance(value, dict) or set(map(str, value)) != set(reference):
            return False
        return all(correct(value.get(k, value.get(_num_key(k))), v, tolerance)
                   for k, v in reference.items())
    if reference is None:
        return value is None or (isinstance(value, float) and math.isnan(value))
    try:
        value, reference = float(value), float(reference)
    except (TypeError, ValueError):
        return False
    return abs(value - reference) <= tolerance * max(1.0, abs(reference))


def _num_key(key):
    try:
        return int(key)
    except ValueError:
        return key


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _key(record) -> tuple:
    return (record["id"], record["mode"], record["run"])


def run_bench(questions, backend_for, *, modes=("dsl-first",), runs: int = 1, results,
              jobs: int = 1, ask_options=None) -> list[dict]:
    """Ask every (question, mode, run) not yet in ``results`` (JSONL, appended).

    ``backend_for(question, mode, run)`` gives the backend of one attempt.
    Returns every record in ``results`` afterwards.
    """
    from cytoql.agent.core import ask

    results = Path(results)
    done = {_key(r) for r in _read(results)}
    todo = [(q, m, i) for q in questions for m in modes for i in range(runs)
            if (q["id"], m, i) not in done]
    data = {name: _load_data(name) for name in {q["data"] for q in questions}}

    def attempt(job):
        q, mode, run = job
        answer = ask(data[q["data"]], q["question"], backend=backend_for(q, mode, run),
                     mode=mode, **(ask_options or {}))
        graded = q.get("graded", True)
        return {"id": q["id"], "mode": mode, "run": run, "category": q["category"],
                "graded": graded, "answered": answer.ok, "data": q["data"],
                "correct": answer.ok and graded and
                correct(answer.value, q["reference"], q["tolerance"]),
                "reference": q["reference"], **answer.to_dict()}

    with results.open("a", encoding="utf-8") as out:
        if jobs > 1:
            with ThreadPoolExecutor(jobs) as pool:
                for record in pool.map(attempt, todo):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    out.flush()
        else:
            for job in todo:
                out.write(json.dumps(attempt(job), ensure_ascii=False) + "\n")
                out.flush()
    return _read(results)


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _same(a, b) -> bool:
    return correct(a, b, 1e-9) if a is not None and b is not None else a is b


def _stats(records: list[dict], K: int, rng, n_boot: int) -> dict:
    by_q = defaultdict(list)
    for r in records:
        by_q[r["id"]].append(r)
    ids = sorted(by_q)
    n = np.array([len(by_q[i]) for i in ids])
    c = np.array([sum(r["correct"] for r in by_q[i]) for i in ids])
    K = min(K, int(n.min()))
    per_q_pass = np.array([[pass_at_k(int(ni), int(ci), k) for k in range(1, K + 1)]
                           for ni, ci in zip(n, c)])
    per_q_success = c / n
    agree = []
    for i in ids:
        values = [r["value"] for r in by_q[i]]
        pairs = list(combinations(values, 2))
        if pairs:
            agree.append(np.mean([_same(a, b) for a, b in pairs]))

    def ci(per_question):
        idx = rng.integers(0, len(ids), size=(n_boot, len(ids)))
        boot = per_question[idx].mean(axis=1)
        return [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]

    good = [r for r in records if r["correct"]]
    cost = {}
    for field in ("model_calls", "steps", "tokens_in", "tokens_out", "wall_s"):
        total = sum(r[field] for r in records)
        cost[f"{field}_per_correct"] = total / len(good) if good else None
    routes = defaultdict(int)
    for r in records:
        routes[r["route"].split("(")[0]] += 1
    aup = per_q_pass.mean(axis=1)
    answered = [r for r in records if r["route"] != "failed"]
    return {"questions": len(ids), "attempts": len(records),
            "answered": len(answered) / len(records),
            "wall_s_per_answer": (sum(r["wall_s"] for r in answered) / len(answered)
                                  if answered else None),
            "success": float(per_q_success.mean()), "success_ci": ci(per_q_success),
            "pass@k": {str(k): float(per_q_pass[:, k - 1].mean()) for k in range(1, K + 1)},
            "pass@k_ci": {str(k): ci(per_q_pass[:, k - 1]) for k in range(1, K + 1)},
            "aup": float(aup.mean()), "aup_ci": ci(aup),
            "agreement": float(np.mean(agree)) if agree else None,
            "routes": dict(routes), **cost}


def report(records: list[dict], *, k: int | None = None, n_boot: int = 1000,
           seed: int = 0) -> dict:
    """Metrics by mode, overall and per category (see the module docstring)."""
    rng = np.random.default_rng(seed)
    K = k or max((r["run"] + 1 for r in records), default=1)
    out = {}
    for mode in sorted({r["mode"] for r in records}):
        mine = [r for r in records if r["mode"] == mode]
        out[mode] = {"all": _stats(mine, K, rng, n_boot),
                     "by_category": {cat: _stats([r for r in mine if r["category"] == cat],
                                                 K, rng, n_boot)
                                     for cat in sorted({r["category"] for r in mine})}}
    return out


def export_trajectories(records: list[dict], path) -> int:
    """Write the correct runs as chat-format JSONL (messages + verified answer)."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for r in records:
            if not r["correct"]:
                continue
            messages = [{"role": m["role"], "content": m["content"]}
                        for m in r["transcript"] if "role" in m]
            out.write(json.dumps({"id": r["id"], "mode": r["mode"], "route": r["route"],
                                  "messages": messages,
                                  "answer": {"value": r["value"], "unit": r["unit"],
                                             "query": r["query"], "code": r["code"],
                                             "reference": r["reference"], "verified": True}},
                                 ensure_ascii=False) + "\n")
            count += 1
    return count


def format_report(rep: dict) -> str:
    """A plain-text table of :func:`report` (for a scale run, success is 0: ungraded)."""
    lines = []
    for mode, block in rep.items():
        for name, s in [("all", block["all"]), *block["by_category"].items()]:
            lo, hi = s["success_ci"]
            p1 = s["pass@k"].get("1")
            cost = s["tokens_in_per_correct"]
            lines.append(f"{mode:13} {name[:40]:40} n={s['questions']:3} "
                         f"success {s['success']:.2f} [{lo:.2f}, {hi:.2f}]  pass@1 {p1:.2f}  "
                         f"AUP {s['aup']:.2f}  agreement "
                         + (f"{s['agreement']:.2f}" if s["agreement"] is not None else "-")
                         + "  tokens-in/correct " + (f"{cost:.0f}" if cost else "-")
                         + f"  answered {s['answered']:.2f}"
                         + (f" in {s['wall_s_per_answer']:.2f} s" if s["wall_s_per_answer"]
                            else ""))
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--questions", default=None, help="question set JSONL (default: the "
                        "shipped cookbook set)")
    parser.add_argument("--results", default="agent-bench.jsonl",
                        help="results JSONL; existing (id, mode, run) are skipped (resume)")
    parser.add_argument("--modes", default="dsl-first,codeact-only,single-shot")
    parser.add_argument("--runs", type=int, default=1, help="runs per question and mode (K)")
    parser.add_argument("--jobs", type=int, default=1, help="questions asked in parallel")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--report", default=None, help="write the report JSON here")
    parser.add_argument("--export", default=None, help="write successful trajectories (chat JSONL)")
    parser.add_argument("--scale", type=int, default=None, metavar="N_CELLS",
                        help="scale mode: re-ask on a synthetic tissue of N cells with the "
                             "kidney's types (ungraded: which route answers, how fast)")


def run_cli(args) -> int:
    from cytoql.agent.cli import make_backend
    from cytoql.agent.core import MODES

    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    bad = [m for m in modes if m not in MODES]
    if bad:
        print(f"cytoql: error: unknown mode(s) {', '.join(bad)}; modes: {', '.join(MODES)}",
              file=sys.stderr)
        return 2
    questions = load_questions(args.questions)[:args.limit]
    if args.scale:
        questions = scale_questions(questions, args.scale)
    backend = make_backend(args)
    records = run_bench(questions, lambda q, m, r: backend, modes=modes, runs=args.runs,
                        results=args.results, jobs=args.jobs)
    wanted = {(q["id"], m, i) for q in questions for m in modes for i in range(args.runs)}
    rep = report([r for r in records if _key(r) in wanted])
    print(format_report(rep))
    if args.report:
        Path(args.report).write_text(json.dumps(rep, indent=1), encoding="utf-8")
    if args.export:
        n = export_trajectories(records, args.export)
        print(f"exported {n} successful trajectories to {args.export}")
    return 0


def main(argv=None) -> int:
    """``--build`` rewrites the shipped question set; ``--check`` fails when it is stale."""
    parser = argparse.ArgumentParser(prog="python -m cytoql.agent.bench")
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    target = Path(__file__).with_name(QUESTIONS)
    text = build_questions()
    if args.check:
        return 0 if target.exists() and target.read_text(encoding="utf-8") == text else 1
    if args.build:
        target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
