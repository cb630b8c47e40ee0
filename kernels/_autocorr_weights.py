"""Spatial weights for the autocorrelation statistics: sparse rows (CSR) built as
contiguity on a grid of quadrat counts, k nearest neighbours or a distance band over
cells, and their checks and row standardisation."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._jit import jit
from ._validate import as_option, as_points
from .spatial_index import build_kdtree, knn, query_radius

__all__ = ["SpatialWeights", "distance_band_weights", "grid_weights", "knn_weights"]

TRANSFORMS = ("row", "binary")
CONTIGUITIES = ("rook", "queen")


class SpatialWeights(NamedTuple):
    """Sparse spatial weights: row ``i``'s neighbours are
    ``indices[indptr[i]:indptr[i+1]]`` with ``weights`` of the same slice."""

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray


@jit
def _row_standardised(indptr, w):
    """``w`` with each row divided by its (serial) sum; rows summing to 0 unchanged."""
    out = np.empty_like(w)
    for i in range(indptr.shape[0] - 1):
        total = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            total += w[e]
        if total == 0.0:
            total = 1.0
        for e in range(indptr[i], indptr[i + 1]):
            out[e] = w[e] / total
    return out


def grid_weights(shape, contiguity="rook"):
    """Binary contiguity weights between the cells of a 2-D grid.

    Parameters
    ----------
    shape : tuple of 2 ints
        ``(n_rows, n_cols)``, e.g. ``counts.shape`` from
        :func:`cytoql.kernels.quadrats.quadrat_counts`.
    contiguity : {"rook", "queen"}
        Rook: cells sharing an edge (up to 4 neighbours); queen: sharing an edge or
        a corner (up to 8).

    Returns
    -------
    SpatialWeights
        Over ``n_rows * n_cols`` cells in row-major order (``counts.ravel()``), all
        weights 1, neighbours in increasing index order.
    """
    as_option(contiguity, CONTIGUITIES, "contiguity")
    try:
        n_rows, n_cols = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (n_rows, n_cols), got {shape!r}") from None
    if n_rows < 1 or n_cols < 1:
        raise ValueError(f"shape must be positive, got {shape!r}")
    steps = [(-1, 0), (0, -1), (0, 1), (1, 0)]
    if contiguity == "queen":
        steps = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    neighbour_lists = []
    for dr, dc in steps:  # steps are in increasing index order
        nr, nc = rows + dr, cols + dc
        ok = (nr >= 0) & (nr < n_rows) & (nc >= 0) & (nc < n_cols)
        neighbour_lists.append(np.where(ok, nr * n_cols + nc, -1))
    table = np.stack(neighbour_lists, axis=1)
    keep = table >= 0
    indptr = np.zeros(n_rows * n_cols + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    indices = table[keep].astype(np.int64)
    return SpatialWeights(indptr, indices, np.ones(indices.size, dtype=np.float64))


def knn_weights(xy, k):
    """Binary k-nearest-neighbour weights between points.

    Parameters
    ----------
    xy : ndarray of shape (n, 2), float64
        Cell positions.
    k : int
        Neighbours per cell, ``1 <= k <= n - 1``.

    Returns
    -------
    SpatialWeights
        Row ``i`` holds the ``k`` nearest other cells (never ``i`` itself; ties at
        equal distance go to the smaller index), weight 1. Not symmetric in general.
    """
    xy = as_points(xy)
    n = xy.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {k!r}")
    if not 1 <= k <= n - 1:
        raise ValueError(f"k must be in [1, n - 1] = [1, {n - 1}], got {k}")
    ids = np.arange(n, dtype=np.int64)
    _, idx = knn(build_kdtree(xy), xy, int(k), skip=ids)
    indptr = np.arange(0, n * k + 1, k, dtype=np.int64)
    return SpatialWeights(indptr, np.ascontiguousarray(idx.ravel()),
                          np.ones(n * k, dtype=np.float64))


def distance_band_weights(xy, r):
    """Binary distance-band weights: cells within distance ``r`` are neighbours.

    Parameters
    ----------
    xy : ndarray of shape (n, 2), float64
        Cell positions.
    r : float
        Band radius > 0 in the unit of ``xy``; ``d <= r`` counts.

    Returns
    -------
    SpatialWeights
        Symmetric, weight 1, a cell never its own neighbour (coincident cells are);
        cells with no neighbour have empty rows.
    """
    xy = as_points(xy)
    r = float(r)
    if not (r > 0 and math.isfinite(r)):
        raise ValueError(f"r must be a finite number > 0, got {r!r}")
    n = xy.shape[0]
    if n == 0:
        return SpatialWeights(np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0))
    ids = np.arange(n, dtype=np.int64)
    indptr, indices, _ = query_radius(build_kdtree(xy), xy, r, skip=ids)
    return SpatialWeights(indptr, indices, np.ones(indices.size, dtype=np.float64))


def _checked_weights(weights, n, transform):
    as_option(transform, TRANSFORMS, "transform")
    if not isinstance(weights, SpatialWeights):
        raise TypeError("weights must be SpatialWeights (grid_weights, knn_weights, "
                        f"distance_band_weights), got {type(weights).__name__}")
    indptr = np.ascontiguousarray(weights.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(weights.indices, dtype=np.int64)
    w = np.ascontiguousarray(weights.weights, dtype=np.float64)
    if indptr.shape != (n + 1,):
        raise ValueError(f"weights cover {indptr.size - 1} cells but values has {n}")
    if indices.size != indptr[-1] or w.size != indices.size:
        raise ValueError("weights indptr, indices and weights are inconsistent")
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"weights indices must lie in [0, {n})")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and >= 0")
    if transform == "row":
        w = _row_standardised(indptr, w)
    return indptr, indices, w
