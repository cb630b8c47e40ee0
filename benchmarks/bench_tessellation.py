"""Voronoi cells clipped to the window: CytoQL against shapely (GEOS).

Both sides produce one polygon per cell, clipped to the tissue's rectangular window,
and its area. shapely: ``voronoi_polygons(extend_to=window, ordered=True)`` (cells in
input order), ``intersection`` with the window, ``area``, all vectorised GEOS calls;
it runs up to 100k cells (GEOS geometries of 1M cells take several GB).
"""

from __future__ import annotations

from harness import Case

from cytoql.kernels import tessellation

SHAPELY = "shapely voronoi_polygons + clip"


def _setup(p):
    return {"xy": p.xy, "window": p.window}


def _shapely_cells(d):
    import shapely

    box = shapely.box(*d["window"])
    cells = shapely.voronoi_polygons(shapely.multipoints(d["xy"]), extend_to=box,
                                     ordered=True)
    clipped = shapely.intersection(shapely.get_parts(cells), box)
    return clipped, shapely.area(clipped)


CASES = [
    Case("clipped Voronoi cells + areas", _setup,
         lambda d: tessellation.voronoi_cells(d["xy"], d["window"]),
         {SHAPELY: _shapely_cells}, baseline_max_n={SHAPELY: 100_000}),
]
