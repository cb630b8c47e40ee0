"""The nearest-neighbour statistics cookbook page against brute force.

Definitions as spatstat's (Gest / Fest / Jest with correction "rs" or "none",
clarkevans / clarkevans.test): nearest distances come from full distance matrices,
F's test locations are a raster built here, the reduced-sample border correction and
the Kaplan–Meier mean are written out. Pooled values are recomputed from the counts of
all FOVs (G, F: summed numerators over summed denominators; J from the pooled G and F;
Clark–Evans: summed distances over summed n E). G and the mean nearest-neighbour
distance are also checked against pointpats.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import norm

import cytoql
from cookbook import cookbook
from cytoql.errors import EvaluationError
from kidney_reference import load_kidney, run_query


@pytest.fixture(scope="module")
def kidney():
    return load_kidney()


def _page():
    return cookbook("nnstats")


def test_every_query_of_the_page_is_checked():
    assert set(_page()) == set(CHECKS)


# --------------------------------------------------------------------- brute force

def _g_counts(f, mask, r, correction):
    """(numerator, denominator) of G at each r; NND by the distance matrix."""
    if mask.sum() < 2:
        return np.zeros(len(r)), np.zeros(len(r))
    d, b = f.nnd(mask, mask), f.edge(mask)
    if correction == "none":
        return np.array([(d <= rr).sum() for rr in r]), np.full(len(r), float(len(d)))
    return (np.array([((d <= rr) & (rr <= b)).sum() for rr in r]),
            np.array([(b >= rr).sum() for rr in r]))


def _raster(f, spacing):
    x0, y0, x1, y1 = f.window
    g = 128 if spacing is None else math.ceil(max(x1 - x0, y1 - y0) / spacing)
    xs = x0 + (np.arange(g) + 0.5) * (x1 - x0) / g
    ys = y0 + (np.arange(g) + 0.5) * (y1 - y0) / g
    grid = np.array([(x, y) for x in xs for y in ys])
    edge = np.minimum.reduce([grid[:, 0] - x0, x1 - grid[:, 0], grid[:, 1] - y0,
                              y1 - grid[:, 1]])
    return grid, edge


def _f_counts(f, mask, r, correction, spacing):
    grid, b = _raster(f, spacing)
    e = cdist(grid, f.xy[mask]).min(axis=1)
    if correction == "none":
        return np.array([(e <= rr).sum() for rr in r]), np.full(len(r), float(len(e)))
    return (np.array([((e <= rr) & (rr <= b)).sum() for rr in r]),
            np.array([(b >= rr).sum() for rr in r]))


def _ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _csr(f, mask, r):
    return 1.0 - np.exp(-mask.sum() / f.area * np.pi * r ** 2)


def _cdf_curves(fovs, counts, mask_of, r):
    """Per-FOV and pooled (value, theo) of G or F from their counts."""
    per, num_tot, den_tot, theo_tot = {}, 0.0, 0.0, 0.0
    for f in fovs:
        num, den = counts(f)
        theo = _csr(f, mask_of(f), r)
        per[f.name] = (_ratio(num, den), theo)
        num_tot, den_tot, theo_tot = num_tot + num, den_tot + den, theo_tot + den * theo
    return per, (_ratio(num_tot, den_tot), _ratio(theo_tot, den_tot))


def _j(g, f):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f < 1, (1 - g) / (1 - f), np.nan)


def _j_curves(fovs, mask_of, r, correction, spacing):
    per, tot = {}, np.zeros((4, len(r)))
    for f in fovs:
        parts = np.array([*_g_counts(f, mask_of(f), r, correction),
                          *_f_counts(f, mask_of(f), r, correction, spacing)], float)
        per[f.name] = _j(_ratio(parts[0], parts[1]), _ratio(parts[2], parts[3]))
        tot += parts
    return per, _j(_ratio(tot[0], tot[1]), _ratio(tot[2], tot[3]))


def _check_curve(result, per, pooled, theo=True):
    for name, want in per.items():
        rows = result.per_fov[result.per_fov.fov == name]
        value, want_theo = want if theo else (want, None)
        np.testing.assert_allclose(rows["value"].to_numpy(), value, rtol=1e-12,
                                   equal_nan=True, err_msg=name)
        if theo:
            np.testing.assert_allclose(rows["theo"].to_numpy(), want_theo, rtol=1e-12,
                                       equal_nan=True, err_msg=name)
    value, want_theo = pooled if theo else (pooled, None)
    np.testing.assert_allclose(result.pool()["value"].to_numpy(), value, rtol=1e-12,
                               equal_nan=True)
    if theo:
        np.testing.assert_allclose(result.pool()["theo"].to_numpy(), want_theo,
                                   rtol=1e-12, equal_nan=True)


def _kaplan_meier_mean(d, b):
    """Mean of the Kaplan–Meier NND distribution, d censored at b (written out)."""
    observed = np.minimum(d, b)
    survival, total, mass = 1.0, 0.0, 0.0
    for t in np.unique(d[d <= b]):
        events = np.sum((d == t) & (d <= b))
        at_risk = np.sum(observed >= t)
        drop = survival * events / at_risk
        total, mass, survival = total + t * drop, mass + drop, survival - drop
    return total / mass


def _clark_evans(fovs, mask_of, correction):
    """Per-FOV (R, z, p) and pooled (R, z, p) by the stated rule."""
    per, tot = {}, np.zeros(3)
    for f in fovs:
        mask = mask_of(f)
        n, d = mask.sum(), f.nnd(mask, mask)
        x0, y0, x1, y1 = f.window
        e = 0.5 * math.sqrt(f.area / n)
        if correction == "donnelly":
            e += (0.0514 + 0.0412 / math.sqrt(n)) * 2 * ((x1 - x0) + (y1 - y0)) / n
        mean = _kaplan_meier_mean(d, f.edge(mask)) if correction == "cdf" else d.mean()
        part = np.array([n * mean, n * e, f.area])
        per[f.name] = _rzp(part)
        tot += part
    return per, _rzp(tot)


def _rzp(part):
    r = part[0] / part[1]
    z = (r - 1) / (math.sqrt((4 - math.pi) / (4 * math.pi)) * math.sqrt(part[2]) / part[1])
    return r, z, 2 * norm.sf(abs(z))


def _t(*names):
    return lambda f: f.t(*names)


# --------------------------------------------------------------------- checks

def check_g_pct(adata, fovs, result):
    r = np.arange(0, 31, 3.0)
    per, pooled = _cdf_curves(fovs, lambda f: _g_counts(f, f.t("PCT"), r, "border"),
                              _t("PCT"), r)
    _check_curve(result, per, pooled)
    assert result.unit == ""


def check_g_macrophage_none(adata, fovs, result):
    r = np.arange(0, 51, 5.0)
    per, pooled = _cdf_curves(fovs, lambda f: _g_counts(f, f.t("macrophage"), r, "none"),
                              _t("macrophage"), r)
    _check_curve(result, per, pooled)
    # pointpats counts NNDs in histogram bins [a, b) over its support and divides by
    # those inside it: with the support running on to the largest NND that is all n,
    # our d <= r wherever no distance equals a radius
    pointpats = pytest.importorskip("pointpats")
    for f in fovs:
        mask = f.t("macrophage")
        support = np.append(r, f.nnd(mask, mask).max())
        _, g_pp = pointpats.g(f.xy[mask], support=support)
        np.testing.assert_allclose(per[f.name][0], g_pp[:len(r)], rtol=1e-12)


def check_g_all_10um(adata, fovs, result):
    r = np.array([10.0])
    per, pooled = _cdf_curves(fovs, lambda f: _g_counts(f, np.ones(f.n, bool), r, "border"),
                              lambda f: np.ones(f.n, bool), r)
    assert dict(result.per_fov) == pytest.approx({k: v[0][0] for k, v in per.items()},
                                                  rel=1e-12)
    assert result.pool() == pytest.approx(pooled[0][0], rel=1e-12)


def check_f_pct_grid(adata, fovs, result):
    r = np.arange(0, 61, 6.0)
    per, pooled = _cdf_curves(fovs, lambda f: _f_counts(f, f.t("PCT"), r, "border", 5.0),
                              _t("PCT"), r)
    _check_curve(result, per, pooled)


def check_f_podocyte_none(adata, fovs, result):
    r = np.arange(0, 101, 10.0)
    per, pooled = _cdf_curves(fovs, lambda f: _f_counts(f, f.t("Podocyte"), r, "none", None),
                              _t("Podocyte"), r)
    _check_curve(result, per, pooled)


def check_j_macrophage(adata, fovs, result):
    r = np.arange(0, 41, 5.0)
    per, pooled = _j_curves(fovs, _t("macrophage"), r, "none", None)
    _check_curve(result, per, pooled, theo=False)
    assert (result.pool()["theo"] == 1).all()


def check_j_pct_border(adata, fovs, result):
    r = np.arange(0, 21, 2.0)
    per, pooled = _j_curves(fovs, _t("PCT"), r, "border", 10.0)
    _check_curve(result, per, pooled, theo=False)


def check_g_envelope_csr(adata, fovs, result):
    r = np.arange(0, 21, 2.0)
    per, pooled = _cdf_curves(fovs, lambda f: _g_counts(f, f.t("PCT"), r, "border"),
                              _t("PCT"), r)
    _check_curve(result, per, pooled)
    table = result.table()
    assert table[["lo", "hi"]].notna().all().all() and (table["lo"] <= table["hi"]).all()
    # PCT cells are bodies about 10 µm across packed in tubules: below 10 µm fewer
    # have a neighbour than under CSR (G under every simulated curve), from 12 µm more
    # (G above them all), and no simulation deviates as much, so p = 1 / (19 + 1)
    below, above = table[(table.r > 0) & (table.r < 10)], table[table.r >= 12]
    assert (below["value"] < below["lo"]).all() and (above["value"] > above["hi"]).all()
    assert result.p_values.to_dict() == pytest.approx(
        {"18": 0.05, "23": 0.05, "all (pooled)": 0.05})
    again = run_query(adata, _page()["g_envelope_csr"])
    assert again.table().equals(table)


def check_f_macrophage_labels(adata, fovs, result):
    r = np.arange(0, 51, 10.0)
    per, pooled = _cdf_curves(
        fovs, lambda f: _f_counts(f, f.t("macrophage"), r, "border", None),
        _t("macrophage"), r)
    _check_curve(result, per, pooled)
    table = result.table()
    # relabelling keeps the number of cells, so every simulated F is defined where the
    # observed one is, and at r = 0 all are 0
    assert table[["lo", "hi"]].notna().all().all() and (table["lo"] <= table["hi"]).all()
    assert (table[table.r == 0][["value", "lo", "hi"]] == 0).all().all()
    assert ((0.05 <= result.p_values) & (result.p_values <= 1)).all()
    again = run_query(adata, _page()["f_macrophage_labels"])
    assert again.table().equals(table)


def _check_scalar(result, per, pooled, index):
    assert dict(result.per_fov) == pytest.approx({k: v[index] for k, v in per.items()},
                                                  rel=1e-12)
    assert result.pool() == pytest.approx(pooled[index], rel=1e-12)


def check_ce_pct(adata, fovs, result):
    per, pooled = _clark_evans(fovs, _t("PCT"), "none")
    _check_scalar(result, per, pooled, 0)
    pointpats = pytest.importorskip("pointpats")
    for f in fovs:
        xy = f.xy[f.t("PCT")]
        want = pointpats.PointPattern(xy).mean_nnd / (0.5 * math.sqrt(f.area / len(xy)))
        assert result.per_fov[f.name] == pytest.approx(want, rel=1e-12)


def check_ce_macrophage_donnelly_z(adata, fovs, result):
    per, pooled = _clark_evans(fovs, _t("macrophage"), "donnelly")
    _check_scalar(result, per, pooled, 1)


def check_ce_fibroblast_cdf_p(adata, fovs, result):
    per, pooled = _clark_evans(fovs, _t("Fibroblast"), "cdf")
    _check_scalar(result, per, pooled, 2)


# --------------------------------------------------------------------- theory

def test_under_csr_g_and_f_follow_the_poisson_curve_j_is_one_and_r_is_one():
    from cytoql.datasets.synthetic import synthetic

    adata = synthetic(6000, process="csr", seed=3, n_fovs=3, fov_size=(500.0, 400.0))
    r = "r = 0 um .. 12 um by 3 um"
    for name in ("g_function", "f_function"):
        pooled = run_query(adata, f"{name}(cells, {r})").pool()
        # 6000 cells (F: 3 × 128² locations): binomial error about 0.01
        np.testing.assert_allclose(pooled["value"], pooled["theo"], atol=0.03, err_msg=name)
    # J = (1 − G) / (1 − F) is only stable while 1 − F is not small: up to 6 µm here
    # (1 − F(6) = exp(−λπ 36) = 0.32; at 12 µm it is 0.011)
    j = run_query(adata, "j_function(cells, r = 0 um .. 6 um by 2 um)").pool()
    np.testing.assert_allclose(j["value"], 1.0, atol=0.1)
    # Donnelly's correction removes the edge bias: z is a standard normal draw
    z = run_query(adata, "clark_evans(cells, correction = donnelly, report = z)").pool()
    assert abs(z) < 3


# --------------------------------------------------------------------- diagnostics

def test_too_fine_a_test_grid_is_an_error_with_a_coarser_one_as_help(kidney):
    adata, _ = kidney
    with pytest.raises(EvaluationError, match=r"E0402.*F's test grid would be 94230 × "
                       r"94230 locations .* \(at most 4096 per side\)(.|\n)*help: use a "
                       r"coarser grid, e.g. `grid = 2 um`"):
        cytoql.query(adata, "f_function(cells, r = 10 um, grid = 0.01 um)")


def test_an_empty_set_warns_and_gives_nan(kidney):
    adata, _ = kidney
    for text in ("g_function(cells where total_counts < 0, r = 10 um)",
                 "Jest(cells where total_counts < 0, r = 0 um .. 10 um by 5 um)",
                 "clark_evans(cells where total_counts < 0, report = p)"):
        with pytest.warns(cytoql.EmptySelectionWarning, match="W0501"):
            result = cytoql.query(adata, text)
        assert np.isnan(np.asarray(result.table()["value"], float)).all(), text


def test_border_correction_beyond_the_window_warns_and_gives_nan(kidney):
    adata, fovs = kidney
    half = max(min(f.window[2] - f.window[0], f.window[3] - f.window[1]) for f in fovs) / 2
    text = f"g_function(cells, r = 0 um .. {math.ceil(half) + 10} um by 10 um)"
    with pytest.warns(UserWarning, match="W0503.*border correction is undefined for r >="):
        result = cytoql.query(adata, text)
    assert np.isnan(result.pool()["value"].to_numpy()[-1])


CHECKS = {name[len("check_"):]: fn for name, fn in dict(globals()).items()
          if name.startswith("check_")}


@pytest.mark.parametrize("entry", sorted(CHECKS))
def test_nnstats_cookbook_query_matches_brute_force(kidney, entry):
    adata, fovs = kidney
    CHECKS[entry](adata, fovs, run_query(adata, _page()[entry]))
