"""Global spatial autocorrelation: Moran's I and Geary's C with their tests.

Weights are sparse rows (CSR): contiguity on a grid of quadrat counts, k nearest
neighbours or a distance band over cells. Statistics, moments and p-values follow
PySAL esda (``esda/moran.py`` Moran, ``esda/geary.py`` Geary) and Cliff & Ord (1981),
*Spatial Processes*, section 1.5 (I) and 1.5.2 (C).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.sparse
from scipy import stats

from ._jit import jit, jit_parallel, prange
from ._streams import MAX_DRAW, bounded, seeds
from ._validate import as_option, as_points
from .spatial_index import build_kdtree, knn, query_radius

__all__ = [
    "AutocorrelationResult",
    "SpatialWeights",
    "distance_band_weights",
    "gearys_c",
    "grid_weights",
    "knn_weights",
    "morans_i",
]

TRANSFORMS = ("row", "binary")
CONTIGUITIES = ("rook", "queen")

# Permutations per parallel task (one scratch copy of the values each); which task runs
# a permutation never changes its numbers (its stream is its own).
_PERMS_PER_TASK = 4

# Column buckets of the moments' transpose: few enough write streams for the caches.
_BUCKETS = 256

# A permuted statistic within this relative distance of the observed one is a tie
# (counted as at least as extreme): permutations that are symmetries of the weights
# reproduce the observed value exactly in theory, and rounding must not decide.
_TIE_RTOL = 1e-12

# Null variances below this are rounding noise of an exactly zero variance (on a
# complete graph I is the same for every arrangement); real ones are ~1/n >> 1e-13.
_ZERO_VARIANCE = 1e-13


class SpatialWeights(NamedTuple):
    """Sparse spatial weights: row ``i``'s neighbours are
    ``indices[indptr[i]:indptr[i+1]]`` with ``weights`` of the same slice."""

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray


class AutocorrelationResult(NamedTuple):
    """A global autocorrelation statistic with its null moments and p-values.

    ``p_norm``/``p_rand`` are two-sided normal-approximation p-values under the
    normality and randomisation assumptions; ``p_sim`` is the permutation pseudo
    p-value (NaN without permutations).
    """

    statistic: float
    expected: float
    z_norm: float
    p_norm: float
    z_rand: float
    p_rand: float
    p_sim: float


# --------------------------------------------------------------------------- cores


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
def _row_standardised(indptr, w):
    """``w`` with each row divided by its (serial) sum; rows summing to 0 unchanged."""
    out = np.empty_like(w)
    for i in range(indptr.shape[0] - 1):
        total = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            total += w[e]
        if total == 0.0:
            total = 1.0
        for e in range(indptr[i], indptr[i + 1]):
            out[e] = w[e] / total
    return out


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


# ------------------------------------------------------------------------ weights


def grid_weights(shape, contiguity="rook"):
    """Binary contiguity weights between the cells of a 2-D grid.

    Parameters
    ----------
    shape : tuple of 2 ints
        ``(n_rows, n_cols)``, e.g. ``counts.shape`` from
        :func:`cytoql.kernels.quadrats.quadrat_counts`.
    contiguity : {"rook", "queen"}
        Rook: cells sharing an edge (up to 4 neighbours); queen: sharing an edge or
        a corner (up to 8).

    Returns
    -------
    SpatialWeights
        Over ``n_rows * n_cols`` cells in row-major order (``counts.ravel()``), all
        weights 1, neighbours in increasing index order.
    """
    as_option(contiguity, CONTIGUITIES, "contiguity")
    try:
        n_rows, n_cols = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (n_rows, n_cols), got {shape!r}") from None
    if n_rows < 1 or n_cols < 1:
        raise ValueError(f"shape must be positive, got {shape!r}")
    steps = [(-1, 0), (0, -1), (0, 1), (1, 0)]
    if contiguity == "queen":
        steps = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    neighbour_lists = []
    for dr, dc in steps:  # steps are in increasing index order
        nr, nc = rows + dr, cols + dc
        ok = (nr >= 0) & (nr < n_rows) & (nc >= 0) & (nc < n_cols)
        neighbour_lists.append(np.where(ok, nr * n_cols + nc, -1))
    table = np.stack(neighbour_lists, axis=1)
    keep = table >= 0
    indptr = np.zeros(n_rows * n_cols + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    indices = table[keep].astype(np.int64)
    return SpatialWeights(indptr, indices, np.ones(indices.size, dtype=np.float64))


def knn_weights(xy, k):
    """Binary k-nearest-neighbour weights between points.

    Parameters
    ----------
    xy : ndarray of shape (n, 2), float64
        Cell positions.
    k : int
        Neighbours per cell, ``1 <= k <= n - 1``.

    Returns
    -------
    SpatialWeights
        Row ``i`` holds the ``k`` nearest other cells (never ``i`` itself; ties at
        equal distance go to the smaller index), weight 1. Not symmetric in general.
    """
    xy = as_points(xy)
    n = xy.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {k!r}")
    if not 1 <= k <= n - 1:
        raise ValueError(f"k must be in [1, n - 1] = [1, {n - 1}], got {k}")
    ids = np.arange(n, dtype=np.int64)
    _, idx = knn(build_kdtree(xy), xy, int(k), skip=ids)
    indptr = np.arange(0, n * k + 1, k, dtype=np.int64)
    return SpatialWeights(indptr, np.ascontiguousarray(idx.ravel()),
                          np.ones(n * k, dtype=np.float64))


def distance_band_weights(xy, r):
    """Binary distance-band weights: cells within distance ``r`` are neighbours.

    Parameters
    ----------
    xy : ndarray of shape (n, 2), float64
        Cell positions.
    r : float
        Band radius > 0 in the unit of ``xy``; ``d <= r`` counts.

    Returns
    -------
    SpatialWeights
        Symmetric, weight 1, a cell never its own neighbour (coincident cells are);
        cells with no neighbour have empty rows.
    """
    xy = as_points(xy)
    r = float(r)
    if not (r > 0 and math.isfinite(r)):
        raise ValueError(f"r must be a finite number > 0, got {r!r}")
    n = xy.shape[0]
    if n == 0:
        return SpatialWeights(np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0))
    ids = np.arange(n, dtype=np.int64)
    indptr, indices, _ = query_radius(build_kdtree(xy), xy, r, skip=ids)
    return SpatialWeights(indptr, indices, np.ones(indices.size, dtype=np.float64))


def _checked_weights(weights, n, transform):
    as_option(transform, TRANSFORMS, "transform")
    if not isinstance(weights, SpatialWeights):
        raise TypeError("weights must be SpatialWeights (grid_weights, knn_weights, "
                        f"distance_band_weights), got {type(weights).__name__}")
    indptr = np.ascontiguousarray(weights.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(weights.indices, dtype=np.int64)
    w = np.ascontiguousarray(weights.weights, dtype=np.float64)
    if indptr.shape != (n + 1,):
        raise ValueError(f"weights cover {indptr.size - 1} cells but values has {n}")
    if indices.size != indptr[-1] or w.size != indices.size:
        raise ValueError("weights indptr, indices and weights are inconsistent")
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"weights indices must lie in [0, {n})")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and >= 0")
    if transform == "row":
        w = _row_standardised(indptr, w)
    return indptr, indices, w


def _permutation_sums(indptr, indices, w, z, nperm, rng, geary):
    if z.size > MAX_DRAW:
        raise ValueError(f"permutations need at most {MAX_DRAW} cells, got {z.size}")
    out = np.empty(nperm, dtype=np.float64)
    _permuted_sums(indptr, indices, w, z, seeds(rng, nperm), geary, out)
    return out


def _pseudo_p(sims, observed):
    """esda's folded pseudo p-value: (1 + #{as or more extreme}) / (1 + nperm)."""
    tol = _TIE_RTOL * max(1.0, abs(observed))
    larger = int(np.count_nonzero(sims >= observed - tol))
    larger = min(larger, sims.size - larger)
    return (larger + 1.0) / (sims.size + 1.0)


