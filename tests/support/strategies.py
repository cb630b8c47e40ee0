"""Hypothesis strategies shared by the test suite: point sets that break kernels.

Point sets include duplicate points, collinear points, points on the window edge,
tiny sets, a single label and empty subsets. Coordinates are drawn on a grid of
``1/8`` so that exact ties (d == r) happen often and stay exact in float64.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

__all__ = ["labelled_points", "points", "radii", "window_for"]

_GRID = 8.0  # coordinates are multiples of 1/_GRID: exact in binary floating point


@st.composite
def points(draw, min_size: int = 0, max_size: int = 60, extent: float = 20.0):
    """An (n, 2) float64 array with duplicates, collinear runs and edge points."""
    n = draw(st.integers(min_size, max_size))
    ticks = int(extent * _GRID)
    kind = draw(st.sampled_from(["uniform", "duplicates", "collinear", "edge", "cluster"]))
    coord = st.integers(0, ticks)
    xy = np.array(draw(st.lists(st.tuples(coord, coord), min_size=n, max_size=n)),
                  dtype=np.float64).reshape(-1, 2) / _GRID
    if n and kind == "duplicates":
        src = draw(st.lists(st.integers(0, n - 1), min_size=n, max_size=n))
        half = n // 2
        xy[:half] = xy[np.asarray(src[:half], dtype=np.int64)]
    elif n and kind == "collinear":
        xy[:, 1] = xy[0, 1]
    elif n and kind == "edge":
        xy[: n // 2, 0] = 0.0
        xy[n // 2:, 1] = extent
    elif n and kind == "cluster":
        xy = np.round(xy / 8.0 * _GRID) / _GRID  # squeeze onto few sites
    return xy


@st.composite
def labelled_points(draw, min_size: int = 0, max_size: int = 60, n_labels: int = 3,
                    extent: float = 20.0):
    """``(xy, labels)`` with int64 labels in ``[0, n_labels)``; sometimes only one label."""
    xy = draw(points(min_size=min_size, max_size=max_size, extent=extent))
    k = draw(st.sampled_from([1, n_labels]))
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=len(xy),
                                    max_size=len(xy))), dtype=np.int64)
    return xy, labels


def radii(max_r: float = 10.0):
    """A positive radius, often exactly on the coordinate grid (ties with d)."""
    on_grid = st.integers(1, int(max_r * _GRID)).map(lambda t: t / _GRID)
    off_grid = st.floats(0.01, max_r, allow_nan=False)
    return st.one_of(on_grid, off_grid)


def window_for(xy: np.ndarray, pad: float = 0.0) -> tuple[float, float, float, float]:
    """The bounding box of ``xy`` (grown by ``pad``), or the unit square when empty."""
    if len(xy) == 0:
        return (0.0, 0.0, 1.0, 1.0)
    lo = xy.min(axis=0) - pad
    hi = xy.max(axis=0) + pad
    hi = np.where(hi > lo, hi, lo + 1.0)
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
