"""The sums of Moran's I and Geary's C over CSR weights, observed and under permutation.

Permutation ``k`` shuffles a copy of ``z`` by Fisher-Yates from the end with the
SplitMix64 stream of its own seed (:mod:`cytoql.kernels._streams`), so its sum does not
depend on the thread that runs it.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, jit_parallel, prange
from ._streams import MAX_DRAW, bounded, seeds

# Permutations per parallel task (one scratch copy of the values each); which task runs
# a permutation never changes its numbers (its stream is its own).
_PERMS_PER_TASK = 4


@jit
def _moran_sum(indptr, indices, w, v):
    """sum_i v_i sum_j w_ij v_j, serially."""
    acc = 0.0
    for i in range(indptr.shape[0] - 1):
        lag = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            lag += w[e] * v[indices[e]]
        acc += v[i] * lag
    return acc


@jit
def _geary_sum(indptr, indices, w, v):
    """sum_ij w_ij (v_i - v_j)^2, serially."""
    acc = 0.0
    for i in range(indptr.shape[0] - 1):
        vi = v[i]
        for e in range(indptr[i], indptr[i + 1]):
            diff = vi - v[indices[e]]
            acc += w[e] * diff * diff
    return acc


@jit
def _shuffle(state, values):
    """Fisher-Yates from the end, in place: swap ``values[i]`` with a uniform
    ``values[j]``, ``j <= i``, for ``i = n - 1, ..., 1``."""
    for i in range(values.shape[0] - 1, 0, -1):
        state, j = bounded(state, i + 1)
        tmp = values[i]
        values[i] = values[j]
        values[j] = tmp


@jit_parallel
def _permuted_sums(indptr, indices, w, z, seeds, geary, out):
    """out[k] = the Moran (or Geary) sum of z shuffled from seeds[k] alone."""
    n_perms = seeds.shape[0]
    n_tasks = (n_perms + _PERMS_PER_TASK - 1) // _PERMS_PER_TASK
    for t in prange(n_tasks):
        v = np.empty_like(z)
        for k in range(t * _PERMS_PER_TASK, min(n_perms, (t + 1) * _PERMS_PER_TASK)):
            v[:] = z
            _shuffle(seeds[k], v)
            if geary:
                out[k] = _geary_sum(indptr, indices, w, v)
            else:
                out[k] = _moran_sum(indptr, indices, w, v)


def _permutation_sums(indptr, indices, w, z, nperm, rng, geary):
    if z.size > MAX_DRAW:
        raise ValueError(f"permutations need at most {MAX_DRAW} cells, got {z.size}")
    out = np.empty(nperm, dtype=np.float64)
    _permuted_sums(indptr, indices, w, z, seeds(rng, nperm), geary, out)
    return out