def _two_sided(z):
    return float(2.0 * stats.norm.sf(abs(z))) if math.isfinite(z) else float("nan")


def _prepare(values, weights, transform, nperm, rng):
    y = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(y).all():
        raise ValueError("values must be finite")
    indptr, indices, w = _checked_weights(weights, y.size, transform)
    if isinstance(nperm, bool) or not isinstance(nperm, (int, np.integer)) or nperm < 0:
        raise ValueError(f"nperm must be an integer >= 0, got {nperm!r}")
    if nperm and not isinstance(rng, np.random.Generator):
        raise TypeError("permutations need rng, a numpy.random.Generator "
                        f"(np.random.default_rng(seed)), got {type(rng).__name__}")
    return y, indptr, indices, w


_NAN_RESULT = AutocorrelationResult(*(float("nan"),) * 7)


def morans_i(values, weights, *, transform="row", nperm=0, rng=None):
    """Moran's I of values over spatial weights, with analytic and permutation tests.

    Parameters
    ----------
    values : array_like of shape (n,) or any shape with n elements, float
        One value per cell (quadrat counts: ``counts`` itself, flattened row-major).
    weights : SpatialWeights
        From :func:`grid_weights`, :func:`knn_weights` or
        :func:`distance_band_weights`, over the same ``n`` cells.
    transform : {"row", "binary"}
        ``"row"`` (default, as esda): each row divided by its sum (rows of cells
        without neighbours stay zero); ``"binary"``: weights as given.
    nperm : int
        Number of random permutations for ``p_sim`` (0: none, ``p_sim`` is NaN).
    rng : numpy.random.Generator, optional
        Required when ``nperm > 0``; used once, for one seed per permutation
        (:mod:`cytoql.kernels._streams`): permutation ``s`` shuffles a copy of
        ``z`` by Fisher-Yates from the end with stream ``s`` alone, so ``p_sim`` is
        a function of the generator's state, the same on any number of threads.

    Returns
    -------
    AutocorrelationResult
        ``statistic`` = I, ``expected`` = -1 / (n - 1).

    Raises
    ------
    ValueError
        Non-finite values, weights of another size or inconsistent, unknown
        transform, negative nperm.
    TypeError
        Weights not SpatialWeights, or permutations without a Generator.

    Notes
    -----
    ``I = n / S0 * sum_ij w_ij z_i z_j / sum_i z_i^2`` with ``z = y - mean(y)``.
    Variances under normality and randomisation are Cliff & Ord's, as in esda's
    ``Moran``; ``p_norm``, ``p_rand`` are two-sided (esda's default). ``p_sim`` is
    esda's folded pseudo p-value ``(1 + min(L, nperm - L)) / (1 + nperm)`` with
    ``L = #{I_perm >= I}``, i.e. one-sided in the direction of the observed I;
    permuted values within 1e-12 (relative) of I count as ties, i.e. in ``L``.
    Everything is NaN when I is undefined: ``n < 2``, constant values, or no
    weights (S0 = 0); z and p are NaN where the null variance is zero (below 1e-13,
    e.g. a complete graph) and the randomisation ones for ``n < 4``.

    Examples
    --------
    A 4 x 4 checkerboard of counts is perfectly negatively autocorrelated:

    >>> import numpy as np
    >>> board = np.indices((4, 4)).sum(axis=0) % 2
    >>> res = morans_i(board, grid_weights(board.shape, "rook"))
    >>> round(res.statistic, 6), round(res.expected, 6)
    (-1.0, -0.066667)
    """
    y, indptr, indices, w = _prepare(values, weights, transform, nperm, rng)
    n = y.size
    z = y - y.mean() if n else y
    z2ss, z4ss = _power_sums(z)
    s0, s1, s2 = _moments(indptr, indices, w, n)
    if n < 2 or s0 == 0 or z2ss == 0:
        return _NAN_RESULT
    scale = n / s0 / z2ss
    i_obs = float(_moran_sum(indptr, indices, w, z) * scale)
    ei = -1.0 / (n - 1)
    s02 = s0 * s0
    v_norm = (n * n * s1 - n * s2 + 3 * s02) / ((n - 1) * (n + 1) * s02) - ei * ei
    kurt = (z4ss / n) / (z2ss / n) ** 2
    if n >= 4:
        a = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s02)
        b = kurt * ((n * n - n) * s1 - 2 * n * s2 + 6 * s02)
        v_rand = float((a - b) / ((n - 1) * (n - 2) * (n - 3) * s02) - ei * ei)
    else:
        v_rand = float("nan")
    z_norm = _z(i_obs - ei, v_norm)
    z_rand = _z(i_obs - ei, v_rand)
    p_sim = float("nan")
    if nperm:
        sims = _permutation_sums(indptr, indices, w, z, nperm, rng, False) * scale
        p_sim = _pseudo_p(sims, i_obs)
    return AutocorrelationResult(i_obs, ei, z_norm, _two_sided(z_norm), z_rand,
                                 _two_sided(z_rand), p_sim)


