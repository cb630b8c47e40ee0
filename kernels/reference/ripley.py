"""Brute-force references for the ``ripley`` kernels: every pair, dense numpy.

The isotropic weight is computed independently of the kernel's angle formula: the
circle is cut at every crossing with the four edge lines and the arcs whose midpoint
lies in the window are summed.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "pcf",
    "ripley_h",
    "ripley_h_cross",
    "ripley_k",
    "ripley_k_cross",
    "ripley_l",
    "ripley_l_cross",
]

_CORRECTIONS = ("none", "border", "translation", "isotropic")
_MAX_WEIGHT = 100.0


def _check(correction, valid=_CORRECTIONS):
    if correction not in valid:
        raise ValueError(f"correction must be one of {valid}; got {correction!r}")


def _inside_fraction(x, y, d, window):
    """Fraction of the circle ((x, y), d) lying in the closed rectangle."""
    xmin, ymin, xmax, ymax = window
    cuts = [0.0, 2 * np.pi]
    for offset, base in ((xmin - x, 0.0), (xmax - x, 0.0),
                         (ymin - y, np.pi / 2), (ymax - y, np.pi / 2)):
        # line at signed offset along the x axis (base 0) or the y axis (base pi/2)
        if abs(offset) < d:
            half = np.arccos(offset / d)
            cuts += [(base + half) % (2 * np.pi), (base - half) % (2 * np.pi)]
    cuts = np.sort(cuts)
    inside = 0.0
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        mid = 0.5 * (lo + hi)
        px, py = x + d * np.cos(mid), y + d * np.sin(mid)
        if xmin <= px <= xmax and ymin <= py <= ymax:
            inside += hi - lo
    return inside / (2 * np.pi)


def _weights(xy, window, correction):
    xmin, ymin, xmax, ymax = window
    w, h = xmax - xmin, ymax - ymin
    dx = xy[None, :, 0] - xy[:, None, 0]
    dy = xy[None, :, 1] - xy[:, None, 1]
    d = np.sqrt(dx * dx + dy * dy)
    if correction == "translation":
        with np.errstate(divide="ignore"):
            e = np.minimum(w * h / ((w - np.abs(dx)) * (h - np.abs(dy))), _MAX_WEIGHT)
    elif correction == "isotropic":
        e = np.ones_like(d)
        for i in range(len(xy)):
            for j in range(len(xy)):
                if d[i, j] > 0:
                    frac = _inside_fraction(xy[i, 0], xy[i, 1], d[i, j], window)
                    e[i, j] = _MAX_WEIGHT if frac <= 0 else np.clip(1 / frac, 1, _MAX_WEIGHT)
    else:
        e = np.ones_like(d)
    return d, e


def _undefined(r, window, correction):
    xmin, ymin, xmax, ymax = window
    w, h = xmax - xmin, ymax - ymin
    if correction == "translation":
        return r >= min(w, h)
    if correction == "isotropic":
        return r >= 0.5 * np.hypot(w, h)
    return np.zeros(r.shape, dtype=bool)


def ripley_k_cross(xy, a, b, r, window, correction="translation"):
    """Reference cross-type K over the dense (n, n) distance matrix."""
    _check(correction)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    r = np.atleast_1d(np.asarray(r, dtype=np.float64))
    xmin, ymin, xmax, ymax = window
    area = (xmax - xmin) * (ymax - ymin)
    n = len(xy)
    in_a = np.zeros(n, dtype=bool)
    in_b = np.zeros(n, dtype=bool)
    in_a[np.asarray(a, dtype=np.int64)] = True
    in_b[np.asarray(b, dtype=np.int64)] = True
    d, e = _weights(xy, window, correction)
    pair = in_a[:, None] & in_b[None, :] & ~np.eye(n, dtype=bool)
    n_pairs = in_a.sum() * in_b.sum() - (in_a & in_b).sum()
    k = np.full(r.shape, np.nan)
    for t, rt in enumerate(r):
        close = pair & (d <= rt)
        if correction == "border":
            bd = np.minimum.reduce([xy[:, 0] - xmin, xmax - xy[:, 0],
                                    xy[:, 1] - ymin, ymax - xy[:, 1]])
            ok = in_a & (bd >= rt)
            if ok.sum() and in_b.sum() and n_pairs:
                k[t] = area * close[ok].sum() / (in_b.sum() * ok.sum())
        elif n_pairs:
            k[t] = area * (e * close).sum() / n_pairs
    k[_undefined(r, window, correction)] = np.nan
    return k, np.pi * r**2


def ripley_k(xy, r, window, correction="translation"):
    """Reference K: the cross-type estimator with both sets equal to all points."""
    n = len(np.asarray(xy).reshape(-1, 2))
    return ripley_k_cross(xy, np.arange(n), np.arange(n), r, window, correction)


def ripley_l(xy, r, window, correction="translation"):
    """Reference L = sqrt(K / pi)."""
    k, _ = ripley_k(xy, r, window, correction)
    r = np.atleast_1d(np.asarray(r, dtype=np.float64))
    return np.sqrt(k / np.pi), r


def ripley_h(xy, r, window, correction="translation"):
    """Reference H = L - r."""
    l, r = ripley_l(xy, r, window, correction)
    return l - r, np.zeros_like(r)


def ripley_l_cross(xy, a, b, r, window, correction="translation"):
    """Reference cross-type L."""
    k, _ = ripley_k_cross(xy, a, b, r, window, correction)
    r = np.atleast_1d(np.asarray(r, dtype=np.float64))
    return np.sqrt(k / np.pi), r


def ripley_h_cross(xy, a, b, r, window, correction="translation"):
    """Reference cross-type H."""
    l, r = ripley_l_cross(xy, a, b, r, window, correction)
    return l - r, np.zeros_like(r)


def pcf(xy, r, window, correction="translation", bandwidth=None, stoyan=0.15):
    """Reference pair correlation: the Epanechnikov sum over every ordered pair."""
    _check(correction, ("none", "translation", "isotropic"))
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    r = np.atleast_1d(np.asarray(r, dtype=np.float64))
    xmin, ymin, xmax, ymax = window
    area = (xmax - xmin) * (ymax - ymin)
    n = len(xy)
    if n < 2:
        return np.full(r.shape, np.nan), np.ones_like(r)
    h = stoyan / np.sqrt(n / area) if bandwidth is None else float(bandwidth)
    d, e = _weights(xy, window, correction)
    off = ~np.eye(n, dtype=bool)
    g = np.full(r.shape, np.nan)
    for t, rt in enumerate(r):
        if rt == 0:
            continue
        u = (rt - d[off]) / h
        kern = np.where(np.abs(u) < 1, 0.75 * (1 - u * u) / h, 0.0)
        g[t] = area * (kern * e[off]).sum() / (n * (n - 1) * 2 * np.pi * rt)
    g[_undefined(r, window, correction)] = np.nan
    return g, np.ones_like(r)
