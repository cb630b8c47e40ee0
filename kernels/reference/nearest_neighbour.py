"""Brute-force references for the ``nearest_neighbour`` kernels.

Every distance comes from the full (m, n) distance matrix, written as
``sqrt(dx*dx + dy*dy)`` like the kernels so that ``d == r`` ties agree bit for bit.
Slow (O(m n) memory) and meant for tests on small point sets only.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = [
    "clark_evans",
    "f_function",
    "g_function",
    "j_function",
    "nearest_distance",
    "nearest_label",
]

_SE_CONSTANT = np.sqrt((4.0 - np.pi) / (4.0 * np.pi))


def _distance_matrix(a, b):
    a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    dx = a[:, None, 0] - b[None, :, 0]
    dy = a[:, None, 1] - b[None, :, 1]
    return np.sqrt(dx * dx + dy * dy)


def _masked_distances(query_xy, xy, skip):
    d = _distance_matrix(query_xy, xy)
    if skip is not None:
        for i, s in enumerate(np.asarray(skip, dtype=np.int64)):
            if s >= 0:
                d[i, s] = np.inf
    return d


def nearest_distance(query_xy, xy, k=1, *, skip=None, tree=None):
    """k-th nearest distance from each query point to ``xy``; NaN where none (brute force)."""
    d = _masked_distances(query_xy, xy, skip)
    out = np.full(d.shape[0], np.nan)
    if d.shape[1] >= k:
        kth = np.sort(d, axis=1)[:, k - 1]
        out = np.where(np.isfinite(kth), kth, np.nan)
    return out


def nearest_label(query_xy, xy, labels, *, skip=None, tree=None):
    """Label of the nearest point (smallest index on ties); -1 where none (brute force)."""
    d = _masked_distances(query_xy, xy, skip)
    labels = np.asarray(labels, dtype=np.int64)
    out = np.full(d.shape[0], -1, dtype=np.int64)
    for i in range(d.shape[0]):
        if d.shape[1] and np.isfinite(d[i]).any():
            out[i] = labels[int(np.argmin(d[i]))]  # argmin returns the first minimum
    return out


def _nnd(xy):
    n = len(xy)
    return _masked_distances(xy, xy, np.arange(n)).min(axis=1) if n > 1 else np.full(n, np.inf)


def clark_evans(xy, window, *, correction="none"):
    """Clark–Evans R, z and two-sided p under CSR, as spatstat's clarkevans.test."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    xmin, ymin, xmax, ymax = (float(v) for v in window)
    n = len(xy)
    area = (xmax - xmin) * (ymax - ymin)
    perimeter = 2.0 * ((xmax - xmin) + (ymax - ymin))
    if n < 2:
        nan = float("nan")
        return {"r": nan, "z": nan, "p_value": nan, "mean_distance": nan,
                "expected_distance": nan, "standard_error": nan}
    nnd = _nnd(xy)
    if correction == "cdf":
        mean_d = _kaplan_meier_mean(nnd, _boundary_distance(xy, window))
    else:
        mean_d = float(np.mean(nnd))
    expected = 0.5 / np.sqrt(n / area)
    if correction == "donnelly":
        expected = expected + (0.0514 + 0.0412 / np.sqrt(n)) * perimeter / n
    r = mean_d / expected
    se = _SE_CONSTANT * np.sqrt(area) / n / expected
    z = (r - 1.0) / se
    return {"r": r, "z": z, "p_value": float(2.0 * stats.norm.sf(abs(z))),
            "mean_distance": mean_d, "expected_distance": float(expected),
            "standard_error": float(se)}


def _kaplan_meier_mean(distances, boundary):
    observed = np.minimum(distances, boundary)
    event = distances <= boundary
    survival, numerator, total = 1.0, 0.0, 0.0
    for t in sorted(set(distances[event].tolist())):
        at_risk = np.sum(observed >= t)
        died = np.sum(event & (distances == t))
        mass = survival * died / at_risk
        survival -= mass
        numerator += t * mass
        total += mass
    return numerator / total if total > 0 else float("nan")


def _boundary_distance(xy, window):
    xmin, ymin, xmax, ymax = window
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    return np.min(np.stack([xy[:, 0] - xmin, xmax - xy[:, 0], xy[:, 1] - ymin,
                            ymax - xy[:, 1]]), axis=0)


def _cdf(distances, boundary, r, correction):
    out = np.full(len(r), np.nan)
    for k, rk in enumerate(r):
        if correction == "none":
            at_risk = np.ones(len(distances), dtype=bool)
        else:
            at_risk = boundary >= rk
        if at_risk.sum():
            out[k] = np.sum((distances <= rk) & at_risk) / at_risk.sum()
    return out


def g_function(xy, r, window, *, correction="border"):
    """Nearest-neighbour distance distribution G(r) and its CSR value (brute force)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    r = np.asarray(r, dtype=np.float64)
    window = tuple(float(v) for v in window)
    area = (window[2] - window[0]) * (window[3] - window[1])
    theo = 1.0 - np.exp(-len(xy) / area * np.pi * r * r)
    if len(xy) < 2:
        return np.full(len(r), np.nan), theo
    return _cdf(_nnd(xy), _boundary_distance(xy, window), r, correction), theo


def _grid(window, grid):
    xmin, ymin, xmax, ymax = window
    xs = xmin + (np.arange(grid) + 0.5) * ((xmax - xmin) / grid)
    ys = ymin + (np.arange(grid) + 0.5) * ((ymax - ymin) / grid)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    return np.column_stack([gx.ravel(), gy.ravel()])


def f_function(xy, r, window, *, correction="border", grid=128):
    """Empty-space function F(r) from a grid x grid lattice of pixel centres (brute force)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    r = np.asarray(r, dtype=np.float64)
    window = tuple(float(v) for v in window)
    area = (window[2] - window[0]) * (window[3] - window[1])
    theo = 1.0 - np.exp(-len(xy) / area * np.pi * r * r)
    if len(xy) == 0:
        return np.full(len(r), np.nan), theo
    test = _grid(window, grid)
    empty = _distance_matrix(test, xy).min(axis=1)
    return _cdf(empty, _boundary_distance(test, window), r, correction), theo


def j_function(xy, r, window, *, correction="border", grid=128):
    """J(r) = (1 - G(r)) / (1 - F(r)), NaN where F(r) == 1 (brute force)."""
    g, _ = g_function(xy, r, window, correction=correction)
    f, _ = f_function(xy, r, window, correction=correction, grid=grid)
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.where(f < 1.0, (1.0 - g) / (1.0 - f), np.nan)
    return j, np.ones(len(np.asarray(r)))
