"""Brute-force references for the ``spatial_index`` kernels.

Every query computes all query-to-point distances with the kernel's formula
``sqrt(dx*dx + dy*dy)`` (in chunks of query rows, so memory stays bounded) and selects
by plain numpy comparisons and sorts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "KDTree",
    "build_kdtree",
    "count_within",
    "count_within_by_label",
    "cumulative_counts",
    "knn",
    "label_pair_counts",
    "nearest_of_label",
    "query_radius",
]

_CHUNK = 1024


class KDTree(NamedTuple):
    """The raw points: the reference has no index."""

    xy: np.ndarray


def build_kdtree(xy, leaf_size: int = 16) -> KDTree:
    """Wrap the points; ``leaf_size`` is accepted for signature parity and ignored."""
    return KDTree(np.asarray(xy, dtype=np.float64).reshape(-1, 2))


def _distance_rows(tree, query_xy, skip):
    """Yield ``(i, d)``: query ``i``'s distances to every point, ``nan`` at ``skip[i]``."""
    query = np.asarray(query_xy, dtype=np.float64).reshape(-1, 2)
    m = len(query)
    skip = np.full(m, -1) if skip is None else np.asarray(skip)
    for lo in range(0, m, _CHUNK):
        q = query[lo:lo + _CHUNK]
        dx = q[:, 0:1] - tree.xy[None, :, 0]
        dy = q[:, 1:2] - tree.xy[None, :, 1]
        d = np.sqrt(dx * dx + dy * dy)
        for row in range(len(q)):
            i = lo + row
            if skip[i] >= 0:
                d[row, skip[i]] = np.nan
            yield i, d[row]


def knn(tree, query_xy, k: int, *, skip=None):
    """The ``k`` nearest points by (distance, index); ``inf``/``-1`` when too few."""
    m = len(np.asarray(query_xy).reshape(-1, 2))
    out_d = np.full((m, k), np.inf)
    out_i = np.full((m, k), -1, dtype=np.int64)
    for i, d in _distance_rows(tree, query_xy, skip):
        idx = np.flatnonzero(~np.isnan(d))
        order = np.lexsort((idx, d[idx]))[:k]
        out_d[i, :len(order)] = d[idx[order]]
        out_i[i, :len(order)] = idx[order]
    return out_d, out_i


def nearest_of_label(tree, labels, target: int, query_xy, *, skip=None):
    """The nearest point with ``labels == target`` by (distance, index); ``inf``/``-1``."""
    labels = np.asarray(labels, dtype=np.int64)
    m = len(np.asarray(query_xy).reshape(-1, 2))
    out_d = np.full(m, np.inf)
    out_i = np.full(m, -1, dtype=np.int64)
    for i, d in _distance_rows(tree, query_xy, skip):
        idx = np.flatnonzero((labels == target) & ~np.isnan(d))
        if idx.size:
            best = idx[np.lexsort((idx, d[idx]))[0]]
            out_d[i], out_i[i] = d[best], best
    return out_d, out_i


def query_radius(tree, query_xy, r: float, *, skip=None):
    """CSR lists of points with ``d <= r``, each sorted by (distance, index)."""
    m = len(np.asarray(query_xy).reshape(-1, 2))
    indptr = np.zeros(m + 1, dtype=np.int64)
    indices, distances = [], []
    for i, d in _distance_rows(tree, query_xy, skip):
        idx = np.flatnonzero(d <= r)
        order = np.lexsort((idx, d[idx]))
        indices.append(idx[order])
        distances.append(d[idx[order]])
        indptr[i + 1] = indptr[i] + len(idx)
    if not indices:
        return indptr, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    return indptr, np.concatenate(indices).astype(np.int64), np.concatenate(distances)


def count_within(tree, query_xy, r: float, *, skip=None):
    """Number of points with ``d <= r`` per query."""
    m = len(np.asarray(query_xy).reshape(-1, 2))
    out = np.zeros(m, dtype=np.int64)
    for i, d in _distance_rows(tree, query_xy, skip):
        out[i] = np.count_nonzero(d <= r)
    return out


def count_within_by_label(tree, labels, n_labels: int, query_xy, r: float, *, skip=None):
    """Per query, a bincount over ``labels`` of the points with ``d <= r``."""
    labels = np.asarray(labels, dtype=np.int64)
    m = len(np.asarray(query_xy).reshape(-1, 2))
    out = np.zeros((m, n_labels), dtype=np.int64)
    for i, d in _distance_rows(tree, query_xy, skip):
        out[i] = np.bincount(labels[d <= r], minlength=n_labels)
    return out


def cumulative_counts(tree, query_xy, radii, *, skip=None):
    """Per query and radius, the number of points with ``d <= radii[j]``."""
    radii = np.asarray(radii, dtype=np.float64)
    m = len(np.asarray(query_xy).reshape(-1, 2))
    out = np.zeros((m, len(radii)), dtype=np.int64)
    for i, d in _distance_rows(tree, query_xy, skip):
        out[i] = [np.count_nonzero(d <= r) for r in radii]
    return out


def label_pair_counts(tree, labels, n_labels: int, radii):
    """Ordered pairs ``i != j`` with ``d <= radii[k]``, counted by (labels[i], labels[j])."""
    labels = np.asarray(labels, dtype=np.int64)
    radii = np.asarray(radii, dtype=np.float64)
    n = len(tree.xy)
    out = np.zeros((n_labels, n_labels, len(radii)), dtype=np.int64)
    for i, d in _distance_rows(tree, tree.xy, np.arange(n)):
        for k, r in enumerate(radii):
            out[labels[i], :, k] += np.bincount(labels[d <= r], minlength=n_labels)
    return out
