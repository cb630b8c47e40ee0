"""Benchmark harness: every (case, implementation, size) runs in a fresh process.

A fresh process per measurement gives an honest peak memory (``VmHWM`` from
``/proc/self/status``, reset after setup with ``/proc/self/clear_refs``) and keeps one
library's caches or threads from helping another. Each measurement makes one untimed
warm-up call (JIT compilation is reported separately by the ``jit`` cases), then takes
the best of ``repeat`` timed calls. Inputs are synthetic tissues from
:func:`cytoql.datasets.synthetic`, generated once per (process, n) and shared through an
``.npz`` cache.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DENSITY_PER_MM2 = 5000.0  # about the CosMx kidney's cells/mm²; sets the tissue's size
CELLS_PER_CLUSTER = 100    # Thomas parents per cell: clusters cover most of the tissue
CLUSTER_SCALE = 50.0       # µm, sigma of the offspring displacement


@dataclass
class Case:
    """One benchmark: our kernel and the baselines that compute the same thing.

    ``setup(points)`` turns a :class:`Points` into the arguments shared by all
    implementations; each implementation is called as ``impl(data)``.
    """

    name: str
    setup: Callable
    ours: Callable
    baselines: dict[str, Callable] = field(default_factory=dict)
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    # largest n each baseline is run at (O(n²) ones would exhaust memory)
    baseline_max_n: dict[str, int] = field(default_factory=dict)
    process: str = "thomas"
    target: str = ""


@dataclass
class Points:
    xy: np.ndarray
    labels: np.ndarray
    n_labels: int
    window: tuple[float, float, float, float]


def tissue(n: int, process: str, cache: Path) -> Points:
    """The synthetic tissue of ``n`` cells (cached on disk), at the kidney's density.

    Clusters scale with the tissue (one per ``CELLS_PER_CLUSTER`` cells, sigma
    ``CLUSTER_SCALE`` µm) so that a 1M-cell tissue is a larger piece of the same kind of
    tissue, not 25 clusters each packed with 40,000 cells.
    """
    path = cache / f"{process}_{n}_v2.npz"
    if not path.exists():
        from cytoql.datasets import synthetic

        side = float(np.sqrt(n / DENSITY_PER_MM2) * 1000.0)
        adata = synthetic(n, process=process, seed=0, fov_size=(side, side),
                          n_clusters=max(1.0, n / CELLS_PER_CLUSTER),
                          cluster_scale=CLUSTER_SCALE)
        np.savez(path, xy=np.asarray(adata.obsm["spatial"], dtype=np.float64),
                 labels=adata.obs["cell_type"].cat.codes.to_numpy().astype(np.int64),
                 window=np.array([0.0, 0.0, side, side]))
    data = np.load(path)
    labels = data["labels"]
    return Points(data["xy"], labels, int(labels.max()) + 1, tuple(data["window"].tolist()))


def load_module(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rss(field_name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024.0  # kB -> MiB
    return float("nan")


def measure(module: str, case_name: str, impl: str, n: int, repeat: int, cache: Path) -> dict:
    """Run one measurement in this process (the child side of :func:`run_one`)."""
    case = next(c for c in load_module(module).CASES if c.name == case_name)
    fn = case.ours if impl == "cytoql" else case.baselines[impl]
    data = case.setup(tissue(n, case.process, cache))
    fn(data)  # warm-up: JIT compilation, first-touch allocations
    before = _rss("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    except OSError:
        pass
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(data)
        best = min(best, time.perf_counter() - start)
    peak = _rss("VmHWM")
    return {"seconds": best, "peak_mib": peak, "extra_mib": peak - before}


def run_one(module: str, case: Case, impl: str, n: int, repeat: int, cache: Path,
            timeout: float) -> dict:
    """Measure in a fresh interpreter; returns the measurement or an ``error``."""
    cmd = [sys.executable, str(HERE / "run.py"), "--child", module, case.name, impl, str(n),
           str(repeat), str(cache)]
    # A private numba cache: entries that other tools wrote for the same source files
    # (pytest --doctest-modules imports kernels/*.py as top-level ``kernels.*``) make
    # cached functions re-import a module name that does not exist here.
    env = {"NUMBA_CACHE_DIR": str(cache / "numba"), **os.environ, "PYTHONWARNINGS": "ignore"}
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:80]}
    return json.loads(out.stdout.strip().splitlines()[-1])
