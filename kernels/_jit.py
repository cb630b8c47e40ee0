"""The one place numba options are set for every kernel.

``cache=True`` so compiled code is reused across processes; never ``fastmath`` so the
same inputs give the same bits on any machine. ``parallel=True`` only where a benchmark
shows a gain, and then only over independent outputs: float reductions stay serial so
results do not depend on the thread count.
"""

from __future__ import annotations

from numba import njit, prange

__all__ = ["jit", "jit_parallel", "prange"]

_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}


def jit(fn):
    """Compile ``fn`` serially with the project's numba options."""
    return njit(**_OPTIONS)(fn)


def jit_parallel(fn):
    """Compile ``fn`` with ``parallel=True``; use ``prange`` over independent outputs only."""
    return njit(parallel=True, **_OPTIONS)(fn)
