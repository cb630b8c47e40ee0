"""Neighbourhood enrichment and co-occurrence, with squidpy's definitions.

* :func:`nhood_enrichment` is ``squidpy.gr.nhood_enrichment``: edge counts between label
  pairs over a neighbour graph, compared with label permutations by a z-score;
  :func:`permuted_edge_counts` gives the permuted counts themselves, for callers that
  pool graphs.
* :func:`co_occurrence` is ``squidpy.gr.co_occurrence``: for pairs of cells within a
  distance, the ratio ``p(a | b) / p(a)``.

Where squidpy's conventions differ from ours, the function's Notes say so.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._jit import jit, jit_parallel, prange
from ._streams import bounded, seeds
from ._validate import as_codes, as_int, as_points
from .spatial_index import build_kdtree, label_pair_counts

__all__ = ["NhoodEnrichment", "co_occurrence", "label_edge_counts", "nhood_enrichment",
           "permuted_edge_counts"]

# Permutations per parallel task: each task reuses one label buffer for its chunk, and
# which task runs a permutation never changes its numbers (its stream is its own).
_PERMS_PER_TASK = 4
_MAX_IDS = 2**31

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
def _edge_pairs(indptr, indices):
    """The entries to count, as rows ``(i, j)`` of an int32 array.

    Returns ``(pairs, loops, symmetric)``. When every entry ``(i, j)`` has a partner
    ``(j, i)`` (as multisets), ``pairs`` holds the entries with ``j > i`` (in increasing
    ``i``, then ``j``) and ``loops`` the cells ``i`` of the entries ``(i, i)``, repeated
    as stored; otherwise ``pairs`` holds every entry in CSR order and ``loops`` is empty.
    One loop over a flat list, not rows: no branch per row to mispredict.
    """
    n = indptr.shape[0] - 1
    upper = np.zeros(n + 1, np.int64)
    lower = np.zeros(n + 1, np.int64)
    n_loops = 0
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j > i:
                upper[i + 1] += 1
            elif j < i:
                lower[j + 1] += 1
            else:
                n_loops += 1
    symmetric = True
    for i in range(n):
        symmetric = symmetric and upper[i + 1] == lower[i + 1]
        upper[i + 1] += upper[i]
        lower[i + 1] += lower[i]
    if symmetric:
        pairs = np.empty((upper[n], 2), np.int32)
        mirror = np.empty(upper[n], np.int32)
        loops = np.empty(n_loops, np.int32)
        fill_up = upper[:-1].copy()
        fill_lo = lower[:-1].copy()
        n_loops = 0
        for i in range(n):
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                if j > i:
                    pairs[fill_up[i], 0] = i
                    pairs[fill_up[i], 1] = j
                    fill_up[i] += 1
                elif j < i:  # rows visited in increasing i: each mirror row ends ascending
                    mirror[fill_lo[j]] = i
                    fill_lo[j] += 1
                else:
                    loops[n_loops] = i
                    n_loops += 1
        for q in range(pairs.shape[0]):  # insertion sort within rows: O(1) if sorted
            j = pairs[q, 1]
            r = q
            while r > upper[pairs[q, 0]] and pairs[r - 1, 1] > j:
                pairs[r, 1] = pairs[r - 1, 1]
                r -= 1
            pairs[r, 1] = j
        for q in range(mirror.shape[0]):
            if pairs[q, 1] != mirror[q]:
                symmetric = False
                break
        if symmetric:
            return pairs, loops, True
    pairs = np.empty((indices.shape[0], 2), np.int32)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            pairs[p, 0] = i
            pairs[p, 1] = indices[p]
    return pairs, np.empty(0, np.int32), False


@jit
def _renumbered(indptr, indices, members):
    """The graph with cell ``members[p]`` renamed ``p``: its rows in that order."""
    n = indptr.shape[0] - 1
    rank = np.empty(n, np.int64)
    for p in range(n):
        rank[members[p]] = p
    out_indptr = np.zeros(n + 1, np.int64)
    for p in range(n):
        out_indptr[p + 1] = out_indptr[p] + indptr[members[p] + 1] - indptr[members[p]]
    out_indices = np.empty(indices.shape[0], np.int64)
    for p in range(n):
        q = out_indptr[p]
        for e in range(indptr[members[p]], indptr[members[p] + 1]):
            out_indices[q] = rank[indices[e]]
            q += 1
    return out_indptr, out_indices


@jit
def _count_into(pairs, loops, mirror, labels, halves, out):
    """``out`` = label counts of ``pairs`` (with ``mirror``: of the pairs both ways, and
    of ``loops`` once); alternate pairs go to ``halves[0]`` and ``halves[1]`` so that
    runs of one label pair do not queue on one counter."""
    halves[:, :, :] = 0
    m = pairs.shape[0]
    e = 0
    while e + 1 < m:
        halves[0, labels[pairs[e, 0]], labels[pairs[e, 1]]] += 1
        halves[1, labels[pairs[e + 1, 0]], labels[pairs[e + 1, 1]]] += 1
        e += 2
    if e < m:
        halves[0, labels[pairs[e, 0]], labels[pairs[e, 1]]] += 1
    n_labels = out.shape[0]
    for a in range(n_labels):
        for b in range(n_labels):
            total = halves[0, a, b] + halves[1, a, b]
            if mirror:
                total += halves[0, b, a] + halves[1, b, a]
            out[a, b] = total
    for c in loops:
        out[labels[c], labels[c]] += 1


@jit
def _shuffle(state, values):
    """Fisher-Yates from the end, in place: swap ``values[i]`` with a uniform
    ``values[j]``, ``j <= i``, for ``i = m - 1, ..., 1``; returns the stream's state."""
    for i in range(values.shape[0] - 1, 0, -1):
        state, j = bounded(state, i + 1)
        tmp = values[i]
        values[i] = values[j]
        values[j] = tmp
    return state


