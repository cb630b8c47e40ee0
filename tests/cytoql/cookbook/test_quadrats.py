"""The quadrat cookbook page against brute force.

Tiles are counted with ``numpy.histogram2d`` over edges ``xmin + k·size`` (the last
edge the window's max, so the last row and column are the partial tiles; histogram2d's
last bin is closed like the kernel's). VMR, Morisita and the maximum are written out
from their definitions; the χ² statistic as Σ (n − E)² / E with E proportional to tile
area, and with whole tiles only as ``scipy.stats.chisquare``. Pooled values are
recomputed from the gathered tiles of both FOVs (summed X² and df for the test). The
tile counts are checked once against pointpats' ``RectangleM`` too.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

import cytoql
from cookbook import cookbook
from cytoql.diagnostics.codes import CODES
from kidney_reference import load_kidney, run_query
from strategies import labelled_points


@pytest.fixture(scope="module")
def kidney():
    return load_kidney()


def _page():
    return cookbook("quadrats")


def _tiles(f, mask, size, edge="keep"):
    """(counts, areas) of one FOV's tiles, row-major from the lower-left corner."""
    x0, y0, x1, y1 = f.window
    nx = max(1, math.ceil((x1 - x0) / size - 1e-9))
    ny = max(1, math.ceil((y1 - y0) / size - 1e-9))
    xe = np.append(x0 + size * np.arange(nx), x1)
    ye = np.append(y0 + size * np.arange(ny), y1)
    counts, _, _ = np.histogram2d(f.xy[mask, 1], f.xy[mask, 0], bins=(ye, xe))
    dx, dy = np.diff(xe), np.diff(ye)
    areas = np.outer(dy, dx)
    if edge == "drop":
        whole = np.outer(dy >= size * (1 - 1e-9), dx >= size * (1 - 1e-9))
        return counts[whole], areas[whole]
    return counts.ravel(), areas.ravel()


def _vmr(c):
    return np.sum((c - c.mean()) ** 2) / (len(c) - 1) / c.mean()


def _morisita(c):
    n = c.sum()
    return len(c) * np.sum(c * (c - 1)) / (n * (n - 1))


def _chi2(c, a):
    e = c.sum() * a / a.sum()
    return np.sum((c - e) ** 2 / e), len(c) - 1


def _check_gathered(fovs, result, mask_of, size, edge, statistic):
    per, gathered = {}, []
    for f in fovs:
        c, _ = _tiles(f, mask_of(f), size, edge)
        per[f.name] = statistic(c)
        gathered.append(c)
    assert dict(result.per_fov) == pytest.approx(per, rel=1e-12)
    assert result.pool() == pytest.approx(statistic(np.concatenate(gathered)), rel=1e-12)


def _p(x2, df, alternative):
    upper, lower = stats.chi2.sf(x2, df), stats.chi2.cdf(x2, df)
    return {"clustered": upper, "regular": lower,
            "two_sided": min(1.0, 2 * min(upper, lower))}[alternative]


def _check_test(fovs, result, mask_of, size, edge, value, alternative="two_sided"):
    per, x_tot, df_tot = {}, 0.0, 0
    for f in fovs:
        c, a = _tiles(f, mask_of(f), size, edge)
        x2, df = _chi2(c, a)
        if edge == "drop":  # equal tiles: the textbook test with equal expected counts
            want = stats.chisquare(c)
            assert x2 == pytest.approx(want.statistic, rel=1e-12)
            assert stats.chi2.sf(x2, df) == pytest.approx(want.pvalue, rel=1e-9)
        per[f.name] = x2 if value == "statistic" else _p(x2, df, alternative)
        x_tot, df_tot = x_tot + x2, df_tot + df
    pooled = x_tot if value == "statistic" else _p(x_tot, df_tot, alternative)
    assert dict(result.per_fov) == pytest.approx(per, rel=1e-9)
    assert result.pool() == pytest.approx(pooled, rel=1e-9)


def _t(name):
    return lambda f: f.t(name)


def _all(f):
    return np.ones(f.n, bool)


def test_every_query_of_the_page_is_checked():
    assert set(_page()) == set(CHECKS)


def check_quadrat_vmr_pct(fovs, result):
    _check_gathered(fovs, result, _t("PCT"), 30.0, "keep", _vmr)
    assert result.unit == ""


