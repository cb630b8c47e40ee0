"""The spatial-autocorrelation cookbook page against esda and brute force.

Weights are rebuilt here from the kidney data with libpysal (``lat2W`` over tile counts
binned by hand, ``KNN``, ``DistanceBand``) and the statistics recomputed with esda
(``Moran``, ``Geary``, ``Moran_Local``, ``G_Local(star=True)``); the global statistics
are also recomputed from their definitions on dense weight matrices. Global statistics
do not pool (NaN pooled); summaries of local ones pool over the gathered cells.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from cookbook import cookbook
from kidney_reference import load_kidney, run_query

esda = pytest.importorskip("esda")
weights_lib = pytest.importorskip("libpysal.weights")


@pytest.fixture(scope="module")
def kidney():
    return load_kidney()


def _page():
    return cookbook("autocorrelation")


def test_every_query_of_the_page_is_checked():
    assert set(_page()) == set(CHECKS)


# ------------------------------------------------------------------ weights by hand


def _tile_counts(f, mask, size):
    """Counts of the cells of ``mask`` in tiles anchored at the window's lower left,
    partial edge tiles kept; row-major over (y row, x column)."""
    x0, y0, x1, y1 = f.window
    n_x, n_y = math.ceil((x1 - x0) / size), math.ceil((y1 - y0) / size)
    ix = np.clip(np.floor((f.xy[mask, 0] - x0) / size).astype(int), 0, n_x - 1)
    iy = np.clip(np.floor((f.xy[mask, 1] - y0) / size).astype(int), 0, n_y - 1)
    counts = np.zeros((n_y, n_x))
    np.add.at(counts, (iy, ix), 1)
    return counts


def _grid_w(shape, rook):
    return weights_lib.lat2W(shape[0], shape[1], rook=rook)


def _knn_w(xy, k):
    return weights_lib.KNN.from_array(xy, k=k, silence_warnings=True)


def _band_w(xy, r):
    return weights_lib.DistanceBand.from_array(xy, threshold=r, binary=True, silence_warnings=True)


def _dense(w):
    return np.asarray(w.sparse.todense(), float)


def _row(w):
    sums = w.sum(axis=1, keepdims=True)
    return np.divide(w, sums, out=np.zeros_like(w), where=sums > 0)


def _moran_by_definition(y, w):
    z = y - y.mean()
    return len(y) / w.sum() * (z @ w @ z) / (z @ z)


def _geary_by_definition(y, w):
    z = y - y.mean()
    diff = (y[:, None] - y[None, :]) ** 2
    return (len(y) - 1) * (w * diff).sum() / (2 * w.sum() * (z @ z))


# ----------------------------------------------------------------------- checking


def _check_per_fov(result, want, rel=1e-9):
    assert dict(result.per_fov) == pytest.approx(want, rel=rel)
    assert math.isnan(result.pool())  # NOT_POOLED


def check_moran_tiles_pct(adata, fovs, result):
    want = {}
    for f in fovs:
        counts = _tile_counts(f, f.t("PCT"), 50.0)
        w = _grid_w(counts.shape, rook=True)
        mine = esda.Moran(counts.ravel(), w, transformation="r", permutations=0)
        dense = _row(_dense(w))
        assert mine.I == pytest.approx(_moran_by_definition(counts.ravel(), dense), rel=1e-9)
        want[f.name] = mine.I
        assert mine.I > 0.2 and mine.p_rand < 1e-6  # tubules: clustered
    _check_per_fov(result, want)


def check_geary_tiles_macrophage(adata, fovs, result):
    want = {}
    for f in fovs:
        counts = _tile_counts(f, f.t("macrophage"), 100.0)
        w = _grid_w(counts.shape, rook=False)
        want[f.name] = esda.Geary(counts.ravel(), w, transformation="r", permutations=0).C
        assert want[f.name] == pytest.approx(
            _geary_by_definition(counts.ravel(), _row(_dense(w))), rel=1e-9)
    _check_per_fov(result, want)


def check_moran_b2m_knn(adata, fovs, result):
    want = {}
    for f in fovs:
        y = f.expr("B2M")
        w = _knn_w(f.xy, 6)
        want[f.name] = esda.Moran(y, w, transformation="r", permutations=0).I
        assert want[f.name] == pytest.approx(_moran_by_definition(y, _row(_dense(w))),
                                             rel=1e-9)
    _check_per_fov(result, want)


def check_geary_b2m_band(adata, fovs, result):
    want = {}
    for f in fovs:
        y = f.expr("B2M")
        w = _band_w(f.xy, 30.0)
        dense = ((f.d <= 30.0) & ~np.eye(f.n, dtype=bool)).astype(float)
        np.testing.assert_array_equal(_dense(w), dense)
        want[f.name] = esda.Geary(y, w, transformation="b", permutations=0).C
        assert want[f.name] == pytest.approx(_geary_by_definition(y, dense), rel=1e-9)
    _check_per_fov(result, want)


def check_moran_z_spp1_pct(adata, fovs, result):
    want = {}
    for f in fovs:
        pct = f.t("PCT")
        w = _knn_w(f.xy[pct], 10)
        want[f.name] = esda.Moran(f.expr("SPP1")[pct], w, transformation="r",
                                  permutations=0).z_norm
    _check_per_fov(result, want, rel=1e-7)


def check_geary_p_total_counts(adata, fovs, result):
    want = {}
    for f in fovs:
        g = esda.Geary(f.total, _band_w(f.xy, 25.0), transformation="r", permutations=0)
        want[f.name] = 2 * g.p_rand  # esda's Geary p is one-sided
    _check_per_fov(result, want, rel=1e-7)


def check_moran_tiles_permutation(adata, fovs, result):
    np.random.seed(1)  # esda's Moran permutes with numpy's global stream
    for f in fovs:
        counts = _tile_counts(f, f.t("PCT"), 50.0)
        theirs = esda.Moran(counts.ravel(), _grid_w(counts.shape, rook=True),
                            transformation="r", permutations=199)
        # both are at the floor 1/(nperm + 1): no permutation comes close to I
        assert theirs.p_sim == pytest.approx(1 / 200)
    _check_per_fov(result, {f.name: 1 / 200 for f in fovs})
    again = run_query(adata, _page()["moran_tiles_permutation"])
    assert dict(again.per_fov) == dict(result.per_fov)


def check_geary_permutation_krt17_podocyte(adata, fovs, result):
    np.random.seed(2)
    for f in fovs:
        pod = f.t("Podocyte")
        theirs = esda.Geary(f.expr("KRT17")[pod], _knn_w(f.xy[pod], 6), transformation="r",
                            permutations=999)
        got = result.per_fov[f.name]
        assert round(got * 1000) == pytest.approx(got * 1000)  # (1 + L) / (1 + 999)
        # two independent Monte-Carlo estimates of one p: within 4 sd of their difference
        sd = math.sqrt(2 * theirs.p_sim * (1 - theirs.p_sim) / 999)
        assert abs(got - theirs.p_sim) < 4 * sd
        assert abs(got - theirs.p_rand) < 4 * sd  # esda's analytic p is one-sided too
    assert math.isnan(result.pool())


def _local(f, y, statistic, w, transform="r"):
    if statistic == "moran":
        lisa = esda.Moran_Local(y, w, transformation=transform, permutations=0)
        z = (lisa.Is - lisa.EI) / np.sqrt(lisa.VI)
        return lisa.Is, z
    with warnings.catch_warnings():  # libpysal: "not fully connected" (sparse cells)
        warnings.simplefilter("ignore", UserWarning)
        star = weights_lib.fill_diagonal(w, 1.0)
    g = esda.G_Local(y, star, transform=transform.upper(), star=True, permutations=0)
    return g.Gs, g.Zs


def check_local_moran_b2m(adata, fovs, result):
    per = {}
    for f in fovs:
        y = f.expr("B2M")
        dense = _row(_dense(_knn_w(f.xy, 6)))
        z = y - y.mean()
        by_hand = (f.n - 1) * z * (dense @ z) / (z @ z)
        values, _ = _local(f, y, "moran", _knn_w(f.xy, 6))
        np.testing.assert_allclose(values, by_hand, rtol=1e-9)
        per[f.name] = values
    assert dict(result.per_fov) == pytest.approx({k: v.mean() for k, v in per.items()},
                                                 rel=1e-9)
    assert result.pool() == pytest.approx(np.concatenate(list(per.values())).mean(),
                                          rel=1e-9)


def check_gi_star_hot_b2m(adata, fovs, result):
    per = {}
    for f in fovs:
        _, z = _local(f, f.expr("B2M"), "gstar", _knn_w(f.xy, 6))
        per[f.name] = int(np.sum(z > 1.96))
    assert dict(result.per_fov) == per
    assert result.pool() == sum(per.values())
    assert all(v > 0 for v in per.values())


def check_gi_star_spp1_macrophage(adata, fovs, result):
    for f in fovs:
        m = f.t("macrophage")
        y = f.expr("SPP1")[m]
        w = _band_w(f.xy[m], 40.0)
        gs, z = _local(f, y, "gstar", w, transform="b")
        # by hand: binary band with the cell itself, share of the total
        dense = (f.d[np.ix_(m, m)] <= 40.0).astype(float)
        np.testing.assert_allclose(gs, dense @ y / y.sum(), rtol=1e-9)
        got = result.values[(result.fov == f.name).to_numpy()].to_numpy()
        np.testing.assert_allclose(got, z, rtol=1e-7, equal_nan=True)
    assert len(result.values) == sum(f.t("macrophage").sum() for f in fovs)


def check_lisa_significant_pct(adata, fovs, result):
    per = {}
    for f in fovs:
        _, z = _local(f, f.expr("B2M"), "moran", _knn_w(f.xy, 6))
        p = 2 * stats.norm.sf(np.abs(z))
        per[f.name] = int(np.sum(f.t("PCT") & (p < 0.05)))
    assert dict(result.per_fov) == per
    assert result.pool() == sum(per.values())


CHECKS = {name[len("check_"):]: fn for name, fn in dict(globals()).items()
          if name.startswith("check_")}


@pytest.mark.parametrize("entry", sorted(CHECKS))
def test_autocorrelation_cookbook_query_matches_esda(kidney, entry):
    adata, fovs = kidney
    CHECKS[entry](adata, fovs, run_query(adata, _page()[entry]))


# ------------------------------------------------------------------ runtime problems


def _codes(result):
    return [(w.code, w.message) for w in result.warnings]


def test_tiles_of_an_empty_set_warn_and_are_nan(kidney):
    adata, _ = kidney
    result = run_query(adata, 'morans_i(cells where type == "NK", size = 50 um)')
    assert math.isnan(result.per_fov["23"])  # FOV 23 has no NK cell
    assert ("W0501", "FOV 23: no cells to count in the tiles: the value is NaN") in \
        _codes(result)


def test_one_tile_has_no_neighbours(kidney):
    adata, _ = kidney
    result = run_query(adata, "morans_i(cells, size = 5000 um)")
    assert np.isnan(result.per_fov.to_numpy(float)).all()
    assert any(code == "W0501" and "with one tile: no neighbours" in message
               for code, message in _codes(result))


def test_too_few_cells_for_knn_warn_and_are_nan(kidney):
    adata, _ = kidney
    result = run_query(adata, 'morans_i(expr("B2M"), k = 6, over = cells where type == "NK")')
    assert np.isnan(result.per_fov.to_numpy(float)).all()
    assert ("W0501", "FOV 18: 1 cells with a value, k = 6 needs at least 7: NaN") in \
        _codes(result)
    local = run_query(adata, 'local_moran(expr("B2M"), over = cells where type == "NK")')
    assert local.values.isna().all()


def test_constant_values_make_the_statistic_undefined(kidney):
    adata, _ = kidney
    result = run_query(adata, 'gearys_c(expr("B2M") * 0, k = 3)')
    assert np.isnan(result.per_fov.to_numpy(float)).all()
    assert any(code == "W0501" and "Geary's C is undefined here" in message
               for code, message in _codes(result))
