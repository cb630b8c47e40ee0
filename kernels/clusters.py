"""DBSCAN on the spatial index, and per-cluster summaries: sizes, composition, hull area.

DBSCAN follows scikit-learn's semantics exactly, labels included (tested against
``sklearn.cluster.DBSCAN`` where it is installed):

* the neighbourhood of a point is every point at ``d <= eps``, the point itself
  included, so ``min_samples`` counts the point itself;
* a core point has at least ``min_samples`` points in its neighbourhood;
* clusters are the connected components of core points (core-to-core ``d <= eps``),
  numbered ``0, 1, ...`` in the order of their smallest point index;
* a border point (not core, within ``eps`` of a core point) joins the cluster, among
  those of its core neighbours, with the smallest number: clusters are grown one at a
  time in index order, and the first to reach a border point keeps it;
* every other point is noise, labelled ``-1``.

These rules fix every label, so the result does not depend on the neighbour order the
index returns.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from ._validate import as_codes, as_int, as_points
from .spatial_index import build_kdtree, query_radius
from .tessellation import convex_hull, polygon_area

__all__ = [
    "cluster_composition",
    "cluster_hull_areas",
    "cluster_sizes",
    "dbscan",
    "largest_cluster",
]


@jit
def _expand(indptr, indices, core):
    """Grow clusters from core points in index order (scikit-learn's dbscan_inner)."""
    n = core.shape[0]
    labels = np.full(n, -1, np.int64)
    stack = np.empty(n, np.int64)
    current = 0
    for seed in range(n):
        if labels[seed] != -1 or not core[seed]:
            continue
        labels[seed] = current
        stack[0] = seed
        top = 1
        while top > 0:
            top -= 1
            i = stack[top]
            if not core[i]:
                continue
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                if labels[j] == -1:
                    labels[j] = current
                    stack[top] = j  # each point is pushed once, when labelled
                    top += 1
        current += 1
    return labels


def dbscan(xy, eps, min_samples=5):
    """Density-based clusters (DBSCAN) of a point pattern.

    Parameters
    ----------
    xy : array_like of shape (n, 2), float
        Point coordinates, finite; ``n`` may be 0.
    eps : float
        Neighbourhood radius, finite and > 0, in the unit of ``xy``.
    min_samples : int, default 5
        Points needed within ``eps`` of a core point, the point itself included; >= 1.

    Returns
    -------
    labels : ndarray of shape (n,), int64
        Cluster number of each point, ``0 .. n_clusters - 1``; ``-1`` for noise.
    core : ndarray of shape (n,), bool
        Whether each point is a core point.

    Raises
    ------
    ValueError
        If ``xy`` is not (n, 2) finite, ``eps`` is not finite and > 0, or
        ``min_samples`` < 1.
    TypeError
        If ``eps`` is not a single number or ``min_samples`` is not an integer.

    Notes
    -----
    The module docstring states the conventions (scikit-learn's). The neighbour lists
    of all points are held at once (CSR, one entry per pair within ``eps``), as in
    scikit-learn; time is one radius query per point plus a linear expansion.

    References
    ----------
    Ester, M., Kriegel, H.-P., Sander, J. & Xu, X. (1996). A density-based algorithm for
    discovering clusters in large spatial databases with noise. KDD-96, 226–231.
    """
    xy = as_points(xy, "xy")
    min_samples = as_int(min_samples, "min_samples", 1)
    if np.ndim(eps) != 0 or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"eps must be a single number, got {eps!r}")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a finite radius > 0, got {eps!r}")
    ids = np.arange(len(xy), dtype=np.int64)
    indptr, indices, _ = query_radius(build_kdtree(xy), xy, float(eps), skip=ids)
    core = np.diff(indptr) + 1 >= min_samples
    return _expand(indptr, indices, core), core


