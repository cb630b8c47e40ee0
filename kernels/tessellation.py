"""Voronoi cells clipped to a rectangular window, convex hulls and polygon areas.

The Voronoi cell of a point is the window cut by the half-planes that keep it closer to
each Delaunay neighbour than to that neighbour: exact, because every Voronoi neighbour
is a Delaunay neighbour, and local, so cells are clipped in parallel in numba.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._graph_delaunay import _delaunay_core
from ._graph_edges import _adjacency
from ._jit import jit, jit_parallel, prange
from ._validate import as_points, as_window

__all__ = ["VoronoiCells", "convex_hull", "polygon_area", "voronoi_cells"]

# A cell touches the window boundary when it shares a stretch of it longer than this
# fraction of the window's longer side: point contacts and rounding slivers do not count.
BOUNDARY_TOL = 1e-9


class VoronoiCells(NamedTuple):
    """Voronoi cells of ``n`` points clipped to a window, as ragged polygons.

    Attributes
    ----------
    offsets : ndarray of shape (n + 1,), int64
        Cell ``i`` has vertices ``vertices[offsets[i]:offsets[i + 1]]``.
    vertices : ndarray of shape (offsets[-1], 2), float64
        Polygon vertices, counter-clockwise, not closed (first vertex not repeated).
    area : ndarray of shape (n,), float64
        Cell areas, in the squared unit of the coordinates.
    touches_boundary : ndarray of shape (n,), bool
        Whether the cell shares a stretch of the window's boundary.
    """

    offsets: np.ndarray
    vertices: np.ndarray
    area: np.ndarray
    touches_boundary: np.ndarray


@jit
def _shoelace(v):
    """Signed area (counter-clockwise positive), coordinates taken relative to ``v[0]``
    so that large offsets do not cancel digits."""
    m = v.shape[0]
    if m < 3:
        return 0.0
    x0, y0 = v[0, 0], v[0, 1]
    twice = 0.0
    for k in range(1, m - 1):
        twice += ((v[k, 0] - x0) * (v[k + 1, 1] - y0)
                  - (v[k + 1, 0] - x0) * (v[k, 1] - y0))
    return 0.5 * twice


@jit
def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


@jit
def _monotone_chain(p):
    """Andrew's monotone chain on lexicographically sorted points; strict turns only."""
    m = p.shape[0]
    hull = np.empty((2 * m, 2), dtype=np.float64)
    h = 0
    for i in range(m):
        while h >= 2 and _cross(hull[h - 2], hull[h - 1], p[i]) <= 0.0:
            h -= 1
        hull[h] = p[i]
        h += 1
    lower = h + 1
    for i in range(m - 2, -1, -1):
        while h >= lower and _cross(hull[h - 2], hull[h - 1], p[i]) <= 0.0:
            h -= 1
        hull[h] = p[i]
        h += 1
    return hull[: h - 1]


def convex_hull(xy) -> np.ndarray:
    """Vertices of the convex hull of a point set.

    Parameters
    ----------
    xy : array_like of shape (n, 2)
        Finite coordinates.

    Returns
    -------
    ndarray of shape (h, 2), float64
        Hull vertices counter-clockwise, starting at the lowest-x (then lowest-y) point,
        not closed. Points on a hull edge are not vertices. Degenerate sets give
        ``h = 0`` (no points), 1 (all coincident) or 2 (all on a line: its two ends).

    Notes
    -----
    Andrew's monotone chain, ``O(n log n)``; :func:`polygon_area` of the result is the
    hull's area (0 for ``h < 3``).
    """
    xy = as_points(xy)
    if len(xy) == 0:
        return np.empty((0, 2), dtype=np.float64)
    p = np.unique(xy, axis=0)  # lexicographic order, duplicates removed
    if len(p) < 3:
        return p
    return _monotone_chain(np.ascontiguousarray(p))


def polygon_area(vertices) -> float:
    """Area of a simple polygon.

    Parameters
    ----------
    vertices : array_like of shape (m, 2)
        Vertices in order (either orientation), not closed; ``m < 3`` gives 0.

    Returns
    -------
    float
        Unsigned area (shoelace formula), in the squared unit of the coordinates.
    """
    v = as_points(vertices, "vertices")
    return abs(float(_shoelace(v)))


@jit
def _clip(src, m, dst, px, py, qx, qy):
    """Keep the part of polygon ``src[:m]`` at least as close to p as to q."""
    dx, dy = qx - px, qy - py
    mx, my = 0.5 * (px + qx), 0.5 * (py + qy)
    k = 0
    for a in range(m):
        b = a + 1 if a + 1 < m else 0
        sa = (src[a, 0] - mx) * dx + (src[a, 1] - my) * dy
        sb = (src[b, 0] - mx) * dx + (src[b, 1] - my) * dy
        if sa <= 0.0:
            dst[k, 0] = src[a, 0]
            dst[k, 1] = src[a, 1]
            k += 1
        if (sa < 0.0 < sb) or (sb < 0.0 < sa):
            t = sa / (sa - sb)
            # on a window side both ends share a coordinate, so it stays exact here
            dst[k, 0] = src[a, 0] + t * (src[b, 0] - src[a, 0])
            dst[k, 1] = src[a, 1] + t * (src[b, 1] - src[a, 1])
            k += 1
    return k


