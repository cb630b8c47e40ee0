"""A 2-D KD-tree built and queried in numba: kNN, radius lists, fused radius counts.

The tree is a complete binary tree stored implicitly (node ``i`` has children ``2i+1``
and ``2i+2``); every node splits its points at the median of its widest coordinate, so
all leaves sit at the same depth and hold at most ``leaf_size`` points. Points are
stored in tree order, so a node is a contiguous range ``[start, end)`` of that order.

Conventions shared by every query
---------------------------------
* Distances are Euclidean, computed as ``sqrt(dx*dx + dy*dy)`` in float64 (the same
  formula as :mod:`cytoql.kernels.reference.spatial_index`, so ``d == r`` ties agree
  bit for bit).
* "Within ``r``" means ``d <= r`` (closed ball). Radius tests run on squared distances
  against the largest float64 ``t`` with ``sqrt(t) <= r``, which is exactly equivalent
  to ``sqrt(d2) <= r``.
* Indices returned are indices into the ``xy`` given to :func:`build_kdtree`.
* ``skip[i]`` (an original index, or ``-1`` for none) is never returned or counted for
  query ``i``: this is how a cell is kept out of its own neighbourhood. Another point at
  the same position but with a different index is a neighbour at distance 0.
* Ties in distance are broken by the smaller original index.
* Queries run in parallel over independent query points; every output is integer or
  per-query, so results do not depend on the number of threads.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from ._jit import jit, jit_parallel, prange
from ._validate import as_int, as_labels, as_points, as_radii

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

# Queries are processed in blocks so that per-query scratch (the traversal stack) is
# allocated once per block, not once per query.
_BLOCK = 256
# A complete tree over int64-indexed points is never deeper than 63; a depth-first
# stack holds at most one pending sibling per level.
_STACK = 128
# The build splits this many levels serially, then hands 2**_BUILD_TOP subtrees to threads.
_BUILD_TOP = 4


class KDTree(NamedTuple):
    """A 2-D KD-tree over ``n`` points; picklable (numpy arrays and ints only).

    Build it with :func:`build_kdtree`; do not construct it by hand.

    Attributes
    ----------
    xy : ndarray of shape (n, 2), float64
        The points in tree order.
    perm : ndarray of shape (n,), int64
        ``perm[p]`` is the original index of the point at tree position ``p``.
    inverse : ndarray of shape (n,), int64
        ``inverse[i]`` is the tree position of original point ``i`` (``perm``'s inverse).
    node_range : ndarray of shape (n_nodes, 2), int64
        ``[start, end)`` of each node's points in tree order. Node ``i`` has children
        ``2i+1`` and ``2i+2``; ``n_nodes = 2**(depth+1) - 1``.
    bbox : ndarray of shape (n_nodes, 4), float64
        Tight bounding box ``(xmin, ymin, xmax, ymax)`` of each node's points; an empty
        leaf has ``(inf, inf, -inf, -inf)``.
    depth : int
        Depth of the leaves (the root is at depth 0); leaves are nodes
        ``2**depth - 1 .. 2**(depth+1) - 2``.
    leaf_size : int
        The requested maximum number of points per leaf.
    min_index : ndarray of shape (n_nodes,), int64
        Smallest original index in each node (int64 max for an empty leaf): lets a kNN
        search skip nodes that can only hold distance ties with larger indices.
    """

    xy: np.ndarray
    perm: np.ndarray
    inverse: np.ndarray
    node_range: np.ndarray
    bbox: np.ndarray
    depth: int
    leaf_size: int
    min_index: np.ndarray


# --------------------------------------------------------------------------- build


@jit
def _swap(xy, perm, i, j):
    x0 = xy[i, 0]
    y0 = xy[i, 1]
    xy[i, 0] = xy[j, 0]
    xy[i, 1] = xy[j, 1]
    xy[j, 0] = x0
    xy[j, 1] = y0
    t = perm[i]
    perm[i] = perm[j]
    perm[j] = t


@jit
def _select(xy, perm, dim, lo, hi, k):
    """Reorder ``[lo, hi)`` so position ``k`` holds its order statistic along ``dim``.

    Afterwards every point before ``k`` has a coordinate <= it and every point after
    has one >= it. Median-of-three quickselect with a Hoare partition, which stays
    O(n) on the runs of equal coordinates that duplicate cells produce.
    """
    left = lo
    right = hi - 1
    while True:
        if right <= left + 1:
            if right == left + 1 and xy[right, dim] < xy[left, dim]:
                _swap(xy, perm, left, right)
            return
        mid = (left + right) >> 1
        _swap(xy, perm, mid, left + 1)
        if xy[left, dim] > xy[right, dim]:
            _swap(xy, perm, left, right)
        if xy[left + 1, dim] > xy[right, dim]:
            _swap(xy, perm, left + 1, right)
        if xy[left, dim] > xy[left + 1, dim]:
            _swap(xy, perm, left, left + 1)
        i = left + 1
        j = right
        pivot = xy[left + 1, dim]
        while True:
            i += 1
            while xy[i, dim] < pivot:
                i += 1
            j -= 1
            while xy[j, dim] > pivot:
                j -= 1
            if j < i:
                break
            _swap(xy, perm, i, j)
        _swap(xy, perm, left + 1, j)
        if j >= k:
            right = j - 1
        if j <= k:
            left = i


@jit
def _fill_bbox(xy, bbox, node, start, end):
    xmin = np.inf
    ymin = np.inf
    xmax = -np.inf
    ymax = -np.inf
    for p in range(start, end):
        x = xy[p, 0]
        y = xy[p, 1]
        if x < xmin:
            xmin = x
        if x > xmax:
            xmax = x
        if y < ymin:
            ymin = y
        if y > ymax:
            ymax = y
    bbox[node, 0] = xmin
    bbox[node, 1] = ymin
    bbox[node, 2] = xmax
    bbox[node, 3] = ymax


@jit
def _split(xy, perm, node_range, bbox, node, is_leaf):
    """Fill the node's box and, unless a leaf, median-split it into its two children."""
    start = node_range[node, 0]
    end = node_range[node, 1]
    _fill_bbox(xy, bbox, node, start, end)
    if is_leaf:
        return
    split = (start + end) >> 1
    if end - start > 1:
        wide_y = bbox[node, 3] - bbox[node, 1] > bbox[node, 2] - bbox[node, 0]
        _select(xy, perm, 1 if wide_y else 0, start, end, split)
    node_range[2 * node + 1, 0] = start
    node_range[2 * node + 1, 1] = split
    node_range[2 * node + 2, 0] = split
    node_range[2 * node + 2, 1] = end


@jit
def _split_levels(xy, perm, node_range, bbox, root, levels, depth):
    """Split the subtree under ``root`` for ``levels`` levels below it, level by level."""
    root_level = 0
    while (2 << root_level) - 1 <= root:
        root_level += 1
    for s in range(levels):
        first = ((root + 1) << s) - 1  # the root's leftmost descendant s levels down
        for t in range(1 << s):
            _split(xy, perm, node_range, bbox, first + t, root_level + s == depth)


@jit_parallel
def _build(xy, perm, depth):
    n_nodes = (1 << (depth + 1)) - 1
    node_range = np.empty((n_nodes, 2), dtype=np.int64)
    bbox = np.empty((n_nodes, 4), dtype=np.float64)
    node_range[0, 0] = 0
    node_range[0, 1] = xy.shape[0]
    # The top levels are split serially (the root alone is half the work of any level
    # and cannot be shared), then each subtree below is built whole by one thread: one
    # parallel region instead of one per level, which oversubscribed cores punish.
    top = min(depth, _BUILD_TOP)
    _split_levels(xy, perm, node_range, bbox, 0, top, depth)
    first = (1 << top) - 1
    for t in prange(1 << top):
        _split_levels(xy, perm, node_range, bbox, first + t, depth - top + 1, depth)
    return node_range, bbox


@jit
def _node_min(node_range, depth, values):
    """Per node, the minimum of ``values`` (in tree order) over its points.

    An empty leaf gets the int64 maximum.
    """
    n_nodes = node_range.shape[0]
    first_leaf = (1 << depth) - 1
    out = np.empty(n_nodes, dtype=np.int64)
    for node in range(first_leaf, n_nodes):
        low = np.iinfo(np.int64).max
        for p in range(node_range[node, 0], node_range[node, 1]):
            low = min(low, values[p])
        out[node] = low
    for node in range(first_leaf - 1, -1, -1):
        out[node] = min(out[2 * node + 1], out[2 * node + 2])
    return out


def _tree_depth(n: int, leaf_size: int) -> int:
    """Smallest depth at which median halving leaves at most ``leaf_size`` points."""
    depth = 0
    while -(-n // (1 << depth)) > leaf_size:
        depth += 1
    return depth


def build_kdtree(xy, leaf_size: int = 16) -> KDTree:
    """Build a KD-tree over 2-D points.

    Parameters
    ----------
    xy : array_like of shape (n, 2), float
        Point coordinates, finite; ``n`` may be 0. Duplicates are allowed.
    leaf_size : int, default 16
        Maximum number of points in a leaf, >= 1.

    Returns
    -------
    KDTree
        The tree; the input array is not modified.

    Raises
    ------
    ValueError
        If ``xy`` is not of shape (n, 2), has a non-finite coordinate, or ``leaf_size`` < 1.
    TypeError
        If ``leaf_size`` is not an integer.

    Notes
    -----
    Each node splits at the median (position ``(start + end) // 2``) of the coordinate
    with the wider bounding-box extent (x on a tie), found by quickselect: expected
    O(n log n) time, O(n) memory. All leaves are at the same depth.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[2.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    >>> tree = build_kdtree(xy, leaf_size=1)
    >>> tree.depth, tree.perm.tolist()
    (2, [1, 2, 0])
    """
    xy = as_points(xy, "xy")
    leaf_size = as_int(leaf_size, "leaf_size", 1)
    pts = xy.copy()
    perm = np.arange(len(pts), dtype=np.int64)
    depth = _tree_depth(len(pts), leaf_size)
    node_range, bbox = _build(pts, perm, depth)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm), dtype=np.int64)
    min_index = _node_min(node_range, depth, perm)
    return KDTree(pts, perm, inverse, node_range, bbox, depth, leaf_size, min_index)