def gearys_c(values, weights, *, transform="row", nperm=0, rng=None):
    """Geary's C of values over spatial weights, with analytic and permutation tests.

    Parameters
    ----------
    values, weights, transform, nperm, rng
        As for :func:`morans_i`.

    Returns
    -------
    AutocorrelationResult
        ``statistic`` = C, ``expected`` = 1 (C < 1: positive autocorrelation).

    Raises
    ------
    ValueError, TypeError
        As for :func:`morans_i`.

    Notes
    -----
    ``C = (n - 1) sum_ij w_ij (y_i - y_j)^2 / (2 S0 sum_i z_i^2)``. Variances under
    normality and randomisation as in esda's ``Geary`` (Cliff & Ord); ``p_norm``,
    ``p_rand`` are two-sided (esda's Geary reports one-sided values: half of
    these). ``p_sim`` as for :func:`morans_i`. NaN when undefined, as for
    :func:`morans_i`.
    """
    y, indptr, indices, w = _prepare(values, weights, transform, nperm, rng)
    n = y.size
    z = y - y.mean() if n else y
    z2ss, z4ss = _power_sums(z)
    s0, s1, s2 = _moments(indptr, indices, w, n)
    if n < 2 or s0 == 0 or z2ss == 0:
        return _NAN_RESULT
    scale = (n - 1) / (2.0 * s0 * z2ss)
    c_obs = float(_geary_sum(indptr, indices, w, z) * scale)
    s02 = s0 * s0
    kurt = (z4ss / n) / (z2ss / n) ** 2
    v_norm = ((2 * s1 + s2) * (n - 1) - 4 * s02) / (2 * (n + 1) * s02)
    if n >= 4:
        a = (n - 1) * s1 * (n * n - 3 * n + 3 - (n - 1) * kurt)
        b = 0.25 * (n - 1) * s2 * (n * n + 3 * n - 6 - (n * n - n + 2) * kurt)
        c = s02 * (n * n - 3 - (n - 1) ** 2 * kurt)
        v_rand = float((a - b + c) / (n * (n - 2) * (n - 3) * s02))
    else:
        v_rand = float("nan")
    z_norm = _z(c_obs - 1.0, v_norm)
    z_rand = _z(c_obs - 1.0, v_rand)
    p_sim = float("nan")
    if nperm:
        sims = _permutation_sums(indptr, indices, w, z, nperm, rng, True) * scale
        p_sim = _pseudo_p(sims, c_obs)
    return AutocorrelationResult(c_obs, 1.0, z_norm, _two_sided(z_norm), z_rand,
                                 _two_sided(z_rand), p_sim)