def cluster_sizes(cluster_labels):
    """Number of points in each cluster.

    Parameters
    ----------
    cluster_labels : array_like of shape (n,), int
        Cluster numbers ``>= 0``, ``-1`` for noise (as :func:`dbscan` returns).

    Returns
    -------
    ndarray of shape (n_clusters,), int64
        ``n_clusters = max(cluster_labels) + 1`` (0 when all are noise).

    Raises
    ------
    ValueError
        If ``cluster_labels`` is not 1-D or has a value below -1.
    TypeError
        If ``cluster_labels`` is not integer.
    """
    clusters, n_clusters = _clusters(cluster_labels)
    return np.bincount(clusters[clusters >= 0], minlength=n_clusters).astype(np.int64)


def cluster_composition(cluster_labels, labels, n_labels):
    """Counts of each label in each cluster.

    Parameters
    ----------
    cluster_labels : array_like of shape (n,), int
        Cluster numbers, ``-1`` for noise.
    labels : array_like of shape (n,), int
        Label code of each point (e.g. cell type), in ``[0, n_labels)``.
    n_labels : int
        Number of labels L, >= 1.

    Returns
    -------
    ndarray of shape (n_clusters, L), int64
        ``out[c, a]`` is the number of points of cluster ``c`` with label ``a``; noise is
        left out.

    Raises
    ------
    ValueError
        If the arrays differ in length, a label is outside ``[0, n_labels)`` or a
        cluster number is below -1.
    TypeError
        If an array is not integer.
    """
    clusters, n_clusters = _clusters(cluster_labels)
    codes, n_labels = as_codes(labels, len(clusters), n_labels)
    kept = clusters >= 0
    flat = np.bincount(clusters[kept] * n_labels + codes[kept],
                       minlength=n_clusters * n_labels)
    return flat.reshape(n_clusters, n_labels).astype(np.int64)


def cluster_hull_areas(xy, cluster_labels):
    """Area of the convex hull of each cluster.

    Parameters
    ----------
    xy : array_like of shape (n, 2), float
        Point coordinates.
    cluster_labels : array_like of shape (n,), int
        Cluster numbers, ``-1`` for noise.

    Returns
    -------
    ndarray of shape (n_clusters,), float64
        Hull area in squared units of ``xy``; 0 for a cluster whose points are fewer
        than three or collinear.

    Raises
    ------
    ValueError
        If ``xy`` is not (n, 2) finite, or ``cluster_labels`` is mis-shaped or below -1.
    TypeError
        If ``cluster_labels`` is not integer.
    """
    xy = as_points(xy, "xy")
    clusters, n_clusters = _clusters(cluster_labels, len(xy))
    order = np.argsort(clusters, kind="stable")
    bounds = np.searchsorted(clusters[order], np.arange(n_clusters + 1))
    return np.array([polygon_area(convex_hull(xy[order[bounds[c]:bounds[c + 1]]]))
                     for c in range(n_clusters)], dtype=np.float64)


def largest_cluster(cluster_labels):
    """Number of the cluster with the most points.

    Parameters
    ----------
    cluster_labels : array_like of shape (n,), int
        Cluster numbers, ``-1`` for noise.

    Returns
    -------
    int
        The largest cluster's number (the smallest number on ties); ``-1`` when every
        point is noise or ``n == 0``.

    Raises
    ------
    ValueError
        If ``cluster_labels`` is not 1-D or has a value below -1.
    TypeError
        If ``cluster_labels`` is not integer.
    """
    sizes = cluster_sizes(cluster_labels)
    return int(np.argmax(sizes)) if sizes.size and sizes.max() > 0 else -1


def _clusters(cluster_labels, n: int | None = None) -> tuple[np.ndarray, int]:
    arr = np.asarray(cluster_labels)
    if arr.ndim != 1 or (n is not None and arr.shape != (n,)):
        want = "one-dimensional" if n is None else f"of shape ({n},) like xy"
        raise ValueError(f"cluster_labels must be {want}, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"cluster_labels must be integer, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and arr.min() < -1:
        raise ValueError(f"cluster_labels must be >= -1 (-1 = noise), got {arr.min()}")
    return arr, int(arr.max()) + 1 if arr.size else 0
