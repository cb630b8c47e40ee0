"""CSR envelopes: 100 simulations of L, against pointpats' ``l_test`` and a scipy loop.

CytoQL simulates 100 binomial patterns of the tissue's size in its window and
computes the translation-corrected L of each (:func:`cytoql.kernels.envelopes.csr_envelope`
over :func:`cytoql.kernels.ripley.ripley_l`). pointpats ``l_test(n_simulations=100)``
does the same simulations in the same bounding box, with uncorrected L, in parallel
worker processes (``n_jobs=-1``); each simulation builds all pairwise distances and
compares them with every radius at once (2.5 GB and about 13 s per simulation at
10k cells on the reference machine), so 100 of them at 10k would take over half an
hour: it runs at 2k cells only, where the same 50 radii still hold about 160
neighbours per cell.

The scipy loop is what a user writes for the same translation-corrected envelope:
per simulation, a uniform pattern, ``cKDTree.query_pairs(r_max)`` as an array, the
Ohser–Stoyan weight of each pair (clipped at 100, as ours and spatstat's), one
weighted ``np.histogram`` over the radii, cumulated; the pointwise envelope is the
min/max over simulations. A third case runs the same envelope through
``cytoql.query`` (``null = csr, nsim = 99``) on an AnnData of the tissue.
"""

from __future__ import annotations

import numpy as np
from harness import Case

from cytoql.kernels import envelopes, ripley

RADII = np.linspace(0.0, 100.0, 50)
RADII_2UM = np.arange(0.0, 101.0, 2.0)  # what ``r = 0 um .. 100 um by 2 um`` gives
NSIM = 100
POINTPATS = f"pointpats l_test, {NSIM} simulations (no correction)"


def _setup(p):
    return {"xy": p.xy, "window": p.window}


def _envelope_over(radii):
    def envelope(d):
        xy, window = d["xy"], d["window"]
        observed, theo = ripley.ripley_l(xy, radii, window)
        return envelopes.csr_envelope(lambda sim: ripley.ripley_l(sim, radii, window)[0],
                                      len(xy), window, NSIM, np.random.default_rng(0),
                                      observed=observed, reference=theo)
    return envelope


def _pointpats_envelope(d):
    from pointpats import distance_statistics

    return distance_statistics.l_test(d["xy"], support=RADII, hull=np.asarray(d["window"]),
                                      n_simulations=NSIM, keep_simulations=True)


def _scipy_l(xy, window):
    from scipy.spatial import cKDTree

    x0, y0, x1, y1 = window
    w, h = x1 - x0, y1 - y0
    pairs = cKDTree(xy).query_pairs(RADII_2UM[-1], output_type="ndarray")
    delta = np.abs(xy[pairs[:, 0]] - xy[pairs[:, 1]])
    dist = np.hypot(delta[:, 0], delta[:, 1])
    weight = np.minimum(w * h / ((w - delta[:, 0]) * (h - delta[:, 1])), 100.0)
    # a pair counts at every radius >= its distance, twice (i, j and j, i)
    first = np.searchsorted(RADII_2UM, dist, side="left")
    k = np.cumsum(np.bincount(first, weights=2.0 * weight, minlength=len(RADII_2UM)))
    return np.sqrt(w * h / (len(xy) * (len(xy) - 1)) * k / np.pi)


def _scipy_envelope(d):
    """The observed L and the pointwise envelope, drawn as ``simulate_csr`` draws."""
    xy, (x0, y0, x1, y1) = d["xy"], d["window"]
    rng = np.random.default_rng(0)
    sims = np.empty((NSIM, len(RADII_2UM)))
    for i in range(NSIM):
        x = rng.uniform(x0, x1, len(xy))
        y = rng.uniform(y0, y1, len(xy))
        sims[i] = _scipy_l(np.column_stack([x, y]), d["window"])
    return _scipy_l(xy, d["window"]), sims.min(axis=0), sims.max(axis=0)


def _query_setup(p):
    import anndata as ad
    import pandas as pd

    adata = ad.AnnData(obs=pd.DataFrame(index=[f"c{i}" for i in range(len(p.xy))]))
    adata.obsm["spatial"] = p.xy
    adata.uns["spatial_unit"] = "um"
    adata.uns["fov_windows"] = {"all": list(p.window)}
    return {"adata": adata, **_setup(p)}


def _query_envelope(d):
    import warnings

    import cytoql
    from cytoql.data import cache

    cache.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cytoql.query(d["adata"], "ripley_l(cells, r = 0 um .. 100 um by 2 um, null = csr, "
                            f"nsim = {NSIM - 1})",
                            type_key=None, fov_key=None).pool()


SCIPY = f"scipy loop: query_pairs + translation weights + histogram, {NSIM} simulations"

CASES = [
    Case(f"L envelope, {NSIM} CSR simulations, 50 radii, translation", _setup,
         _envelope_over(RADII),
         {POINTPATS: _pointpats_envelope}, sizes=(2_000, 10_000),
         baseline_max_n={POINTPATS: 2_000}, target="10k < 5 s"),
    Case(f"L envelope, {NSIM} CSR simulations, 51 radii, translation, against a scipy loop",
         _setup, _envelope_over(RADII_2UM), {SCIPY: _scipy_envelope}, sizes=(10_000, 100_000),
         target="≥ 10× at 100k"),
    Case(f"L envelope, {NSIM - 1} CSR simulations, 51 radii, through cytoql.query", _query_setup,
         _query_envelope, {SCIPY: _scipy_envelope}, sizes=(10_000, 100_000),
         target="≥ 10× at 100k"),
]
