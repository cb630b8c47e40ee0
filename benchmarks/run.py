"""Run the kernel benchmarks and print a table of times, ratios and peak memory.

Usage (from the repository root, with the package installed)::

    python benchmarks/run.py                      # every suite, every size
    python benchmarks/run.py --sizes 10000 100000 --only spatial_index
    python benchmarks/run.py --markdown docs/benchmarks.md   # fills its results section

Ratios are baseline time / CytoQL time (> 1: CytoQL is faster), measured in the same
run on the same synthetic tissue. Timings are not tests: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HERE, load_module, measure, run_one  # noqa: E402

RESULTS_START = "<!-- results: written by benchmarks/run.py --markdown -->"
RESULTS_END = "<!-- end of results -->"
SUITES = sorted(p.stem for p in HERE.glob("bench_*.py") if p.stem != "bench_compile")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def fmt_time(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        module, case, impl, n, repeat, cache = sys.argv[2:8]
        print(json.dumps(measure(module, case, impl, int(n), int(repeat), Path(cache))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", help="cell counts (default: each case's)")
    parser.add_argument("--only", nargs="*", default=None, help=f"suites among {SUITES}")
    parser.add_argument("--case", nargs="*", default=None,
                        help="run only cases whose name contains one of these")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per measurement")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)

    cache = Path(tempfile.gettempdir()) / "cytoql-bench"
    cache.mkdir(exist_ok=True)
    header = ("| suite | case | n | CytoQL | baseline | baseline time | ratio | CytoQL peak RSS "
              "(extra) | target |")
    rows = [header, "|" + "---|" * 9]
    times: dict[tuple[str, str, str], dict[int, float]] = {}  # (suite, case, impl) -> n -> s
    print(f"machine: {machine()}")
    print(header)
    print(rows[1])
    for suite in args.only or SUITES:
        module = suite if suite.startswith("bench_") else f"bench_{suite}"
        for case in load_module(module).CASES:
            if args.case and not any(part in case.name for part in args.case):
                continue
            for n in args.sizes or case.sizes:
                ours = run_one(module, case, "cytoql", n, args.repeat, cache, args.timeout)
                if "seconds" in ours:
                    times.setdefault((suite, case.name, "CytoQL"), {})[n] = ours["seconds"]
                ours_t = fmt_time(ours["seconds"]) if "seconds" in ours else ours["error"]
                mem = (f"{ours['peak_mib']:.0f} MiB (+{ours['extra_mib']:.0f})"
                       if "peak_mib" in ours else "")
                baselines = [b for b in case.baselines if n <= case.baseline_max_n.get(b, n)]
                for name in baselines or [None]:
                    if name is None:
                        base_t, ratio, name = "", "", "—"
                    else:
                        base = run_one(module, case, name, n, args.repeat, cache, args.timeout)
                        if "seconds" in base:
                            times.setdefault((suite, case.name, name), {})[n] = base["seconds"]
                        base_t = fmt_time(base["seconds"]) if "seconds" in base else base["error"]
                        ratio = (f"{base['seconds'] / ours['seconds']:.2f}×"
                                 if "seconds" in base and "seconds" in ours else "")
                    row = (f"| {suite.removeprefix('bench_')} | {case.name} | {n:,} | {ours_t} | "
                           f"{name} | {base_t} | {ratio} | {mem} | {case.target} |")
                    rows.append(row)
                    print(row, flush=True)
    scaling = scaling_rows(times)
    for row in scaling:
        print(row)
    if args.markdown:
        text = (f"Measured {date.today()} on {machine()}.\n"
                "Ratio = baseline time / CytoQL time (> 1: CytoQL faster). Best of "
                f"{args.repeat} calls after one warm-up, each in a fresh process.\n\n"
                + "\n".join(rows) + "\n")
        if scaling:
            text += ("\nScaling exponents: log10 of the time ratio per 10x cells between "
                     "consecutive sizes (1 is linear; fixed costs push it below 1 at the "
                     "small end).\n\n" + "\n".join(scaling) + "\n")
        args.markdown.write_text(with_results(args.markdown, text))
    return 0


def scaling_rows(times: dict) -> list[str]:
    """A markdown table of scaling exponents, for every implementation timed at two or
    more sizes: ``log(t2 / t1) / log(n2 / n1)`` between consecutive sizes."""
    rows = []
    for (suite, case, impl), by_n in times.items():
        sizes = sorted(by_n)
        if len(sizes) < 2:
            continue
        steps = [f"{a:,} → {b:,}: {math.log(by_n[b] / by_n[a]) / math.log(b / a):.2f}"
                 for a, b in zip(sizes, sizes[1:])]
        rows.append(f"| {suite.removeprefix('bench_')} | {case} | {impl} | {'; '.join(steps)} |")
    if not rows:
        return []
    return ["| suite | case | implementation | exponent |", "|---|---|---|---|", *rows]


def with_results(path: Path, table: str) -> str:
    """``path``'s text with the part between the result markers replaced by ``table``.

    A file without both markers (or no file) becomes just the table, so the prose of
    ``docs/benchmarks.md`` survives a rerun and any other path gets a plain table.
    """
    old = path.read_text() if path.exists() else ""
    head, start, rest = old.partition(RESULTS_START)
    _, end, tail = rest.partition(RESULTS_END)
    if not (start and end):
        return table
    return f"{head}{RESULTS_START}\n{table}{RESULTS_END}{tail}"


if __name__ == "__main__":
    sys.exit(main())
