"""The canonical undirected edge list that every graph kernel returns and accepts.

An ``(E, 2)`` int64 array with ``i < j`` in each row, rows sorted lexicographically, no
repeated rows: its validation, the conversion of any pair list into it, the CSR
adjacency and edge lengths built from it, and the union-find that the minimum spanning
tree and the connected components share.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, jit_parallel, prange
from ._validate import as_points

__all__ = ["adjacency", "canonical_edges", "edge_lengths"]

_EMPTY_EDGES = np.empty((0, 2), dtype=np.int64)


def _as_edges(edges, n: int, name: str = "edges") -> np.ndarray:
    """Validate the canonical edge-list form and return it as C-contiguous int64."""
    arr = np.asarray(edges)
    if arr.size == 0:
        if arr.ndim == 2 and arr.shape[1] != 2:
            raise ValueError(f"{name} must have shape (E, 2), got {arr.shape}")
        return _EMPTY_EDGES.copy()
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (E, 2), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer node indices, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    lo, hi, reversed_row, unsorted_row = _edge_form(arr)
    if lo < 0 or hi >= n:
        raise ValueError(f"{name} must lie in [0, {n}), got range [{lo}, {hi}]")
    if reversed_row >= 0:
        raise ValueError(
            f"{name} must have i < j in every row (no self-loops), row {reversed_row} is "
            f"{arr[reversed_row].tolist()}; use canonical_edges() to convert"
        )
    if unsorted_row >= 0:
        raise ValueError(
            f"{name} must be sorted lexicographically without repeats, row "
            f"{unsorted_row} is {arr[unsorted_row].tolist()} after "
            f"{arr[unsorted_row - 1].tolist()}; use canonical_edges() to convert"
        )
    return arr


@jit
def _edge_form(edges):
    """One pass over an edge list: value range, first row without i < j, first row
    not after its predecessor (-1 when none); numpy needs several temporaries."""
    lo = edges[0, 0]
    hi = edges[0, 0]
    reversed_row = -1
    unsorted_row = -1
    for e in range(edges.shape[0]):
        i, j = edges[e, 0], edges[e, 1]
        lo = min(lo, i, j)
        hi = max(hi, i, j)
        if reversed_row < 0 and i >= j:
            reversed_row = e
        if unsorted_row < 0 and e > 0:
            pi, pj = edges[e - 1, 0], edges[e - 1, 1]
            if not (pi < i or (pi == i and pj < j)):
                unsorted_row = e
    return lo, hi, reversed_row, unsorted_row


def _as_count(n, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be an integer number of nodes, got {n!r}")
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}")
    return int(n)


def canonical_edges(pairs, n: int) -> np.ndarray:
    """Turn any list of node pairs into the canonical undirected edge list.

    Parameters
    ----------
    pairs : array_like of shape (E, 2), integer
        Node index pairs in any order and orientation; repeats are allowed.
    n : int
        Number of nodes; every index must lie in ``[0, n)``.

    Returns
    -------
    ndarray of shape (E', 2), int64
        Rows ``(min, max)``, self-loops dropped, repeats merged, sorted lexicographically.
    """
    n = _as_count(n)
    arr = np.asarray(pairs)
    if arr.size == 0:
        return _EMPTY_EDGES.copy()
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"pairs must have shape (E, 2), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"pairs must be integer node indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"pairs must lie in [0, {n}), got range [{arr.min()}, {arr.max()}]")
    lo = np.minimum(arr[:, 0], arr[:, 1])
    hi = np.maximum(arr[:, 0], arr[:, 1])
    keep = lo != hi
    return _sort_unique(lo[keep], hi[keep])


def _sort_unique(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    order = np.lexsort((hi, lo))
    out = np.stack([lo[order], hi[order]], axis=1).astype(np.int64)
    if len(out) > 1:
        new = np.ones(len(out), dtype=bool)
        new[1:] = (out[1:] != out[:-1]).any(axis=1)
        out = out[new]
    return np.ascontiguousarray(out)


@jit
def _adjacency(edges, n):
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(edges.shape[0]):
        indptr[edges[e, 0] + 1] += 1
        indptr[edges[e, 1] + 1] += 1
    for v in range(n):
        indptr[v + 1] += indptr[v]
    fill = indptr[:-1].copy()
    indices = np.empty(indptr[n], dtype=np.int64)
    # Canonical order puts every (u, v) with u < v before any (v, j): rows come out sorted.
    for e in range(edges.shape[0]):
        i, j = edges[e, 0], edges[e, 1]
        indices[fill[i]] = j
        fill[i] += 1
        indices[fill[j]] = i
        fill[j] += 1
    return indptr, indices


@jit_parallel
def _edge_lengths(xy, edges):
    out = np.empty(edges.shape[0], dtype=np.float64)
    for e in prange(edges.shape[0]):
        i, j = edges[e, 0], edges[e, 1]
        dx = xy[j, 0] - xy[i, 0]
        dy = xy[j, 1] - xy[i, 1]
        # the spatial index's formula, so a radius edge is never longer than r
        out[e] = np.sqrt(dx * dx + dy * dy)
    return out


@jit
def _find(parent, v):
    while parent[v] != v:
        parent[v] = parent[parent[v]]
        v = parent[v]
    return v


def adjacency(edges, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Compressed sparse row adjacency of an undirected graph.

    Parameters
    ----------
    edges : array_like of shape (E, 2), int
        Canonical edge list.
    n : int
        Number of nodes.

    Returns
    -------
    indptr : ndarray of shape (n + 1,), int64
    indices : ndarray of shape (2E,), int64
        Neighbours of ``v`` are ``indices[indptr[v]:indptr[v + 1]]``, ascending; each
        edge is listed from both ends.
    """
    n = _as_count(n)
    return _adjacency(_as_edges(edges, n), n)


def edge_lengths(xy, edges) -> np.ndarray:
    """Euclidean length of each edge.

    Parameters
    ----------
    xy : array_like of shape (n, 2)
        Finite coordinates.
    edges : array_like of shape (E, 2), int
        Canonical edge list over the rows of ``xy``.

    Returns
    -------
    ndarray of shape (E,), float64
        In the unit of ``xy``.
    """
    xy = as_points(xy)
    return _edge_lengths(xy, _as_edges(edges, len(xy)))
