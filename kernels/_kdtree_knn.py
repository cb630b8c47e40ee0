"""KD-tree k-nearest-neighbour queries: kNN and nearest point of a label."""

from __future__ import annotations

import math

import numpy as np

from ._chunks import run_in_slices
from ._jit import jit, jit_parallel, prange
from ._kdtree_build import _check_tree, _node_min, build_kdtree  # noqa: F401 (doctests)
from ._kdtree_common import (_BLOCK, _STACK, _before, _insert, _min_d2, _query_order,
                             _skip_positions)
from ._validate import as_int, as_labels, as_points


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
def _knn(xy, perm, node_range, bbox, depth, min_index, blocked, min_blocked, query, order,
         skip_pos, out_d, out_i):
    m = order.shape[0]
    for b in prange((m + _BLOCK - 1) // _BLOCK):
        stack = np.empty(_STACK, dtype=np.int64)
        for i in order[b * _BLOCK:min(m, (b + 1) * _BLOCK)]:
            _knn_one(xy, perm, node_range, bbox, depth, min_index, blocked, min_blocked,
                     query[i, 0], query[i, 1], skip_pos[i], out_d[i], out_i[i], stack)


def _knn_in_slices(tree, blocked, query, skip_pos, out_d, out_i):
    order = _query_order(query)
    min_blocked = _node_min(tree.node_range, tree.depth, blocked)

    def step(lo, hi):
        _knn(tree.xy, tree.perm, tree.node_range, tree.bbox, tree.depth, tree.min_index,
             blocked, min_blocked, query, order[lo:hi], skip_pos, out_d, out_i)

    run_in_slices(len(query), step, first=1 << 16)


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
        _knn_in_slices(tree, np.zeros(len(tree.perm), dtype=np.int64), query, skip_pos,
                       out_d, out_i)
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
        _knn_in_slices(tree, blocked, query, skip_pos, out_d, out_i)
    return out_d[:, 0], out_i[:, 0]
