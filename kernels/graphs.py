"""Graphs over a point set and the measures a spatial biologist asks of them.

Every graph is undirected and returned as an edge list: an ``(E, 2)`` int64 array with
``i < j`` in each row, rows sorted lexicographically, no repeated rows. This canonical
form is also what the measures accept, so ``edges`` from any builder here (or from
:func:`canonical_edges`) can be passed straight on.

Delaunay, Gabriel and minimum-spanning-tree graphs share one rule for coincident points:
each group of points at exactly the same position is represented by its lowest index,
which takes part in the triangulation; every other member of the group hangs off the
representative by one zero-length edge. The graph therefore stays connected, every
point has at least one edge as soon as there are two points, and the minimum spanning
tree of the graph is a Euclidean minimum spanning tree of all points.
"""

from __future__ import annotations

import numpy as np
from . import delaunay, spatial_index
from ._jit import jit, jit_parallel, prange
from ._validate import as_int, as_labels, as_points, as_radii

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

_EMPTY_EDGES = np.empty((0, 2), dtype=np.int64)

# Centralities split their sources into this many chunks whatever the thread count,
# which fixes the order of the betweenness sums (memory: this many rows of n floats).
_SOURCE_CHUNKS = 32


# --------------------------------------------------------------------------- helpers


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


def _as_weights(weights, n_edges: int) -> np.ndarray | None:
    if weights is None:
        return None
    arr = np.asarray(weights, dtype=np.float64)
    if arr.shape != (n_edges,):
        raise ValueError(f"weights must have shape ({n_edges},), got {arr.shape}")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError("weights must be finite and >= 0")
    return np.ascontiguousarray(arr)


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


# ------------------------------------------------------------------ numba cores


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
def _find(parent, v):
    while parent[v] != v:
        parent[v] = parent[parent[v]]
        v = parent[v]
    return v


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


@jit
def _mixed_count(edges, labels):
    mixed = 0
    for e in range(edges.shape[0]):
        if labels[edges[e, 0]] != labels[edges[e, 1]]:
            mixed += 1
    return mixed


# ------------------------------------------------------------- Delaunay structure


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


# ------------------------------------------------------------------- builders


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


# ------------------------------------------------------------------- measures


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
