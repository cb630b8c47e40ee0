"""Graphs from distances between points: k nearest neighbours and fixed radius."""

from __future__ import annotations

import numpy as np

from . import spatial_index
from ._graph_edges import _EMPTY_EDGES, _sort_unique
from ._validate import as_int, as_points, as_radii

__all__ = ["knn_edges", "radius_edges"]


def knn_edges(xy, k: int, *, mutual: bool = False) -> np.ndarray:
    """Symmetric k-nearest-neighbour graph.

    Parameters
    ----------
    xy : array_like of shape (n, 2)
        Finite coordinates.
    k : int
        Neighbours per point, >= 1 (a point is never its own neighbour). With fewer
        than ``k`` other points, all of them are neighbours.
    mutual : bool, default False
        False: ``i -- j`` when ``j`` is among the k nearest of ``i`` *or* ``i`` among
        those of ``j``. True: both must hold (mutual kNN graph).

    Returns
    -------
    ndarray of shape (E, 2), int64
        Canonical edge list.

    Notes
    -----
    Neighbours come from :func:`cytoql.kernels.spatial_index.knn`, whose tie rule
    (equal distances at the k-th place) decides the neighbour sets. Coincident points
    are ordinary neighbours at distance 0.
    """
    xy = as_points(xy)
    k = as_int(k, "k", 1)
    n = len(xy)
    if n < 2:
        return _EMPTY_EDGES.copy()
    tree = spatial_index.build_kdtree(xy)
    self_ids = np.arange(n, dtype=np.int64)
    # at most n - 1 others exist, so every returned slot holds a neighbour (no -1)
    _, idx = spatial_index.knn(tree, xy, min(int(k), n - 1), skip=self_ids)
    src = np.repeat(np.arange(n, dtype=np.int64), idx.shape[1])
    dst = idx.ravel()
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    if not mutual:
        return _sort_unique(lo, hi)
    # a pair listed from both ends appears twice
    order = np.lexsort((hi, lo))
    lo, hi = lo[order], hi[order]
    twice = (lo[1:] == lo[:-1]) & (hi[1:] == hi[:-1])
    return np.ascontiguousarray(np.stack([lo[1:][twice], hi[1:][twice]], axis=1))


def radius_edges(xy, r: float) -> np.ndarray:
    """Radius graph: every pair of points at distance ``<= r``.

    Parameters
    ----------
    xy : array_like of shape (n, 2)
        Finite coordinates.
    r : float
        Radius > 0, in the unit of ``xy``.

    Returns
    -------
    ndarray of shape (E, 2), int64
        Canonical edge list.

    Notes
    -----
    ``d <= r`` (ST_DWithin's rule); coincident points are joined for any ``r``.
    """
    xy = as_points(xy)
    if np.ndim(r) != 0:
        raise ValueError(f"r must be a single radius, got shape {np.shape(r)}")
    r = float(as_radii(r, "r")[0])
    n = len(xy)
    if n < 2:
        return _EMPTY_EDGES.copy()
    tree = spatial_index.build_kdtree(xy)
    self_ids = np.arange(n, dtype=np.int64)
    indptr, indices, _ = spatial_index.query_radius(tree, xy, r, skip=self_ids)
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    dst = np.asarray(indices, dtype=np.int64)
    ahead = src < dst
    return _sort_unique(src[ahead], dst[ahead])