def _z(deviation, variance):
    """Standardised deviation; NaN when the variance is (numerically) zero."""
    if not (variance > _ZERO_VARIANCE and math.isfinite(variance)):
        return float("nan")
    return float(deviation / math.sqrt(variance))


# -------------------------------------------------------------------- local statistics

__all__ += ["LocalAutocorrelation", "getis_ord_g_star", "local_morans_i"]


class LocalAutocorrelation(NamedTuple):
    """A local statistic per cell with its null expectation, variance and z-score."""

    statistic: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    z: np.ndarray


def _local_prepare(values, weights, transform):
    y = np.asarray(values, dtype=np.float64).ravel()
    if not np.isfinite(y).all():
        raise ValueError("values must be finite")
    indptr, indices, w = _checked_weights(weights, y.size, transform)
    mat = scipy.sparse.csr_matrix((w, indices, indptr), shape=(y.size, y.size))
    return y, mat


def _local_z(statistic, expected, variance):
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (variance > _ZERO_VARIANCE) & np.isfinite(variance)
        return np.where(ok, (statistic - expected) / np.sqrt(np.where(ok, variance, 1.0)),
                        np.nan)


def local_morans_i(values, weights, *, transform="row"):
    """Local Moran's I_i (Anselin's LISA) of each cell, with total-randomisation moments.

    Parameters
    ----------
    values : array_like of shape (n,), float
        One value per cell.
    weights : SpatialWeights
        Over the same ``n`` cells (:func:`knn_weights`, :func:`distance_band_weights`,
        :func:`grid_weights`).
    transform : {"row", "binary"}
        As for :func:`morans_i`.

    Returns
    -------
    LocalAutocorrelation
        Arrays of shape ``(n,)``: ``statistic`` I_i, ``expected`` E[I_i] = -w_i / (n - 1),
        ``variance`` Var[I_i] and ``z``.

    Raises
    ------
    ValueError, TypeError
        As for :func:`morans_i`.

    Notes
    -----
    As esda's ``Moran_Local``: ``I_i = (n - 1) z_i sum_j w_ij z_j / sum_k z_k^2`` with
    ``z = y - mean(y)``. Moments under total randomisation (Sokal et al. 1998, eqs. A3
    and A4*, esda's ``EI`` and ``VI``) with ``w_i = sum_j w_ij``, ``w_i2 = sum_j w_ij^2``
    and ``b2 = m4 / m2^2``: ``Var = w_i2 (n - b2) / (n - 1) + (w_i^2 - w_i2) (2 b2 - n)
    / ((n - 1)(n - 2)) - (w_i / (n - 1))^2``. Everything is NaN for ``n < 3`` or
    constant values; ``z`` is NaN where the variance is zero (a cell without
    neighbours).
    """
    y, mat = _local_prepare(values, weights, transform)
    n = y.size
    nan = np.full(n, np.nan)
    z = y - y.mean() if n else y
    ss = float(z @ z)
    if n < 3 or ss == 0:
        return LocalAutocorrelation(nan, nan.copy(), nan.copy(), nan.copy())
    statistic = (n - 1) * z * (mat @ z) / ss
    wi = np.asarray(mat.sum(axis=1)).ravel()
    wi2 = np.asarray(mat.multiply(mat).sum(axis=1)).ravel()
    m2 = ss / n
    b2 = float(np.sum(z ** 4) / n) / (m2 * m2)
    expected = -wi / (n - 1)
    variance = (wi2 * (n - b2) / (n - 1) + (wi * wi - wi2) * (2 * b2 - n) / ((n - 1) * (n - 2))
                - expected * expected)
    return LocalAutocorrelation(statistic, expected, variance,
                                _local_z(statistic, expected, variance))


