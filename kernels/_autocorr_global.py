"""Global Moran's I and Geary's C with their analytic and permutation tests.

Statistics, moments and p-values follow PySAL esda (``esda/moran.py`` Moran,
``esda/geary.py`` Geary) and Cliff & Ord (1981), *Spatial Processes*, section 1.5 (I)
and 1.5.2 (C).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import stats

from ._autocorr_moments import _moments, _power_sums
from ._autocorr_sums import _geary_sum, _moran_sum, _permutation_sums
from ._autocorr_weights import _checked_weights

__all__ = ["AutocorrelationResult", "gearys_c", "morans_i"]

# A permuted statistic within this relative distance of the observed one is a tie
# (counted as at least as extreme): permutations that are symmetries of the weights
# reproduce the observed value exactly in theory, and rounding must not decide.
_TIE_RTOL = 1e-12

# Null variances below this are rounding noise of an exactly zero variance (on a
# complete graph I is the same for every arrangement); real ones are ~1/n >> 1e-13.
_ZERO_VARIANCE = 1e-13


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
    >>> from cytoql.kernels.autocorrelation import grid_weights
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
