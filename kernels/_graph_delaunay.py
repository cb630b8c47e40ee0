"""Graphs from the Delaunay triangulation: Delaunay, Gabriel and minimum spanning tree.

The three share one rule for coincident points: each group of points at exactly the
same position is represented by its lowest index, which takes part in the
triangulation; every other member of the group hangs off the representative by one
zero-length edge. The graph therefore stays connected, every point has at least one
edge as soon as there are two points, and the minimum spanning tree of the graph is a
Euclidean minimum spanning tree of all points.
"""

from __future__ import annotations

import numpy as np

from . import delaunay
from ._graph_edges import (_EMPTY_EDGES, _adjacency, _edge_lengths, _find, _sort_unique,
                           canonical_edges)
from ._jit import jit, jit_parallel, prange
from ._validate import as_points

__all__ = ["delaunay_edges", "gabriel_edges", "mst_edges"]


@jit
def _triangle_edges(simplices, n):
    """Unique edges of a triangle list, canonical and sorted, by a counting sort."""
    n_tri = simplices.shape[0]
    start = np.zeros(n + 1, dtype=np.int64)
    for t in range(n_tri):
        for e in range(3):
            a = simplices[t, e]
            b = simplices[t, (e + 1) % 3]
            start[min(a, b) + 1] += 1
    for v in range(n):
        start[v + 1] += start[v]
    fill = start[:-1].copy()
    upper = np.empty(start[n], dtype=np.int64)
    for t in range(n_tri):
        for e in range(3):
            a = simplices[t, e]
            b = simplices[t, (e + 1) % 3]
            lo = min(a, b)
            upper[fill[lo]] = max(a, b)
            fill[lo] += 1
    out = np.empty((start[n], 2), dtype=np.int64)
    m = 0
    for v in range(n):
        s, f = start[v], start[v + 1]
        for p in range(s + 1, f):  # rows are short (mean 6): insertion sort
            x = upper[p]
            q = p - 1
            while q >= s and upper[q] > x:
                upper[q + 1] = upper[q]
                q -= 1
            upper[q + 1] = x
        for p in range(s, f):
            if p == s or upper[p] != upper[p - 1]:
                out[m, 0] = v
                out[m, 1] = upper[p]
                m += 1
    return out[:m]


@jit_parallel
def _gabriel_mask(xy, edges, indptr, indices):
    """Keep an edge when every neighbour of either end lies strictly outside its
    closed diametral disc; (k - i).(k - j) > 0 is that test without a square root."""
    keep = np.ones(edges.shape[0], dtype=np.bool_)
    for e in prange(edges.shape[0]):
        i, j = edges[e, 0], edges[e, 1]
        for end in range(2):
            v = i if end == 0 else j
            for p in range(indptr[v], indptr[v + 1]):
                k = indices[p]
                if k == i or k == j:
                    continue
                dot = ((xy[k, 0] - xy[i, 0]) * (xy[k, 0] - xy[j, 0])
                       + (xy[k, 1] - xy[i, 1]) * (xy[k, 1] - xy[j, 1]))
                if dot <= 0.0:
                    keep[e] = False
                    break
            if not keep[e]:
                break
    return keep


@jit
def _kruskal(edges, order, n):
    parent = np.arange(n)
    keep = np.zeros(edges.shape[0], dtype=np.bool_)
    joined = 0
    for e in order:
        if joined == n - 1:
            break
        a = _find(parent, edges[e, 0])
        b = _find(parent, edges[e, 1])
        if a != b:
            parent[max(a, b)] = min(a, b)
            keep[e] = True
            joined += 1
    return keep


def _collinear_path(xy: np.ndarray, rep: np.ndarray) -> np.ndarray:
    """Path through the distinct positions in order along their common line."""
    ids = np.flatnonzero(rep == np.arange(len(xy)))
    if len(ids) < 2:
        return _EMPTY_EDGES.copy()
    p = xy[ids]
    # the two extremes along the wider coordinate span the line, whatever its slope
    c = int(np.ptp(p[:, 1]) > np.ptp(p[:, 0]))
    direction = p[np.argmax(p[:, c])] - p[np.argmin(p[:, c])]
    order = ids[np.argsort((p - p[0]) @ direction, kind="stable")]
    return canonical_edges(np.stack([order[:-1], order[1:]], axis=1), len(xy))


