"""2-D Delaunay triangulation: incremental insertion with Lawson flips, in numba.

Points are inserted along a Hilbert curve, each located by a visibility walk from the
triangle of the previous point and then made Delaunay by edge flips. The outside of
the convex hull is covered by *ghost* triangles, one per hull edge with a vertex at
infinity, whose "circumcircle" is the open half-plane beyond the edge plus the open
edge itself; with that rule a point outside the hull, on a hull edge or on an interior
edge needs no special case. Orientation and in-circle signs are exact
(:mod:`._predicates`), so the result is a true Delaunay triangulation of the
coordinates it is given, however close to degenerate they are.

Layout: triangle ``t`` owns half-edges ``3t, 3t+1, 3t+2``; half-edge ``h`` runs from
``V[h]`` to ``V[next(h)]`` and ``H[h]`` is its twin in the neighbouring triangle.
Every triangle is counter-clockwise.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from ._predicates import incircle, orient
from ._validate import as_points

__all__ = ["triangles"]

_HILBERT_BITS = 16


@jit
def _hilbert_keys(x, y):
    n = x.shape[0]
    keys = np.empty(n, dtype=np.int64)
    side = 1 << _HILBERT_BITS
    x0, y0 = x.min(), y.min()
    span = max(x.max() - x0, y.max() - y0)
    scale = (side - 1) / span if span > 0 else 0.0
    for i in range(n):
        gx = np.int64((x[i] - x0) * scale)
        gy = np.int64((y[i] - y0) * scale)
        d = np.int64(0)
        s = side >> 1
        while s > 0:
            rx = 1 if (gx & s) > 0 else 0
            ry = 1 if (gy & s) > 0 else 0
            d += s * s * ((3 * rx) ^ ry)
            if ry == 0:
                if rx == 1:
                    gx = side - 1 - gx
                    gy = side - 1 - gy
                gx, gy = gy, gx
            s >>= 1
        keys[i] = d
    return keys


@jit
def _between(x, y, q, r, p):
    """Whether p, on the line through q and r, lies strictly between them."""
    if x[q] != x[r]:
        return min(x[q], x[r]) < x[p] < max(x[q], x[r])
    return min(y[q], y[r]) < y[p] < max(y[q], y[r])


@jit
def _in_ghost(x, y, q, r, p):
    """p in the circumcircle of the ghost on hull edge q -> r (outside on its left)."""
    o = orient(x[q], y[q], x[r], y[r], x[p], y[p])
    if o > 0.0:
        return True
    return o == 0.0 and _between(x, y, q, r, p)


@jit
def _in_circle(x, y, u, v, w, p, ghost):
    """p strictly inside the circumcircle of counter-clockwise (u, v, w)."""
    if w == ghost:
        return _in_ghost(x, y, u, v, p)
    if u == ghost:
        return _in_ghost(x, y, v, w, p)
    if v == ghost:
        return _in_ghost(x, y, w, u, p)
    return incircle(x[u], y[u], x[v], y[v], x[w], y[w], x[p], y[p]) > 0.0


@jit
def _locate(x, y, V, H, start, p, ghost, max_steps):
    """A triangle whose closure holds p, or a ghost whose half-plane holds it;
    -1 if the walk does not end (it always does in a Delaunay triangulation)."""
    t = start
    came = -1
    for _ in range(max_steps):
        base = 3 * t
        g = -1
        for k in range(3):
            if V[base + k] == ghost:
                g = k
        if g >= 0:
            e = base + (g + 1) % 3
            q, r = V[e], V[base + (g + 2) % 3]
            o = orient(x[q], y[q], x[r], y[r], x[p], y[p])
            if o > 0.0:
                return t
            if o < 0.0 or _between(x, y, q, r, p):
                came = H[e]
                t = came // 3
                continue
            # on the hull edge's line beyond one end: follow the hull towards p
            if x[q] != x[r]:
                beyond_r = (x[p] > x[r]) == (x[r] > x[q])
            else:
                beyond_r = (y[p] > y[r]) == (y[r] > y[q])
            came = H[base + (g + 2) % 3] if beyond_r else H[base + g]
            t = came // 3
            continue
        moved = False
        for k in range(3):
            h = base + k
            if h == came:
                continue
            a, b = V[h], V[base + (k + 1) % 3]
            if orient(x[a], y[a], x[b], y[b], x[p], y[p]) < 0.0:
                came = H[h]
                t = came // 3
                moved = True
                break
        if not moved:
            return t
    return -1


@jit
def _seed(V, H, a, b, c, ghost):
    """Triangle 0 = (a, b, c) counter-clockwise and a ghost on each of its edges."""
    tri = (a, b, c, b, a, ghost, c, b, ghost, a, c, ghost)
    twin = (3, 6, 9, 0, 11, 7, 1, 5, 10, 2, 8, 4)
    for k in range(12):
        V[k] = tri[k]
        H[k] = twin[k]


@jit
def _triangulate(x, y):
    """Half-edge arrays and triangle count of the Delaunay triangulation of distinct
    points in insertion order; ``n_tri == 0`` when all points are collinear, -1 if a
    walk failed to end."""
    m = x.shape[0]
    ghost = m
    V = np.empty(6 * m, dtype=np.int64)
    H = np.empty(6 * m, dtype=np.int64)
    c = -1
    for k in range(2, m):
        if orient(x[0], y[0], x[1], y[1], x[k], y[k]) != 0.0:
            c = k
            break
    if c < 0:
        return V[:0], 0
    if orient(x[0], y[0], x[1], y[1], x[c], y[c]) > 0.0:
        _seed(V, H, 0, 1, c, ghost)
    else:
        _seed(V, H, 1, 0, c, ghost)
    n_tri = 4
    last = 0
    stack = np.empty(m + 8, dtype=np.int64)
    for p in range(2, m):
        if p == c:
            continue
        t = _locate(x, y, V, H, last, p, ghost, 4 * n_tri + 16)
        if t < 0:
            return V[:0], -1
        # split t = (a, b, c) into (a, b, p), (b, c, p), (c, a, p)
        base = 3 * t
        t1, t2 = n_tri, n_tri + 1
        n_tri += 2
        va, vb, vc = V[base], V[base + 1], V[base + 2]
        hbc, hca = H[base + 1], H[base + 2]
        V[base + 2] = p
        H[base + 1] = 3 * t1 + 2
        H[base + 2] = 3 * t2 + 1
        V[3 * t1], V[3 * t1 + 1], V[3 * t1 + 2] = vb, vc, p
        H[3 * t1], H[3 * t1 + 1], H[3 * t1 + 2] = hbc, 3 * t2 + 2, base + 1
        H[hbc] = 3 * t1
        V[3 * t2], V[3 * t2 + 1], V[3 * t2 + 2] = vc, va, p
        H[3 * t2], H[3 * t2 + 1], H[3 * t2 + 2] = hca, base + 2, 3 * t1 + 1
        H[hca] = 3 * t2
        stack[0], stack[1], stack[2] = t, t1, t2
        sp = 3
        # Lawson flips: every stacked triangle is (X, Y, p), X -> Y to be checked
        while sp > 0:
            sp -= 1
            t = stack[sp]
            base = 3 * t
            vx, vy = V[base], V[base + 1]
            b = H[base]
            tb = b // 3
            bb = 3 * tb
            nb = bb + (b - bb + 1) % 3
            pb = bb + (b - bb + 2) % 3
            d = V[pb]
            if not _in_circle(x, y, vy, vx, d, p, ghost):
                if vx != ghost and vy != ghost:
                    last = t
                continue
            a1, b1, b2 = H[base + 1], H[nb], H[pb]
            # t becomes (X, d, p), tb becomes (d, Y, p)
            V[base + 1] = d
            H[base] = b1
            H[b1] = base
            H[base + 1] = bb + 2
            V[bb], V[bb + 1], V[bb + 2] = d, vy, p
            H[bb], H[bb + 1], H[bb + 2] = b2, a1, base + 1
            H[b2] = bb
            H[a1] = bb + 1
            stack[sp] = t
            stack[sp + 1] = tb
            sp += 2
    return V[:3 * n_tri], n_tri


@jit
def _real_triangles(V, n_tri, ghost):
    out = np.empty((n_tri, 3), dtype=np.int64)
    k = 0
    for t in range(n_tri):
        a, b, c = V[3 * t], V[3 * t + 1], V[3 * t + 2]
        if a != ghost and b != ghost and c != ghost:
            out[k, 0], out[k, 1], out[k, 2] = a, b, c
            k += 1
    return out[:k]


@jit
def _first_at_position(bits_x, bits_y):
    """Lowest index with the same (x, y) bit pattern, per point: an open-addressing
    hash table over the points in index order, O(n)."""
    n = bits_x.shape[0]
    size = 1
    while size < 2 * n:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)
    rep = np.empty(n, dtype=np.int64)
    for i in range(n):
        h = (bits_x[i] * np.int64(-7046029254386353131)
             ^ bits_y[i] * np.int64(-4658895280553007687))
        slot = (h ^ (h >> 29)) & (size - 1)
        while True:
            j = table[slot]
            if j < 0:
                table[slot] = i
                rep[i] = i
                break
            if bits_x[j] == bits_x[i] and bits_y[j] == bits_y[i]:
                rep[i] = j
                break
            slot = (slot + 1) & (size - 1)
    return rep


def _representatives(xy: np.ndarray) -> np.ndarray:
    """Lowest index of the group of points at exactly the same position, per point."""
    xy = xy + 0.0  # -0.0 becomes 0.0, so equal numbers have equal bits
    return _first_at_position(np.ascontiguousarray(xy[:, 0]).view(np.int64),
                              np.ascontiguousarray(xy[:, 1]).view(np.int64))


def triangles(xy) -> tuple[np.ndarray, np.ndarray]:
    """Delaunay triangles of a point set, with each point's representative.

    Parameters
    ----------
    xy : array_like of shape (n, 2)
        Finite coordinates.

    Returns
    -------
    simplices : ndarray of shape (T, 3), int64
        Counter-clockwise triangles ``(i, j, k)`` over representatives only
        (``T = 2m - 2 - h`` for m distinct positions, h of them on the hull); empty
        (shape ``(0, 3)``) when fewer than three distinct positions exist or all lie on
        one line.
    rep : ndarray of shape (n,), int64
        ``rep[i]``: the lowest index at the same (centred) position as ``i``.

    Raises
    ------
    ValueError
        If ``xy`` is not an (n, 2) array of finite numbers.
    RuntimeError
        If a point-location walk fails to end (never observed; a bug if it happens).

    Notes
    -----
    - The points are centred on their bounding box (as the Qhull call this replaces
      did, so both see the same numbers) and scaled by a power of two, which is exact.
      Points that coincide after centring form one group; that is only ever more than
      the exact duplicates when coordinates near zero meet an extent about 1e16 times
      larger.
    - Exact predicates: the triangles are Delaunay for the centred coordinates (no
      point strictly inside any triangle's circumcircle), as long as no product of
      scaled coordinates underflows (coordinates below about 1e-70 of the extent,
      other than 0).
    - Co-circular points: any of their triangulations is Delaunay; the one returned
      is the one the insertion order reaches (no flip on an exact tie). It is
      deterministic but need not be Qhull's.
    - The insertion order is a Hilbert curve over the points, so the walk from one
      point to the next is short: expected cost about ``n log n`` for the sort and
      ``n`` for the insertions on tissue-like data.
    """
    xy = as_points(xy)
    n = len(xy)
    if n == 0:
        return np.empty((0, 3), dtype=np.int64), np.empty(0, dtype=np.int64)
    centred = xy - 0.5 * (xy.min(axis=0) + xy.max(axis=0))
    top = float(np.abs(centred).max())
    if top > 0:
        centred = np.ldexp(centred, -np.frexp(top)[1])
    rep = _representatives(centred)
    ids = np.flatnonzero(rep == np.arange(n))
    if len(ids) < 3:
        return np.empty((0, 3), dtype=np.int64), rep
    p = centred[ids]
    order = ids[np.argsort(_hilbert_keys(p[:, 0], p[:, 1]), kind="stable")]
    x = np.ascontiguousarray(centred[order, 0])
    y = np.ascontiguousarray(centred[order, 1])
    V, n_tri = _triangulate(x, y)
    if n_tri < 0:
        raise RuntimeError("Delaunay point location did not terminate (internal error)")
    return order[_real_triangles(V, n_tri, len(order))], rep
