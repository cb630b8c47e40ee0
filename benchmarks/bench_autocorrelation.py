"""Moran's I of a per-cell mark over k-nearest-neighbour weights: CytoQL against esda.

The mark is 1 for cells of the commonest type and 0 otherwise; weights are the 6
nearest other cells, row-standardised (esda's default transformation ``"r"``).

* Weights given (CytoQL's kNN weights, handed to esda as a libpysal ``W`` and to
  squidpy as ``obsp`` connectivities; conversions untimed), 99 permutations:
  esda ``Moran`` and squidpy ``gr.spatial_autocorr`` (all cores).
* The same with analytic p-values only, against squidpy up to 1M cells.
* Weights built inside the call (libpysal ``KNN.from_array``), analytic p-values only.

* Through the language: ``cytoql.query(adata, 'morans_i(expr("mark"), weights = knn,
  k = 6)')`` (weights built inside) against squidpy building its 6-NN graph too
  (``spatial_neighbors_knn``, a symmetric graph where ours is one-sided kNN) and
  ``spatial_autocorr`` with analytic p-values.

libpysal keeps weights in Python dictionaries, so esda and squidpy run up to 100k cells.
"""

from __future__ import annotations

import numpy as np
from harness import Case

from cytoql.kernels import autocorrelation as ac

K = 6
NPERM = 99
ESDA = "esda Moran (libpysal W prebuilt)"
SQUIDPY = "squidpy gr.spatial_autocorr"
ESDA_KNN = "libpysal KNN + esda Moran"
SQUIDPY_GRAPH = "squidpy spatial_neighbors_knn + spatial_autocorr"
MAX_N = 100_000


def _setup(p):
    commonest = np.bincount(p.labels).argmax()
    return {"xy": p.xy, "y": (p.labels == commonest).astype(np.float64)}


def _setup_weights(p):
    d = _setup(p)
    d["w"] = ac.knn_weights(p.xy, K)
    return d


def _sparse(w):
    from scipy.sparse import csr_matrix

    n = len(w.indptr) - 1
    return csr_matrix((w.weights, w.indices, w.indptr), shape=(n, n))


def _esda_w(d):
    """The libpysal ``W`` of ``d["w"]``, built on the (untimed) warm-up call."""
    if "esda_w" not in d:
        from libpysal.weights import W

        d["esda_w"] = W.from_sparse(_sparse(d["w"]))
    return d["esda_w"]


def _esda_moran(d):
    import esda

    return esda.Moran(d["y"], _esda_w(d), permutations=NPERM).I


def _squidpy_moran(d, n_perms=NPERM):
    import squidpy as sq

    if "adata" not in d:
        import anndata as ad

        adata = ad.AnnData(d["y"][:, None])
        adata.obsp["knn"] = _sparse(d["w"])
        d["adata"] = adata
    return sq.gr.spatial_autocorr(d["adata"], connectivity_key="knn", mode="moran",
                                  n_perms=n_perms, seed=0, copy=True, n_jobs=-1,
                                  show_progress_bar=False)


def _setup_query(p):
    import anndata as ad
    import pandas as pd

    adata = ad.AnnData(_setup(p)["y"].astype(np.float32)[:, None])
    adata.var_names = ["mark"]
    adata.obsm["spatial"] = p.xy
    adata.obs["cell_type"] = pd.Categorical.from_codes(
        p.labels, categories=[f"type {i}" for i in range(p.n_labels)])
    return {"adata": adata}


def _query(d):
    import cytoql

    return cytoql.query(d["adata"], 'morans_i(expr("mark"), weights = knn, k = 6)').per_fov


def _squidpy_graph_and_moran(d):
    import squidpy as sq

    adata = d["adata"].copy()
    sq.gr.spatial_neighbors_knn(adata, n_neighs=K)
    return sq.gr.spatial_autocorr(adata, mode="moran", n_perms=None, copy=True, n_jobs=-1,
                                  show_progress_bar=False)


def _esda_knn_moran(d):
    import esda
    from libpysal.weights import KNN

    return esda.Moran(d["y"], KNN.from_array(d["xy"], k=K), permutations=0).I


CASES = [
    Case(f"Moran's I, {K}-NN weights given, {NPERM} permutations", _setup_weights,
         lambda d: ac.morans_i(d["y"], d["w"], nperm=NPERM, rng=np.random.default_rng(0)),
         {ESDA: _esda_moran, SQUIDPY: _squidpy_moran},
         baseline_max_n={ESDA: MAX_N, SQUIDPY: MAX_N}),
    Case(f"Moran's I, {K}-NN weights given, analytic p-values", _setup_weights,
         lambda d: ac.morans_i(d["y"], d["w"]),
         {SQUIDPY: lambda d: _squidpy_moran(d, None)}, target=">= 2x squidpy"),
    Case(f"{K}-NN weights + Moran's I (analytic p-values)", _setup,
         lambda d: ac.morans_i(d["y"], ac.knn_weights(d["xy"], K)),
         {ESDA_KNN: _esda_knn_moran}, baseline_max_n={ESDA_KNN: MAX_N}),
    Case(f"Moran's I through cytoql.query, {K}-NN weights built, analytic p-values",
         _setup_query, _query, {SQUIDPY_GRAPH: _squidpy_graph_and_moran}),
]
