"""Compile time of the cookbook queries, and the evaluator's overhead over its kernels.

Run: ``python benchmarks/bench_compile.py [--repeat 20]``.

For each cookbook query: the median time of ``cytoql.compile`` (parse + resolve + check
+ plan) over ``--repeat`` runs; then, on the bundled kidney data (6,555 cells, 2 FOVs),
the time of one evaluation (after a warm-up run that compiles the numba kernels) split
into the time spent inside ``cytoql.kernels.spatial_index`` calls and the rest (the
evaluator's overhead: masks, memoisation, reducers, building the result).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import cytoql
from cytoql import evaluate
from cytoql.api import compile, schema_of
from cytoql.data import Sample
from cytoql.datasets import cosmx_kidney

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from cookbook import cookbook  # noqa: E402  (the test suite's reader of docs/cookbook.md)

KERNELS = ("build_kdtree", "knn", "count_within", "count_within_by_label")


class KernelClock:
    """Wraps the spatial-index functions the evaluator calls and sums their time."""

    def __init__(self):
        self.seconds = 0.0
        self._originals = {name: getattr(evaluate.si, name) for name in KERNELS}

    def __enter__(self):
        for name, fn in self._originals.items():
            setattr(evaluate.si, name, self._timed(fn))
        return self

    def __exit__(self, *exc):
        for name, fn in self._originals.items():
            setattr(evaluate.si, name, fn)

    def _timed(self, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    queries = list(cookbook().items())
    adata = cosmx_kidney()
    sample = Sample.from_anndata(adata)
    schema = schema_of(sample)
    warnings.simplefilter("ignore")

    print(f"{len(queries)} cookbook queries; kidney data {sample.n_cells} cells, "
          f"{len(sample.fovs)} FOVs\n")
    print(f"{'query':<40} {'compile ms':>10} {'eval ms':>9} {'kernel ms':>10} {'overhead':>9}")
    compile_ms, totals, kernels = [], 0.0, 0.0
    for name, text in queries:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            compile(text, schema)
            times.append(time.perf_counter() - start)
        cytoql.query(sample, text)  # warm-up: numba compilation and caches
        with KernelClock() as clock:
            start = time.perf_counter()
            cytoql.query(sample, text)
            total = time.perf_counter() - start
        c = statistics.median(times) * 1e3
        compile_ms.append(c)
        totals += total
        kernels += clock.seconds
        print(f"{name:<40} {c:>10.2f} {total * 1e3:>9.2f} {clock.seconds * 1e3:>10.2f} "
              f"{(total - clock.seconds) * 1e3:>8.2f}")
    print(f"\ncompile: median {statistics.median(compile_ms):.2f} ms, "
          f"max {max(compile_ms):.2f} ms per query")
    print(f"evaluation: {totals * 1e3:.1f} ms in all, of which kernels {kernels * 1e3:.1f} ms "
          f"and evaluator overhead {(totals - kernels) * 1e3:.1f} ms "
          f"({(totals - kernels) / totals:.0%})")


if __name__ == "__main__":
    main()
