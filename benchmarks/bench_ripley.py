"""Ripley's K and L: CytoQL's fused pair pass against squidpy, pointpats and scipy.

L over 50 radii from 0 to 100 µm (about 160 neighbours per cell at the kidney's
density). The baselines do less work per pair than the edge-corrected estimates they
are compared with:

* squidpy ``gr.ripley(mode="L")`` counts ``d < r`` with no edge correction and divides
  by the convex hull's area; it builds every pairwise distance (scipy ``pdist``, O(n²)
  memory: 1.6 GB at 20k cells), so it runs up to 20k cells.
* pointpats ``distance_statistics.l`` is uncorrected too (``d < r``, bounding-box area)
  and also compares all ``n²/2`` distances with each radius at once (2.5 GB at 10k), so
  it runs at 10k only.
* scipy ``cKDTree.count_neighbors`` gives uncorrected pair totals per radius, the
  closest C++ equivalent of the cross-type pair count.

CytoQL's side never holds a pair list (memory O(n + rows × radii)), so 1M is feasible.
"""

from __future__ import annotations

import numpy as np
from harness import Case
from scipy.spatial import cKDTree

from cytoql.kernels import ripley

RADII = np.linspace(0.0, 100.0, 50)
SQUIDPY = "squidpy gr.ripley (no correction)"
POINTPATS = "pointpats l (no correction)"
SCIPY_CROSS = "scipy count_neighbors (no correction)"


def _setup(p):
    import anndata as ad
    import pandas as pd

    adata = ad.AnnData(np.zeros((len(p.xy), 1), dtype=np.float32))
    adata.obsm["spatial"] = p.xy
    # one category: squidpy then computes L of all cells, the pattern CytoQL measures
    adata.obs["all"] = pd.Categorical(np.zeros(len(p.xy), dtype=np.int64))
    # the cross-type case: the two most common cell types
    a, b = np.argsort(np.bincount(p.labels))[::-1][:2]
    return {"xy": p.xy, "window": p.window, "adata": adata,
            "a": np.flatnonzero(p.labels == a), "b": np.flatnonzero(p.labels == b)}


def _squidpy_l(d):
    import squidpy as sq

    return sq.gr.ripley(d["adata"], cluster_key="all", mode="L", n_steps=len(RADII),
                        max_dist=float(RADII[-1]), n_simulations=0, copy=True)


def _pointpats_l(d):
    from pointpats import distance_statistics

    return distance_statistics.l(d["xy"], support=RADII)


def _scipy_cross(d):
    xy = d["xy"]
    return cKDTree(xy[d["a"]]).count_neighbors(cKDTree(xy[d["b"]]), RADII)


CASES = [
    Case("L, 50 radii, translation", _setup,
         lambda d: ripley.ripley_l(d["xy"], RADII, d["window"], "translation"),
         {SQUIDPY: _squidpy_l, POINTPATS: _pointpats_l},
         baseline_max_n={SQUIDPY: 20_000, POINTPATS: 10_000},
         target="L 100k < 2 s"),
    Case("L, 50 radii, isotropic (no baseline has it)", _setup,
         lambda d: ripley.ripley_l(d["xy"], RADII, d["window"], "isotropic")),
    Case("cross-type K, 2 commonest types, 50 radii, translation", _setup,
         lambda d: ripley.ripley_k_cross(d["xy"], d["a"], d["b"], RADII, d["window"],
                                         "translation"),
         {SCIPY_CROSS: _scipy_cross}),
]
