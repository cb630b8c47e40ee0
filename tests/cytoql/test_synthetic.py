"""The synthetic tissue generator: determinism, layout, point-process properties."""

from __future__ import annotations

import importlib
import math

import anndata as ad
import numpy as np
import pytest
import shapely
import shapely.affinity
from scipy.spatial import cKDTree
from scipy.stats import ks_2samp, kstest

from cytoql.data import Sample
from cytoql.datasets import (
    BACKGROUND_RATE,
    DEFAULT_CELL_TYPES,
    DEFAULT_TUMOUR_TYPES,
    MARKER_RATE,
    MARKERS,
    MAX_PACKING,
    PROCESSES,
    synthetic,
)

# The package re-exports the function under the module's name; patch the module itself.
_MODULE = importlib.import_module("cytoql.datasets.synthetic")
W, H = 1000.0, 1000.0


def _assert_same(a: ad.AnnData, b: ad.AnnData) -> None:
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.obsm["spatial"], b.obsm["spatial"])
    assert a.obs.equals(b.obs)
    assert list(a.var_names) == list(b.var_names)
    assert _uns_equal(a.uns, b.uns)
    assert set(a.obsm) == set(b.obsm)
    for key in a.obsm:
        np.testing.assert_array_equal(a.obsm[key], b.obsm[key])


