"""Per-node and whole-graph measures of an edge list: degrees, mixed-label edges,
clustering coefficient, connected components."""

from __future__ import annotations

import numpy as np

from ._graph_edges import _adjacency, _as_count, _as_edges, _find
from ._jit import jit, jit_parallel, prange
from ._validate import as_labels

__all__ = ["clustering_coefficient", "connected_components", "degrees",
           "mixed_edge_fraction"]


@jit
def _components(edges, n):
    parent = np.arange(n)
    for e in range(edges.shape[0]):
        a = _find(parent, edges[e, 0])
        b = _find(parent, edges[e, 1])
        if a != b:
            parent[max(a, b)] = min(a, b)
    # Union by smaller root keeps every root the smallest node of its component, so
    # numbering roots in node order numbers components by their smallest node.
    labels = np.empty(n, dtype=np.int64)
    n_comp = 0
    for v in range(n):
        r = _find(parent, v)
        if r == v:
            labels[v] = n_comp
            n_comp += 1
        else:
            labels[v] = labels[r]
    sizes = np.zeros(n_comp, dtype=np.int64)
    for v in range(n):
        sizes[labels[v]] += 1
    return labels, sizes


@jit_parallel
def _clustering(indptr, indices):
    n = indptr.shape[0] - 1
    out = np.zeros(n, dtype=np.float64)
    for v in prange(n):
        deg = indptr[v + 1] - indptr[v]
        if deg < 2:
            continue
        links = 0
        for p in range(indptr[v], indptr[v + 1]):
            u = indices[p]
            # sorted rows: count common neighbours by a merge
            a, a_end = indptr[v], indptr[v + 1]
            b, b_end = indptr[u], indptr[u + 1]
            while a < a_end and b < b_end:
                if indices[a] < indices[b]:
                    a += 1
                elif indices[a] > indices[b]:
                    b += 1
                else:
                    links += 1
                    a += 1
                    b += 1
        # each triangle at v is seen from both of its other corners
        out[v] = links / (deg * (deg - 1.0))
    return out


@jit
def _mixed_count(edges, labels):
    mixed = 0
    for e in range(edges.shape[0]):
        if labels[edges[e, 0]] != labels[edges[e, 1]]:
            mixed += 1
    return mixed


def degrees(edges, n: int) -> np.ndarray:
    """Number of edges at each node.

    Parameters
    ----------
    edges : array_like of shape (E, 2), int
        Canonical edge list.
    n : int
        Number of nodes.

    Returns
    -------
    ndarray of shape (n,), int64
    """
    n = _as_count(n)
    edges = _as_edges(edges, n)
    return np.bincount(edges.ravel(), minlength=n).astype(np.int64)


def mixed_edge_fraction(edges, labels) -> float:
    """Fraction of edges whose two ends carry different labels.

    Parameters
    ----------
    edges : array_like of shape (E, 2), int
        Canonical edge list.
    labels : array_like of shape (n,), int
        Label code of each node.

    Returns
    -------
    float
        ``#{(i, j): labels[i] != labels[j]} / E``; NaN when there are no edges.
    """
    labels_arr = np.asarray(labels)
    if labels_arr.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {labels_arr.shape}")
    labels_arr, _ = as_labels(labels_arr, len(labels_arr))
    edges = _as_edges(edges, len(labels_arr))
    if len(edges) == 0:
        return float("nan")
    return _mixed_count(edges, labels_arr) / len(edges)


def clustering_coefficient(edges, n: int) -> np.ndarray:
    """Local clustering coefficient of each node.

    Parameters
    ----------
    edges : array_like of shape (E, 2), int
        Canonical edge list.
    n : int
        Number of nodes.

    Returns
    -------
    ndarray of shape (n,), float64
        Triangles at ``v`` divided by ``deg(v) (deg(v) - 1) / 2``.

    Notes
    -----
    networkx's convention: nodes of degree < 2 have 0. The average clustering of the
    graph (networkx ``average_clustering``) is the plain mean of this array over all
    nodes, zeros included.
    """
    n = _as_count(n)
    indptr, indices = _adjacency(_as_edges(edges, n), n)
    return _clustering(indptr, indices)


def connected_components(edges, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of an undirected graph.

    Parameters
    ----------
    edges : array_like of shape (E, 2), int
        Canonical edge list.
    n : int
        Number of nodes.

    Returns
    -------
    labels : ndarray of shape (n,), int64
        Component of each node, numbered ``0, 1, ...`` in order of each component's
        lowest node index; an isolated node is its own component.
    sizes : ndarray of shape (n_components,), int64
        Nodes per component. The largest is ``sizes.argmax()`` (the lowest-numbered
        among equals).
    """
    n = _as_count(n)
    return _components(_as_edges(edges, n), n)
