"""KD-tree radial histograms: cumulative counts per query and label pair counts."""

from __future__ import annotations

import numba
import numpy as np

from ._chunks import run_in_slices
from ._jit import jit, jit_parallel, prange
from ._kdtree_build import _check_tree, build_kdtree  # noqa: F401 (doctests)
from ._kdtree_common import (_BLOCK, _STACK, _bin_of, _max_d2, _min_d2, _query_order,
                             _radius_bins, _skip_positions, _tree_labels)
from ._validate import as_points, as_radii


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
    m = order.shape[0]
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
        order = _query_order(query)

        def step(lo, hi):
            _cumulative_counts(tree.xy, tree.node_range, tree.bbox, tree.depth, query,
                               order[lo:hi], skip_pos, bins, out)

        run_in_slices(len(query), step)
    return out


@jit_parallel
def _label_pair_counts(xy, node_range, bbox, depth, labels, bins, lo, hi, partial):
    """Add to ``partial[c, a, b, k]`` the pairs of tree positions ``p < q``, ``p`` in
    ``[lo, hi)``, with labels ``(a, b)`` in bin ``k``; thread slice ``c`` of the range."""
    n_chunks = partial.shape[0]
    for c in prange(n_chunks):
        stack = np.empty(_STACK, dtype=np.int64)
        for p in range(lo + c * (hi - lo) // n_chunks, lo + (c + 1) * (hi - lo) // n_chunks):
            _radial_hist_one(xy, node_range, bbox, depth, labels, xy[p, 0], xy[p, 1], -1,
                             p + 1, bins, partial[c, labels[p]], stack)


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
    partial = np.zeros((n_chunks, n_labels, n_labels, len(bins[0])), dtype=np.int64)

    def step(lo, hi):
        _label_pair_counts(tree.xy, tree.node_range, tree.bbox, tree.depth, labels_tree,
                           bins, lo, hi, partial)

    run_in_slices(n, step)
    upper = partial.sum(axis=0)
    return np.cumsum(upper + upper.transpose(1, 0, 2), axis=2)

