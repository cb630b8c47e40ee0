"""Brute-force references for the ``graphs`` kernels.

Graphs are built from all pairs of points (Gabriel, kNN, radius, MST via networkx on the
complete graph) or, for Delaunay, from Qhull's triangles with Python sets; measures are
networkx's own functions. Coincident points follow the kernel's documented rule: the
lowest index of each group stands for the group, every other member gets one edge to it.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from scipy.spatial import Delaunay, QhullError

__all__ = [
    "adjacency",
    "betweenness_centrality",
    "canonical_edges",
    "closeness_centrality",
    "clustering_coefficient",
    "connected_components",
    "degrees",
    "delaunay_edges",
    "edge_lengths",
    "gabriel_edges",
    "knn_edges",
    "mixed_edge_fraction",
    "mst_edges",
    "radius_edges",
]


def _as_array(edge_set) -> np.ndarray:
    return np.array(sorted(edge_set), dtype=np.int64).reshape(-1, 2)


def _representatives(xy: np.ndarray) -> list[int]:
    first: dict[tuple[float, float], int] = {}
    return [first.setdefault((float(x), float(y)), i) for i, (x, y) in enumerate(xy)]


def _duplicate_edges(rep: list[int]) -> set[tuple[int, int]]:
    return {(r, i) for i, r in enumerate(rep) if r != i}


def _distance(xy: np.ndarray, i, j):
    dx = xy[j, 0] - xy[i, 0]
    dy = xy[j, 1] - xy[i, 1]
    return np.sqrt(dx * dx + dy * dy)


def canonical_edges(pairs, n: int) -> np.ndarray:
    """``{(min, max)}`` of every pair that is not a self-loop, sorted."""
    return _as_array({(min(a, b), max(a, b)) for a, b in np.asarray(pairs).reshape(-1, 2)
                      if a != b})


def delaunay_edges(xy) -> np.ndarray:
    """Qhull's triangles (of the points centred on their bounding box) mapped onto
    representatives, or the path along a line."""
    xy = np.asarray(xy, dtype=np.float64)
    rep = _representatives(xy)
    reps = sorted(set(rep))
    edges: set[tuple[int, int]] = set()
    simplices = None
    if len(reps) >= 3:
        try:
            centre = (xy.min(axis=0) + xy.max(axis=0)) / 2
            simplices = Delaunay(xy - centre, qhull_options="Qbb Qc Qz Q12").simplices
        except QhullError:
            simplices = None
    if simplices is not None:
        for tri in simplices:
            for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[2], tri[0])):
                a, b = rep[a], rep[b]
                if a != b:
                    edges.add((min(a, b), max(a, b)))
    else:
        along = sorted(reps, key=lambda i: (xy[i, 0], xy[i, 1]))
        edges |= {(min(a, b), max(a, b)) for a, b in zip(along[:-1], along[1:])}
    return _as_array(edges | _duplicate_edges(rep))


def gabriel_edges(xy) -> np.ndarray:
    """All pairs of distinct positions whose closed diametral disc holds no other one."""
    xy = np.asarray(xy, dtype=np.float64)
    rep = _representatives(xy)
    reps = np.array(sorted(set(rep)), dtype=np.int64)
    p = xy[reps]
    edges = set()
    for a in range(len(reps)):
        for b in range(a + 1, len(reps)):
            dots = ((p[:, 0] - p[a, 0]) * (p[:, 0] - p[b, 0])
                    + (p[:, 1] - p[a, 1]) * (p[:, 1] - p[b, 1]))
            others = np.ones(len(reps), dtype=bool)
            others[[a, b]] = False
            if (dots[others] > 0).all():
                edges.add((int(reps[a]), int(reps[b])))
    return _as_array(edges | _duplicate_edges(rep))


def mst_edges(xy) -> np.ndarray:
    """networkx's minimum spanning tree of the complete graph."""
    xy = np.asarray(xy, dtype=np.float64)
    g = nx.Graph()
    g.add_nodes_from(range(len(xy)))
    for i in range(len(xy)):
        for j in range(i + 1, len(xy)):
            g.add_edge(i, j, weight=float(_distance(xy, i, j)))
    tree = nx.minimum_spanning_tree(g, algorithm="kruskal")
    return _as_array({(min(a, b), max(a, b)) for a, b in tree.edges})


