"""Ripley's L and CSR envelopes: CytoQL's fused pair pass against squidpy and pointpats.

L over 50 radii to 100 µm (about 160 neighbours per cell at the kidney's density).
squidpy's ``gr.ripley`` (scipy ``pdist``) and pointpats' ``l`` build every pairwise
distance (O(n²) memory), so they run at 10k cells only. Neither corrects for edges
(squidpy also counts d < r over the convex hull's area), so they do less work per
pair than the translation-corrected estimate they are compared with.
"""

from __future__ import annotations

import numpy as np
from harness import Case

from cytoql.kernels import envelopes, ripley

RADII = np.linspace(0.0, 100.0, 50)


def _setup(p):
    return {"xy": p.xy, "window": p.window}


def _squidpy_l(d):
    import anndata as ad
    import pandas as pd
    import squidpy as sq

    adata = ad.AnnData(np.zeros((len(d["xy"]), 1), dtype=np.float32))
    adata.obsm["spatial"] = d["xy"]
    adata.obs["c"] = pd.Categorical(["all"] * len(d["xy"]))
    return sq.gr.ripley(adata, cluster_key="c", mode="L", n_steps=50, max_dist=100.0,
                        n_simulations=1, copy=True)


def _pointpats_l(d):
    from pointpats import distance_statistics

    return distance_statistics.l(d["xy"], support=RADII)


def _envelope(d):
    n, window = len(d["xy"]), d["window"]
    return envelopes.csr_envelope(lambda xy: ripley.ripley_l(xy, RADII, window)[0],
                                  n, window, 100, np.random.default_rng(0))


CASES = [
    Case("L, 50 radii, translation", _setup,
         lambda d: ripley.ripley_l(d["xy"], RADII, d["window"], "translation"),
         {"squidpy gr.ripley (no correction)": _squidpy_l,
          "pointpats l (no correction)": _pointpats_l},
         baseline_max_n={"squidpy gr.ripley (no correction)": 10_000,
                         "pointpats l (no correction)": 10_000},
         target="L 100k < 2 s"),
    Case("L, 50 radii, isotropic", _setup,
         lambda d: ripley.ripley_l(d["xy"], RADII, d["window"], "isotropic")),
    Case("CSR envelope, 100 simulations of L", _setup, _envelope, sizes=(10_000,),
         target="< 5 s"),
]
