"""Shortest-path centralities of an edge list: closeness and betweenness (Brandes),
by hop count or over weighted edges, as networkx defines them."""

from __future__ import annotations

import numpy as np

from ._graph_edges import _adjacency, _as_count, _as_edges
from ._jit import jit, jit_parallel, prange

__all__ = ["betweenness_centrality", "closeness_centrality"]

# Centralities split their sources into this many chunks whatever the thread count,
# which fixes the order of the betweenness sums (memory: this many rows of n floats).
_SOURCE_CHUNKS = 32


def _as_weights(weights, n_edges: int) -> np.ndarray | None:
    if weights is None:
        return None
    arr = np.asarray(weights, dtype=np.float64)
    if arr.shape != (n_edges,):
        raise ValueError(f"weights must have shape ({n_edges},), got {arr.shape}")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError("weights must be finite and >= 0")
    return np.ascontiguousarray(arr)


@jit
def _adjacency_weights(edges, weights, indptr):
    """Edge weights laid out like ``_adjacency``'s ``indices`` (same fill order)."""
    fill = indptr[:-1].copy()
    out = np.empty(indptr[-1], dtype=np.float64)
    for e in range(edges.shape[0]):
        i, j = edges[e, 0], edges[e, 1]
        out[fill[i]] = weights[e]
        fill[i] += 1
        out[fill[j]] = weights[e]
        fill[j] += 1
    return out


@jit
def _bfs(indptr, indices, s, order, sigma, dist, preds, n_preds):
    """Shortest paths by hop count from ``s``; fills visit order, path counts, preds."""
    n = indptr.shape[0] - 1
    for v in range(n):
        sigma[v] = 0.0
        dist[v] = -1.0
        n_preds[v] = 0
    sigma[s] = 1.0
    dist[s] = 0.0
    order[0] = s
    head, tail = 0, 1
    while head < tail:
        v = order[head]
        head += 1
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            if dist[w] < 0.0:
                dist[w] = dist[v] + 1.0
                order[tail] = w
                tail += 1
            if dist[w] == dist[v] + 1.0:
                sigma[w] += sigma[v]
                preds[indptr[w] + n_preds[w]] = v
                n_preds[w] += 1
    return tail


@jit
def _heap_push(h_key, h_tie, h_pred, h_node, size, key, tie, pred, node):
    pos = size
    while pos > 0:
        parent = (pos - 1) // 2
        if (h_key[parent] < key) or (h_key[parent] == key and h_tie[parent] < tie):
            break
        h_key[pos] = h_key[parent]
        h_tie[pos] = h_tie[parent]
        h_pred[pos] = h_pred[parent]
        h_node[pos] = h_node[parent]
        pos = parent
    h_key[pos] = key
    h_tie[pos] = tie
    h_pred[pos] = pred
    h_node[pos] = node
    return size + 1


@jit
def _heap_pop(h_key, h_tie, h_pred, h_node, size):
    key, pred, node = h_key[0], h_pred[0], h_node[0]
    size -= 1
    last_key, last_tie = h_key[size], h_tie[size]
    last_pred, last_node = h_pred[size], h_node[size]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        right = child + 1
        if right < size and (h_key[right] < h_key[child] or (
                h_key[right] == h_key[child] and h_tie[right] < h_tie[child])):
            child = right
        if (last_key < h_key[child]) or (last_key == h_key[child]
                                          and last_tie < h_tie[child]):
            break
        h_key[pos] = h_key[child]
        h_tie[pos] = h_tie[child]
        h_pred[pos] = h_pred[child]
        h_node[pos] = h_node[child]
        pos = child
    if size > 0:
        h_key[pos] = last_key
        h_tie[pos] = last_tie
        h_pred[pos] = last_pred
        h_node[pos] = last_node
    return key, pred, node, size


@jit
def _dijkstra(indptr, indices, wadj, s, order, sigma, dist, preds, n_preds, done,
              seen, heap):
    """Brandes' weighted shortest-path search, step for step as networkx does it
    (heap keyed by distance then push count, ties collected when a distance equals
    the best seen), so path counts agree even with zero-length edges."""
    h_key, h_tie, h_pred, h_node = heap
    n = indptr.shape[0] - 1
    for v in range(n):
        sigma[v] = 0.0
        n_preds[v] = 0
        done[v] = False
        seen[v] = np.inf
    sigma[s] = 1.0
    seen[s] = 0.0
    size = _heap_push(h_key, h_tie, h_pred, h_node, 0, 0.0, 0, s, s)
    pushes = 1
    n_done = 0
    while size > 0:
        d, pred, v, size = _heap_pop(h_key, h_tie, h_pred, h_node, size)
        if done[v]:
            continue
        if v != s:
            sigma[v] += sigma[pred]
        order[n_done] = v
        n_done += 1
        done[v] = True
        dist[v] = d
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            vw = d + wadj[p]
            if not done[w] and vw < seen[w]:
                seen[w] = vw
                size = _heap_push(h_key, h_tie, h_pred, h_node, size, vw, pushes, v, w)
                pushes += 1
                sigma[w] = 0.0
                preds[indptr[w]] = v
                n_preds[w] = 1
            elif vw == seen[w]:
                sigma[w] += sigma[v]
                preds[indptr[w] + n_preds[w]] = v
                n_preds[w] += 1
    return n_done