# --------------------------------------------------------------------------- geometry


@jit
def _min_d2(bbox, node, qx, qy):
    """Squared distance from (qx, qy) to the node's box; <= that of any point in it."""
    gx = 0.0
    if qx < bbox[node, 0]:
        gx = bbox[node, 0] - qx
    elif qx > bbox[node, 2]:
        gx = qx - bbox[node, 2]
    gy = 0.0
    if qy < bbox[node, 1]:
        gy = bbox[node, 1] - qy
    elif qy > bbox[node, 3]:
        gy = qy - bbox[node, 3]
    return gx * gx + gy * gy


@jit
def _max_d2(bbox, node, qx, qy):
    """Squared distance to the box's farthest corner; >= that of any point in it."""
    fx = max(qx - bbox[node, 0], bbox[node, 2] - qx)
    fy = max(qy - bbox[node, 1], bbox[node, 3] - qy)
    return fx * fx + fy * fy


@jit
def _bin_of(d2, bins):
    """First ``j`` with ``d2 <= thresholds[j]``; ``len(thresholds)`` when none.

    ``bins`` is ``(thresholds, table, cells_per_unit)`` from :func:`_radius_bins`: the
    search starts at the answer for the start of ``d2``'s table cell and steps from
    there, a bin or two instead of a binary search's unpredictable branches (~3x
    faster over 50 radii). The steps make the answer exact whatever the rounding.
    """
    thresholds, table, cells_per_unit = bins
    g = d2 * cells_per_unit
    cell = table.shape[0] - 1
    if g < cell:
        cell = int(g)
    b = table[cell]
    while b > 0 and d2 <= thresholds[b - 1]:
        b -= 1
    while b < thresholds.shape[0] and d2 > thresholds[b]:
        b += 1
    return b


