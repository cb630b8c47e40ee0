"""Plain-loop references for the ``envelopes`` kernels."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

__all__ = ["csr_envelope", "envelope", "simulate_csr"]


def simulate_csr(n, window, rng):
    """Reference binomial process: n uniform x-coordinates, then n y-coordinates."""
    xmin, ymin, xmax, ymax = window
    x = rng.uniform(xmin, xmax, n)
    y = rng.uniform(ymin, ymax, n)
    return np.array([[x[i], y[i]] for i in range(n)], dtype=np.float64).reshape(n, 2)


def csr_envelope(statistic, n, window, nsim, rng, *, nrank=1, kind="pointwise",
                 observed=None, reference=None):
    """Reference envelope: one sorted list per radius, one deviation per simulation."""
    sims = [list(np.asarray(statistic(simulate_csr(n, window, rng)), dtype=float))
            for _ in range(nsim)]
    return envelope(sims, nrank=nrank, kind=kind, observed=observed, reference=reference)


def envelope(sims, *, nrank=1, kind="pointwise", observed=None, reference=None, test="mad"):
    """Reference envelope of given simulated curves: one sorted list per radius, one
    deviation (max |d| or sum d^2) per simulation."""
    sims = [list(map(float, s)) for s in sims]
    nsim = len(sims)
    m = len(sims[0])
    defined = [all(np.isfinite(s[t]) for s in sims) for t in range(m)]
    mean = [sum(s[t] for s in sims) / nsim if defined[t] else np.nan for t in range(m)]
    centre = mean if reference is None else list(reference)
    usable = [defined[t] and np.isfinite(centre[t])
              and (observed is None or np.isfinite(observed[t])) for t in range(m)]

    def max_deviation(curve):
        return max([abs(curve[t] - centre[t]) for t in range(m) if usable[t]], default=0.0)

    def deviation(curve):
        if test == "mad":
            return max_deviation(curve)
        return sum((curve[t] - centre[t]) ** 2 for t in range(m) if usable[t])

    devs = [deviation(s) for s in sims]
    max_devs = [max_deviation(s) for s in sims]
    lo, hi = [], []
    for t in range(m):
        if not defined[t]:
            lo.append(np.nan)
            hi.append(np.nan)
        elif kind == "pointwise":
            column = sorted(s[t] for s in sims)
            lo.append(column[nrank - 1])
            hi.append(column[-nrank])
        else:
            bound = sorted(max_devs, reverse=True)[nrank - 1]
            lo.append(centre[t] - bound)
            hi.append(centre[t] + bound)
    p_value = None
    if observed is not None:
        d_obs = deviation(list(observed))
        p_value = (1 + sum(d >= d_obs for d in devs)) / (nsim + 1)
    alpha = 2 * nrank / (nsim + 1) if kind == "pointwise" else nrank / (nsim + 1)
    return SimpleNamespace(lo=np.array(lo), hi=np.array(hi), mean=np.array(mean),
                           sims=np.array(sims), alpha=alpha, p_value=p_value)
