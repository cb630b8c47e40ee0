"""Nearest-neighbour distances, Clark–Evans R and G: CytoQL against cKDTree and pointpats.

* Nearest other cell of every cell: CytoQL's index (a grid here, built inside the
  call) against scipy's ``cKDTree`` build + ``query(k=2, workers=-1)`` (the first hit
  is the cell itself).
* Clark–Evans R (no edge correction): against ``cKDTree`` nearest distances with the
  same formula in numpy (pointpats has no Clark–Evans index).
* G over 50 radii, no edge correction (``#{d_i <= r} / n``), against pointpats
  ``distance_statistics.g`` (nearest distances from its own KD-tree, then a
  histogram over the same radii); the border-corrected G has no baseline.
"""

from __future__ import annotations

import math

import numpy as np
from harness import Case
from scipy.spatial import cKDTree

from cytoql.kernels import nearest_neighbour as nn

RADII = np.linspace(0.0, 50.0, 50)


def _setup(p):
    return {"xy": p.xy, "window": p.window, "self": np.arange(len(p.xy), dtype=np.int64)}


def _ckd_nearest(xy):
    return cKDTree(xy).query(xy, 2, workers=-1)[0][:, 1]


def _ckd_clark_evans(d):
    xy, (xmin, ymin, xmax, ymax) = d["xy"], d["window"]
    area = (xmax - xmin) * (ymax - ymin)
    expected = 0.5 / math.sqrt(len(xy) / area)
    return _ckd_nearest(xy).mean() / expected


def _pointpats_g(d):
    from pointpats import distance_statistics

    return distance_statistics.g(d["xy"], support=RADII)


CASES = [
    Case("nearest other cell, all cells", _setup,
         lambda d: nn.nearest_distance(d["xy"], d["xy"], 1, skip=d["self"]),
         {"scipy cKDTree build + query": lambda d: _ckd_nearest(d["xy"])}),
    Case("Clark–Evans R (no correction)", _setup,
         lambda d: nn.clark_evans(d["xy"], d["window"]),
         {"scipy cKDTree + numpy": _ckd_clark_evans}),
    Case("G function, 50 radii, no correction", _setup,
         lambda d: nn.g_function(d["xy"], RADII, d["window"], correction="none"),
         {"pointpats g": _pointpats_g}),
    Case("G function, 50 radii, border (no baseline has it)", _setup,
         lambda d: nn.g_function(d["xy"], RADII, d["window"], correction="border")),
]