def getis_ord_g_star(values, weights, *, transform="row"):
    """Getis–Ord Gi* of each cell: the share of the total value in its neighbourhood,
    the cell itself included, with its z-score.

    Parameters
    ----------
    values : array_like of shape (n,), float
        One value per cell, >= 0 for the statistic to be a share.
    weights : SpatialWeights
        Over the same ``n`` cells; a self-weight 1 is added to each cell whose row has
        none before ``transform``.
    transform : {"row", "binary"}
        As for :func:`morans_i`, applied to the weights with the self-weight.

    Returns
    -------
    LocalAutocorrelation
        Arrays of shape ``(n,)``: ``statistic`` Gi*, ``expected`` W_i / n, ``variance``
        and ``z``.

    Raises
    ------
    ValueError, TypeError
        As for :func:`morans_i`.

    Notes
    -----
    As esda's ``G_Local(star=True)`` with binary weights made star by a unit
    diagonal: ``G*_i = sum_j w_ij y_j / sum_j y_j``, ``E = W_i / n``,
    ``Var = W_i (n - W_i) / ((n - 1) n^2) * s^2 / ybar^2`` with ``W_i = sum_j w_ij``
    and ``s^2`` the population variance of y (Getis & Ord 1992, Ord & Getis 1995).
    Everything is NaN for ``n < 2`` or a zero sum of values; ``z`` is NaN for
    constant values.
    """
    y = np.asarray(values, dtype=np.float64).ravel()
    n = y.size
    indptr, indices, w = _checked_weights(weights, n, "binary")
    mat = scipy.sparse.csr_matrix((w, indices, indptr), shape=(n, n))
    missing = (mat.diagonal() == 0).astype(np.float64)
    star = (mat + scipy.sparse.diags(missing)).tocsr()
    star.sort_indices()
    y, mat = _local_prepare(y, SpatialWeights(star.indptr.astype(np.int64),
                                              star.indices.astype(np.int64), star.data),
                            transform)
    total = float(y.sum())
    nan = np.full(n, np.nan)
    if n < 2 or total == 0:
        return LocalAutocorrelation(nan, nan.copy(), nan.copy(), nan.copy())
    statistic = (mat @ y) / total
    wi = np.asarray(mat.sum(axis=1)).ravel()
    mean = total / n
    s2 = float(np.mean((y - mean) ** 2))
    expected = wi / n
    variance = wi * (n - wi) / ((n - 1) * n * n) * s2 / (mean * mean)
    return LocalAutocorrelation(statistic, expected, variance,
                                _local_z(statistic, expected, variance))
