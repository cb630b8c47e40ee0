"""Monte Carlo envelopes of a summary curve under complete spatial randomness (CSR).

The statistic is any callable from an ``(n, 2)`` pattern to a curve (for example
``lambda xy: ripley_l(xy, r, window)[0]``); the cost is ``nsim`` evaluations of it,
so the fused kernels of :mod:`cytoql.kernels.ripley` set the speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_int, as_option, as_window

__all__ = ["Envelope", "csr_envelope", "envelope", "simulate_csr"]


@dataclass(frozen=True)
class Envelope:
    """Envelopes of a curve from ``nsim`` CSR simulations.

    Attributes
    ----------
    lo, hi : ndarray of shape (m,), float64
        Lower and upper envelope (pointwise or global, see :func:`csr_envelope`).
    mean : ndarray of shape (m,), float64
        Mean of the simulated curves.
    sims : ndarray of shape (nsim, m), float64
        Every simulated curve, in simulation order.
    alpha : float
        Significance level of the envelope test: ``2 nrank / (nsim + 1)`` pointwise
        (two-sided, at each r separately), ``nrank / (nsim + 1)`` global.
    p_value : float or None
        Maximum-absolute-deviation (MAD) test p-value of ``observed``, when given.
    """

    lo: np.ndarray
    hi: np.ndarray
    mean: np.ndarray
    sims: np.ndarray
    alpha: float
    p_value: float | None = None


def simulate_csr(n, window, rng):
    """Draw a binomial point process: exactly ``n`` uniform points in a rectangle.

    Parameters
    ----------
    n : int
        Number of points, >= 0.
    window : tuple of 4 floats
        ``(xmin, ymin, xmax, ymax)``.
    rng : numpy.random.Generator
        Source of randomness; ``n`` x-coordinates are drawn, then ``n`` y-coordinates.

    Returns
    -------
    ndarray of shape (n, 2), float64
    """
    xmin, ymin, xmax, ymax = as_window(window)
    n = as_int(n, "n", 0)
    _check_rng(rng)
    x = rng.uniform(xmin, xmax, n)
    y = rng.uniform(ymin, ymax, n)
    return np.column_stack([x, y])


def csr_envelope(statistic, n, window, nsim, rng, *, nrank=1, kind="pointwise",
                 observed=None, reference=None):
    """Simulation envelopes of ``statistic`` for ``n`` CSR points in ``window``.

    Parameters
    ----------
    statistic : callable
        ``statistic(xy) -> curve``: maps an ``(n, 2)`` float64 pattern to a 1-D
        array of fixed length ``m`` (NaN allowed where the curve is undefined).
    n : int
        Points per simulated pattern (binomial process: exactly ``n``), >= 0.
    window : tuple of 4 floats
        ``(xmin, ymin, xmax, ymax)`` in the unit ``statistic`` expects.
    nsim : int
        Number of simulations, >= 1.
    rng : numpy.random.Generator
        Drives every simulation, in order (see :func:`simulate_csr`): the same
        generator state gives the same envelope.
    nrank : int
        Rank of the envelope: 1 takes the extremes, 2 the second most extreme, ...;
        ``1 <= nrank <= nsim`` (``nrank <= nsim / 2`` pointwise).
    kind : {"pointwise", "global"}
        ``"pointwise"``: at each r, ``lo``/``hi`` are the ``nrank``-th smallest and
        largest simulated values. ``"global"``: ``reference(r) -/+ D`` with ``D``
        the ``nrank``-th largest of the simulations' maximum absolute deviations
        ``max_r |sim(r) - reference(r)|`` (spatstat's ``global=TRUE``).
    observed : array_like of shape (m,), optional
        The data's curve; when given, ``p_value`` is the MAD test's Monte Carlo
        p-value ``(1 + #{D_i >= D_obs}) / (nsim + 1)``.
    reference : array_like of shape (m,), optional
        Centre of the global envelope and of the MAD test; default the mean of the
        simulated curves (pass the CSR theoretical curve to use theory instead).

    Returns
    -------
    Envelope

    Raises
    ------
    ValueError
        Non-positive ``nsim``, ``nrank`` out of range, an unknown ``kind``, curves of
        changing length, or ``observed``/``reference`` of the wrong length.
    TypeError
        ``rng`` is not a ``numpy.random.Generator``.

    Notes
    -----
    Where any simulated curve is NaN the envelopes and the mean are NaN (never
    filled in), and the deviations ``D`` are maxima over the radii at which every
    simulated curve, ``reference`` and ``observed`` are finite. Pointwise envelopes
    hold at each r separately; only the global envelope is a test over all r at
    level ``nrank / (nsim + 1)`` (Baddeley et al. 2014, *Ecological Monographs*
    84(3), section 4; spatstat.explore ``R/envelope.R``).

    Examples
    --------
    >>> import numpy as np
    >>> from cytoql.kernels.ripley import ripley_l
    >>> r = np.linspace(0.05, 0.2, 4)
    >>> env = csr_envelope(lambda xy: ripley_l(xy, r, (0, 0, 1, 1))[0], 200,
    ...                    (0, 0, 1, 1), nsim=19, rng=np.random.default_rng(0))
    >>> env.sims.shape, env.alpha
    ((19, 4), 0.1)
    >>> bool(np.all((env.lo <= env.mean) & (env.mean <= env.hi)))
    True
    """
    kind = as_option(kind, ("pointwise", "global"), "kind")
    nsim = as_int(nsim, "nsim", 1)
    _check_nrank(nrank, nsim, kind)
    window = as_window(window)
    n = as_int(n, "n", 0)
    _check_rng(rng)

    sims = None
    for s in range(nsim):
        curve = np.asarray(statistic(simulate_csr(n, window, rng)), dtype=np.float64)
        if curve.ndim != 1:
            raise ValueError(f"statistic must return a 1-D curve, got shape {curve.shape}")
        if sims is None:
            sims = np.empty((nsim, curve.size), dtype=np.float64)
        elif curve.size != sims.shape[1]:
            raise ValueError(f"statistic returned {curve.size} values in simulation {s}, "
                             f"{sims.shape[1]} before")
        sims[s] = curve

    return envelope(sims, nrank=nrank, kind=kind, observed=observed, reference=reference)


def envelope(sims, *, nrank=1, kind="pointwise", observed=None, reference=None, test="mad"):
    """Envelope and global test of simulated curves (however they were simulated).

    Parameters
    ----------
    sims : ndarray of shape (nsim, m)
        One simulated curve per row (NaN where undefined).
    nrank, kind, observed, reference
        As for :func:`csr_envelope`.
    test : {"mad", "dclf"}
        Global test statistic: maximum absolute deviation from the centre, or the
        Diggle–Cressie–Loosmore–Ford sum of squared deviations over r.

    Returns
    -------
    Envelope

    Notes
    -----
    Radii where any simulation is undefined are left out of the test and have NaN
    envelopes. The p-value is ``(1 + #{T_sim >= T_obs}) / (nsim + 1)``.
    """
    sims = np.asarray(sims, dtype=np.float64)
    if sims.ndim != 2 or sims.shape[0] < 1:
        raise ValueError(f"sims must have shape (nsim >= 1, m), got {sims.shape}")
    kind = as_option(kind, ("pointwise", "global"), "kind")
    test = as_option(test, ("mad", "dclf"), "test")
    nsim = sims.shape[0]
    nrank = _check_nrank(nrank, nsim, kind)
    defined = np.isfinite(sims).all(axis=0)
    mean = np.where(defined, sims.mean(axis=0), np.nan)
    centre = mean if reference is None else _curve(reference, sims.shape[1], "reference")
    deviation = _max_abs_deviation if test == "mad" else _squared_deviation
    p_value = None
    if kind == "pointwise":
        ordered = np.sort(sims, axis=0)
        lo = np.where(defined, ordered[nrank - 1], np.nan)
        hi = np.where(defined, ordered[nsim - nrank], np.nan)
        alpha = 2 * nrank / (nsim + 1)
    if kind == "global" or observed is not None:
        usable = defined & np.isfinite(centre)
        if observed is not None:
            observed = _curve(observed, sims.shape[1], "observed")
            usable &= np.isfinite(observed)
        dev = deviation(sims[:, usable], centre[usable])
        if kind == "global":
            bound = np.sort(_max_abs_deviation(sims[:, usable], centre[usable]))[nsim - nrank]
            lo = np.where(defined, centre - bound, np.nan)
            hi = np.where(defined, centre + bound, np.nan)
            alpha = nrank / (nsim + 1)
        if observed is not None:
            d_obs = deviation(observed[None, usable], centre[usable])[0]
            p_value = float((1 + np.count_nonzero(dev >= d_obs)) / (nsim + 1))
    return Envelope(lo=lo, hi=hi, mean=mean, sims=sims, alpha=alpha, p_value=p_value)


def _check_nrank(nrank, nsim, kind):
    nrank = as_int(nrank, "nrank", 1)
    limit = nsim // 2 if kind == "pointwise" else nsim
    if nrank > limit:
        raise ValueError(f"nrank must be <= {limit} for a {kind} envelope of "
                         f"{nsim} simulations, got {nrank}")
    return nrank


def _squared_deviation(curves, centre):
    return ((curves - centre) ** 2).sum(axis=1)


def _max_abs_deviation(curves, centre):
    if curves.shape[1] == 0:
        return np.zeros(curves.shape[0])
    return np.abs(curves - centre).max(axis=1)


def _curve(values, m, name):
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (m,):
        raise ValueError(f"{name} must have shape ({m},) like the simulated curves, "
                         f"got {arr.shape}")
    return arr


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
