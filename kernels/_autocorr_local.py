"""Local spatial autocorrelation: local Moran's I_i (LISA) and Getis–Ord Gi* per cell."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse

from ._autocorr_global import _ZERO_VARIANCE
from ._autocorr_weights import SpatialWeights, _checked_weights

__all__ = ["LocalAutocorrelation", "getis_ord_g_star", "local_morans_i"]


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
