"""Nearest-neighbour distances and types, Clark–Evans R, and the G, F and J functions.

All neighbour searches run on :mod:`cytoql.kernels.spatial_index`; the statistics on top
of them are sorted-array counts in numpy, O((n + m) log n), with no pair list.

Conventions shared by every function
------------------------------------
* Distances are Euclidean, ``sqrt(dx*dx + dy*dy)`` in float64; "within ``r``" is
  ``d <= r``.
* A point is never its own nearest neighbour (by index: another point at the same spot
  is a neighbour at distance 0). For a query set A and a target set B that share cells,
  pass ``skip[i]`` = the index in B of query cell ``i`` (``-1`` when it is not in B).
* Ties in distance go to the target with the smaller index.
* Windows are rectangles ``(xmin, ymin, xmax, ymax)``; points must lie inside (edges
  included). The intensity is ``lambda = n / |W|``.
* Where an estimate is undefined (too few points, no point far enough from the
  border) it is NaN, never extrapolated.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._validate import as_int, as_labels, as_option, as_points, as_radii, as_window
from .spatial_index import KDTree, PointIndex, knn

__all__ = [
    "CORRECTIONS",
    "CLARK_EVANS_CORRECTIONS",
    "ClarkEvans",
    "clark_evans",
    "f_counts",
    "f_function",
    "g_counts",
    "g_function",
    "j_function",
    "nearest_distance",
    "nearest_label",
]

CORRECTIONS = ("none", "border")
CLARK_EVANS_CORRECTIONS = ("none", "donnelly", "cdf")

# Standard deviation of one Poisson nearest-neighbour distance times sqrt(lambda):
# sqrt((4 - pi) / (4 pi)) = 0.26136 (Clark & Evans 1954; spatstat's SE.Dobs).
_SE_CONSTANT = math.sqrt((4.0 - math.pi) / (4.0 * math.pi))
# Donnelly (1978) edge term (0.0514 + 0.0412 / sqrt(n)) P / n, constants as in
# spatstat.explore clarkevansCalc (Donnelly's paper rounds the second to 0.041).
_DONNELLY_A = 0.0514
_DONNELLY_B = 0.0412
# spatstat's default raster for distance maps is 128 x 128 pixels (spatstat.options npixel).
DEFAULT_GRID = 128


class ClarkEvans(NamedTuple):
    """Clark–Evans aggregation index with its test under complete spatial randomness.

    Attributes
    ----------
    r : float
        ``mean_distance / expected_distance``: 1 under CSR, < 1 clustered, > 1 regular.
    z : float
        ``(r - 1) / standard_error``.
    p_value : float
        Two-sided p-value of ``z`` against the standard normal.
    mean_distance : float
        Observed mean nearest-neighbour distance, in the unit of the coordinates (with
        the ``"cdf"`` correction: the mean of the Kaplan–Meier estimate of G).
    expected_distance : float
        Its expectation under CSR: ``0.5 / sqrt(lambda)``, plus Donnelly's edge term
        when corrected.
    standard_error : float
        Null standard error of ``r``: ``0.26136 sqrt(|W|) / n / expected_distance``.
    """

    r: float
    z: float
    p_value: float
    mean_distance: float
    expected_distance: float
    standard_error: float


def nearest_distance(query_xy, xy, k=1, *, skip=None, tree=None):
    """Distance from each query point to its ``k``-th nearest point of ``xy``.

    Parameters
    ----------
    query_xy : array_like of shape (m, 2), float
        Query points (set A), finite.
    xy : array_like of shape (n, 2), float
        Target points (set B), finite, same unit as ``query_xy``.
    k : int, default 1
        Neighbour rank, >= 1.
    skip : array_like of shape (m,), int, optional
        ``skip[i]`` is the index in ``xy`` of query point ``i`` itself (never counted as
        its neighbour), or ``-1``. Default: skip nothing.
    tree : KDTree, optional
        An index already built on ``xy`` by :func:`build_kdtree`; built here when None.

    Returns
    -------
    ndarray of shape (m,), float64
        The ``k``-th nearest distance, in the unit of the coordinates; NaN where fewer
        than ``k`` targets are available.

    Raises
    ------
    ValueError
        If a point array is not (., 2) finite, ``k`` < 1, ``skip`` is out of range or
        mis-shaped, or ``tree`` was not built on ``xy``.
    TypeError
        If ``k`` or ``skip`` is not integer, or ``tree`` is not a KDTree.

    Notes
    -----
    See the module conventions: self-exclusion by index, ties to the smaller index.
    """
    dist, _ = _knn_on(xy, tree, query_xy, k, skip)
    kth = dist[:, -1]
    return np.where(np.isfinite(kth), kth, np.nan)


def nearest_label(query_xy, xy, labels, *, skip=None, tree=None):
    """Label of the nearest point of ``xy`` to each query point.

    Parameters
    ----------
    query_xy : array_like of shape (m, 2), float
        Query points (set A), finite.
    xy : array_like of shape (n, 2), float
        Target points (set B), finite.
    labels : array_like of shape (n,), int
        Label code of each target point, >= 0.
    skip : array_like of shape (m,), int, optional
        As in :func:`nearest_distance`.
    tree : KDTree, optional
        An index already built on ``xy``; built here when None.

    Returns
    -------
    ndarray of shape (m,), int64
        ``labels`` of the nearest target; ``-1`` where no target is available.

    Raises
    ------
    ValueError
        As :func:`nearest_distance`, or if ``labels`` is mis-shaped or negative.
    TypeError
        As :func:`nearest_distance`, or if ``labels`` is not integer.

    Notes
    -----
    Of several targets at the same smallest distance the one with the smaller index
    decides the label.
    """
    codes, _ = as_labels(labels, len(as_points(xy, "xy")), "labels")
    _, idx = _knn_on(xy, tree, query_xy, 1, skip)
    idx = idx[:, 0]
    out = np.full(len(idx), -1, dtype=np.int64)
    out[idx >= 0] = codes[idx[idx >= 0]]
    return out


def clark_evans(xy, window, *, correction="none"):
    """Clark–Evans aggregation index R with a z-test against CSR.

    Parameters
    ----------
    xy : array_like of shape (n, 2), float
        The point pattern, inside ``window``.
    window : tuple of 4 floats
        ``(xmin, ymin, xmax, ymax)``, same unit as ``xy``.
    correction : {"none", "donnelly", "cdf"}, default "none"
        ``"donnelly"`` adds Donnelly's edge term for rectangles to the expected mean
        nearest-neighbour distance; ``"cdf"`` replaces the observed mean by the mean of
        the border-censored (Kaplan–Meier) nearest-neighbour distance distribution.

    Returns
    -------
    ClarkEvans
        ``r``, ``z``, ``p_value``, ``mean_distance``, ``expected_distance``,
        ``standard_error``; all NaN when ``n < 2``.

    Raises
    ------
    ValueError
        If ``xy`` is not (n, 2) finite, ``window`` is not a proper rectangle, a point
        lies outside it, or ``correction`` is unknown (the message lists valid ones).

    Notes
    -----
    ``R = mean NND / E``, ``E = 0.5 / sqrt(lambda)`` with ``lambda = n / |W|``;
    Donnelly: ``E = 0.5 sqrt(|W| / n) + (0.0514 + 0.0412 / sqrt(n)) P / n`` with ``P``
    the window's perimeter. Null standard error of R:
    ``sqrt((4 - pi) / (4 pi)) sqrt(|W|) / n / E`` (0.26136 ...); ``z = (R - 1) / SE``,
    two-sided ``p = 2 (1 - Phi(|z|))``. These are the definitions of spatstat's
    ``clarkevans`` and ``clarkevans.test(method="asymptotic")``.

    ``"cdf"``: each NND ``d_i`` is censored by the point's distance ``b_i`` to the
    border (observed when ``d_i <= b_i``); the Kaplan–Meier product-limit estimate
    ``1 - G(t) = prod_{t_j <= t} (1 - e_j / n_j)`` over the distinct observed
    distances ``t_j`` (``e_j`` observed there, ``n_j`` with ``min(d_i, b_i) >= t_j``)
    gives the mean ``sum t_j dG(t_j) / sum dG(t_j)``; ``E`` and ``SE`` are those of
    ``"none"``. spatstat computes the same mean from ``Gest``'s Kaplan–Meier estimate
    on its discrete r grid, so values differ by about that grid's spacing; NaN when no
    distance is observed.

    References
    ----------
    Clark, P. J. & Evans, F. C. (1954). Distance to nearest neighbor as a measure of
    spatial relationships in populations. Ecology 35, 445–453.
    Donnelly, K. P. (1978). Simulations to determine the variance and edge effect of
    total nearest neighbour distance. In Hodder (ed.), Simulation Studies in
    Archaeology, 91–95.
    """
    as_option(correction, CLARK_EVANS_CORRECTIONS, "correction")
    xy, window = _pattern(xy, window)
    n = len(xy)
    if n < 2:
        nan = float("nan")
        return ClarkEvans(nan, nan, nan, nan, nan, nan)
    xmin, ymin, xmax, ymax = window
    area = (xmax - xmin) * (ymax - ymin)
    nnd = _nnd(xy)
    if correction == "cdf":
        mean_distance = _kaplan_meier_mean(nnd, _border_distance(xy, window))
    else:
        mean_distance = float(np.mean(nnd))
    expected = 0.5 / math.sqrt(n / area)
    if correction == "donnelly":
        perimeter = 2.0 * ((xmax - xmin) + (ymax - ymin))
        expected += (_DONNELLY_A + _DONNELLY_B / math.sqrt(n)) * perimeter / n
    r = mean_distance / expected
    se = _SE_CONSTANT * math.sqrt(area) / n / expected
    z = (r - 1.0) / se
    return ClarkEvans(r, z, math.erfc(abs(z) / math.sqrt(2.0)), mean_distance, expected,
                      se)


def g_function(xy, r, window, *, correction="border"):
    """Nearest-neighbour distance distribution function G(r).

    Parameters
    ----------
    xy : array_like of shape (n, 2), float
        The point pattern, inside ``window``.
    r : array_like of shape (R,), float
        Strictly increasing radii >= 0, in the unit of ``xy``.
    window : tuple of 4 floats
        ``(xmin, ymin, xmax, ymax)``.
    correction : {"border", "none"}, default "border"
        ``"border"`` is the reduced-sample estimator (spatstat ``Gest(correction="rs")``).

    Returns
    -------
    estimate : ndarray of shape (R,), float64
        G(r); NaN where undefined (``n < 2``, or no point at least ``r`` from the border).
    theo : ndarray of shape (R,), float64
        ``1 - exp(-lambda pi r^2)``, G under CSR.

    Raises
    ------
    ValueError
        Bad shapes, non-finite values, points outside the window, radii not
        increasing, or an unknown correction.

    Notes
    -----
    With ``d_i`` the distance from point ``i`` to its nearest other point and ``b_i`` its
    distance to the window's border: ``"none"`` gives ``#{d_i <= r} / n``; ``"border"``
    gives ``#{d_i <= r <= b_i} / #{b_i >= r}``.
    """
    numerator, denominator, theo = _g_counts(xy, r, window, correction)
    return _ratio(numerator, denominator), theo


def g_counts(xy, r, window, *, correction="border"):
    """Numerator and denominator of :func:`g_function`'s estimate, as counts.

    Parameters
    ----------
    xy, r, window, correction
        As for :func:`g_function`.

    Returns
    -------
    numerator, denominator : ndarray of shape (R,), int64
        ``G(r) = numerator / denominator``: ``#{d_i <= r}`` over ``n`` (``"none"``) or
        ``#{d_i <= r <= b_i}`` over ``#{b_i >= r}`` (``"border"``). Both 0 when
        ``n < 2``. Summing them over several windows gives the estimate of the
        pooled points (each censored by its own window's border).

    Raises
    ------
    ValueError
        As :func:`g_function`.
    """
    numerator, denominator, _ = _g_counts(xy, r, window, correction)
    return numerator, denominator


def _g_counts(xy, r, window, correction):
    as_option(correction, CORRECTIONS, "correction")
    xy, window = _pattern(xy, window)
    r = as_radii(r, "r", allow_zero=True)
    theo = _csr_curve(len(xy), window, r)
    if len(xy) < 2:
        zero = np.zeros(len(r), dtype=np.int64)
        return zero, zero.copy(), theo
    return (*_empirical_counts(_nnd(xy), _border_distance(xy, window), r, correction),
            theo)


def f_function(xy, r, window, *, correction="border", grid=DEFAULT_GRID):
    """Empty-space function F(r): distance from a fixed location to the nearest point.

    Parameters
    ----------
    xy : array_like of shape (n, 2), float
        The point pattern, inside ``window``.
    r : array_like of shape (R,), float
        Strictly increasing radii >= 0, in the unit of ``xy``.
    window : tuple of 4 floats
        ``(xmin, ymin, xmax, ymax)``.
    correction : {"border", "none"}, default "border"
        ``"border"`` is the reduced-sample estimator (spatstat ``Fest(correction="rs")``).
    grid : int, default 128
        The test locations are the centres of a ``grid x grid`` raster over the window
        (spacing ``width / grid`` by ``height / grid``), as spatstat's default 128 x 128
        distance map.

    Returns
    -------
    estimate : ndarray of shape (R,), float64
        F(r); NaN where undefined (no point, or no test location at least ``r`` from the
        border).
    theo : ndarray of shape (R,), float64
        ``1 - exp(-lambda pi r^2)``, F under CSR.

    Raises
    ------
    ValueError
        As :func:`g_function`, or ``grid`` < 1.
    TypeError
        If ``grid`` is not an integer.

    Notes
    -----
    With ``e_j`` the distance from test location ``j`` to the nearest point and ``b_j``
    its distance to the border: ``"none"`` gives ``#{e_j <= r} / grid^2``; ``"border"``
    gives ``#{e_j <= r <= b_j} / #{b_j >= r}``. The raster resolves F only to about
    half a pixel diagonal.
    """
    numerator, denominator, theo = _f_counts(xy, r, window, correction, grid)
    return _ratio(numerator, denominator), theo


def f_counts(xy, r, window, *, correction="border", grid=DEFAULT_GRID):
    """Numerator and denominator of :func:`f_function`'s estimate, as counts.

    Parameters
    ----------
    xy, r, window, correction, grid
        As for :func:`f_function`.

    Returns
    -------
    numerator, denominator : ndarray of shape (R,), int64
        ``F(r) = numerator / denominator``: ``#{e_j <= r}`` over ``grid^2``
        (``"none"``) or ``#{e_j <= r <= b_j}`` over ``#{b_j >= r}`` (``"border"``), over
        the test locations ``j``. Both 0 when there is no point.

    Raises
    ------
    ValueError
        As :func:`f_function`.
    TypeError
        As :func:`f_function`.
    """
    numerator, denominator, _ = _f_counts(xy, r, window, correction, grid)
    return numerator, denominator


def _f_counts(xy, r, window, correction, grid):
    as_option(correction, CORRECTIONS, "correction")
    grid = as_int(grid, "grid", 1)
    xy, window = _pattern(xy, window)
    r = as_radii(r, "r", allow_zero=True)
    theo = _csr_curve(len(xy), window, r)
    if len(xy) == 0:
        zero = np.zeros(len(r), dtype=np.int64)
        return zero, zero.copy(), theo
    test = _raster(window, grid)
    empty, _ = PointIndex(xy).knn(test, 1)
    return (*_empirical_counts(empty[:, 0], _border_distance(test, window), r, correction),
            theo)


def j_function(xy, r, window, *, correction="border", grid=DEFAULT_GRID):
    """Van Lieshout–Baddeley J function ``J(r) = (1 - G(r)) / (1 - F(r))``.

    Parameters
    ----------
    xy, r, window, correction, grid
        As for :func:`g_function` and :func:`f_function`; G and F use the same
        correction.

    Returns
    -------
    estimate : ndarray of shape (R,), float64
        J(r); NaN where G or F is undefined or ``F(r) == 1``.
    theo : ndarray of shape (R,), float64
        Ones: J under CSR.

    Raises
    ------
    ValueError
        As :func:`f_function`.
    TypeError
        As :func:`f_function`.

    Notes
    -----
    J < 1 indicates clustering, J > 1 regularity.

    References
    ----------
    van Lieshout, M. N. M. & Baddeley, A. J. (1996). A nonparametric measure of spatial
    interaction in point patterns. Statistica Neerlandica 50, 344–361.
    """
    g, _ = g_function(xy, r, window, correction=correction)
    f, _ = f_function(xy, r, window, correction=correction, grid=grid)
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.where(f < 1.0, (1.0 - g) / (1.0 - f), np.nan)
    return j, np.ones(len(g))


# --------------------------------------------------------------------------- helpers


def _knn_on(xy, tree, query_xy, k, skip):
    """kNN of ``query_xy`` among ``xy``, on ``tree`` when given (checked against ``xy``)."""
    xy = as_points(xy, "xy")
    if tree is None:
        return PointIndex(xy).knn(query_xy, k, skip=skip)
    if not isinstance(tree, KDTree):
        raise TypeError(f"tree must be a KDTree from build_kdtree, got {type(tree).__name__}")
    if len(tree.perm) != len(xy) or not np.array_equal(tree.xy, xy[tree.perm]):
        raise ValueError("tree was not built on xy: pass the index built from these points")
    return knn(tree, query_xy, k, skip=skip)


def _pattern(xy, window):
    xy = as_points(xy, "xy")
    window = as_window(window)
    xmin, ymin, xmax, ymax = window
    outside = ((xy[:, 0] < xmin) | (xy[:, 0] > xmax) | (xy[:, 1] < ymin)
               | (xy[:, 1] > ymax))
    if outside.any():
        rows = np.flatnonzero(outside)
        raise ValueError(f"{rows.size} point(s) of xy lie outside window {window}, first "
                         f"at index {rows[:5].tolist()}")
    return xy, window


def _nnd(xy: np.ndarray) -> np.ndarray:
    dist, _ = PointIndex(xy).knn(xy, 1, skip=np.arange(len(xy), dtype=np.int64))
    return dist[:, 0]


def _border_distance(xy: np.ndarray, window) -> np.ndarray:
    xmin, ymin, xmax, ymax = window
    return np.minimum(np.minimum(xy[:, 0] - xmin, xmax - xy[:, 0]),
                      np.minimum(xy[:, 1] - ymin, ymax - xy[:, 1]))


def _raster(window, grid: int) -> np.ndarray:
    xmin, ymin, xmax, ymax = window
    xs = xmin + (np.arange(grid) + 0.5) * ((xmax - xmin) / grid)
    ys = ymin + (np.arange(grid) + 0.5) * ((ymax - ymin) / grid)
    return np.column_stack([np.repeat(xs, grid), np.tile(ys, grid)])


def _csr_curve(n: int, window, r: np.ndarray) -> np.ndarray:
    xmin, ymin, xmax, ymax = window
    lam = n / ((xmax - xmin) * (ymax - ymin))
    return 1.0 - np.exp(-lam * np.pi * r * r)


def _kaplan_meier_mean(distances, border) -> float:
    """Mean of the Kaplan–Meier distribution of ``distances`` censored at ``border``."""
    seen = distances <= border
    times, events = np.unique(distances[seen], return_counts=True)
    if times.size == 0:
        return float("nan")
    observed = np.sort(np.where(seen, distances, border))
    at_risk = len(observed) - np.searchsorted(observed, times, side="left")
    survival = np.cumprod(1.0 - events / at_risk)
    mass = -np.diff(np.concatenate([[1.0], survival]))
    return float(np.sum(times * mass) / np.sum(mass))


def _empirical_counts(distances, border, r, correction: str):
    """(numerator, denominator) of ``#{d <= r} / n`` or the reduced-sample
    ``#{d <= r <= b} / #{b >= r}``.

    For the reduced sample only observations with ``d <= b`` can count, and among those
    ``d <= r <= b`` is ``d <= r`` minus ``b < r`` (``b < r`` implies ``d < r``), so both
    counts are binary searches in sorted arrays.
    """
    if correction == "none":
        numerator = np.searchsorted(np.sort(distances), r, side="right")
        return numerator.astype(np.int64), np.full(len(r), len(distances), dtype=np.int64)
    seen = distances <= border
    numerator = (np.searchsorted(np.sort(distances[seen]), r, side="right")
                 - np.searchsorted(np.sort(border[seen]), r, side="left"))
    at_risk = len(border) - np.searchsorted(np.sort(border), r, side="left")
    return numerator.astype(np.int64), at_risk.astype(np.int64)


def _ratio(numerator, denominator) -> np.ndarray:
    """``numerator / denominator``; NaN where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)
