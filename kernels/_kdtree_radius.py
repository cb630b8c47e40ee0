"""KD-tree fixed-radius queries: neighbour lists and fused (labelled) counts."""

from __future__ import annotations

import math

import numpy as np

from ._chunks import run_in_slices
from ._jit import jit, jit_parallel, prange
from ._kdtree_build import _check_tree, build_kdtree  # noqa: F401 (doctests)
from ._kdtree_common import (_BLOCK, _STACK, _max_d2, _min_d2, _query_order,
                             _radius_threshold, _skip_positions, _sort_neighbours,
                             _tree_labels)
from ._validate import as_points


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
    m = order.shape[0]
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
    m = order.shape[0]
    for b in prange((m + _BLOCK - 1) // _BLOCK):
        stack = np.empty(_STACK, dtype=np.int64)
        for i in order[b * _BLOCK:min(m, (b + 1) * _BLOCK)]:
            lo = indptr[i]
            hi = indptr[i + 1]
            _fill_one(xy, perm, node_range, bbox, depth, query[i, 0], query[i, 1],
                      skip_pos[i], thr, indices[lo:hi], distances[lo:hi], stack)


def _counts_in_slices(tree, query, order, skip_pos, thr, out):
    def step(lo, hi):
        _count_within(tree.xy, tree.node_range, tree.bbox, tree.depth, query, order[lo:hi],
                      skip_pos, thr, out)

    run_in_slices(len(query), step)


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
    thr = _radius_threshold(r)
    skip_pos = _skip_positions(tree, skip, len(query))
    m = len(query)
    counts = np.zeros(m, dtype=np.int64)
    order = _query_order(query)
    if m and len(tree.perm):
        _counts_in_slices(tree, query, order, skip_pos, thr, counts)
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int64)
    distances = np.empty(indptr[-1], dtype=np.float64)
    if indptr[-1]:
        def step(lo, hi):
            _query_radius(tree.xy, tree.perm, tree.node_range, tree.bbox, tree.depth,
                          query, order[lo:hi], skip_pos, thr, indptr, indices, distances)

        run_in_slices(m, step)
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
    thr = _radius_threshold(r)
    skip_pos = _skip_positions(tree, skip, len(query))
    out = np.zeros(len(query), dtype=np.int64)
    if len(query) and len(tree.perm):
        _counts_in_slices(tree, query, _query_order(query), skip_pos, thr, out)
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
    m = order.shape[0]
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
    thr = _radius_threshold(r)
    skip_pos = _skip_positions(tree, skip, len(query))
    out = np.zeros((len(query), n_labels), dtype=np.int64)
    if len(query) and len(tree.perm):
        order = _query_order(query)

        def step(lo, hi):
            _count_within_by_label(tree.xy, tree.node_range, tree.bbox, tree.depth,
                                   labels_tree, query, order[lo:hi], skip_pos, thr, out)

        run_in_slices(len(query), step)
    return out