def check_quadrat_max_macrophage(fovs, result):
    _check_gathered(fovs, result, _t("macrophage"), 50.0, "keep", np.max)
    assert result.unit == "cells"


def check_quadrat_morisita_podocyte_drop(fovs, result):
    _check_gathered(fovs, result, _t("Podocyte"), 40.0, "drop", _morisita)


def check_quadrat_test_pct(fovs, result):
    _check_test(fovs, result, _t("PCT"), 50.0, "keep", "p_value")
    # PCT cells line tubules: far from CSR
    assert result.pool() < 1e-6


def check_quadrat_chisq_all_drop(fovs, result):
    _check_test(fovs, result, _all, 100.0, "drop", "statistic")


def check_quadrat_test_podocyte_clustered(fovs, result):
    _check_test(fovs, result, _t("Podocyte"), 100.0, "keep", "p_value", "clustered")


def check_quadrat_vmr_mesangial_alias(fovs, result):
    _check_gathered(fovs, result, _t("Mesangial.cell"), 60.0, "keep", _vmr)


def check_quadrat_morisita_all(fovs, result):
    _check_gathered(fovs, result, _all, 25.0, "keep", _morisita)


def check_quadrat_vmr_by_type(fovs, result):
    per, gathered = {}, {}
    for f in fovs:
        for t in np.unique(np.concatenate([g.type for g in fovs])):
            c, _ = _tiles(f, f.t(t), 50.0)
            per[(f.name, t)] = _vmr(c) if c.sum() else np.nan
            gathered.setdefault(t, []).append(c)
    got = dict(result.per_fov)
    assert got.keys() == per.keys()
    for key, want in per.items():
        assert got[key] == pytest.approx(want, rel=1e-12, nan_ok=True), key
    pooled = result.pool()
    for t, cs in gathered.items():
        assert pooled[t] == pytest.approx(_vmr(np.concatenate(cs)), rel=1e-12), t
    # tubules cluster (PCT), scattered immune cells hardly do
    assert pooled["PCT"] > pooled["macrophage"]


CHECKS = {name[len("check_"):]: fn for name, fn in dict(globals()).items()
          if name.startswith("check_")}


@pytest.mark.parametrize("entry", sorted(CHECKS))
def test_quadrat_cookbook_query_matches_brute_force(kidney, entry):
    adata, fovs = kidney
    CHECKS[entry](fovs, run_query(adata, _page()[entry]))


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_tile_counts_match_pointpats(kidney):
    """pointpats' RectangleM anchors its tiles at the bounding box's lower-left corner
    and keeps partial tiles: its counts are the kernel's, tile for tile."""
    quadrat_statistics = pytest.importorskip("pointpats.quadrat_statistics")
    from pointpats import PointPattern

    adata, fovs = kidney
    for f in fovs:
        mask = np.ones(f.n, bool)
        grid = quadrat_statistics.RectangleM(PointPattern(f.xy[mask]), rectangle_width=50,
                                             rectangle_height=50)
        theirs = grid.point_location_sta()
        counts, _ = _tiles(f, mask, 50.0)
        assert [theirs[k] for k in sorted(theirs)] == counts.astype(int).tolist()
    got = run_query(adata, "quadrat_vmr(cells, size = 50 um)")
    assert dict(got.per_fov) == pytest.approx(
        {f.name: _vmr(_tiles(f, _all(f), 50.0)[0]) for f in fovs}, rel=1e-12)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_chi2_matches_pointpats_where_every_tile_is_whole():
    """pointpats' QStatistic expects equal counts in every tile, which is our
    area-proportional convention when the size divides the window: a 300 × 200 µm
    window (corner cells fix the bounding box) in 50 µm tiles."""
    quadrat_statistics = pytest.importorskip("pointpats.quadrat_statistics")
    import anndata as ad
    import pandas as pd
    from pointpats import PointPattern

    rng = np.random.default_rng(11)
    xy = np.vstack([[[0.0, 0.0], [300.0, 200.0]],
                    rng.uniform((0, 0), (300, 200), (400, 2))])
    xy[2:40] = xy[2:40] * 0.5  # a denser lower-left quarter: p about 0.003
    n = len(xy)
    obs = pd.DataFrame({"cell_type": pd.Categorical(["a"] * n), "fov": pd.Categorical(
        ["f"] * n)}, index=[f"c{i}" for i in range(n)])
    adata = ad.AnnData(X=np.zeros((n, 1)), obs=obs)
    adata.obsm["spatial"] = xy
    adata.uns["spatial_unit"] = "um"
    theirs = quadrat_statistics.QStatistic(PointPattern(xy), shape="rectangle",
                                           rectangle_width=50, rectangle_height=50)
    stat = _warnings_of(adata, "quadrat_test(cells, size = 50 um, value = statistic)")
    p = _warnings_of(adata, "quadrat_test(cells, size = 50 um, alternative = clustered)")
    assert theirs.df == 23
    assert stat.pool() == pytest.approx(theirs.chi2, rel=1e-12)
    assert p.pool() == pytest.approx(theirs.chi2_pvalue, rel=1e-9)
    assert 1e-4 < p.pool() < 1e-2