@jit
def _spread_bits(v):
    """Put the 16 low bits of ``v`` on the even bit positions."""
    v &= 0xFFFF
    v = (v | (v << 8)) & 0x00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F
    v = (v | (v << 2)) & 0x33333333
    v = (v | (v << 1)) & 0x55555555
    return v


def _query_order(query: np.ndarray) -> np.ndarray:
    """Query indices in Z-order (Morton order of a 65536 x 65536 grid).

    Nearby queries then run one after another and walk the same part of the tree while
    it is in cache: about 3x faster at 1M random-order queries. Each query's output is
    independent, so the order never changes a result.
    """
    if len(query) == 0:
        return np.empty(0, dtype=np.int64)
    return np.argsort(_morton_keys(query))


@jit
def _morton_keys(query):
    m = query.shape[0]
    keys = np.empty(m, dtype=np.int64)
    xmin = query[:, 0].min()
    ymin = query[:, 1].min()
    extent = max(query[:, 0].max() - xmin, query[:, 1].max() - ymin)
    scale = 65535.0 / extent if extent > 0 else 0.0
    if not np.isfinite(scale):  # a subnormal extent
        scale = 0.0
    for i in range(m):
        ix = np.int64((query[i, 0] - xmin) * scale)
        iy = np.int64((query[i, 1] - ymin) * scale)
        keys[i] = _spread_bits(ix) | (_spread_bits(iy) << 1)
    return keys


# --------------------------------------------------------------------------- ordering


@jit
def _before(d, j, d_other, j_other):
    """Whether ``(d, j)`` sorts before ``(d_other, j_other)``: by distance, then index."""
    return d < d_other or (d == d_other and j < j_other)


@jit
def _insert(dist, idx, s, d, j):
    """Move ``(d, j)`` down from slot ``s`` into the sorted ``dist[:s]``, ``idx[:s]``."""
    while s > 0 and _before(d, j, dist[s - 1], idx[s - 1]):
        dist[s] = dist[s - 1]
        idx[s] = idx[s - 1]
        s -= 1
    dist[s] = d
    idx[s] = j


@jit
def _sort_neighbours(dist, idx):
    """Sort ``dist`` and ``idx`` together in place by (distance, index)."""
    c = dist.shape[0]
    if c <= 32:  # the usual neighbourhood: insertion sort, no allocation
        for a in range(1, c):
            _insert(dist, idx, a, dist[a], idx[a])
        return
    by_index = np.argsort(idx)
    d_sorted = dist[by_index]
    i_sorted = idx[by_index]
    by_distance = np.argsort(d_sorted, kind="mergesort")
    dist[:] = d_sorted[by_distance]
    idx[:] = i_sorted[by_distance]


# --------------------------------------------------------------------------- knn


@jit
def _knn_one(xy, perm, node_range, bbox, depth, min_index, blocked, min_blocked, qx, qy,
             skip_pos, out_d, out_i, stack):
    """The k nearest points with ``blocked[p] == 0`` by (distance, original index), into
    sorted ``out_d``/``out_i``; ``min_blocked[node] == 0`` when the node holds one."""
    k = out_d.shape[0]
    for t in range(k):
        out_d[t] = np.inf
        out_i[t] = -1
    first_leaf = (1 << depth) - 1
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        if min_blocked[node] != 0:
            continue
        # At a distance equal to the worst kept, only a smaller index can still enter.
        near = math.sqrt(_min_d2(bbox, node, qx, qy))
        if near > out_d[k - 1] or (near == out_d[k - 1] and min_index[node] > out_i[k - 1]):
            continue
        if node >= first_leaf:
            for p in range(node_range[node, 0], node_range[node, 1]):
                if p == skip_pos or blocked[p] != 0:
                    continue
                dx = qx - xy[p, 0]
                dy = qy - xy[p, 1]
                d = math.sqrt(dx * dx + dy * dy)
                j = perm[p]
                if _before(d, j, out_d[k - 1], out_i[k - 1]):
                    _insert(out_d, out_i, k - 1, d, j)
        else:
            left = 2 * node + 1
            right = left + 1
            # Push the farther child first so the nearer one is searched first.
            if _min_d2(bbox, left, qx, qy) <= _min_d2(bbox, right, qx, qy):
                stack[top] = right
                stack[top + 1] = left
            else:
                stack[top] = left
                stack[top + 1] = right
            top += 2