@jit
def _boundary_length(v, m, xmin, ymin, xmax, ymax):
    total = 0.0
    for a in range(m):
        b = a + 1 if a + 1 < m else 0
        same_side = ((v[a, 0] == xmin and v[b, 0] == xmin)
                     or (v[a, 0] == xmax and v[b, 0] == xmax)
                     or (v[a, 1] == ymin and v[b, 1] == ymin)
                     or (v[a, 1] == ymax and v[b, 1] == ymax))
        if same_side:
            dx = v[b, 0] - v[a, 0]
            dy = v[b, 1] - v[a, 1]
            total += np.sqrt(dx * dx + dy * dy)
    return total


@jit_parallel
def _clip_cells(xy, indptr, indices, is_rep, window, cap_start, buf, counts, area,
                touches, tol):
    xmin, ymin, xmax, ymax = window[0], window[1], window[2], window[3]
    for i in prange(xy.shape[0]):
        if not is_rep[i]:
            continue
        cap = cap_start[i + 1] - cap_start[i]
        a = np.empty((cap, 2), dtype=np.float64)
        b = np.empty((cap, 2), dtype=np.float64)
        a[0, 0], a[0, 1] = xmin, ymin
        a[1, 0], a[1, 1] = xmax, ymin
        a[2, 0], a[2, 1] = xmax, ymax
        a[3, 0], a[3, 1] = xmin, ymax
        m = 4
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            m = _clip(a, m, b, xy[i, 0], xy[i, 1], xy[j, 0], xy[j, 1])
            a, b = b, a
        s = cap_start[i]
        buf[s:s + m] = a[:m]
        counts[i] = m
        area[i] = _shoelace(a[:m])
        touches[i] = _boundary_length(a, m, xmin, ymin, xmax, ymax) > tol


@jit
def _gather_cells(buf, cap_start, rep, counts, offsets):
    out = np.empty((offsets[-1], 2), dtype=np.float64)
    for i in range(rep.shape[0]):
        s = cap_start[rep[i]]
        out[offsets[i]:offsets[i + 1]] = buf[s:s + counts[i]]
    return out


def voronoi_cells(xy, window) -> VoronoiCells:
    """Voronoi cells of a point set clipped to a rectangular window.

    Parameters
    ----------
    xy : array_like of shape (n, 2)
        Finite coordinates, all inside the window (its boundary included).
    window : tuple of 4 floats
        ``(xmin, ymin, xmax, ymax)`` with positive width and height.

    Returns
    -------
    VoronoiCells
        ``(offsets, vertices, area, touches_boundary)``, one cell per point.

    Raises
    ------
    ValueError
        If ``xy`` or ``window`` is malformed, or a point lies outside the window.

    Notes
    -----
    - Cell of ``i``: points of the window at least as close to ``i`` as to any other
      position. With all points distinct the cells tile the window: their areas sum to
      its area.
    - Coincident points share one cell: each gets a copy of the same polygon and the
      same area (so areas then sum to more than the window); see
      :func:`cytoql.kernels.graphs.delaunay_edges`.
    - ``touches_boundary``: the cell shares a stretch of the window boundary longer than
      ``BOUNDARY_TOL`` times the window's longer side (a single contact point does not
      count). Cells of convex-hull points always touch a window that contains them.
    - The cell is the window cut by the bisector half-planes of the point's Delaunay
      neighbours (Sutherland-Hodgman in numba, cells in parallel); collinear input
      uses the path along the line, which gives the exact strip cells.
    """
    xy = as_points(xy)
    xmin, ymin, xmax, ymax = as_window(window)
    outside = ((xy[:, 0] < xmin) | (xy[:, 0] > xmax)
               | (xy[:, 1] < ymin) | (xy[:, 1] > ymax))
    if outside.any():
        rows = np.flatnonzero(outside)
        raise ValueError(
            f"{rows.size} point(s) lie outside the window {(xmin, ymin, xmax, ymax)}, "
            f"first at index {rows[:5].tolist()}; crop the points or widen the window"
        )
    n = len(xy)
    core, rep = _delaunay_core(xy)
    indptr, indices = _adjacency(core, n)
    is_rep = rep == np.arange(n)
    cap = np.where(is_rep, 4 + np.diff(indptr), 0)
    cap_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(cap, out=cap_start[1:])
    buf = np.empty((cap_start[-1], 2), dtype=np.float64)
    counts = np.zeros(n, dtype=np.int64)
    area = np.zeros(n, dtype=np.float64)
    touches = np.zeros(n, dtype=bool)
    tol = BOUNDARY_TOL * max(xmax - xmin, ymax - ymin)
    _clip_cells(xy, indptr, indices, is_rep, np.array([xmin, ymin, xmax, ymax]),
                cap_start, buf, counts, area, touches, tol)
    counts, area, touches = counts[rep], area[rep], touches[rep]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return VoronoiCells(offsets, _gather_cells(buf, cap_start, rep, counts, offsets),
                        area, touches)
