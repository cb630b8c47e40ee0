"""Neighbourhood enrichment and co-occurrence, with squidpy's definitions.

* :func:`nhood_enrichment` is ``squidpy.gr.nhood_enrichment``: edge counts between label
  pairs over a neighbour graph, compared with label permutations by a z-score.
* :func:`co_occurrence` is ``squidpy.gr.co_occurrence``: for pairs of cells within a
  distance, the ratio ``p(a | b) / p(a)``.

Where squidpy's conventions differ from ours, the function's Notes say so.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._jit import jit, jit_parallel, prange
from ._streams import MAX_DRAW, bounded, seeds
from ._validate import as_codes, as_int, as_points
from .spatial_index import build_kdtree, label_pair_counts

__all__ = ["NhoodEnrichment", "co_occurrence", "label_edge_counts", "nhood_enrichment"]

# Permutations per parallel task: each task reuses one label buffer for its chunk, and
# which task runs a permutation never changes its numbers (its stream is its own).
_PERMS_PER_TASK = 4

class NhoodEnrichment(NamedTuple):
    """Result of :func:`nhood_enrichment`.

    Attributes
    ----------
    zscore : ndarray of shape (L, L), float64
        ``(counts - mean over permutations) / std over permutations``; NaN where the
        permutation standard deviation is 0.
    counts : ndarray of shape (L, L), int64
        Observed edge counts by (label of the row cell, label of the column cell).
    """

    zscore: np.ndarray
    counts: np.ndarray


@jit
def _edge_counts(indptr, indices, labels, n_labels):
    out = np.zeros((n_labels, n_labels), np.int64)
    for i in range(indptr.shape[0] - 1):
        a = labels[i]
        for p in range(indptr[i], indptr[i + 1]):
            out[a, labels[indices[p]]] += 1
    return out


@jit
def _count_into(indptr, indices, labels, halves, out):
    """``out`` = edge counts; alternate edges go to ``halves[0]`` and ``halves[1]`` so that
    runs of same-label neighbours do not queue on one counter."""
    halves[:, :, :] = 0
    for i in range(indptr.shape[0] - 1):
        a = labels[i]
        p = indptr[i]
        end = indptr[i + 1]
        while p + 1 < end:
            halves[0, a, labels[indices[p]]] += 1
            halves[1, a, labels[indices[p + 1]]] += 1
            p += 2
        if p < end:
            halves[0, a, labels[indices[p]]] += 1
    out[:, :] = halves[0] + halves[1]


@jit
def _shuffle_segments(state, values, starts):
    """Fisher-Yates within each segment ``values[starts[g]:starts[g + 1]]``, segments in
    order, each from its end: swap ``values[i]`` with a uniform ``values[j]``, ``j <= i``."""
    for g in range(starts.shape[0] - 1):
        first = starts[g]
        for i in range(starts[g + 1] - 1, first, -1):
            state, j = bounded(state, i - first + 1)
            tmp = values[i]
            values[i] = values[first + j]
            values[first + j] = tmp


@jit_parallel
def _permuted_counts(indptr, indices, grouped, starts, members, seeds, perms):
    """perms[k] = edge counts after permutation k (drawn from seeds[k] alone).

    ``grouped`` holds the labels group by group (cells in index order within a group),
    ``members[p]`` the cell of entry ``p`` (None: one group, entries are cells).
    """
    n_perms = seeds.shape[0]
    n_tasks = (n_perms + _PERMS_PER_TASK - 1) // _PERMS_PER_TASK
    for t in prange(n_tasks):
        values = np.empty_like(grouped)
        labels = values if members is None else np.empty_like(grouped)
        halves = np.empty((2, perms.shape[1], perms.shape[2]), np.int64)
        for k in range(t * _PERMS_PER_TASK, min(n_perms, (t + 1) * _PERMS_PER_TASK)):
            values[:] = grouped
            _shuffle_segments(seeds[k], values, starts)
            if members is not None:
                for p in range(values.shape[0]):
                    labels[members[p]] = values[p]
            _count_into(indptr, indices, labels, halves, perms[k])


def label_edge_counts(indptr, indices, labels, n_labels):
    """Number of graph edges between each pair of labels.

    Parameters
    ----------
    indptr : array_like of shape (n + 1,), int
        CSR row pointer of the adjacency (``scipy.sparse.csr_matrix.indptr``).
    indices : array_like of shape (nnz,), int
        CSR column indices, in ``[0, n)``.
    labels : array_like of shape (n,), int
        Label code of each cell, in ``[0, n_labels)``.
    n_labels : int
        Number of labels L, >= 1.

    Returns
    -------
    ndarray of shape (L, L), int64
        ``out[a, b]`` is the number of stored adjacency entries ``(i, j)`` with
        ``labels[i] == a`` and ``labels[j] == b``.

    Raises
    ------
    ValueError
        If the CSR arrays are inconsistent or a label is outside ``[0, n_labels)``.
    TypeError
        If an array is not integer.

    Notes
    -----
    Every stored entry counts once, whatever its weight: a symmetric adjacency counts
    each undirected edge in both directions, so ``out[a, a]`` holds twice the number of
    a-a edges. This is squidpy's count matrix.
    """
    indptr, indices = _as_csr(indptr, indices)
    codes, n_labels = as_codes(labels, len(indptr) - 1, n_labels)
    return _edge_counts(indptr, indices, codes, n_labels)


def nhood_enrichment(indptr, indices, labels, n_labels, *, n_perms=1000, rng,
                     groups=None):
    """Neighbourhood enrichment z-scores by label permutation (squidpy's definition).

    Parameters
    ----------
    indptr, indices : array_like of int
        The neighbour graph as CSR adjacency (e.g. ``adata.obsp["spatial_connectivities"]``).
    labels : array_like of shape (n,), int
        Label code of each cell, in ``[0, n_labels)``.
    n_labels : int
        Number of labels L, >= 1.
    n_perms : int, default 1000
        Number of permutations, >= 1.
    rng : numpy.random.Generator
        Source of the permutations.
    groups : array_like of shape (n,), int, optional
        Group of each cell (e.g. FOV or sample): labels are permuted only within their
        group, as squidpy's ``library_key``. Default: one group.

    Returns
    -------
    NhoodEnrichment
        ``zscore`` and ``counts`` (see :func:`label_edge_counts`), both (L, L).

    Raises
    ------
    ValueError
        As :func:`label_edge_counts`, or ``n_perms`` < 1, or ``groups`` mis-shaped.
    TypeError
        As :func:`label_edge_counts`, or ``rng`` is not a ``numpy.random.Generator``,
        or ``n_perms`` or ``groups`` is not integer.

    Notes
    -----
    ``zscore = (counts - mean_k perm_k) / std_k perm_k`` with the population standard
    deviation (``ddof=0``) over the ``n_perms`` permuted count matrices, as squidpy.
    Randomness: ``rng`` is used once, for one seed per permutation
    (:mod:`cytoql.kernels._streams` documents the seeds and the SplitMix64 stream each
    one starts); permutation ``k``, from stream ``k`` alone, takes for each group in
    increasing group code the labels of its cells in index order and shuffles them by
    Fisher-Yates from the end (``i = m - 1, ..., 1`` swaps entry ``i`` with a uniform
    entry ``j <= i``). The permutations run in parallel; the result is a function of the
    generator's state alone, the same on any number of threads.
    Differences from squidpy: squidpy uses ``numpy.random.RandomState`` (a different
    stream: z-scores agree only within Monte-Carlo error) and gives ``inf``/NaN with a
    warning where the standard deviation is 0; here it is NaN. Memory:
    O(n_perms L^2) for the permuted counts.
    """
    indptr, indices = _as_csr(indptr, indices)
    n = len(indptr) - 1
    codes, n_labels = as_codes(labels, n, n_labels)
    n_perms = as_int(n_perms, "n_perms", 1)
    perm_seeds = seeds(rng, n_perms)
    group, n_groups = _group_codes(groups, n)
    if n > MAX_DRAW:
        raise ValueError(f"nhood_enrichment permutes at most {MAX_DRAW} cells, got {n}")
    counts = _edge_counts(indptr, indices, codes, n_labels)
    members = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[members], np.arange(n_groups + 1)).astype(np.int64)
    # uint8 labels and int32 indices: at 1M cells the labels stay in a core's cache
    # whatever the cell order (a spatial renumbering measured no faster)
    grouped = codes[members].astype(np.uint8 if n_labels <= 256 else np.int32)
    small = indices.astype(np.int32) if n < 2**31 else indices
    perms = np.empty((n_perms, n_labels, n_labels), dtype=np.int64)
    _permuted_counts(indptr, small, grouped, starts, members if n_groups > 1 else None,
                     perm_seeds, perms)
    mean = perms.mean(axis=0)
    std = perms.std(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        zscore = np.where(std > 0, (counts - mean) / std, np.nan)
    return NhoodEnrichment(zscore, counts)


def co_occurrence(xy, labels, n_labels, interval, *, cumulative=True):
    """Co-occurrence ratio of labels within distance intervals (squidpy's definition).

    Parameters
    ----------
    xy : array_like of shape (n, 2), float
        Cell coordinates, finite.
    labels : array_like of shape (n,), int
        Label code of each cell, in ``[0, n_labels)``.
    n_labels : int
        Number of labels L, >= 1.
    interval : array_like of shape (K + 1,), float
        Distance edges ``e_0 < e_1 < ... < e_K``, >= 0, in the unit of ``xy``.
    cumulative : bool, default True
        True (squidpy): bin ``k`` holds the pairs with ``d <= e_{k+1}``. False: bin ``k``
        holds ``e_k < d <= e_{k+1}`` (the first bin ``[0, e_1]`` when ``e_0 == 0``).

    Returns
    -------
    ndarray of shape (L, L, K), float64
        ``occ[a, b, k] = p(a | b) / p(a)`` over the pairs in bin ``k``; NaN where label
        ``a`` or ``b`` is in no pair of the bin.

    Raises
    ------
    ValueError
        If ``xy`` is not (n, 2) finite, a label is outside ``[0, n_labels)``, or
        ``interval`` has fewer than 2 edges, is negative, not finite or not strictly
        increasing.
    TypeError
        If ``labels`` or ``n_labels`` is not integer.

    Notes
    -----
    Pairs are ordered pairs of distinct cells (two cells at the same spot are a pair at
    distance 0), counted ``C[a, b, k]`` by their labels; ``C`` is symmetric. With
    ``S[b, k] = sum_a C[a, b, k]`` and ``T[k] = sum_b S[b, k]``:
    ``occ[a, b, k] = (C[b, a, k] / S[b, k]) / (S[a, k] / T[k])``, exactly squidpy's
    formula, so ``occ`` is symmetric in ``a`` and ``b``. Differences from squidpy: it
    computes distances in float32 and stores 0 where the ratio is undefined (NaN here);
    it requires every label to occur; with an ``int`` interval it picks edges from the
    data (here edges are always explicit). As in squidpy, ``e_0`` plays no part in
    cumulative mode. Counts come from fused passes of
    :func:`~cytoql.kernels.spatial_index.label_pair_counts` (O(L^2 K) memory, no
    pair list).
    """
    xy = as_points(xy, "xy")
    codes, n_labels = as_codes(labels, len(xy), n_labels)
    edges = _as_interval(interval)
    tree = build_kdtree(xy)
    upper = label_pair_counts(tree, codes, n_labels, edges[1:])
    if cumulative:
        counts = upper
    else:
        lower = np.zeros_like(upper)
        lower[:, :, 1:] = upper[:, :, :-1]
        if edges[0] > 0:
            lower[:, :, 0] = label_pair_counts(tree, codes, n_labels, edges[:1])[:, :, 0]
        counts = upper - lower
    column = counts.sum(axis=0)  # (L, K): pairs whose second cell has label b
    total = column.sum(axis=0)  # (K,)
    with np.errstate(divide="ignore", invalid="ignore"):
        conditional = counts.transpose(1, 0, 2) / column[:, None, :]  # [b, a, k]
        marginal = column / total  # [a, k]
        occ = conditional.transpose(1, 0, 2) / marginal[:, None, :]
    defined = (column[:, None, :] > 0) & (column[None, :, :] > 0)
    return np.where(defined, occ, np.nan)


# --------------------------------------------------------------------------- validation


def _as_csr(indptr, indices) -> tuple[np.ndarray, np.ndarray]:
    indptr = np.asarray(indptr)
    indices = np.asarray(indices)
    for name, arr in (("indptr", indptr), ("indices", indices)):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"{name} must be integer, got dtype {arr.dtype}")
    if indptr.size == 0 or indptr[0] != 0 or indptr[-1] != indices.size:
        raise ValueError(f"indptr must start at 0 and end at len(indices) = {indices.size}")
    if (np.diff(indptr) < 0).any():
        raise ValueError("indptr must be non-decreasing")
    n = indptr.size - 1
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"indices must lie in [0, {n}) for {n} cells, got range "
                         f"[{indices.min()}, {indices.max()}]")
    return (np.ascontiguousarray(indptr, dtype=np.int64),
            np.ascontiguousarray(indices, dtype=np.int64))


def _group_codes(groups, n: int) -> tuple[np.ndarray, int]:
    """Group codes ``0 .. G-1`` in increasing order of the given codes, and ``G``."""
    if groups is None:
        return np.zeros(n, dtype=np.int32), 1
    codes = np.asarray(groups)
    if codes.shape != (n,):
        raise ValueError(f"groups must have shape ({n},) like labels, got {codes.shape}")
    if n and codes.dtype.kind not in "iu":
        raise TypeError(f"groups must be integer codes, got dtype {codes.dtype}")
    unique, inverse = np.unique(codes, return_inverse=True)
    return inverse.astype(np.int32).ravel(), max(len(unique), 1)


def _as_interval(interval) -> np.ndarray:
    edges = np.asarray(interval, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2:
        raise ValueError(f"interval must be a 1-D array of >= 2 distance edges, got shape "
                         f"{edges.shape}")
    if not np.isfinite(edges).all() or edges[0] < 0:
        raise ValueError("interval edges must be finite and >= 0")
    if not (np.diff(edges) > 0).all():
        raise ValueError("interval edges must be strictly increasing")
    return edges
