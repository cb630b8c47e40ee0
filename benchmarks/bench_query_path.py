"""The whole query path: ``cytoql.query(adata, text)`` against its bare kernel and
against what a user writes instead.

Each CytoQL call starts cold: the per-AnnData sample cache is cleared first, so the
time includes reading the AnnData into a sample (checks, unit, window, labels), parsing,
checking, the work estimate, evaluation and result assembly. One FOV, the window the
cells' bounding box (what the query assumes without ``uns["fov_windows"]``); the
tissue's commonest type is A and the second commonest B.

* L over 51 radii to 250 µm, translation correction: the bare kernel
  ``ripley.ripley_l`` on the same points and window (ratio ≥ 0.77: within 1.3×).
* Mean distance from each A cell to the nearest B: the bare kernel (``PointIndex`` on B,
  ``knn`` of A) and masks + ``cKDTree(B).query(A, workers=-1)``.
* The same mean distance with outlines attached (a hexagon of radius 5 µm per cell in
  ``obsm["polygons"]``) against the same query on the same AnnData without them: a
  query that reads no outline must not pay for them (ratio ≈ 1).
* Fraction of A cells with a B cell within 30 µm: the bare kernel (``PointIndex``
  count within) and masks + ``cKDTree(B).query_ball_point(A, 30, return_length=True)``.
"""

from __future__ import annotations

import numpy as np
from harness import Case

from cytoql.kernels import ripley
from cytoql.kernels.spatial_index import PointIndex

RADII = np.arange(0.0, 251.0, 5.0)
BARE = "CytoQL bare kernel"
CKD_NN = "masks + cKDTree(B).query(A, workers=-1)"
WITHOUT_OUTLINES = "the same query, outlines deleted"
CKD_BALL = "masks + cKDTree(B).query_ball_point(A, 30, return_length=True)"


def _setup(p):
    import anndata as ad
    import pandas as pd

    names = [f"type {i}" for i in range(p.n_labels)]
    order = np.argsort(-np.bincount(p.labels, minlength=p.n_labels), kind="stable")
    adata = ad.AnnData(obs=pd.DataFrame(
        {"cell_type": pd.Categorical.from_codes(p.labels, categories=names)},
        index=[f"c{i}" for i in range(len(p.xy))]))
    adata.obsm["spatial"] = p.xy
    adata.uns["spatial_unit"] = "um"
    lo, hi = p.xy.min(axis=0), p.xy.max(axis=0)
    a, b = (p.labels == order[0]), (p.labels == order[1])
    return {"adata": adata, "xy": p.xy, "window": (lo[0], lo[1], hi[0], hi[1]),
            "a": a, "b": b, "A": names[order[0]], "B": names[order[1]]}


def _query(text_of):
    def run(d):
        import warnings

        import cytoql
        from cytoql.data import cache

        cache.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cytoql.query(d["adata"], text_of(d), fov_key=None).pool()
    return run


def _l_query(d):
    return "ripley_l(cells, r = 0 um .. 250 um by 5 um, correction = translation)"


def _l_kernel(d):
    return ripley.ripley_l(d["xy"], RADII, d["window"], correction="translation")


def _nnd_query(d):
    return f'mean(distance(cells where type == "{d["A"]}" -> nearest cells where type == "{d["B"]}"))'


def _nnd_kernel(d):
    dist, _ = PointIndex(d["xy"][d["b"]]).knn(d["xy"][d["a"]], 1)
    return float(dist[:, 0].mean())


def _nnd_ckdtree(d):
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(d["xy"][d["b"]]).query(d["xy"][d["a"]], k=1, workers=-1)
    return float(dist.mean())


def _with_outlines(p):
    d = _setup(p)
    angles = np.linspace(0.0, 2.0 * np.pi, 6, endpoint=False)
    hexagon = 5.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    outlined = d["adata"].copy()
    outlined.obsm["polygons"] = p.xy[:, None, :] + hexagon[None, :, :]
    return {**d, "outlined": outlined}


def _query_outlined(d):
    return _query(_nnd_query)({**d, "adata": d["outlined"]})


def _near_query(d):
    return (f'fraction(cells where type == "{d["A"]}" where count(cells where type == '
            f'"{d["B"]}" within 30 um) >= 1)')


def _near_kernel(d):
    counts = PointIndex(d["xy"][d["b"]]).count_within(d["xy"][d["a"]], 30.0)
    return float(np.count_nonzero(counts) / len(counts))


def _near_ckdtree(d):
    from scipy.spatial import cKDTree

    counts = cKDTree(d["xy"][d["b"]]).query_ball_point(d["xy"][d["a"]], 30.0,
                                                       return_length=True, workers=-1)
    return float(np.count_nonzero(counts) / len(counts))


CASES = [
    Case("L through cytoql.query, 51 radii to 250 µm, translation", _setup,
         _query(_l_query), {BARE: _l_kernel}, target="≥ 0.77 (within 1.3×); 1M < 5 s"),
    Case("mean NND A -> nearest B through cytoql.query", _setup, _query(_nnd_query),
         {BARE: _nnd_kernel, CKD_NN: _nnd_ckdtree}, target="bare ≥ 0.77"),
    Case("mean NND A -> nearest B through cytoql.query, outlines attached", _with_outlines,
         _query_outlined, {WITHOUT_OUTLINES: _query(_nnd_query)}, target="≈ 1"),
    Case("fraction of A with a B within 30 µm through cytoql.query", _setup,
         _query(_near_query), {BARE: _near_kernel, CKD_BALL: _near_ckdtree},
         target="bare ≥ 0.77"),
]