@jit
def _shuffle_segments(state, values, starts):
    """:func:`_shuffle` of each segment ``values[starts[g]:starts[g + 1]]`` in order, one
    stream running on from segment to segment."""
    for g in range(starts.shape[0] - 1):
        state = _shuffle(state, values[starts[g]:starts[g + 1]])


@jit_parallel
def _permuted_counts(pairs, loops, mirror, grouped, starts, seeds, perms):
    """perms[k] = edge counts after permutation k (drawn from seeds[k] alone); cells are
    numbered group by group, ``grouped`` holds their labels."""
    n_perms = seeds.shape[0]
    n_tasks = (n_perms + _PERMS_PER_TASK - 1) // _PERMS_PER_TASK
    for t in prange(n_tasks):
        labels = np.empty_like(grouped)
        halves = np.empty((2, perms.shape[1], perms.shape[2]), np.int64)
        for k in range(t * _PERMS_PER_TASK, min(n_perms, (t + 1) * _PERMS_PER_TASK)):
            labels[:] = grouped
            _shuffle_segments(seeds[k], labels, starts)
            _count_into(pairs, loops, mirror, labels, halves, perms[k])


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


def permuted_edge_counts(indptr, indices, labels, n_labels, *, n_perms, rng,
                         groups=None):
    """Label edge counts of a graph after each of ``n_perms`` label permutations.

    Parameters
    ----------
    indptr, indices : array_like of int
        The neighbour graph as CSR adjacency (e.g. ``adata.obsp["spatial_connectivities"]``).
    labels : array_like of shape (n,), int
        Label code of each cell, in ``[0, n_labels)``.
    n_labels : int
        Number of labels L, >= 1.
    n_perms : int
        Number of permutations, >= 1.
    rng : numpy.random.Generator
        Source of the permutations.
    groups : array_like of shape (n,), int, optional
        Group of each cell (e.g. FOV or sample): labels are permuted only within their
        group, as squidpy's ``library_key``. Default: one group.

    Returns
    -------
    ndarray of shape (n_perms, L, L), int64
        ``out[k]`` is :func:`label_edge_counts` of the labels after permutation ``k``.

    Raises
    ------
    ValueError
        As :func:`label_edge_counts`, or ``n_perms`` < 1, ``groups`` mis-shaped, or
        2**31 cells or adjacency entries or more.
    TypeError
        As :func:`label_edge_counts`, or ``rng`` is not a ``numpy.random.Generator``,
        or ``n_perms`` or ``groups`` is not integer.

    Notes
    -----
    Randomness: ``rng`` is used once, for one seed per permutation
    (:mod:`cytoql.kernels._streams` documents the seeds and the SplitMix64 stream each
    one starts); permutation ``k``, from stream ``k`` alone, takes for each group in
    increasing group code the labels of its cells in index order and shuffles them by
    Fisher-Yates from the end (``i = m - 1, ..., 1`` swaps entry ``i`` with a uniform
    entry ``j <= i``). The permutations run in parallel; the counts are integers and a
    function of the generator's state alone, the same on any number of threads.
    Callers that pool several graphs (FOVs) add their ``out[k]`` permutation by
    permutation, which is one permutation of all cells within each graph.

    A symmetric adjacency (every entry ``(i, j)`` matched by an entry ``(j, i)``, as
    the graphs of :mod:`cytoql.kernels.graphs` and squidpy's are) is counted over its
    entries ``j > i`` only, and the transpose added: half the work per permutation.
    Memory: the result, ``8 n_perms L^2`` bytes (80 MB for 1,000 permutations of 100
    labels), plus O(n + nnz) for the graph, once.
    """
    indptr, indices = _as_csr(indptr, indices)
    n = len(indptr) - 1
    codes, n_labels = as_codes(labels, n, n_labels)
    n_perms = as_int(n_perms, "n_perms", 1)
    perm_seeds = seeds(rng, n_perms)
    group, n_groups = _group_codes(groups, n)
    if max(n, len(indices)) >= _MAX_IDS:  # cell ids are int32
        raise ValueError(f"permutations take fewer than 2**31 cells and entries, got {n} "
                         f"cells and {len(indices)} entries")
    members = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[members], np.arange(n_groups + 1)).astype(np.int64)
    if n_groups > 1:  # cells renumbered group by group: a shuffle is then the labels
        indptr, indices = _renumbered(indptr, indices, members)
    pairs, loops, symmetric = _edge_pairs(indptr, indices)
    # uint8 labels: at 1M cells they stay in a core's cache whatever the cell order
    grouped = codes[members].astype(np.uint8 if n_labels <= 256 else np.int32)
    perms = np.empty((n_perms, n_labels, n_labels), dtype=np.int64)
    _permuted_counts(pairs, loops, symmetric, grouped, starts, perm_seeds, perms)
    return perms


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
    ValueError, TypeError
        As :func:`permuted_edge_counts`.

    Notes
    -----
    ``zscore = (counts - mean_k perm_k) / std_k perm_k`` with the population standard
    deviation (``ddof=0``) over the ``n_perms`` permuted count matrices of
    :func:`permuted_edge_counts` (which documents the permutations and their streams),
    as squidpy. Differences from squidpy: squidpy uses ``numpy.random.RandomState`` (a
    different stream: z-scores agree only within Monte-Carlo error) and gives
    ``inf``/NaN with a warning where the standard deviation is 0; here it is NaN.
    Memory: O(n_perms L^2) for the permuted counts.
    """
    perms = permuted_edge_counts(indptr, indices, labels, n_labels, n_perms=n_perms,
                                 rng=rng, groups=groups)
    counts = label_edge_counts(indptr, indices, labels, n_labels)
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
