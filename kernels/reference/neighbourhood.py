"""Brute-force references for the ``neighbourhood`` kernels.

Edge counts by explicit loops over the adjacency entries; co-occurrence from the full
distance matrix. Permutations draw from the per-permutation streams the kernel
documents, so a shared seed gives identical z-scores. For small inputs in tests only.
"""

from __future__ import annotations

import numpy as np

from ._streams import Stream, seeds

__all__ = ["co_occurrence", "label_edge_counts", "nhood_enrichment", "permuted_edge_counts"]


def label_edge_counts(indptr, indices, labels, n_labels):
    """``out[a, b]`` = adjacency entries ``(i, j)`` with labels ``(a, b)``, by loops."""
    out = np.zeros((n_labels, n_labels), dtype=np.int64)
    for i in range(len(indptr) - 1):
        for p in range(indptr[i], indptr[i + 1]):
            out[labels[i], labels[indices[p]]] += 1
    return out


def permuted_edge_counts(indptr, indices, labels, n_labels, *, n_perms, rng, groups=None):
    """The label edge counts after each permutation, from the kernel's documented streams."""
    labels = np.asarray(labels, dtype=np.int64)
    groups = np.zeros(len(labels), np.int64) if groups is None else np.asarray(groups)
    perms = np.empty((n_perms, n_labels, n_labels), dtype=np.int64)
    for k, seed in enumerate(seeds(rng, n_perms)):
        stream = Stream(seed)
        shuffled = labels.copy()
        for g in np.unique(groups):
            values = labels[groups == g]  # a copy, cells in index order
            stream.shuffle(values)
            shuffled[groups == g] = values
        perms[k] = label_edge_counts(indptr, indices, shuffled, n_labels)
    return perms


def nhood_enrichment(indptr, indices, labels, n_labels, *, n_perms=1000, rng, groups=None):
    """Permutation z-scores of the label edge counts (squidpy's definition)."""
    perms = permuted_edge_counts(indptr, indices, labels, n_labels, n_perms=n_perms, rng=rng,
                                 groups=groups)
    counts = label_edge_counts(indptr, indices, np.asarray(labels, dtype=np.int64), n_labels)
    mean = perms.mean(axis=0)
    std = perms.std(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        zscore = np.where(std > 0, (counts - mean) / std, np.nan)
    return zscore, counts


def co_occurrence(xy, labels, n_labels, interval, *, cumulative=True):
    """squidpy's co-occurrence ratio p(a | b) / p(a) per distance interval, brute force."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    labels = np.asarray(labels, dtype=np.int64)
    interval = np.asarray(interval, dtype=np.float64)
    n = len(xy)
    dx = xy[:, None, 0] - xy[None, :, 0]
    dy = xy[:, None, 1] - xy[None, :, 1]
    d = np.sqrt(dx * dx + dy * dy)
    n_bins = len(interval) - 1
    counts = np.zeros((n_labels, n_labels, n_bins), dtype=np.int64)
    for k in range(n_bins):
        upper = d <= interval[k + 1]
        if cumulative:
            inside = upper
        elif interval[k] > 0:
            inside = upper & (d > interval[k])
        else:
            inside = upper  # the first bin [0, e1] keeps coincident pairs
        for i in range(n):
            for j in range(n):
                if i != j and inside[i, j]:
                    counts[labels[i], labels[j], k] += 1
    occ = np.full((n_labels, n_labels, n_bins), np.nan)
    for k in range(n_bins):
        column = counts[:, :, k].sum(axis=0)  # pairs whose second cell has label b
        total = column.sum()
        for a in range(n_labels):
            for b in range(n_labels):
                if column[a] > 0 and column[b] > 0:
                    occ[a, b, k] = (counts[b, a, k] / column[b]) / (column[a] / total)
    return occ
