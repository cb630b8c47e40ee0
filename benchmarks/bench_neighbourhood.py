"""Neighbourhood enrichment and co-occurrence: CytoQL against squidpy.

* Enrichment z-scores of the 7 cell types over squidpy's own 6-nearest-neighbour
  graph (``gr.spatial_neighbors_knn(n_neighs=6)``, built once in setup and given to
  both): label permutations, counts of label pairs over the graph's edges. squidpy
  runs its permutations on all cores (``n_jobs=-1``); its random stream differs
  (``RandomState``), so the z-scores agree within Monte Carlo error, not bit for bit.
  1000 permutations at every size (squidpy up to 100k), and 100 at 1M for both.
* The same through the language: ``cytoql.query(adata, "nhood_enrichment(cells, graph =
  knn, k = 6, nperm = 1000)")`` (graph built inside, per FOV, parse to pooled table),
  against squidpy building its graph too (``spatial_neighbors_knn`` + ``nhood_enrichment``),
  squidpy up to 100k.
* Co-occurrence ratios over 20 cumulative distance bins to 100 µm. squidpy's
  ``gr.co_occurrence`` visits every pair of cells (O(n²) time: minutes at 100k), so it
  runs up to 20k cells; CytoQL counts only pairs within the largest distance.
"""

from __future__ import annotations

import numpy as np
from harness import Case

from cytoql.kernels import neighbourhood

INTERVAL = np.linspace(0.0, 100.0, 21)
SQ_NHOOD = "squidpy gr.nhood_enrichment"
SQ_COOC = "squidpy gr.co_occurrence"
SQ_GRAPH_NHOOD = "squidpy spatial_neighbors_knn + nhood_enrichment"


def _adata(p):
    import anndata as ad
    import pandas as pd

    adata = ad.AnnData(np.zeros((len(p.xy), 1), dtype=np.float32))
    adata.obsm["spatial"] = p.xy
    adata.obs["cell_type"] = pd.Categorical.from_codes(
        p.labels, categories=[f"type {i}" for i in range(p.n_labels)])
    return adata


def _setup_graph(p):
    import squidpy as sq

    adata = _adata(p)
    sq.gr.spatial_neighbors_knn(adata, n_neighs=6)
    graph = adata.obsp["spatial_connectivities"].tocsr()
    return {"adata": adata, "indptr": graph.indptr, "indices": graph.indices,
            "labels": p.labels, "n_labels": p.n_labels}


def _setup_points(p):
    return {"adata": _adata(p), "xy": p.xy, "labels": p.labels, "n_labels": p.n_labels}


def _enrichment(n_perms):
    def ours(d):
        return neighbourhood.nhood_enrichment(d["indptr"], d["indices"], d["labels"],
                                              d["n_labels"], n_perms=n_perms,
                                              rng=np.random.default_rng(0))

    def squidpy(d):
        import squidpy as sq

        # threads, not loky: loky memory-maps large inputs read-only, which squidpy's
        # numba kernel rejects ("No matching definition ... readonly array") from 100k on
        return sq.gr.nhood_enrichment(d["adata"], cluster_key="cell_type", n_perms=n_perms,
                                      seed=0, copy=True, n_jobs=-1, backend="threading",
                                      show_progress_bar=False)

    return ours, squidpy


def _setup_query(p):
    return {"adata": _adata(p)}


def _query(d):
    import cytoql

    return cytoql.query(d["adata"], "nhood_enrichment(cells, graph = knn, k = 6, "
                        "nperm = 1000)").pool()


def _squidpy_graph_and_enrichment(d):
    import squidpy as sq

    adata = d["adata"].copy()
    sq.gr.spatial_neighbors_knn(adata, n_neighs=6)
    return sq.gr.nhood_enrichment(adata, cluster_key="cell_type", n_perms=1000, seed=0,
                                  copy=True, n_jobs=-1, backend="threading",
                                  show_progress_bar=False)


def _squidpy_co_occurrence(d):
    import squidpy as sq

    return sq.gr.co_occurrence(d["adata"], cluster_key="cell_type", interval=INTERVAL,
                               copy=True)


_ours_1000, _squidpy_1000 = _enrichment(1000)
_ours_100, _squidpy_100 = _enrichment(100)

CASES = [
    Case("nhood enrichment, 6-NN graph, 1000 permutations", _setup_graph, _ours_1000,
         {SQ_NHOOD: _squidpy_1000}, baseline_max_n={SQ_NHOOD: 100_000},
         target=">= 10x squidpy at 100k; 1M <= 12x the 100k time"),
    Case("nhood enrichment, 6-NN graph, 100 permutations", _setup_graph, _ours_100,
         {SQ_NHOOD: _squidpy_100}, sizes=(1_000_000,)),
    Case("nhood enrichment through cytoql.query, 6-NN graph built, 1000 permutations",
         _setup_query, _query, {SQ_GRAPH_NHOOD: _squidpy_graph_and_enrichment},
         baseline_max_n={SQ_GRAPH_NHOOD: 100_000}),
    Case("co-occurrence, 20 bins to 100 µm", _setup_points,
         lambda d: neighbourhood.co_occurrence(d["xy"], d["labels"], d["n_labels"], INTERVAL),
         {SQ_COOC: _squidpy_co_occurrence}, baseline_max_n={SQ_COOC: 20_000}),
]