def _delaunay_core(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Delaunay edges between representatives, and each point's representative.

    Returns ``(core, rep)``: ``core`` canonical edges among representatives only,
    ``rep[i]`` the representative of ``i`` (``rep[i] == i`` for representatives).
    """
    simplices, rep = delaunay.triangles(xy)
    if not len(simplices):
        return _collinear_path(xy, rep), rep
    return _triangle_edges(simplices, len(xy)), rep


def _with_duplicates(core: np.ndarray, rep: np.ndarray) -> np.ndarray:
    members = np.flatnonzero(rep != np.arange(len(rep)))
    if not len(members):
        return core
    lo = np.concatenate([core[:, 0], rep[members]])
    hi = np.concatenate([core[:, 1], members])
    return _sort_unique(np.minimum(lo, hi), np.maximum(lo, hi))


def delaunay_edges(xy) -> np.ndarray:
    """Edges of the Delaunay triangulation of a point set.

    Parameters
    ----------
    xy : array_like of shape (n, 2)
        Finite coordinates.

    Returns
    -------
    ndarray of shape (E, 2), int64
        Canonical edge list (``i < j``, sorted, unique).

    Raises
    ------
    ValueError
        If ``xy`` is not an (n, 2) array of finite numbers.

    Notes
    -----
    - Triangulation by :func:`cytoql.kernels.delaunay.triangles` (incremental
      insertion with exact orientation and in-circle predicates) of the coordinates
      centred on their bounding box; on points in general position the edges are
      Qhull's (``scipy.spatial.Delaunay``), which the reference uses.
      For co-circular points (a square's corners) any triangulation is Delaunay; which
      diagonal is an edge is decided by the insertion order (deterministic, not
      necessarily Qhull's choice); every edge has an empty circumcircle and the edge
      count is ``3m - 3 - h`` (m distinct positions, h of them on the hull).
    - Coincident points: the lowest index of each group is triangulated, every other
      member gets one zero-length edge to it. Points closer than float64 can tell
      apart after centring (only near zero in a box about 1e16 times wider) count as
      coincident and hang off the lowest index by an edge of their actual length.
      Points any distance apart that float64 keeps apart are separate vertices.
    - All points exactly on one line: the path through the distinct
      positions in order along the line. ``n == 2`` gives the single edge (zero length
      if the two coincide); ``n <= 1`` gives no edges.
    """
    xy = as_points(xy)
    core, rep = _delaunay_core(xy)
    return _with_duplicates(core, rep)


def gabriel_edges(xy) -> np.ndarray:
    """Edges of the Gabriel graph: pairs whose closed diametral disc holds no other point.

    Parameters
    ----------
    xy : array_like of shape (n, 2)
        Finite coordinates.

    Returns
    -------
    ndarray of shape (E, 2), int64
        Canonical edge list; a subset of :func:`delaunay_edges`.

    Notes
    -----
    - ``(i, j)`` is an edge when every other position ``k`` lies strictly outside the
      closed disc with diameter ``ij``, i.e. ``(k - i) . (k - j) > 0``. A point on the
      circle blocks the edge, so a square's diagonals are never Gabriel edges and the
      result does not depend on how co-circular points are triangulated.
    - Coincident points follow :func:`delaunay_edges`: the test runs between distinct
      positions, and each duplicate keeps its zero-length edge to its representative.
      The Gabriel graph therefore still contains a Euclidean minimum spanning tree.
    - Only Delaunay neighbours of ``i`` and ``j`` are tested: any point inside the disc
      implies one of the two triangles on ``ij`` has its apex inside it.
    """
    xy = as_points(xy)
    n = len(xy)
    core, rep = _delaunay_core(xy)
    indptr, indices = _adjacency(core, n)
    core = core[_gabriel_mask(xy, core, indptr, indices)]
    return _with_duplicates(core, rep)


def mst_edges(xy) -> np.ndarray:
    """Edges of a Euclidean minimum spanning tree.

    Parameters
    ----------
    xy : array_like of shape (n, 2)
        Finite coordinates.

    Returns
    -------
    ndarray of shape (max(n - 1, 0), 2), int64
        Canonical edge list of a spanning tree of minimum total length.

    Notes
    -----
    Kruskal's algorithm over :func:`delaunay_edges` (which contain a Euclidean MST)
    with a union-find. Edges of equal length are taken in edge-list order, so the tree
    is deterministic; when lengths tie, another minimum tree may exist, with the same
    total length and the same sorted edge lengths. Coincident points are joined by
    zero-length edges.
    """
    xy = as_points(xy)
    edges = delaunay_edges(xy)
    lengths = _edge_lengths(xy, edges)
    order = np.argsort(lengths, kind="stable")
    return edges[_kruskal(edges, order, len(xy))]