def _neighbour_lists(xy: np.ndarray, k: int) -> list[list[int]]:
    n = len(xy)
    lists = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        others.sort(key=lambda j: (_distance(xy, i, j), j))
        lists.append(others[:k])
    return lists


def knn_edges(xy, k: int, *, mutual: bool = False) -> np.ndarray:
    """Sorted distances per point, ties by lower index; union or intersection."""
    xy = np.asarray(xy, dtype=np.float64)
    lists = _neighbour_lists(xy, k)
    edges = set()
    for i, nbrs in enumerate(lists):
        for j in nbrs:
            if not mutual or i in lists[j]:
                edges.add((min(i, j), max(i, j)))
    return _as_array(edges)


def radius_edges(xy, r: float) -> np.ndarray:
    """Every pair with ``sqrt(dx*dx + dy*dy) <= r``."""
    xy = np.asarray(xy, dtype=np.float64)
    n = len(xy)
    return _as_array({(i, j) for i in range(n) for j in range(i + 1, n)
                      if _distance(xy, i, j) <= r})


def _graph(edges, n: int, weights=None) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(n))
    edges = np.asarray(edges).reshape(-1, 2)
    for e, (a, b) in enumerate(edges):
        g.add_edge(int(a), int(b), weight=None if weights is None else float(weights[e]))
    return g


def adjacency(edges, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted neighbour lists, concatenated."""
    g = _graph(edges, n)
    rows = [sorted(g.neighbors(v)) for v in range(n)]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    indices = np.array([u for r in rows for u in r], dtype=np.int64)
    return indptr, indices


def edge_lengths(xy, edges) -> np.ndarray:
    """Distance between the two ends of each edge."""
    xy = np.asarray(xy, dtype=np.float64)
    return np.array([_distance(xy, a, b) for a, b in np.asarray(edges).reshape(-1, 2)],
                    dtype=np.float64)


def degrees(edges, n: int) -> np.ndarray:
    """networkx's degree of each node."""
    g = _graph(edges, n)
    return np.array([g.degree(v) for v in range(n)], dtype=np.int64)


def mixed_edge_fraction(edges, labels) -> float:
    """Mean of ``labels[i] != labels[j]`` over edges; NaN without edges."""
    edges = np.asarray(edges).reshape(-1, 2)
    if len(edges) == 0:
        return float("nan")
    labels = np.asarray(labels)
    return float(np.mean(labels[edges[:, 0]] != labels[edges[:, 1]]))


def clustering_coefficient(edges, n: int) -> np.ndarray:
    """``networkx.clustering``."""
    c = nx.clustering(_graph(edges, n))
    return np.array([c[v] for v in range(n)], dtype=np.float64)


def connected_components(edges, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``networkx.connected_components`` numbered by their lowest node."""
    comps = sorted((sorted(c) for c in nx.connected_components(_graph(edges, n))),
                   key=lambda c: c[0])
    labels = np.empty(n, dtype=np.int64)
    for k, comp in enumerate(comps):
        labels[comp] = k
    return labels, np.array([len(c) for c in comps], dtype=np.int64)


def closeness_centrality(edges, n: int, weights=None) -> np.ndarray:
    """``networkx.closeness_centrality`` (``wf_improved=True``)."""
    g = _graph(edges, n, weights)
    c = nx.closeness_centrality(g, distance=None if weights is None else "weight")
    return np.array([c[v] for v in range(n)], dtype=np.float64)


def betweenness_centrality(edges, n: int, weights=None) -> np.ndarray:
    """``networkx.betweenness_centrality`` (``normalized=True``, ``endpoints=False``)."""
    g = _graph(edges, n, weights)
    c = nx.betweenness_centrality(g, weight=None if weights is None else "weight")
    return np.array([c[v] for v in range(n)], dtype=np.float64)
