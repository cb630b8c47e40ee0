"""Dense references for the ``autocorrelation`` kernels: (n, n) weight matrices.

The builders return dense matrices and the statistics take one, so a test densifies
the kernel's sparse weights to compare.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from scipy import stats

from ._streams import Stream, seeds

__all__ = ["distance_band_weights", "gearys_c", "grid_weights", "knn_weights", "morans_i"]

_TIE_RTOL = 1e-12


def grid_weights(shape, contiguity="rook"):
    """Reference contiguity: compare every pair of cells' row/column offsets."""
    n_rows, n_cols = shape
    n = n_rows * n_cols
    w = np.zeros((n, n))
    for a in range(n):
        for b in range(n):
            dr = abs(a // n_cols - b // n_cols)
            dc = abs(a % n_cols - b % n_cols)
            rook = dr + dc == 1
            if rook or (contiguity == "queen" and dr == 1 and dc == 1):
                w[a, b] = 1.0
    return w


def knn_weights(xy, k):
    """Reference kNN: sort every other point by (distance, index)."""
    xy = np.asarray(xy, dtype=np.float64)
    n = len(xy)
    w = np.zeros((n, n))
    for i in range(n):
        d = np.sqrt(((xy - xy[i]) ** 2).sum(axis=1))
        others = [j for j in range(n) if j != i]
        others.sort(key=lambda j: (d[j], j))
        w[i, others[:k]] = 1.0
    return w


def distance_band_weights(xy, r):
    """Reference distance band: every pair at distance <= r, never i with itself."""
    xy = np.asarray(xy, dtype=np.float64)
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    w = (d <= r).astype(float)
    np.fill_diagonal(w, 0.0)
    return w


def _transform(w, transform):
    w = np.array(w, dtype=np.float64)
    if transform == "row":
        sums = w.sum(axis=1, keepdims=True)
        w = np.divide(w, sums, out=np.zeros_like(w), where=sums > 0)
    return w


def _s012(w):
    return w.sum(), 0.5 * ((w + w.T) ** 2).sum(), ((w.sum(axis=1) + w.sum(axis=0)) ** 2).sum()


def _shuffled(z, seed):
    """A copy of ``z`` shuffled by the stream of ``seed`` (the kernel's permutation)."""
    v = z.copy()
    Stream(seed).shuffle(v)
    return v


def _p_sim(sims, obs):
    larger = sum(1 for s in sims if s >= obs - _TIE_RTOL * max(1.0, abs(obs)))
    larger = min(larger, len(sims) - larger)
    return (larger + 1) / (len(sims) + 1)


def _result(stat, expected, v_norm, v_rand, p_sim):
    z_norm = (stat - expected) / np.sqrt(v_norm) if v_norm > 1e-13 else np.nan
    z_rand = (stat - expected) / np.sqrt(v_rand) if v_rand > 1e-13 else np.nan
    return SimpleNamespace(statistic=stat, expected=expected,
                           z_norm=z_norm, p_norm=2 * stats.norm.sf(abs(z_norm)),
                           z_rand=z_rand, p_rand=2 * stats.norm.sf(abs(z_rand)), p_sim=p_sim)


def _nan():
    return SimpleNamespace(statistic=np.nan, expected=np.nan, z_norm=np.nan, p_norm=np.nan,
                           z_rand=np.nan, p_rand=np.nan, p_sim=np.nan)


def morans_i(values, weights, *, transform="row", nperm=0, rng=None):
    """Reference Moran's I over a dense weight matrix."""
    y = np.asarray(values, dtype=np.float64).ravel()
    w = _transform(weights, transform)
    n = len(y)
    z = y - y.mean()
    s0, s1, s2 = _s012(w)
    if n < 2 or s0 == 0 or (z @ z) == 0:
        return _nan()

    def stat(v):
        return n / s0 * (v @ w @ v) / (v @ v)

    i_obs = stat(z)
    ei = -1 / (n - 1)
    v_norm = (n**2 * s1 - n * s2 + 3 * s0**2) / ((n**2 - 1) * s0**2) - ei**2
    b2 = n * (z**4).sum() / (z**2).sum() ** 2
    v_rand = np.nan
    if n >= 4:
        v_rand = ((n * ((n**2 - 3 * n + 3) * s1 - n * s2 + 3 * s0**2)
                   - b2 * ((n**2 - n) * s1 - 2 * n * s2 + 6 * s0**2))
                  / ((n - 1) * (n - 2) * (n - 3) * s0**2) - ei**2)
    p_sim = np.nan
    if nperm:
        p_sim = _p_sim([stat(_shuffled(z, seed)) for seed in seeds(rng, nperm)], i_obs)
    return _result(i_obs, ei, v_norm, v_rand, p_sim)


def gearys_c(values, weights, *, transform="row", nperm=0, rng=None):
    """Reference Geary's C over a dense weight matrix."""
    y = np.asarray(values, dtype=np.float64).ravel()
    w = _transform(weights, transform)
    n = len(y)
    z = y - y.mean()
    s0, s1, s2 = _s012(w)
    if n < 2 or s0 == 0 or (z @ z) == 0:
        return _nan()

    def stat(v):
        return (n - 1) * (w * (v[:, None] - v[None, :]) ** 2).sum() / (2 * s0 * (z @ z))

    c_obs = stat(z)
    v_norm = ((2 * s1 + s2) * (n - 1) - 4 * s0**2) / (2 * (n + 1) * s0**2)
    b2 = n * (z**4).sum() / (z**2).sum() ** 2
    v_rand = np.nan
    if n >= 4:
        v_rand = (((n - 1) * s1 * (n**2 - 3 * n + 3 - (n - 1) * b2)
                   - 0.25 * (n - 1) * s2 * (n**2 + 3 * n - 6 - (n**2 - n + 2) * b2)
                   + s0**2 * (n**2 - 3 - (n - 1) ** 2 * b2))
                  / (n * (n - 2) * (n - 3) * s0**2))
    p_sim = np.nan
    if nperm:
        p_sim = _p_sim([stat(_shuffled(z, seed)) for seed in seeds(rng, nperm)], c_obs)
    return _result(c_obs, 1.0, v_norm, v_rand, p_sim)


# -------------------------------------------------------------------- local statistics

__all__ += ["getis_ord_g_star", "local_morans_i"]


def local_morans_i(values, weights, *, transform="row"):
    """Reference local Moran: a loop over cells of a dense weight matrix."""
    y = np.asarray(values, dtype=np.float64).ravel()
    w = _transform(weights, transform)
    n = len(y)
    z = y - y.mean()
    if n < 3 or (z @ z) == 0:
        nan = np.full(n, np.nan)
        return SimpleNamespace(statistic=nan, expected=nan, variance=nan, z=nan)
    m2 = (z @ z) / n
    b2 = np.mean(z ** 4) / m2 ** 2
    stat, exp, var = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        stat[i] = (n - 1) * z[i] * sum(w[i, j] * z[j] for j in range(n)) / (z @ z)
        wi = w[i].sum()
        wi2 = (w[i] ** 2).sum()
        exp[i] = -wi / (n - 1)
        var[i] = (wi2 * (n - b2) / (n - 1) + (wi ** 2 - wi2) * (2 * b2 - n) / ((n - 1) * (n - 2))
                  - (wi / (n - 1)) ** 2)
    return SimpleNamespace(statistic=stat, expected=exp, variance=var,
                           z=np.array([(s - e) / np.sqrt(v) if v > 1e-13 else np.nan
                                       for s, e, v in zip(stat, exp, var)]))


def getis_ord_g_star(values, weights, *, transform="row"):
    """Reference Gi*: a unit self-weight on the diagonal, then sums over each row."""
    y = np.asarray(values, dtype=np.float64).ravel()
    w = np.array(weights, dtype=np.float64)
    n = len(y)
    for i in range(n):
        if w[i, i] == 0:
            w[i, i] = 1.0
    w = _transform(w, transform)
    if n < 2 or y.sum() == 0:
        nan = np.full(n, np.nan)
        return SimpleNamespace(statistic=nan, expected=nan, variance=nan, z=nan)
    ybar = y.mean()
    s2 = np.mean((y - ybar) ** 2)
    stat = np.array([sum(w[i, j] * y[j] for j in range(n)) / y.sum() for i in range(n)])
    wi = w.sum(axis=1)
    exp = wi / n
    var = wi * (n - wi) / ((n - 1) * n ** 2) * s2 / ybar ** 2
    return SimpleNamespace(statistic=stat, expected=exp, variance=var,
                           z=np.array([(s - e) / np.sqrt(v) if v > 1e-13 else np.nan
                                       for s, e, v in zip(stat, exp, var)]))