@jit_parallel
def _centralities(indptr, indices, wadj, weighted, want_betweenness):
    """Closeness (networkx, wf_improved) and raw betweenness sums over all sources.

    Sources are split into a fixed number of contiguous chunks run in parallel; each
    chunk sums its own betweenness row and the rows are added in chunk order, so the
    result does not depend on the thread count.
    """
    n = indptr.shape[0] - 1
    n_chunks = min(_SOURCE_CHUNKS, n)
    closeness = np.zeros(n, dtype=np.float64)
    partial = np.zeros((n_chunks if want_betweenness else 0, n), dtype=np.float64)
    cap = indices.shape[0] + 1
    for c in prange(n_chunks):
        order = np.empty(n, dtype=np.int64)
        sigma = np.empty(n, dtype=np.float64)
        dist = np.empty(n, dtype=np.float64)
        # a node's predecessors are among its neighbours: its adjacency row holds them
        preds = np.empty(indices.shape[0], dtype=np.int64)
        n_preds = np.empty(n, dtype=np.int64)
        done = np.empty(n, dtype=np.bool_)
        seen = np.empty(n, dtype=np.float64)
        heap = (np.empty(cap, dtype=np.float64), np.empty(cap, dtype=np.int64),
                np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64))
        delta = np.zeros(n, dtype=np.float64)
        for s in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            if weighted:
                reached = _dijkstra(indptr, indices, wadj, s, order, sigma, dist, preds,
                                    n_preds, done, seen, heap)
            else:
                reached = _bfs(indptr, indices, s, order, sigma, dist, preds, n_preds)
            total = 0.0
            for q in range(reached):
                total += dist[order[q]]
            if total > 0.0 and n > 1:
                closeness[s] = (reached - 1.0) / total * ((reached - 1.0) / (n - 1.0))
            if not want_betweenness:
                continue
            for q in range(reached):
                delta[order[q]] = 0.0
            for q in range(reached - 1, -1, -1):
                w = order[q]
                coeff = (1.0 + delta[w]) / sigma[w]
                for p in range(indptr[w], indptr[w] + n_preds[w]):
                    v = preds[p]
                    delta[v] += sigma[v] * coeff
                if w != s:
                    partial[c, w] += delta[w]
    between = np.zeros(n, dtype=np.float64)
    for c in range(partial.shape[0]):
        between += partial[c]
    return closeness, between


def _centrality(edges, n: int, weights, want_betweenness: bool):
    edges = _as_edges(edges, n)
    weights = _as_weights(weights, len(edges))
    indptr, indices = _adjacency(edges, n)
    if weights is None:
        wadj = np.empty(0, dtype=np.float64)
    else:
        wadj = _adjacency_weights(edges, weights, indptr)
    return _centralities(indptr, indices, wadj, weights is not None, want_betweenness)


def closeness_centrality(edges, n: int, weights=None) -> np.ndarray:
    """Closeness centrality of each node (networkx convention, ``wf_improved=True``).

    Parameters
    ----------
    edges : array_like of shape (E, 2), int
        Canonical edge list.
    n : int
        Number of nodes.
    weights : array_like of shape (E,), optional
        Edge lengths (>= 0) for weighted shortest paths, e.g. :func:`edge_lengths`;
        None counts hops.

    Returns
    -------
    ndarray of shape (n,), float64

    Notes
    -----
    With ``r`` the nodes reachable from ``u`` (``u`` excluded) and ``D`` the sum of
    their shortest-path distances: ``C(u) = (r / D) * (r / (n - 1))`` (Wasserman-Faust
    scaling for disconnected graphs); 0 when ``D == 0`` or ``n == 1``. Cost
    ``O(n (n + E))`` unweighted, ``O(n E log E)`` weighted: for moderate graphs.
    """
    closeness, _ = _centrality(edges, _as_count(n), weights, False)
    return closeness


def betweenness_centrality(edges, n: int, weights=None) -> np.ndarray:
    """Normalised betweenness centrality of each node (networkx defaults).

    Parameters
    ----------
    edges : array_like of shape (E, 2), int
        Canonical edge list.
    n : int
        Number of nodes.
    weights : array_like of shape (E,), optional
        Edge lengths (>= 0) for weighted shortest paths; None counts hops.

    Returns
    -------
    ndarray of shape (n,), float64

    Notes
    -----
    Brandes' algorithm. ``B(v) = sum over ordered pairs s != t, both != v, of
    sigma_st(v) / sigma_st``, divided by ``(n - 1)(n - 2)`` (networkx
    ``normalized=True, endpoints=False``); all zero when ``n < 3``. Sources run in
    parallel in a fixed number of chunks summed in a fixed order, so results do not
    depend on the thread count. Paths of equal length count separately; weighted
    lengths are compared exactly, as networkx does.
    Cost as :func:`closeness_centrality`.
    """
    n = _as_count(n)
    _, between = _centrality(edges, n, weights, True)
    if n >= 3:
        between = between / ((n - 1.0) * (n - 2.0))
    return between