# ----------------------------------------------------------------- runtime diagnostics
def _warnings_of(adata, text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cytoql.query(adata, text)


def test_tiles_larger_than_the_window_warn_and_give_nan(kidney):
    adata, fovs = kidney
    result = _warnings_of(adata, "quadrat_vmr(cells, size = 5 mm)")
    assert np.isnan(result.per_fov).all()
    # pooled, the one tile of each FOV is gathered: two tiles, a defined VMR
    assert result.pool() == pytest.approx(_vmr(np.array([f.n for f in fovs], float)))
    (w, *_) = [w for w in result.warnings if w.code == "W0504"]
    assert "1 tile(s) of 5000 µm" in w.message and "at least 2" in w.message


def test_a_grouped_query_warns_once_per_fov(kidney):
    adata, _ = kidney
    result = _warnings_of(adata, "quadrat_test(cells, size = 5 mm) by type")
    assert sorted(w.message[:6] for w in result.warnings if w.code == "W0504") == [
        "FOV 18", "FOV 23"]
    small = _warnings_of(adata, "quadrat_test(cells, size = 50 um) by type")
    (w18, w23) = sorted(w.message for w in small.warnings if w.code == "W0505")
    assert "in some groups, tiles expect fewer than 5 cells" in w18


def test_too_many_tiles_is_an_error_with_help(kidney):
    adata, _ = kidney
    with pytest.raises(cytoql.EvaluationError) as info:
        _warnings_of(adata, "quadrat_vmr(cells, size = 0.001 um)")
    (diag,) = info.value.diagnostics
    assert diag.code == "E0402" and "more than 100000000" in diag.message
    assert "larger tiles" in diag.help


def test_the_maximum_needs_one_tile_only(kidney):
    adata, fovs = kidney
    one = _warnings_of(adata, "quadrat_max(cells, size = 5 mm)")
    assert dict(one.per_fov) == {f.name: f.n for f in fovs}
    assert not [w for w in one.warnings if w.code == "W0504"]
    none = _warnings_of(adata, "quadrat_max(cells, size = 5 mm, edge = drop)")
    assert np.isnan(none.per_fov).all() and np.isnan(none.pool())
    assert any(w.code == "W0504" and "needs at least 1" in w.message for w in none.warnings)


def test_drop_without_a_whole_tile_leaves_no_tile(kidney):
    adata, _ = kidney
    result = _warnings_of(adata, "quadrat_test(cells, size = 700 um, edge = drop)")
    assert np.isnan(result.per_fov).all() and np.isnan(result.pool())
    assert any(w.code == "W0504" and "whole tile(s)" in w.message for w in result.warnings)


@pytest.mark.parametrize("code", ["W0504", "W0505"])
def test_code_examples_warn_and_their_fixes_are_clean(kidney, code):
    adata, _ = kidney
    entry = CODES[code]
    assert any(w.code == code for w in _warnings_of(adata, entry.failing).warnings)
    assert not _warnings_of(adata, entry.fixed).warnings


def test_small_expected_counts_warning_says_how_many_tiles(kidney):
    adata, _ = kidney
    result = _warnings_of(adata, 'quadrat_test(cells where type == "PCT", size = 10 um)')
    messages = [w.message for w in result.warnings if w.code == "W0505"]
    assert len(messages) == 2
    assert all("tiles expect fewer than 5 cells" in m for m in messages)


def test_an_empty_set_warns_and_adds_nothing_to_the_pooled_test(kidney):
    """NK: one cell in FOV 18, none in FOV 23."""
    adata, fovs = kidney
    result = _warnings_of(adata, 'quadrat_test(cells where type == "NK", size = 100 um, '
                                 'value = statistic)')
    per = dict(result.per_fov)
    assert np.isnan(per["23"])
    assert any(w.code == "W0501" and w.message.startswith("FOV 23") for w in result.warnings)
    (f18,) = [f for f in fovs if f.name == "18"]
    x2 = _chi2(*_tiles(f18, f18.t("NK"), 100.0))[0]
    assert per["18"] == pytest.approx(x2, rel=1e-9)
    assert result.pool() == pytest.approx(x2, rel=1e-9)
    top = _warnings_of(adata, 'quadrat_max(cells where type == "NK", size = 100 um)')
    assert dict(top.per_fov) == {"18": 1.0, "23": 0.0}


# ----------------------------------------------------------------- against the reference
@settings(max_examples=40, deadline=None)
@given(first=labelled_points(min_size=2, max_size=40, n_labels=2),
       second=labelled_points(min_size=2, max_size=40, n_labels=2),
       size=st.floats(0.5, 25.0), edge=st.sampled_from(["keep", "drop"]))
def test_random_patterns_match_the_reference_per_fov_and_pooled(first, second, size, edge):
    """Two FOVs of random patterns (duplicates, edge points, collinear runs), the label
    0 cells counted by the plain reference in each FOV's bounding box."""
    import anndata as ad
    import pandas as pd

    from cytoql.kernels.reference import quadrats as ref

    xy = np.vstack([first[0], second[0] + [100.0, 0.0]])
    labels = np.concatenate([first[1], second[1]])
    fov = np.array(["f1"] * len(first[0]) + ["f2"] * len(second[0]))
    assume(all(np.ptp(xy[fov == f], axis=0).min() > 0 for f in ("f1", "f2")))
    obs = pd.DataFrame({"cell_type": pd.Categorical(np.array(["a", "b"])[labels],
                                                    categories=["a", "b"]),
                        "fov": pd.Categorical(fov)}, index=[f"c{i}" for i in range(len(xy))])
    adata = ad.AnnData(X=np.zeros((len(xy), 1)), obs=obs)
    adata.obsm["spatial"] = xy
    adata.uns["spatial_unit"] = "um"
    per, tiles, chi = {}, [], {}
    for f in ("f1", "f2"):
        pts = xy[fov == f]
        window = (*pts.min(axis=0), *pts.max(axis=0))
        counts, xe, ye = ref.quadrat_counts(pts[labels[fov == f] == 0], window, size)
        areas = np.outer(np.diff(ye), np.diff(xe))
        if edge == "drop":
            whole = np.ix_(np.diff(ye) >= size * (1 - 1e-9), np.diff(xe) >= size * (1 - 1e-9))
            counts, areas = counts[whole], areas[whole]
        per[f] = counts.ravel()
        if counts.sum() and counts.size >= 2:
            chi[f] = _chi2(counts.ravel().astype(float), areas.ravel())
        tiles.append(counts.ravel())
    gathered = np.concatenate(tiles)

    def two(c, fn):
        return fn(c) if len(c) >= 2 else np.nan

    for name, fn in (("quadrat_vmr", ref.vmr), ("quadrat_morisita", ref.morisita_index)):
        result = _warnings_of(adata, f'{name}(cells where type == "a", size = {size!r} um, '
                                     f'edge = {edge})')
        assert dict(result.per_fov) == pytest.approx(
            {f: two(c, fn) for f, c in per.items()}, rel=1e-9, nan_ok=True)
        assert result.pool() == pytest.approx(two(gathered, fn), rel=1e-9, nan_ok=True)
    top = _warnings_of(adata, f'quadrat_max(cells where type == "a", size = {size!r} um, '
                              f'edge = {edge})')
    assert dict(top.per_fov) == pytest.approx(
        {f: ref.max_tile_count(c) if len(c) else np.nan for f, c in per.items()},
        nan_ok=True)
    assert top.pool() == pytest.approx(ref.max_tile_count(gathered) if len(gathered)
                                       else np.nan, nan_ok=True)
    test = _warnings_of(adata, f'quadrat_test(cells where type == "a", size = {size!r} um, '
                               f'edge = {edge}, value = statistic)')
    assert dict(test.per_fov) == pytest.approx(
        {f: chi[f][0] if f in chi else np.nan for f in per}, rel=1e-9, nan_ok=True)
    assert test.pool() == pytest.approx(
        sum(x for x, _ in chi.values()) if chi else np.nan, rel=1e-9, nan_ok=True)
