"""The moments of spatial weights (S0, S1, S2 of Cliff & Ord) and of the values (sums
of z² and z⁴) that the analytic null variances of Moran's I and Geary's C take."""

from __future__ import annotations

import numpy as np

from ._jit import jit

# Column buckets of the moments' transpose: few enough write streams for the caches.
_BUCKETS = 256


@jit
def _power_sums(z):
    """sum z^2 and sum z^4, serially (no BLAS threads)."""
    s2 = 0.0
    s4 = 0.0
    for v in z:
        v2 = v * v
        s2 += v2
        s4 += v2 * v2
    return s2, s4


@jit
def _transpose(indptr, indices, w, n):
    """CSR of the transpose, int32 ids, each row's entries in increasing source row.

    Two stable counting sorts: first by column bucket (at most ``_BUCKETS`` of them,
    written as that many sequential streams), then by column within the buckets, so
    the random writes of the second sort stay inside one bucket's slice of the output.
    """
    nnz = indices.shape[0]
    shift = 0
    while ((n - 1) >> shift) >= _BUCKETS:
        shift += 1
    n_buckets = ((max(n, 1) - 1) >> shift) + 1
    fill = np.zeros(n_buckets + 1, np.int64)
    for e in range(nnz):
        fill[(indices[e] >> shift) + 1] += 1
    for b in range(n_buckets):
        fill[b + 1] += fill[b]
    rows = np.empty(nnz, np.int32)
    cols = np.empty(nnz, np.int32)
    vals = np.empty(nnz, np.float64)
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            q = fill[indices[e] >> shift]
            rows[q] = i
            cols[q] = indices[e]
            vals[q] = w[e]
            fill[indices[e] >> shift] = q + 1
    t_indptr = np.zeros(n + 1, np.int64)
    for q in range(nnz):
        t_indptr[cols[q] + 1] += 1
    for i in range(n):
        t_indptr[i + 1] += t_indptr[i]
    pos = t_indptr[:-1].copy()
    t_indices = np.empty(nnz, np.int32)
    t_w = np.empty(nnz, np.float64)
    for q in range(nnz):
        p = pos[cols[q]]
        t_indices[p] = rows[q]
        t_w[p] = vals[q]
        pos[cols[q]] = p + 1
    return t_indptr, t_indices, t_w


@jit
def _moments(indptr, indices, w, n):
    """S0, S1, S2 of Cliff & Ord over CSR weights (repeated entries add), serially.

    With a_ij the summed weight of (i, j): S1 = sum_ij (a_ij + a_ji)^2 / 2
    = sum_ij a_ij^2 + sum_ij a_ij a_ji. Row i of W is scattered into a dense ``mark``
    (a_i.), row i of W^T (the entries w_ji) is read against it, then ``mark`` is
    squared and cleared: no sorting, O(n + nnz).
    """
    t_indptr, t_indices, t_w = _transpose(indptr, indices, w, n)  # n < 2**31 cells
    mark = np.zeros(n)
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    for i in range(n):
        row = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            mark[indices[e]] += w[e]
            row += w[e]
        col = 0.0
        for q in range(t_indptr[i], t_indptr[i + 1]):
            s1 += mark[t_indices[q]] * t_w[q]
            col += t_w[q]
        for e in range(indptr[i], indptr[i + 1]):
            a = mark[indices[e]]
            s1 += a * a  # once per distinct column: cleared below
            mark[indices[e]] = 0.0
        s0 += row
        s2 += (row + col) * (row + col)
    return s0, s1, s2