def _uns_equal(a, b) -> bool:
    """Equality that treats h5ad's arrays and our lists of the same values as equal."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(_uns_equal(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        x, y = np.asarray(a), np.asarray(b)
        return x.shape == y.shape and bool(np.all(x == y))
    return a == b


def _clark_evans(xy: np.ndarray, area: float, perimeter: float):
    """Clark-Evans R and the z-score of the mean NND under CSR, with Donnelly's correction.

    Donnelly (1978) for n points in a rectangle of area A and perimeter P:
    E[mean NND] ~ 0.5 sqrt(A/n) + (0.0514 + 0.041/sqrt(n)) P/n and
    Var[mean NND] ~ 0.0703 A/n^2 + 0.037 P sqrt(A/n^5); this removes the edge bias that
    makes the uncorrected R of a CSR pattern slightly > 1.
    """
    n = len(xy)
    nnd = cKDTree(xy).query(xy, k=2)[0][:, 1]
    mean = nnd.mean()
    expected = 0.5 * math.sqrt(area / n) + (0.0514 + 0.041 / math.sqrt(n)) * perimeter / n
    sd = math.sqrt(0.0703 * area / n**2 + 0.037 * perimeter * math.sqrt(area / n**5))
    return mean / (0.5 / math.sqrt(n / area)), (mean - expected) / sd


# --- determinism ------------------------------------------------------------------


@pytest.mark.parametrize("process", PROCESSES)
def test_same_seed_gives_bit_identical_data(process):
    kwargs = dict(process=process, seed=7, n_fovs=2, polygons=process == "compartments")
    _assert_same(synthetic(1500, **kwargs), synthetic(1500, **kwargs))


@pytest.mark.parametrize("process", PROCESSES)
def test_different_seeds_give_different_data(process):
    a = synthetic(500, process=process, seed=1)
    b = synthetic(500, process=process, seed=2)
    assert not np.array_equal(a.obsm["spatial"], b.obsm["spatial"])
    assert not np.array_equal(a.X, b.X)


def test_a_fov_does_not_depend_on_the_number_of_fovs():
    two = synthetic(2000, process="thomas", n_fovs=2, seed=3)
    three = synthetic(3000, process="thomas", n_fovs=3, seed=3)
    first = slice(0, 1000)
    np.testing.assert_array_equal(two.obsm["spatial"][first], three.obsm["spatial"][first])
    np.testing.assert_array_equal(two.X[first], three.X[first])


def test_no_global_random_state_is_used():
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    synthetic(300, process="matern", seed=4)
    assert np.random.random() == before


# --- layout, keys and dtypes ------------------------------------------------------


def test_layout_keys_and_dtypes():
    adata = synthetic(1001, n_fovs=3, seed=0)
    assert adata.shape == (1001, len(MARKERS))
    assert list(adata.var_names) == list(MARKERS)
    assert adata.X.dtype == np.float32
    assert list(adata.obs_names[:2]) == ["cell_0", "cell_1"] and adata.obs_names.is_unique
    assert adata.obs["cell_type"].dtype == "category"
    assert list(adata.obs["cell_type"].cat.categories) == list(DEFAULT_CELL_TYPES)
    assert list(adata.obs["fov"].cat.categories) == ["0", "1", "2"]
    assert adata.obs["fov"].value_counts(sort=False).tolist() == [334, 334, 333]
    np.testing.assert_array_equal(adata.obs["total_counts"], adata.X.sum(axis=1))
    assert adata.obs["total_counts"].dtype == np.float64
    xy = adata.obsm["spatial"]
    assert xy.shape == (1001, 2) and xy.dtype == np.float64
    assert adata.uns["spatial_unit"] == "um"
    # Two FOVs per row (ceil(sqrt(3))), edge to edge.
    assert adata.uns["fov_windows"] == {"0": [0.0, 0.0, W, H], "1": [W, 0.0, 2 * W, H],
                                        "2": [0.0, H, W, 2 * H]}
    for name, (xmin, ymin, xmax, ymax) in adata.uns["fov_windows"].items():
        pts = xy[(adata.obs["fov"] == name).to_numpy()]
        assert ((pts >= [xmin, ymin]) & (pts <= [xmax, ymax])).all()
    params = adata.uns["synthetic"]
    assert params["process"] == "csr" and params["seed"] == 0 and params["n_cells"] == 1001
    assert params["cell_types"] == list(DEFAULT_CELL_TYPES)


@pytest.mark.parametrize("process", PROCESSES)
def test_every_process_round_trips_through_h5ad(process, tmp_path):
    adata = synthetic(300, process=process, n_fovs=2, seed=11)
    path = tmp_path / f"{process}.h5ad"
    adata.write_h5ad(path)
    back = ad.read_h5ad(path)
    _assert_same(back, adata)
    assert back.uns["synthetic"]["process"] == process


def test_sample_reads_synthetic_data_without_assumptions():
    adata = synthetic(600, process="hardcore", n_fovs=2, seed=5, fov_size=(400.0, 300.0))
    sample = Sample.from_anndata(adata)
    assert sample.n_cells == 600
    assert [f.name for f in sample.fovs] == ["0", "1"]
    assert sample.fov("1").window.as_tuple() == (400.0, 0.0, 800.0, 300.0)
    assert sample.fov("1").window.source == "metadata"
    assert not sample.scale.assumed and sample.assumptions == ()
    assert sample.genes == list(MARKERS)


def test_custom_cell_types_and_proportions():
    adata = synthetic(4000, cell_types=["A", "B"], proportions=[0.9, 0.1], seed=2)
    assert list(adata.obs["cell_type"].cat.categories) == ["A", "B"]
    share = (adata.obs["cell_type"] == "A").mean()
    assert abs(share - 0.9) < 4 * math.sqrt(0.9 * 0.1 / 4000)
    # Types outside the marker panel express every gene at the background rate.
    assert adata.X.mean() < 2 * BACKGROUND_RATE


def test_zero_cells_gives_an_empty_but_complete_dataset():
    adata = synthetic(0, process="thomas", n_fovs=2, polygons=True)
    assert adata.shape == (0, len(MARKERS))
    assert adata.obsm["spatial"].shape == (0, 2)
    assert set(adata.uns["fov_windows"]) == {"0", "1"}


# --- point processes --------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_csr_clark_evans_is_one(seed):
    adata = synthetic(2000, process="csr", seed=seed)
    r, z = _clark_evans(adata.obsm["spatial"], W * H, 2 * (W + H))
    # 4 standard errors of the edge-corrected mean NND: sd/E ~ 0.136/11.29, so |R - 1|
    # stays below ~0.05 beyond the ~0.01 edge bias; z is the sharper check.
    assert abs(z) < 4
    assert abs(r - 1) < 0.07


def test_csr_nnd_z_scores_are_standard_normal_over_seeds():
    z = np.array([_clark_evans(synthetic(500, seed=s).obsm["spatial"], W * H,
                               2 * (W + H))[1] for s in range(40)])
    # Under CSR z ~ N(0, 1): the mean of 40 has sd 0.16, so 0.63 is 4 sd; the sample sd
    # of 40 standard normals lies in [0.7, 1.3] with probability > 0.999.
    assert abs(z.mean()) < 0.63
    assert 0.7 < z.std(ddof=1) < 1.3


def _ripley_k_translation(xy: np.ndarray, r: float, width: float, height: float) -> float:
    """Ripley's K at r with the translation edge correction, by brute force."""
    n = len(xy)
    pairs = cKDTree(xy).query_pairs(r, output_type="ndarray")
    dx, dy = np.abs(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T
    weights = width * height / ((width - dx) * (height - dy))
    return width * height / (n * (n - 1)) * 2 * weights.sum()


def test_thomas_ripley_k_matches_theory():
    """K(r) = pi r^2 + (1 - exp(-r^2 / (4 sigma^2))) / kappa for a Thomas process.

    At r = 2 sigma the cluster term is 2.2 times pi r^2, and a sigma off by sqrt(2)
    would move K by 26 %. Each pattern has ~100 clusters, so K varies by ~10 % per
    seed; the mean over 8 seeds has a standard error of ~4 %, the tolerance is 15 %.
    """
    sigma, n_clusters, r = 15.0, 100, 30.0
    kappa = n_clusters / (W * H)
    expected = math.pi * r**2 + (1 - math.exp(-r**2 / (4 * sigma**2))) / kappa
    k = np.mean([_ripley_k_translation(
        synthetic(4000, process="thomas", n_clusters=n_clusters, cluster_scale=sigma,
                  seed=s).obsm["spatial"], r, W, H) for s in range(8)])
    assert k == pytest.approx(expected, rel=0.15)


def test_thomas_conditioning_matches_rejection_sampling(monkeypatch):
    """Exact truncated-normal sampling equals proposing offspring and keeping those in W."""
    parents = np.array([[50.0, -20.0], [130.0, 60.0]])  # one below, one right of W
    monkeypatch.setattr(_MODULE, "_parents", lambda rng, n_clusters, window, expand: parents)
    window, sigma = (0.0, 0.0, 100.0, 50.0), 25.0
    fast = synthetic(20000, process="thomas", cluster_scale=sigma, fov_size=window[2:],
                     seed=1).obsm["spatial"]
    rng = np.random.default_rng(2)
    slow = parents[rng.integers(2, size=200000)] + sigma * rng.standard_normal((200000, 2))
    slow = slow[((slow >= 0) & (slow <= window[2:])).all(axis=1)]
    for stat in (lambda p: p[:, 0], lambda p: p[:, 1], lambda p: p[:, 0] * p[:, 1]):
        assert ks_2samp(stat(fast), stat(slow)).pvalue > 1e-3


def test_matern_offspring_are_uniform_in_the_disc(monkeypatch):
    """Around one parent, (d / R)^2 and the angle are uniform: the disc is filled evenly."""
    parent = np.array([[500.0, 300.0]])
    monkeypatch.setattr(_MODULE, "_parents", lambda rng, n_clusters, window, expand: parent)
    radius = 40.0
    xy = synthetic(5000, process="matern", cluster_scale=radius, seed=3).obsm["spatial"]
    offset = xy - parent
    assert np.hypot(*offset.T).max() <= radius
    assert kstest((np.hypot(*offset.T) / radius) ** 2, "uniform").pvalue > 1e-3
    angle = (np.arctan2(offset[:, 1], offset[:, 0]) + np.pi) / (2 * np.pi)
    assert kstest(angle, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("process", ["thomas", "matern"])
def test_cluster_processes_are_clustered(process):
    adata = synthetic(2000, process=process, seed=0, n_clusters=25, cluster_scale=25.0)
    r, z = _clark_evans(adata.obsm["spatial"], W * H, 2 * (W + H))
    # About 80 offspring within ~25 um of each parent: the NND shrinks by about half.
    assert r < 0.75
    assert z < -20
    params = adata.uns["synthetic"]
    assert params["parent_intensity"] == 25 / (W * H)
    assert params["mean_offspring"] == 2000 / 25


def test_matern_offspring_lie_within_R_of_some_parent_cluster():
    """With few clusters the pattern covers a small part of the window (discs of R)."""
    adata = synthetic(3000, process="matern", seed=1, n_clusters=3, cluster_scale=40.0)
    xy = adata.obsm["spatial"]
    # Points within one cluster are at most 2R apart; few clusters leave most of a
    # 50 um grid empty.
    occupied = np.unique(np.floor(xy / 50.0), axis=0)
    assert len(occupied) < 0.1 * (W / 50) * (H / 50)


def test_thomas_stays_inside_the_window_with_far_parents():
    # sigma comparable to the window: many parents outside, truncated sampling must hold.
    adata = synthetic(3000, process="thomas", seed=2, n_clusters=1,
                      cluster_scale=300.0, fov_size=(200.0, 100.0))
    xy = adata.obsm["spatial"]
    assert ((xy >= 0) & (xy <= [200.0, 100.0])).all()
    assert len(np.unique(xy, axis=0)) == 3000


@pytest.mark.parametrize("d,n_fovs", [(8.0, 1), (20.0, 2)])
def test_hardcore_has_no_pair_closer_than_d(d, n_fovs):
    n_per_fov = int(0.4 * 4 * W * H / (math.pi * d * d))  # packing fraction 0.4
    adata = synthetic(n_per_fov * n_fovs, process="hardcore", hardcore_distance=d,
                      n_fovs=n_fovs, seed=3)
    assert adata.obs["fov"].value_counts().tolist() == [n_per_fov] * n_fovs
    for name in adata.obs["fov"].cat.categories:
        xy = adata.obsm["spatial"][(adata.obs["fov"] == name).to_numpy()]
        pairs = cKDTree(xy).query_pairs(d, output_type="ndarray")
        if len(pairs):
            assert np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T).min() >= d


def test_hardcore_is_regular():
    adata = synthetic(2000, process="hardcore", hardcore_distance=15.0, seed=4)
    r, z = _clark_evans(adata.obsm["spatial"], W * H, 2 * (W + H))
    assert r > 1.2 and z > 10


def test_hardcore_rejects_an_impossible_density():
    d = 10.0
    limit = int(MAX_PACKING * 4 * W * H / (math.pi * d * d))
    synthetic(limit, process="hardcore", hardcore_distance=d, seed=0)
    with pytest.raises(ValueError, match=r"packing fraction 0\.4\d\d > 0\.45; use at most "
                                         rf"{limit} cells per FOV"):
        synthetic(limit + 1, process="hardcore", hardcore_distance=d)


def test_compartments_put_tumour_types_inside_islands():
    adata = synthetic(4000, process="compartments", n_fovs=2, seed=6)
    params = adata.uns["synthetic"]
    assert params["tumour_types"] == list(DEFAULT_TUMOUR_TYPES)
    tumour_type = adata.obs["cell_type"].isin(DEFAULT_TUMOUR_TYPES).to_numpy()
    inside = np.zeros(adata.n_obs, dtype=bool)
    for fov, discs in params["islands"].items():
        rows = np.flatnonzero((adata.obs["fov"] == fov).to_numpy())
        discs = np.asarray(discs)
        assert discs.shape == (params["n_islands"], 3)
        r = discs[:, 2] / params["island_radius"]
        assert ((r >= 0.75) & (r <= 1.25)).all()
        d = np.hypot(*(adata.obsm["spatial"][rows, None, :] - discs[None, :, :2]).T)
        inside[rows] = (d.T <= discs[:, 2]).any(axis=1)
    np.testing.assert_array_equal(tumour_type, inside)
    np.testing.assert_array_equal(adata.obs["compartment"] == "tumour", inside)
    assert 0.05 < inside.mean() < 0.6
    # Within each group the mixture follows the renormalised proportions.
    share = (adata.obs["cell_type"][inside] == "Tumour").mean()
    assert abs(share - 0.25 / 0.40) < 0.06


@pytest.mark.parametrize("gene", list(MARKERS))
def test_marker_expression_selects_its_cell_types(gene):
    adata = synthetic(5000, process="csr", seed=8)
    values = adata[:, gene].X.ravel()
    expressing = adata.obs["cell_type"].isin(MARKERS[gene]).to_numpy()
    assert abs(values[expressing].mean() - MARKER_RATE) < 0.5
    assert abs(values[~expressing].mean() - BACKGROUND_RATE) < 0.05
    # expr(gene) > 2: P(Poisson(8) <= 2) = 0.014, P(Poisson(0.3) > 2) = 0.0036.
    assert (values[expressing] > 2).mean() > 0.97
    assert (values[~expressing] > 2).mean() < 0.01


# --- polygons ---------------------------------------------------------------------


def test_polygons_contain_their_cells_and_tile_the_window(tmp_path):
    adata = synthetic(800, process="compartments", n_fovs=2, seed=9, polygons=True)
    polys = Sample.from_anndata(adata).polygons()
    xy = adata.obsm["spatial"]
    assert all(p is not None and p.is_valid for p in polys)
    assert shapely.contains_xy(np.array(polys, dtype=object), xy[:, 0], xy[:, 1]).all()
    np.testing.assert_allclose(adata.obs["area"], shapely.area(polys))
    for fov, window in adata.uns["fov_windows"].items():
        rows = np.flatnonzero((adata.obs["fov"] == fov).to_numpy())
        box = shapely.box(*window)
        assert all(box.contains(polys[i]) for i in rows)
        # Voronoi cells tile the window; shrinking by 0.9 scales each area by 0.81.
        assert adata.obs["area"].iloc[rows].sum() == pytest.approx(0.81 * box.area)

    path = tmp_path / "synthetic.h5ad"
    adata.write_h5ad(path)
    back = ad.read_h5ad(path)
    np.testing.assert_array_equal(back.obsm["polygons"], adata.obsm["polygons"])
    np.testing.assert_array_equal(back.obsm["spatial"], adata.obsm["spatial"])
    assert back.obs.equals(adata.obs)
    assert _uns_equal(back.uns, adata.uns)


def test_a_single_cell_fov_gets_the_shrunk_window():
    adata = synthetic(2, n_fovs=2, seed=0, polygons=True, fov_size=(100.0, 50.0))
    polys = Sample.from_anndata(adata).polygons()
    for i, window in enumerate(adata.uns["fov_windows"].values()):
        x, y = adata.obsm["spatial"][i]
        expected = shapely.affinity.scale(shapely.box(*window), 0.9, 0.9, origin=(x, y))
        assert polys[i].symmetric_difference(expected).area < 1e-9
        assert adata.obs["area"].iloc[i] == pytest.approx(0.81 * 100.0 * 50.0)


# --- argument errors --------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_cells=-1), r"n_cells must be >= 0, got -1"),
        (dict(process="hard-core"),
         r"unknown process 'hard-core' \(did you mean 'hardcore'\?\); valid processes: "
         r'"csr", "thomas", "matern", "hardcore", "compartments"'),
        (dict(process="poisson"), r"unknown process 'poisson'; valid processes: \"csr\""),
        (dict(proportions=[0.5, 0.5]),
         r"proportions must have one value per cell type \(7: \"Tumour\", .*\), got 2"),
        (dict(cell_types=["A", "B"], proportions=[0.5, 0.6]),
         r"proportions must sum to 1, got sum 1\.1"),
        (dict(cell_types=["A", "B"], proportions=[1.5, -0.5]),
         r"proportions must be finite and >= 0"),
        (dict(cell_types=["A", "A"]), r'cell_types must be distinct; repeated: "A"'),
        (dict(cell_types="T cell"), r"cell_types must be a sequence of names"),
        (dict(n_fovs=0), r"n_fovs must be >= 1, got 0"),
        (dict(seed=-3), r"seed must be >= 0, got -3"),
        (dict(fov_size=(100.0,)), r"fov_size must be \(width, height\) in um"),
        (dict(fov_size=(100.0, 0.0)), r"fov_size height must be a finite number > 0"),
        (dict(process="thomas", cluster_scale=float("nan")),
         r"cluster_scale must be a finite number > 0, got nan"),
        (dict(process="hardcore", hardcore_distance=-1.0),
         r"hardcore_distance must be a finite number > 0, got -1\.0"),
        (dict(process="compartments", tumour_types=["Tumor"]),
         r'tumour_types "Tumor" not in cell_types'),
        (dict(process="compartments", tumour_types=list(DEFAULT_CELL_TYPES)),
         r"tumour_types must be a non-empty proper subset of cell_types"),
        (dict(process="compartments", cell_types=["A", "B"]),
         r"process 'compartments' needs tumour_types"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    kwargs = {"n_cells": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        synthetic(**kwargs)


@pytest.mark.parametrize("kwargs", [dict(n_cells=10.0), dict(n_cells=True), dict(seed="1")])
def test_non_integer_counts_raise_type_error(kwargs):
    kwargs = {"n_cells": 10, **kwargs}
    with pytest.raises(TypeError, match="must be an integer"):
        synthetic(**kwargs)
