"""Robust 2-D orientation and in-circle predicates (Shewchuk's, in numba).

Each predicate first evaluates its determinant in float64 and accepts the sign when
the value exceeds Shewchuk's forward error bound ("stage A" of his adaptive
predicates). Otherwise the determinant is recomputed exactly on the input coordinates
with floating-point expansion arithmetic (``two_product`` by Dekker's split, since
numba offers no fused multiply-add; ``fast_expansion_sum_zeroelim``,
``scale_expansion_zeroelim``), Shewchuk's ``orient2dexact`` and ``incircleexact``.
The sign is therefore exact as long as no product underflows or overflows: callers
scale coordinates by a power of two so that the largest magnitude lies in [1, 2).

J. R. Shewchuk, "Adaptive Precision Floating-Point Arithmetic and Fast Robust
Geometric Predicates", Discrete & Computational Geometry 18 (1997) 305-363.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["incircle", "orient"]

_EPS = 2.0 ** -53
_SPLITTER = 2.0 ** 27 + 1.0
_CCW_BOUND = (3.0 + 16.0 * _EPS) * _EPS
_ICC_BOUND = (10.0 + 96.0 * _EPS) * _EPS


@jit
def _two_sum(a, b):
    x = a + b
    bv = x - a
    av = x - bv
    return x, (a - av) + (b - bv)


@jit
def _fast_two_sum(a, b):
    x = a + b
    return x, b - (x - a)


@jit
def _split(a):
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


@jit
def _two_product(a, b):
    x = a * b
    ahi, alo = _split(a)
    bhi, blo = _split(b)
    err = x - ahi * bhi
    err -= alo * bhi
    err -= ahi * blo
    return x, alo * blo - err


@jit
def _expansion_sum(e, elen, f, flen, h):
    """h = e + f (Shewchuk's fast_expansion_sum_zeroelim); returns len(h) >= 1."""
    ei = 0
    fi = 0
    enow = e[0]
    fnow = f[0]
    if (fnow > enow) == (fnow > -enow):
        q = enow
        ei += 1
    else:
        q = fnow
        fi += 1
    hi = 0
    while ei < elen and fi < flen:
        enow = e[ei]
        fnow = f[fi]
        if (fnow > enow) == (fnow > -enow):
            q, hh = _two_sum(q, enow)
            ei += 1
        else:
            q, hh = _two_sum(q, fnow)
            fi += 1
        if hh != 0.0:
            h[hi] = hh
            hi += 1
    while ei < elen:
        q, hh = _two_sum(q, e[ei])
        ei += 1
        if hh != 0.0:
            h[hi] = hh
            hi += 1
    while fi < flen:
        q, hh = _two_sum(q, f[fi])
        fi += 1
        if hh != 0.0:
            h[hi] = hh
            hi += 1
    if q != 0.0 or hi == 0:
        h[hi] = q
        hi += 1
    return hi


@jit
def _scale_expansion(e, elen, b, h):
    """h = b * e (Shewchuk's scale_expansion_zeroelim); returns len(h) >= 1."""
    q, hh = _two_product(e[0], b)
    hi = 0
    if hh != 0.0:
        h[hi] = hh
        hi += 1
    for k in range(1, elen):
        p1, p0 = _two_product(e[k], b)
        s, hh = _two_sum(q, p0)
        if hh != 0.0:
            h[hi] = hh
            hi += 1
        q, hh = _fast_two_sum(p1, s)
        if hh != 0.0:
            h[hi] = hh
            hi += 1
    if q != 0.0 or hi == 0:
        h[hi] = q
        hi += 1
    return hi


@jit
def _cross(ax, ay, bx, by, out):
    """out = ax*by - ay*bx exactly, as an expansion; returns its length."""
    p1, p0 = _two_product(ax, by)
    m1, m0 = _two_product(-ay, bx)
    e = np.array([p0, p1])
    f = np.array([m0, m1])
    return _expansion_sum(e, 2, f, 2, out)


@jit
def _orient_exact(ax, ay, bx, by, cx, cy):
    t1 = np.empty(4)
    t2 = np.empty(4)
    t3 = np.empty(4)
    s = np.empty(8)
    w = np.empty(12)
    # orient = (a x b) + (b x c) + (c x a)
    n1 = _cross(ax, ay, bx, by, t1)
    n2 = _cross(bx, by, cx, cy, t2)
    n3 = _cross(cx, cy, ax, ay, t3)
    ns = _expansion_sum(t1, n1, t2, n2, s)
    nw = _expansion_sum(s, ns, t3, n3, w)
    return w[nw - 1]


@jit
def orient(ax, ay, bx, by, cx, cy):
    """Sign of twice the signed area of (a, b, c): > 0 counter-clockwise, exact."""
    left = (ax - cx) * (by - cy)
    right = (ay - cy) * (bx - cx)
    det = left - right
    if left > 0.0:
        if right <= 0.0:
            return det
        detsum = left + right
    elif left < 0.0:
        if right >= 0.0:
            return det
        detsum = -left - right
    else:
        return _orient_exact(ax, ay, bx, by, cx, cy)
    bound = _CCW_BOUND * detsum
    if det >= bound or -det >= bound:
        return det
    return _orient_exact(ax, ay, bx, by, cx, cy)


@jit
def _lifted(xs, ys, k, cofactor, nc, sign, t1, t2, t3, out):
    """out = sign * (x_k^2 + y_k^2) * cofactor; returns its length."""
    nx = _scale_expansion(cofactor, nc, xs[k], t1)
    nxx = _scale_expansion(t1, nx, sign * xs[k], t2)
    ny = _scale_expansion(cofactor, nc, ys[k], t1)
    nyy = _scale_expansion(t1, ny, sign * ys[k], t3)
    return _expansion_sum(t2, nxx, t3, nyy, out)


@jit
def _incircle_exact(ax, ay, bx, by, cx, cy, dx, dy):
    xs = np.array([ax, bx, cx, dx])
    ys = np.array([ay, by, cy, dy])
    # 2x2 minors ab, bc, cd, da, ac, bd of the rows (x, y)
    ab = np.empty(4)
    bc = np.empty(4)
    cd = np.empty(4)
    da = np.empty(4)
    ac = np.empty(4)
    bd = np.empty(4)
    nab = _cross(ax, ay, bx, by, ab)
    nbc = _cross(bx, by, cx, cy, bc)
    ncd = _cross(cx, cy, dx, dy, cd)
    nda = _cross(dx, dy, ax, ay, da)
    nac = _cross(ax, ay, cx, cy, ac)
    nbd = _cross(bx, by, dx, dy, bd)
    t8 = np.empty(8)
    cda = np.empty(12)
    dab = np.empty(12)
    abc = np.empty(12)
    bcd = np.empty(12)
    nt = _expansion_sum(cd, ncd, da, nda, t8)
    ncda = _expansion_sum(t8, nt, ac, nac, cda)
    nt = _expansion_sum(da, nda, ab, nab, t8)
    ndab = _expansion_sum(t8, nt, bd, nbd, dab)
    for k in range(4):
        bd[k] = -bd[k]
        ac[k] = -ac[k]
    nt = _expansion_sum(ab, nab, bc, nbc, t8)
    nabc = _expansion_sum(t8, nt, ac, nac, abc)
    nt = _expansion_sum(bc, nbc, cd, ncd, t8)
    nbcd = _expansion_sum(t8, nt, bd, nbd, bcd)
    t1 = np.empty(24)
    t2 = np.empty(48)
    t3 = np.empty(48)
    adet = np.empty(96)
    bdet = np.empty(96)
    cdet = np.empty(96)
    ddet = np.empty(96)
    na = _lifted(xs, ys, 0, bcd, nbcd, 1.0, t1, t2, t3, adet)
    nb = _lifted(xs, ys, 1, cda, ncda, -1.0, t1, t2, t3, bdet)
    nc = _lifted(xs, ys, 2, dab, ndab, 1.0, t1, t2, t3, cdet)
    nd = _lifted(xs, ys, 3, abc, nabc, -1.0, t1, t2, t3, ddet)
    abdet = np.empty(192)
    cddet = np.empty(192)
    deter = np.empty(384)
    nabd = _expansion_sum(adet, na, bdet, nb, abdet)
    ncdd = _expansion_sum(cdet, nc, ddet, nd, cddet)
    n = _expansion_sum(abdet, nabd, cddet, ncdd, deter)
    return deter[n - 1]


@jit
def incircle(ax, ay, bx, by, cx, cy, dx, dy):
    """> 0 when d lies strictly inside the circle through counter-clockwise a, b, c,
    0 on it, < 0 outside; the sign is exact."""
    adx = ax - dx
    bdx = bx - dx
    cdx = cx - dx
    ady = ay - dy
    bdy = by - dy
    cdy = cy - dy
    bdxcdy = bdx * cdy
    cdxbdy = cdx * bdy
    alift = adx * adx + ady * ady
    cdxady = cdx * ady
    adxcdy = adx * cdy
    blift = bdx * bdx + bdy * bdy
    adxbdy = adx * bdy
    bdxady = bdx * ady
    clift = cdx * cdx + cdy * cdy
    det = (alift * (bdxcdy - cdxbdy) + blift * (cdxady - adxcdy)
           + clift * (adxbdy - bdxady))
    permanent = ((abs(bdxcdy) + abs(cdxbdy)) * alift + (abs(cdxady) + abs(adxcdy)) * blift
                 + (abs(adxbdy) + abs(bdxady)) * clift)
    bound = _ICC_BOUND * permanent
    if det > bound or -det > bound:
        return det
    return _incircle_exact(ax, ay, bx, by, cx, cy, dx, dy)
