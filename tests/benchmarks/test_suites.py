"""The benchmark suites run, and each baseline computes what its row claims.

A ratio means something only when both sides compute the same thing, so every
(case, baseline) pair is either compared here on a small tissue (``AGREE``) or listed
with the reason it differs (``DIFFERENT``, also stated in its suite's docstring).
Nothing here times anything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
N = 1500


@pytest.fixture(scope="module")
def harness():
    sys.path.insert(0, str(BENCH))  # the suites import ``harness`` as the runner does
    try:
        import harness

        yield harness
    finally:
        sys.path.remove(str(BENCH))


def _suites():
    return sorted(p.stem for p in BENCH.glob("bench_*.py")
                  if p.stem not in ("bench_compile", "bench_jit"))


@pytest.fixture(scope="module")
def tissue(harness, tmp_path_factory):
    return harness.tissue(N, "thomas", tmp_path_factory.mktemp("bench"))


def _case(harness, suite, name):
    return next(c for c in harness.load_module(suite).CASES if c.name == name)


def _run(harness, tissue, suite, name, baseline):
    case = _case(harness, suite, name)
    data = case.setup(tissue)
    return case.ours(data), case.baselines[baseline](data), data


# --------------------------------------------------------------- comparisons


def _same_triangles(ours, scipy_tri, data):
    simplices, rep = ours
    assert np.array_equal(rep, np.arange(data["n"]))  # the tissue has no duplicates
    assert np.array_equal(np.unique(np.sort(simplices, axis=1), axis=0),
                          np.unique(np.sort(scipy_tri.simplices, axis=1), axis=0))


def _same_delaunay(ours, scipy_tri, data):
    edges, lengths, degrees = ours
    tri = scipy_tri.simplices
    pairs = np.sort(tri[:, [0, 1, 1, 2, 0, 2]].reshape(-1, 2), axis=1)
    assert np.array_equal(edges, np.unique(pairs, axis=0))
    assert np.array_equal(degrees, np.bincount(edges.ravel(), minlength=data["n"]))
    assert np.allclose(lengths, np.hypot(*(data["xy"][edges[:, 0]] - data["xy"][edges[:, 1]]).T))


def _same_mst_length(ours, scipy_mst, data):
    xy = data["xy"]
    total = np.hypot(*(xy[ours[:, 0]] - xy[ours[:, 1]]).T).sum()
    assert scipy_mst.nnz == len(ours) == data["n"] - 1
    assert total == pytest.approx(scipy_mst.sum(), rel=1e-12)


def _same_clustering(ours, nx_clustering, data):
    assert np.allclose(ours, [nx_clustering[v] for v in range(data["n"])], rtol=0, atol=1e-12)


def _same_partition(labels, other):
    # two labellings are the same partition when label pairs map one to one
    pairs = np.unique(np.column_stack([labels, other]), axis=0)
    assert len(pairs) == len(np.unique(labels)) == len(np.unique(other))


def _same_components_scipy(ours, scipy_result, data):
    n_components, labels = scipy_result
    assert len(ours[1]) == n_components > 1
    _same_partition(ours[0], labels)


def _same_components_nx(ours, nx_sizes, data):
    assert sorted(ours[1].tolist()) == nx_sizes


def _same_areas(ours, shapely_result, data):
    clipped, areas = shapely_result
    assert np.allclose(ours.area, areas, rtol=1e-9, atol=0)
    assert ours.area.sum() == pytest.approx(np.prod(np.subtract(data["window"][2:],
                                                                 data["window"][:2])))


def _same_values(ours, theirs, data):
    assert np.allclose(ours, theirs, rtol=1e-12, atol=0)


def _same_clark_evans(ours, theirs, data):
    assert ours.r == pytest.approx(theirs, rel=1e-12)


def _same_g(ours, pointpats_g, data):
    # pointpats divides by the nearest distances inside the support, not by n:
    # its curve is CytoQL's G over G(max r); ties at a radius are measure zero here
    g, _ = ours
    _, theirs = pointpats_g
    assert 0.9 < g[-1] <= 1.0
    assert np.allclose(theirs[1:], g[1:] / g[-1], rtol=1e-12, atol=0)


def _same_labels(ours, sklearn_labels, data):
    labels, _ = ours
    assert labels.max() >= 1
    assert np.array_equal(labels, sklearn_labels)


def _same_quadrats(ours, theirs, data):
    assert np.array_equal(ours[0], theirs[0])
    assert ours[1] == pytest.approx(theirs[1], rel=1e-12)


def _same_moran(ours, theirs, data):
    assert ours.statistic == pytest.approx(theirs, rel=1e-10)


def _same_moran_squidpy(ours, frame, data):
    assert ours.statistic == pytest.approx(frame["I"].iloc[0], rel=1e-6)


def _same_edge_counts(ours, squidpy_result, data):
    assert np.array_equal(ours.counts, squidpy_result.counts)
    # different random streams: z-scores agree within Monte Carlo error only
    assert np.corrcoef(ours.zscore.ravel(), squidpy_result.zscore.ravel())[0, 1] > 0.95


def _same_co_occurrence(ours, squidpy_result, data):
    occ, _ = squidpy_result
    defined = np.isfinite(ours)
    assert defined.mean() > 0.9
    # squidpy measures distances in float32: pairs at a bin edge may change sides
    assert np.allclose(ours[defined], occ[defined], rtol=1e-3, atol=0)
    assert np.all(occ[~defined] == 0)


def _same_knn(ours, ckd_result, data):
    distances, _ = ours
    assert np.array_equal(distances, ckd_result[0][:, 1:])  # cKDTree's first hit: the cell


def _same_counts_without_self(ours, ckd_counts, data):
    assert np.array_equal(ours, ckd_counts - 1)


def _same_pair_totals(ours, ckd_totals, data):
    assert np.array_equal(ours.sum(axis=0), ckd_totals - data["ckd"].n)  # (i, i) pairs


def _same_curve(pooled, kernel_result, data):
    # the query pools K as pair sums over intensity, then takes the root: last-bit changes
    assert np.allclose(pooled["value"].to_numpy(), kernel_result[0], rtol=1e-12, atol=0)


def _same_envelope(ours, scipy_result, data):
    observed, lo, hi = scipy_result  # same draws; sums in another order
    assert np.allclose(ours.lo, lo, rtol=1e-12, atol=0)
    assert np.allclose(ours.hi, hi, rtol=1e-12, atol=0)
    assert ours.p_value is not None and np.isfinite(observed).all()


def _same_number(ours, theirs, data):
    assert ours == theirs


_QUERY_PATH = "bench_query_path"
_NND = "mean NND A -> nearest B through cytoql.query"
_NEAR = "fraction of A with a B within 30 µm through cytoql.query"

AGREE = {
    (_QUERY_PATH, "L through cytoql.query, 51 radii to 250 µm, translation",
     "CytoQL bare kernel"): _same_curve,
    (_QUERY_PATH, _NND, "CytoQL bare kernel"): _same_number,
    (_QUERY_PATH, _NND, "masks + cKDTree(B).query(A, workers=-1)"): _same_number,
    (_QUERY_PATH, _NND + ", outlines attached", "the same query, outlines deleted"):
        _same_number,
    (_QUERY_PATH, _NEAR, "CytoQL bare kernel"): _same_number,
    (_QUERY_PATH, _NEAR, "masks + cKDTree(B).query_ball_point(A, 30, return_length=True)"):
        _same_number,
    ("bench_envelopes", "L envelope, 100 CSR simulations, 51 radii, translation, against a "
     "scipy loop", "scipy loop: query_pairs + translation weights + histogram, 100 "
     "simulations"): _same_envelope,
    ("bench_spatial_index", "nearest other cell, index build included",
     "scipy cKDTree build + query(k=2, workers=-1)"): _same_knn,
    ("bench_spatial_index", "counts by type within 30 µm, index build included",
     "scipy cKDTree build + query_pairs + bincount"): _same_values,
    ("bench_spatial_index", "knn k=1 (nearest other cell)", "scipy cKDTree"): _same_knn,
    ("bench_spatial_index", "knn k=10", "scipy cKDTree"): _same_knn,
    ("bench_spatial_index", "count within 30 µm", "scipy cKDTree"): _same_counts_without_self,
    ("bench_spatial_index", "count by label within 30 µm", "scipy cKDTree + bincount"):
        _same_values,
    ("bench_spatial_index", "cumulative counts, 50 radii to 100 µm",
     "scipy count_neighbors (totals only)"): _same_pair_totals,
    ("bench_graphs", "Delaunay triangulation", "scipy Delaunay (Qhull)"): _same_triangles,
    ("bench_graphs", "Delaunay edges + lengths + degrees", "scipy Delaunay alone"):
        _same_delaunay,
    ("bench_graphs", "Euclidean MST (via Delaunay)", "scipy Delaunay + csgraph MST"):
        _same_mst_length,
    ("bench_graphs", "clustering coefficient, Delaunay graph", "networkx (graph prebuilt)"):
        _same_clustering,
    ("bench_graphs", "connected components, 20 µm radius graph", "scipy csgraph"):
        _same_components_scipy,
    ("bench_graphs", "connected components, 20 µm radius graph", "networkx (graph prebuilt)"):
        _same_components_nx,
    ("bench_tessellation", "clipped Voronoi cells + areas", "shapely voronoi_polygons + clip"):
        _same_areas,
    ("bench_nearest_neighbour", "nearest other cell, all cells", "scipy cKDTree build + query"):
        _same_values,
    ("bench_nearest_neighbour", "Clark–Evans R (no correction)", "scipy cKDTree + numpy"):
        _same_clark_evans,
    ("bench_nearest_neighbour", "G function, 50 radii, no correction", "pointpats g"): _same_g,
    ("bench_clusters", "DBSCAN eps=15 µm, min_samples=5", "scikit-learn DBSCAN"): _same_labels,
    ("bench_quadrats", "quadrat counts (30 µm tiles) + VMR", "numpy histogram2d"):
        _same_quadrats,
    ("bench_autocorrelation", "Moran's I, 6-NN weights given, 99 permutations",
     "esda Moran (libpysal W prebuilt)"): _same_moran,
    ("bench_autocorrelation", "Moran's I, 6-NN weights given, 99 permutations",
     "squidpy gr.spatial_autocorr"): _same_moran_squidpy,
    ("bench_autocorrelation", "Moran's I, 6-NN weights given, analytic p-values",
     "squidpy gr.spatial_autocorr"): _same_moran_squidpy,
    ("bench_autocorrelation", "6-NN weights + Moran's I (analytic p-values)",
     "libpysal KNN + esda Moran"): _same_moran,
    ("bench_neighbourhood", "nhood enrichment, 6-NN graph, 1000 permutations",
     "squidpy gr.nhood_enrichment"): _same_edge_counts,
    ("bench_neighbourhood", "co-occurrence, 20 bins to 100 µm", "squidpy gr.co_occurrence"):
        _same_co_occurrence,
}

DIFFERENT = {
    ("bench_spatial_index", "build", "scipy cKDTree"): "two tree layouts; queries compare them",
    ("bench_ripley", "L, 50 radii, translation", "squidpy gr.ripley (no correction)"):
        "no edge correction, d < r, convex-hull area",
    ("bench_ripley", "L, 50 radii, translation", "pointpats l (no correction)"):
        "no edge correction, d < r, bounding-box area",
    ("bench_ripley", "cross-type K, 2 commonest types, 50 radii, translation",
     "scipy count_neighbors (no correction)"): "pair totals, no edge correction",
    ("bench_envelopes", "L envelope, 100 CSR simulations, 50 radii, translation",
     "pointpats l_test, 100 simulations (no correction)"):
        "uncorrected L, its own random stream",
    ("bench_envelopes", "L envelope, 99 CSR simulations, 51 radii, through cytoql.query",
     "scipy loop: query_pairs + translation weights + histogram, 100 simulations"):
        "the query draws its own stream per (seed, sample, FOV, feature), 99 simulations; "
        "the kernel case checks the same envelope against the loop",
    ("bench_neighbourhood", "nhood enrichment, 6-NN graph, 100 permutations",
     "squidpy gr.nhood_enrichment"): "the 1000-permutation case checks the same code",
    ("bench_neighbourhood",
     "nhood enrichment through cytoql.query, 6-NN graph built, 1000 permutations",
     "squidpy spatial_neighbors_knn + nhood_enrichment"):
        "each builds its own 6-NN graph; the prebuilt-graph case checks the counts",
    ("bench_autocorrelation",
     "Moran's I through cytoql.query, 6-NN weights built, analytic p-values",
     "squidpy spatial_neighbors_knn + spatial_autocorr"):
        "one-sided kNN weights against squidpy's own graph; the weights-given cases agree",
}


def _pairs(harness):
    return {(suite, case.name, baseline)
            for suite in _suites() for case in harness.load_module(suite).CASES
            for baseline in case.baselines}


def test_every_baseline_is_compared_or_its_difference_stated(harness):
    pairs = _pairs(harness)
    assert pairs == set(AGREE) | set(DIFFERENT)
    assert not set(AGREE) & set(DIFFERENT)


@pytest.mark.parametrize("key", sorted(AGREE), ids=lambda k: f"{k[0]}: {k[1]} vs {k[2]}")
def test_baseline_computes_the_same_thing(harness, tissue, key):
    ours, theirs, data = _run(harness, tissue, *key)
    AGREE[key](ours, theirs, data)


def test_every_case_runs_on_a_small_tissue(harness, tissue):
    for suite in _suites():
        for case in harness.load_module(suite).CASES:
            if not any(k[:2] == (suite, case.name) for k in AGREE):
                case.ours(case.setup(tissue))


def test_jit_snippets_call_every_public_kernel(harness, tmp_path):
    jit = harness.load_module("bench_jit")
    for module, calls in jit.CALLS.items():
        public = __import__(f"cytoql.kernels.{module}", fromlist=["__all__"]).__all__
        callables = [name for name in public if name[0].islower() and name.upper() != name]
        missing = [name for name in callables if f"m.{name}(" not in calls]
        assert not missing, f"bench_jit does not call {module}.{missing}"
    code = "\n".join(jit.PRELUDE.format(module=m) + jit.CALLS[m] for m in jit.CALLS)
    # run outside the checkout, whose source tree would shadow the installed package
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
