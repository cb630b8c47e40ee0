"""Shapely references for the ``tessellation`` kernels.

Voronoi cells come from GEOS (``shapely.voronoi_polygons``) over the distinct positions,
cut to the window with a polygon intersection; hulls and areas are GEOS's own.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon, box
from shapely.geometry.polygon import orient

__all__ = ["convex_hull", "polygon_area", "voronoi_cells"]

# Same rule as the kernel: a shared boundary stretch longer than this fraction of the
# window's longer side makes a cell touch the boundary.
_BOUNDARY_TOL = 1e-9


def _ring(geom) -> np.ndarray:
    """Vertices of a polygon counter-clockwise, not closed."""
    return np.asarray(orient(geom, 1.0).exterior.coords, dtype=np.float64)[:-1]


def convex_hull(xy) -> np.ndarray:
    """GEOS convex hull, rotated to start at the lowest-x (then lowest-y) vertex."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if len(xy) == 0:
        return np.empty((0, 2), dtype=np.float64)
    hull = MultiPoint([tuple(p) for p in xy]).convex_hull
    if hull.geom_type == "Point":
        return np.array([[hull.x, hull.y]], dtype=np.float64)
    if hull.geom_type == "LineString":
        return np.array(sorted(hull.coords), dtype=np.float64)
    ring = _ring(hull)
    start = min(range(len(ring)), key=lambda k: (ring[k, 0], ring[k, 1]))
    return np.roll(ring, -start, axis=0)


def polygon_area(vertices) -> float:
    """``shapely.Polygon(vertices).area``; 0 for fewer than 3 vertices."""
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
    if len(v) < 3:
        return 0.0
    return float(Polygon(v).area)


def voronoi_cells(xy, window):
    """``(offsets, vertices, area, touches_boundary)`` from GEOS Voronoi polygons."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    frame = box(*window)
    first: dict[tuple[float, float], int] = {}
    rep = [first.setdefault((float(x), float(y)), i) for i, (x, y) in enumerate(xy)]
    reps = sorted(set(rep))
    cells = {}
    if len(reps) == 1:
        cells[reps[0]] = frame
    elif reps:
        polys = shapely.voronoi_polygons(MultiPoint([tuple(xy[i]) for i in reps]),
                                         extend_to=frame, ordered=True)
        for i, poly in zip(reps, polys.geoms):
            cells[i] = poly.intersection(frame)
    tol = _BOUNDARY_TOL * max(window[2] - window[0], window[3] - window[1])
    rings, area, touches = [], [], []
    for i in range(len(xy)):
        cell = cells[rep[i]]
        rings.append(_ring(cell))
        area.append(cell.area)
        touches.append(cell.intersection(frame.exterior).length > tol)
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rings])]).astype(np.int64)
    vertices = np.concatenate(rings) if rings else np.empty((0, 2))
    return (offsets, vertices.reshape(-1, 2), np.array(area, dtype=np.float64),
            np.array(touches, dtype=bool))
