"""KD-tree construction: median splits into an implicit complete binary tree."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._jit import jit, jit_parallel, prange
from ._validate import as_int, as_points

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



def _check_tree(tree) -> None:
    if not isinstance(tree, KDTree):
        raise TypeError(f"tree must be a KDTree from build_kdtree, got {type(tree).__name__}")

