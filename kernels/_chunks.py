"""Run a query kernel over its queries in slices, so that Ctrl-C is seen between them.

A numba kernel holds the interpreter until it returns, and Python handles a SIGINT only
between bytecodes: a single call over a million quadratic queries would ignore Ctrl-C
for minutes. The slices are sized by measured time (about ``_TARGET_S`` each), so a
pending KeyboardInterrupt is raised within about a second whatever a query costs, and a
fast query pays a few dozen calls at most. Callers only slice independent per-query
outputs, or integer tallies, so the slicing never changes a result.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_TARGET_S = 0.4
_FIRST = 2048
_SMALLEST = 16


def run_in_slices(m: int, step: Callable[[int, int], None], first: int = _FIRST,
                  largest: int | None = None) -> None:
    """Call ``step(lo, hi)`` over consecutive slices covering ``range(m)``.

    Each slice is sized from the time the previous one took, aiming at ``_TARGET_S``
    seconds per call; ``first`` is the size of the first slice and ``largest`` caps
    every slice (for callers with per-slice scratch).
    """
    largest = m if largest is None else max(1, largest)
    lo = 0
    size = min(largest, max(_SMALLEST, first))
    while lo < m:
        hi = min(m, lo + size)
        start = time.perf_counter()
        step(lo, hi)
        spent = time.perf_counter() - start
        if spent < _TARGET_S / 2:
            size = min(largest, 2 * size)
        elif spent > 2 * _TARGET_S:
            size = max(min(_SMALLEST, largest), int(size * _TARGET_S / spent))
        lo = hi