@jit_parallel
def _knn(xy, perm, node_range, bbox, depth, min_index, blocked, query, order, skip_pos,
         out_d, out_i):
    m = query.shape[0]
    min_blocked = _node_min(node_range, depth, blocked)
    for b in prange((m + _BLOCK - 1) // _BLOCK):
        stack = np.empty(_STACK, dtype=np.int64)
        for i in order[b * _BLOCK:min(m, (b + 1) * _BLOCK)]:
            _knn_one(xy, perm, node_range, bbox, depth, min_index, blocked, min_blocked,
                     query[i, 0], query[i, 1], skip_pos[i], out_d[i], out_i[i], stack)


def knn(tree, query_xy, k: int, *, skip=None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest tree points of each query point.

    Parameters
    ----------
    tree : KDTree
        From :func:`build_kdtree`.
    query_xy : array_like of shape (m, 2), float
        Query coordinates, finite, in the unit of the tree's coordinates; ``m`` may be 0.
    k : int
        Number of neighbours, >= 1.
    skip : array_like of shape (m,), int, optional
        ``skip[i]`` is an original index never returned for query ``i``; ``-1`` skips
        nothing. Default: skip nothing.

    Returns
    -------
    distances : ndarray of shape (m, k), float64
        Ascending per row; ``inf`` where fewer than ``k`` points are available.
    indices : ndarray of shape (m, k), int64
        Original indices of the neighbours; ``-1`` where fewer than ``k`` are available.

    Raises
    ------
    TypeError
        If ``tree`` is not a KDTree, ``k`` or ``skip`` is not integer.
    ValueError
        If ``query_xy`` is not (m, 2) finite, ``k`` < 1, or ``skip`` has the wrong shape
        or a value outside ``[-1, n)``.

    Notes
    -----
    Neighbours are ordered by (distance, original index): of several points at the same
    distance the smaller index comes first, and at the k-th place the smaller index wins.
    A point at the query's own position is returned at distance 0 unless it is skipped,
    so pass ``skip=ids`` to exclude each cell from its own neighbours.

    Examples
    --------
    A 3 x 3 unit grid (index ``3 * row + column``); the corner's own index is skipped,
    its two neighbours at distance 1 come in index order:

    >>> import numpy as np
    >>> grid = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> d, i = knn(build_kdtree(grid), grid[:1], 3, skip=[0])
    >>> d.round(3).tolist(), i.tolist()
    ([[1.0, 1.0, 1.414]], [[1, 3, 4]])
    """
    _check_tree(tree)
    query = as_points(query_xy, "query_xy")
    k = as_int(k, "k", 1)
    skip_pos = _skip_positions(tree, skip, len(query))
    out_d = np.full((len(query), k), np.inf)
    out_i = np.full((len(query), k), -1, dtype=np.int64)
    if len(query) and len(tree.perm):
        _knn(tree.xy, tree.perm, tree.node_range, tree.bbox, tree.depth, tree.min_index,
             np.zeros(len(tree.perm), dtype=np.int64), query, _query_order(query),
             skip_pos, out_d, out_i)
    return out_d, out_i


def nearest_of_label(tree, labels, target: int, query_xy, *, skip=None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per query point, the nearest tree point whose label is ``target``.

    Parameters
    ----------
    tree : KDTree
        From :func:`build_kdtree`.
    labels : array_like of shape (n,), int
        Label code (>= 0) of each tree point, in the original order of ``xy``.
    target : int
        The label searched for, >= 0; a label no point has gives no neighbours.
    query_xy : array_like of shape (m, 2), float
        Query coordinates, finite; ``m`` may be 0.
    skip : array_like of shape (m,), int, optional
        ``skip[i]`` is an original index never returned for query ``i``; ``-1`` skips
        nothing. Default: skip nothing.

    Returns
    -------
    distances : ndarray of shape (m,), float64
        Distance to the nearest point labelled ``target``; ``inf`` when there is none.
    indices : ndarray of shape (m,), int64
        Its original index; ``-1`` when there is none.

    Raises
    ------
    TypeError
        If ``tree`` is not a KDTree, or ``labels``, ``target`` or ``skip`` is not integer.
    ValueError
        If ``labels`` has the wrong shape or a negative code, ``target`` < 0, or as for
        :func:`knn`.

    Notes
    -----
    Same search and conventions as :func:`knn` with ``k = 1`` (ties to the smaller
    original index, ``skip`` by index), over the points labelled ``target`` only; nodes
    without such a point are never entered, so one tree serves every label.

    Examples
    --------
    On a 3 x 3 unit grid labelled by row, the nearest row-2 cell to the origin is
    index 6, two units up:

    >>> import numpy as np
    >>> grid = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> rows = np.repeat(np.arange(3), 3)
    >>> d, i = nearest_of_label(build_kdtree(grid), rows, 2, grid[:1])
    >>> d.tolist(), i.tolist()
    ([2.0], [6])
    """
    _check_tree(tree)
    codes, _ = as_labels(labels, len(tree.perm), "labels")
    target = as_int(target, "target", 0)
    query = as_points(query_xy, "query_xy")
    skip_pos = _skip_positions(tree, skip, len(query))
    out_d = np.full((len(query), 1), np.inf)
    out_i = np.full((len(query), 1), -1, dtype=np.int64)
    if len(query) and len(tree.perm):
        blocked = (codes[tree.perm] != target).astype(np.int64)
        _knn(tree.xy, tree.perm, tree.node_range, tree.bbox, tree.depth, tree.min_index,
             blocked, query, _query_order(query), skip_pos, out_d, out_i)
    return out_d[:, 0], out_i[:, 0]


# --------------------------------------------------------------------------- radius


@jit
def _count_one(xy, node_range, bbox, depth, qx, qy, skip_pos, thr, stack):
    first_leaf = (1 << depth) - 1
    count = 0
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        start = node_range[node, 0]
        end = node_range[node, 1]
        if start == end or _min_d2(bbox, node, qx, qy) > thr:
            continue
        if _max_d2(bbox, node, qx, qy) <= thr:
            count += end - start
            if start <= skip_pos < end:
                count -= 1
        elif node >= first_leaf:
            for p in range(start, end):
                dx = qx - xy[p, 0]
                dy = qy - xy[p, 1]
                if dx * dx + dy * dy <= thr and p != skip_pos:
                    count += 1
        else:
            stack[top] = 2 * node + 1
            stack[top + 1] = 2 * node + 2
            top += 2
    return count


@jit_parallel
def _count_within(xy, node_range, bbox, depth, query, order, skip_pos, thr, out):
    m = query.shape[0]
    for b in prange((m + _BLOCK - 1) // _BLOCK):
        stack = np.empty(_STACK, dtype=np.int64)
        for i in order[b * _BLOCK:min(m, (b + 1) * _BLOCK)]:
            out[i] = _count_one(xy, node_range, bbox, depth, query[i, 0], query[i, 1],
                                skip_pos[i], thr, stack)


@jit
def _fill_one(xy, perm, node_range, bbox, depth, qx, qy, skip_pos, thr, out_i, out_d,
              stack):
    """Write the neighbours of one query into ``out_i``/``out_d`` sorted by (d, index)."""
    first_leaf = (1 << depth) - 1
    c = 0
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        start = node_range[node, 0]
        end = node_range[node, 1]
        if start == end or _min_d2(bbox, node, qx, qy) > thr:
            continue
        if node >= first_leaf:
            for p in range(start, end):
                dx = qx - xy[p, 0]
                dy = qy - xy[p, 1]
                d2 = dx * dx + dy * dy
                if d2 <= thr and p != skip_pos:
                    out_i[c] = perm[p]
                    out_d[c] = math.sqrt(d2)
                    c += 1
        else:
            stack[top] = 2 * node + 1
            stack[top + 1] = 2 * node + 2
            top += 2
    _sort_neighbours(out_d, out_i)


@jit_parallel
def _query_radius(xy, perm, node_range, bbox, depth, query, order, skip_pos, thr,
                  indptr, indices, distances):
    m = query.shape[0]
    for b in prange((m + _BLOCK - 1) // _BLOCK):
        stack = np.empty(_STACK, dtype=np.int64)
        for i in order[b * _BLOCK:min(m, (b + 1) * _BLOCK)]:
            lo = indptr[i]
            hi = indptr[i + 1]
            _fill_one(xy, perm, node_range, bbox, depth, query[i, 0], query[i, 1],
                      skip_pos[i], thr, indices[lo:hi], distances[lo:hi], stack)


def query_radius(tree, query_xy, r: float, *, skip=None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All tree points within distance ``r`` of each query point, as CSR lists.

    Parameters
    ----------
    tree : KDTree
        From :func:`build_kdtree`.
    query_xy : array_like of shape (m, 2), float
        Query coordinates, finite; ``m`` may be 0.
    r : float
        Radius, finite and > 0, in the unit of the tree's coordinates.
    skip : array_like of shape (m,), int, optional
        ``skip[i]`` is an original index never returned for query ``i``; ``-1`` skips
        nothing. Default: skip nothing.

    Returns
    -------
    indptr : ndarray of shape (m + 1,), int64
        Query ``i``'s neighbours are ``indices[indptr[i]:indptr[i+1]]``.
    indices : ndarray of shape (indptr[-1],), int64
        Original indices of the neighbours.
    distances : ndarray of shape (indptr[-1],), float64
        Their distances to the query point.

    Raises
    ------
    TypeError
        If ``tree`` is not a KDTree or ``skip`` is not integer.
    ValueError
        If ``query_xy`` is not (m, 2) finite, ``r`` is not a finite number > 0, or
        ``skip`` has the wrong shape or a value outside ``[-1, n)``.

    Notes
    -----
    Neighbours satisfy ``d <= r`` and are sorted within each query by (distance,
    original index). The lists are counted first and then filled, so memory is exactly
    the output size.

    Examples
    --------
    >>> import numpy as np
    >>> grid = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> indptr, idx, dist = query_radius(build_kdtree(grid), grid[[4, 0]], 1.0,
    ...                                  skip=[4, -1])
    >>> indptr.tolist(), idx.tolist(), dist.tolist()
    ([0, 4, 7], [1, 3, 5, 7, 0, 1, 3], [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    """
    _check_tree(tree)
    query = as_points(query_xy, "query_xy")
    thr = _sq_thresholds(_as_radius(r))[0]
    skip_pos = _skip_positions(tree, skip, len(query))
    m = len(query)
    counts = np.zeros(m, dtype=np.int64)
    order = _query_order(query)
    if m and len(tree.perm):
        _count_within(tree.xy, tree.node_range, tree.bbox, tree.depth, query, order,
                      skip_pos, thr, counts)
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int64)
    distances = np.empty(indptr[-1], dtype=np.float64)
    if indptr[-1]:
        _query_radius(tree.xy, tree.perm, tree.node_range, tree.bbox, tree.depth, query,
                      order, skip_pos, thr, indptr, indices, distances)
    return indptr, indices, distances


def count_within(tree, query_xy, r: float, *, skip=None) -> np.ndarray:
    """Number of tree points within distance ``r`` of each query point.

    Parameters
    ----------
    tree : KDTree
        From :func:`build_kdtree`.
    query_xy : array_like of shape (m, 2), float
        Query coordinates, finite; ``m`` may be 0.
    r : float
        Radius, finite and > 0, in the unit of the tree's coordinates.
    skip : array_like of shape (m,), int, optional
        ``skip[i]`` is an original index never counted for query ``i``; ``-1`` skips
        nothing. Default: skip nothing.

    Returns
    -------
    ndarray of shape (m,), int64

    Raises
    ------
    TypeError
        If ``tree`` is not a KDTree or ``skip`` is not integer.
    ValueError
        If ``query_xy`` is not (m, 2) finite, ``r`` is not a finite number > 0, or
        ``skip`` has the wrong shape or a value outside ``[-1, n)``.

    Notes
    -----
    Counts points with ``d <= r``. No neighbour list is built: a node whose whole
    bounding box lies within ``r`` is counted without visiting its points.

    Examples
    --------
    The centre of a 3 x 3 unit grid has 4 neighbours at exactly 1 (``d <= r``):

    >>> import numpy as np
    >>> grid = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> count_within(build_kdtree(grid), grid[[4]], 1.0, skip=[4]).tolist()
    [4]
    """
    _check_tree(tree)
    query = as_points(query_xy, "query_xy")
    thr = _sq_thresholds(_as_radius(r))[0]
    skip_pos = _skip_positions(tree, skip, len(query))
    out = np.zeros(len(query), dtype=np.int64)
    if len(query) and len(tree.perm):
        _count_within(tree.xy, tree.node_range, tree.bbox, tree.depth, query,
                      _query_order(query), skip_pos, thr, out)
    return out


@jit
def _count_by_label_one(xy, node_range, bbox, depth, labels, qx, qy, skip_pos, thr,
                        out, stack):
    first_leaf = (1 << depth) - 1
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        start = node_range[node, 0]
        end = node_range[node, 1]
        if start == end or _min_d2(bbox, node, qx, qy) > thr:
            continue
        if _max_d2(bbox, node, qx, qy) <= thr:
            for p in range(start, end):
                out[labels[p]] += 1
            if start <= skip_pos < end:
                out[labels[skip_pos]] -= 1
        elif node >= first_leaf:
            for p in range(start, end):
                dx = qx - xy[p, 0]
                dy = qy - xy[p, 1]
                if dx * dx + dy * dy <= thr and p != skip_pos:
                    out[labels[p]] += 1
        else:
            stack[top] = 2 * node + 1
            stack[top + 1] = 2 * node + 2
            top += 2


@jit_parallel
def _count_within_by_label(xy, node_range, bbox, depth, labels, query, order, skip_pos,
                           thr, out):
    m = query.shape[0]
    for b in prange((m + _BLOCK - 1) // _BLOCK):
        stack = np.empty(_STACK, dtype=np.int64)
        for i in order[b * _BLOCK:min(m, (b + 1) * _BLOCK)]:
            _count_by_label_one(xy, node_range, bbox, depth, labels, query[i, 0],
                                query[i, 1], skip_pos[i], thr, out[i], stack)


def count_within_by_label(tree, labels, n_labels: int, query_xy, r: float, *, skip=None
                          ) -> np.ndarray:
    """Per query point, the number of tree points of each label within distance ``r``.

    Parameters
    ----------
    tree : KDTree
        From :func:`build_kdtree`.
    labels : array_like of shape (n,), int
        Label code of each tree point, in the original order of ``xy``, in
        ``[0, n_labels)``.
    n_labels : int
        Number of labels (columns of the result), >= 0.
    query_xy : array_like of shape (m, 2), float
        Query coordinates, finite; ``m`` may be 0.
    r : float
        Radius, finite and > 0, in the unit of the tree's coordinates.
    skip : array_like of shape (m,), int, optional
        ``skip[i]`` is an original index never counted for query ``i``; ``-1`` skips
        nothing. Default: skip nothing.

    Returns
    -------
    ndarray of shape (m, n_labels), int64
        ``out[i, a]`` counts tree points ``j`` with ``labels[j] == a`` and ``d <= r``.

    Raises
    ------
    TypeError
        If ``tree`` is not a KDTree, or ``labels``, ``n_labels`` or ``skip`` is not integer.
    ValueError
        If ``labels`` has the wrong shape or a code outside ``[0, n_labels)``, or as for
        :func:`count_within`.

    Notes
    -----
    Fused: no neighbour list is built, and points of a node wholly within ``r`` are
    tallied without a distance test. Row sums equal :func:`count_within`.

    Examples
    --------
    Label = grid row; around the centre: one cell below, two beside, one above.

    >>> import numpy as np
    >>> grid = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> rows = np.repeat(np.arange(3), 3)
    >>> count_within_by_label(build_kdtree(grid), rows, 3, grid[[4]], 1.0,
    ...                       skip=[4]).tolist()
    [[1, 2, 1]]
    """
    _check_tree(tree)
    labels_tree, n_labels = _tree_labels(tree, labels, n_labels)
    query = as_points(query_xy, "query_xy")
    thr = _sq_thresholds(_as_radius(r))[0]
    skip_pos = _skip_positions(tree, skip, len(query))
    out = np.zeros((len(query), n_labels), dtype=np.int64)
    if len(query) and len(tree.perm):
        _count_within_by_label(tree.xy, tree.node_range, tree.bbox, tree.depth,
                               labels_tree, query, _query_order(query), skip_pos, thr,
                               out)
    return out


# --------------------------------------------------------------------------- histograms


@jit
def _radial_hist_one(xy, node_range, bbox, depth, labels, qx, qy, skip_pos, first, bins,
                     hist, stack):
    """Add 1 to ``hist[labels[p], bin]`` for each tree position ``p >= first`` in range.

    ``labels`` may be all zeros for an unlabelled histogram. A node whose nearest and
    farthest corners fall in the same radius bin is tallied without distance tests.
    """
    first_leaf = (1 << depth) - 1
    thresholds = bins[0]
    outer = thresholds[thresholds.shape[0] - 1]
    stack[0] = 0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        start = max(node_range[node, 0], first)
        end = node_range[node, 1]
        if start >= end:
            continue
        near = _min_d2(bbox, node, qx, qy)
        if near > outer:
            continue
        b = _bin_of(near, bins)
        if _bin_of(_max_d2(bbox, node, qx, qy), bins) == b:
            for p in range(start, end):
                hist[labels[p], b] += 1
            if start <= skip_pos < end:
                hist[labels[skip_pos], b] -= 1
        elif node >= first_leaf:
            for p in range(start, end):
                dx = qx - xy[p, 0]
                dy = qy - xy[p, 1]
                d2 = dx * dx + dy * dy
                if d2 <= outer and p != skip_pos:
                    hist[labels[p], _bin_of(d2, bins)] += 1
        else:
            stack[top] = 2 * node + 1
            stack[top + 1] = 2 * node + 2
            top += 2


@jit_parallel
def _cumulative_counts(xy, node_range, bbox, depth, query, order, skip_pos, bins, out):
    m = query.shape[0]
    n_bins = out.shape[1]
    unlabelled = np.zeros(xy.shape[0], dtype=np.int64)
    for b in prange((m + _BLOCK - 1) // _BLOCK):
        stack = np.empty(_STACK, dtype=np.int64)
        for i in order[b * _BLOCK:min(m, (b + 1) * _BLOCK)]:
            _radial_hist_one(xy, node_range, bbox, depth, unlabelled, query[i, 0],
                             query[i, 1], skip_pos[i], 0, bins, out[i:i + 1], stack)
            for j in range(1, n_bins):
                out[i, j] += out[i, j - 1]


def cumulative_counts(tree, query_xy, radii, *, skip=None) -> np.ndarray:
    """Per query point, the number of tree points within each of several radii.

    Parameters
    ----------
    tree : KDTree
        From :func:`build_kdtree`.
    query_xy : array_like of shape (m, 2), float
        Query coordinates, finite; ``m`` may be 0.
    radii : array_like of shape (R,), float
        Radii, finite, > 0 and strictly increasing, in the unit of the tree's coordinates.
    skip : array_like of shape (m,), int, optional
        ``skip[i]`` is an original index never counted for query ``i``; ``-1`` skips
        nothing. Default: skip nothing.

    Returns
    -------
    ndarray of shape (m, R), int64
        ``out[i, j]`` counts tree points with ``d <= radii[j]``; non-decreasing along j.

    Raises
    ------
    TypeError
        If ``tree`` is not a KDTree or ``skip`` is not integer.
    ValueError
        If ``radii`` is empty, not finite, not > 0 or not strictly increasing, or as for
        :func:`count_within`.

    Notes
    -----
    One traversal to ``max(radii)`` per query; each point found goes to its radius bin
    (a table lookup refined to the exact bin) and the bins are summed cumulatively, so
    R radii cost little more than one. ``out[:, j]`` equals :func:`count_within` at
    ``radii[j]``.

    Examples
    --------
    >>> import numpy as np
    >>> grid = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> cumulative_counts(build_kdtree(grid), grid[[4]], [0.5, 1.0, 1.5],
    ...                   skip=[4]).tolist()
    [[0, 4, 8]]
    """
    _check_tree(tree)
    query = as_points(query_xy, "query_xy")
    bins = _radius_bins(as_radii(radii, "radii"))
    skip_pos = _skip_positions(tree, skip, len(query))
    out = np.zeros((len(query), len(bins[0])), dtype=np.int64)
    if len(query) and len(tree.perm):
        _cumulative_counts(tree.xy, tree.node_range, tree.bbox, tree.depth, query,
                           _query_order(query), skip_pos, bins, out)
    return out


@jit_parallel
def _label_pair_counts(xy, node_range, bbox, depth, labels, n_labels, bins, n_chunks):
    n = xy.shape[0]
    n_bins = bins[0].shape[0]
    # partial[c, a, b, k]: pairs of tree positions p < q with labels (a, b) in bin k.
    partial = np.zeros((n_chunks, n_labels, n_labels, n_bins), dtype=np.int64)
    for c in prange(n_chunks):
        stack = np.empty(_STACK, dtype=np.int64)
        for p in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            _radial_hist_one(xy, node_range, bbox, depth, labels, xy[p, 0], xy[p, 1], -1,
                             p + 1, bins, partial[c, labels[p]], stack)
    upper = np.zeros((n_labels, n_labels, n_bins), dtype=np.int64)
    for c in range(n_chunks):
        upper += partial[c]
    out = np.empty_like(upper)
    for a in range(n_labels):
        for b in range(n_labels):
            total = 0
            for k in range(n_bins):
                total += upper[a, b, k] + upper[b, a, k]
                out[a, b, k] = total
    return out


def label_pair_counts(tree, labels, n_labels: int, radii) -> np.ndarray:
    """Counts of ordered pairs of tree points within each radius, by their two labels.

    Parameters
    ----------
    tree : KDTree
        From :func:`build_kdtree`.
    labels : array_like of shape (n,), int
        Label code of each tree point, in the original order of ``xy``, in
        ``[0, n_labels)``.
    n_labels : int
        Number of labels L, >= 0.
    radii : array_like of shape (R,), float
        Radii, finite, > 0 and strictly increasing, in the unit of the tree's coordinates.

    Returns
    -------
    ndarray of shape (L, L, R), int64
        ``out[a, b, k]`` is the number of ordered pairs ``(i, j)``, ``i != j``, with
        ``labels[i] == a``, ``labels[j] == b`` and ``d(i, j) <= radii[k]``.

    Raises
    ------
    TypeError
        If ``tree`` is not a KDTree, or ``labels`` or ``n_labels`` is not integer.
    ValueError
        If ``labels`` has the wrong shape or a code outside ``[0, n_labels)``, or
        ``radii`` is empty, not finite, not > 0 or not strictly increasing.

    Notes
    -----
    Pairs are distinct indices, so two cells at the same spot form a pair at distance 0.
    Both orders are counted, so ``out[a, b] == out[b, a]``. Fused: each unordered pair
    is found once, from its earlier point in tree order, by one traversal to
    ``max(radii)`` into per-thread histograms of O(L*L*R) memory, merged by integer
    addition (the same result on any thread count).

    Examples
    --------
    Label = grid row: within 1, each row has 2 edges (4 ordered pairs) and adjacent
    rows share 3 edges.

    >>> import numpy as np
    >>> grid = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> rows = np.repeat(np.arange(3), 3)
    >>> label_pair_counts(build_kdtree(grid), rows, 3, [1.0])[:, :, 0].tolist()
    [[4, 3, 0], [3, 4, 3], [0, 3, 4]]
    """
    _check_tree(tree)
    labels_tree, n_labels = _tree_labels(tree, labels, n_labels)
    bins = _radius_bins(as_radii(radii, "radii"))
    n = len(tree.perm)
    if n == 0:
        return np.zeros((n_labels, n_labels, len(bins[0])), dtype=np.int64)
    n_chunks = max(1, min(n, numba.get_num_threads()))
    return _label_pair_counts(tree.xy, tree.node_range, tree.bbox, tree.depth,
                              labels_tree, n_labels, bins, n_chunks)


# --------------------------------------------------------------------------- validation


def _check_tree(tree) -> None:
    if not isinstance(tree, KDTree):
        raise TypeError(f"tree must be a KDTree from build_kdtree, got {type(tree).__name__}")


def _as_radius(r) -> np.ndarray:
    if np.ndim(r) != 0:
        raise ValueError(f"r must be a single radius, got shape {np.shape(r)}")
    return as_radii(r, "r")


def _sq_thresholds(radii: np.ndarray) -> np.ndarray:
    """Largest float64 ``t`` with ``sqrt(t) <= r``, per radius.

    ``d2 <= t`` is then exactly ``sqrt(d2) <= r`` for every float64 ``d2``, so the
    kernels compare squared distances without changing which ``d == r`` ties count.
    """
    t = radii * radii
    too_big = np.sqrt(t) > radii
    while too_big.any():
        t[too_big] = np.nextafter(t[too_big], 0.0)
        too_big = np.sqrt(t) > radii
    grow = np.sqrt(np.nextafter(t, np.inf)) <= radii
    while grow.any():
        t[grow] = np.nextafter(t[grow], np.inf)
        grow = np.sqrt(np.nextafter(t, np.inf)) <= radii
    return t


def _radius_bins(radii: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Squared-radius thresholds and the start table that :func:`_bin_of` searches from.

    The table has 16 cells per radius on ``[0, thresholds[-1]]``; ``table[g]`` is the
    bin of the cell's left edge.
    """
    thresholds = _sq_thresholds(radii)
    n_cells = 16 * len(thresholds)
    cells_per_unit = n_cells / thresholds[-1] if thresholds[-1] > 0 else 0.0
    if not np.isfinite(cells_per_unit):
        cells_per_unit = 0.0
    edges = np.arange(n_cells + 1) / cells_per_unit if cells_per_unit else np.zeros(1)
    table = np.searchsorted(thresholds, edges, side="left").astype(np.int64)
    return thresholds, table, float(cells_per_unit)


def _skip_positions(tree: KDTree, skip, m: int) -> np.ndarray:
    """Tree positions of the skipped points (``-1`` for none), validated."""
    if skip is None:
        return np.full(m, -1, dtype=np.int64)
    arr = np.asarray(skip)
    if arr.shape != (m,):
        raise ValueError(f"skip must have shape ({m},) like query_xy, got {arr.shape}")
    if m == 0:
        return np.empty(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"skip must be integer indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    n = len(tree.perm)
    if arr.min() < -1 or arr.max() >= n:
        raise ValueError(
            f"skip must lie in [-1, {n}) (-1 = skip nothing), got range "
            f"[{arr.min()}, {arr.max()}]"
        )
    return np.where(arr >= 0, tree.inverse[np.maximum(arr, 0)], -1) if n else arr


def _tree_labels(tree: KDTree, labels, n_labels) -> tuple[np.ndarray, int]:
    """Labels validated against ``n_labels`` and permuted into tree order."""
    n_labels = as_int(n_labels, "n_labels", 0)
    codes, found = as_labels(labels, len(tree.perm), "labels")
    if found > n_labels:
        raise ValueError(f"labels must be < n_labels = {n_labels}, got {found - 1}")
    return np.ascontiguousarray(codes[tree.perm]), n_labels
