"""Brute-force references for the ``quadrats`` kernels: every point against
every tile's bounds."""

from __future__ import annotations

import numpy as np

__all__ = ["max_tile_count", "morisita_index", "quadrat_counts", "vmr"]


def _edges(lo, hi, step, n_bins):
    return [lo + step * k for k in range(n_bins)] + [hi]


def quadrat_counts(xy, window, size=None, *, nx=None, ny=None):
    """Reference: test each point against each tile, [a, b) except at the max edge."""
    xmin, ymin, xmax, ymax = window
    if size is not None:
        n_x = 1
        while n_x < (xmax - xmin) / size - 1e-9:
            n_x += 1
        n_y = 1
        while n_y < (ymax - ymin) / size - 1e-9:
            n_y += 1
        xe = _edges(xmin, xmax, size, n_x)
        ye = _edges(ymin, ymax, size, n_y)
    else:
        n_x, n_y = nx, ny
        xe = _edges(xmin, xmax, (xmax - xmin) / nx, nx)
        ye = _edges(ymin, ymax, (ymax - ymin) / ny, ny)

    def inside(v, edges, k):
        last = k == len(edges) - 2
        return edges[k] <= v < edges[k + 1] or (last and v == edges[-1])

    counts = np.zeros((n_y, n_x), dtype=np.int64)
    for x, y in np.asarray(xy, dtype=np.float64).reshape(-1, 2):
        for j in range(n_y):
            for i in range(n_x):
                if inside(x, xe, i) and inside(y, ye, j):
                    counts[j, i] += 1
    return counts, np.array(xe), np.array(ye)


def vmr(counts):
    """Reference VMR: sum of squared deviations / (Q - 1) / mean."""
    c = [int(v) for v in np.ravel(counts)]
    if len(c) < 2 or sum(c) == 0:
        return float("nan")
    mean = sum(c) / len(c)
    return sum((v - mean) ** 2 for v in c) / (len(c) - 1) / mean


def max_tile_count(counts):
    """Reference maximum."""
    c = [int(v) for v in np.ravel(counts)]
    return max(c, default=0)


def morisita_index(counts):
    """Reference Morisita index."""
    c = [int(v) for v in np.ravel(counts)]
    total = sum(c)
    if total < 2:
        return float("nan")
    return len(c) * sum(v * (v - 1) for v in c) / (total * (total - 1))
