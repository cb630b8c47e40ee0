"""The Ripley cookbook page against brute force from spatstat's definitions.

K = |W| / (n(n-1)) Σ_{i≠j} 1(d_ij <= r) e_ij with e written out per correction
(spatstat.explore R/Kest.R, edge.Trans, edge.Ripley, border "bord.modif"); cross-type
K_AB = |W| / (n_A n_B) Σ_{a,b}. Pooled curves are recomputed from summed pair sums
over summed intensity terms. Envelopes are checked for what does not depend on the
random draw (shape, order, the observed curve, reproducibility).
"""

from __future__ import annotations

import numpy as np
import pytest

from cookbook import cookbook
from cytoql.kernels.reference.ripley import pcf as reference_pcf
from kidney_reference import load_kidney, run_query


@pytest.fixture(scope="module")
def kidney():
    return load_kidney()


def _translation(f, ia, ib):
    x0, y0, x1, y1 = f.window
    w, h = x1 - x0, y1 - y0
    dx = np.abs(f.xy[ia][:, None, 0] - f.xy[ib][None, :, 0])
    dy = np.abs(f.xy[ia][:, None, 1] - f.xy[ib][None, :, 1])
    with np.errstate(divide="ignore"):
        return w * h / ((w - dx) * (h - dy))


def _pair_sum(f, a, b, r, correction):
    ia, ib = np.flatnonzero(a), np.flatnonzero(b)
    d = f.d[np.ix_(ia, ib)]
    same = ia[:, None] == ib[None, :]
    e = np.ones_like(d) if correction == "none" else _translation(f, ia, ib)
    return np.array([np.sum(np.where((d <= rr) & ~same, e, 0.0)) for rr in r])


def _border_k(f, a, b, r, cross):
    """Border-corrected K (spatstat "border"): centres at least r from the edge."""
    x0, y0, x1, y1 = f.window
    ia, ib = np.flatnonzero(a), np.flatnonzero(b)
    edge = np.minimum.reduce([f.xy[ia, 0] - x0, x1 - f.xy[ia, 0], f.xy[ia, 1] - y0,
                              y1 - f.xy[ia, 1]])
    d = f.d[np.ix_(ia, ib)]
    same = ia[:, None] == ib[None, :]
    lam = (len(ib) - (0 if cross else 1)) / f.area
    out = []
    for rr in r:
        keep = edge >= rr
        counts = ((d[keep] <= rr) & ~same[keep]).sum()
        out.append(counts / (keep.sum() * lam) if keep.any() else np.nan)
    return np.array(out)


def _ks(fovs, a_of, b_of, r, correction, naive=False):
    """Per-FOV K and pooled K from (S, D) sums."""
    per, s_tot, d_tot = {}, 0.0, 0.0
    for f in fovs:
        a, b = a_of(f), b_of(f) if b_of else a_of(f)
        n_a, n_b = a.sum(), b.sum()
        cross = b_of is not None
        d = (n_a * n_b if cross else (n_a * n_a if naive else n_a * (n_a - 1))) / f.area
        s = _pair_sum(f, a, b, r, correction)
        per[f.name] = s / d
        s_tot, d_tot = s_tot + s, d_tot + d
    return per, s_tot / d_tot


def _ripley_page():
    return cookbook("ripley")


def _check_curve(result, per, pooled, rel=1e-9):
    for name, want in per.items():
        got = result.per_fov[result.per_fov.fov == name]["value"].to_numpy()
        np.testing.assert_allclose(got, want, rtol=rel, equal_nan=True, err_msg=name)
    np.testing.assert_allclose(result.pool()["value"].to_numpy(), pooled, rtol=rel,
                               equal_nan=True)


def _t(*names):
    return lambda f: f.t(*names)


def test_every_query_of_the_page_is_checked():
    assert set(_ripley_page()) == set(CHECKS)


def check_k_podocyte(adata, fovs, result):
    r = np.arange(10, 101, 10.0)
    per, pooled = _ks(fovs, _t("Podocyte"), None, r, "translation")
    _check_curve(result, per, pooled)
    np.testing.assert_allclose(result.pool()["theo"], np.pi * r ** 2)
    assert result.unit == "µm²"


def check_l_macrophage_isotropic(adata, fovs, result):
    r = np.arange(0, 101, 10.0)
    # isotropic weights: spatstat's edge.Ripley; brute force through the reference
    from cytoql.kernels.reference.ripley import ripley_k as reference_k

    per, s_tot, d_tot = {}, 0.0, 0.0
    for f in fovs:
        a = f.t("macrophage")
        n = a.sum()
        k, _ = reference_k(f.xy[a], r, f.window, correction="isotropic")
        per[f.name] = np.sqrt(k / np.pi)
        d = n * (n - 1) / f.area
        s_tot, d_tot = s_tot + k * d, d_tot + d
    _check_curve(result, per, np.sqrt(s_tot / d_tot / np.pi))


def check_h_cross_border(adata, fovs, result):
    r = np.array([50.0])
    per = {}
    for f in fovs:
        k = _border_k(f, f.t("PCT"), f.t("macrophage"), r, cross=True)
        per[f.name] = float(np.sqrt(k[0] / np.pi) - 50.0)
    assert dict(result.per_fov) == pytest.approx(per, rel=1e-9)


def check_k_cross_none(adata, fovs, result):
    r = np.array([20.0, 40.0, 60.0])
    per, pooled = _ks(fovs, _t("PCT"), _t("Fibroblast"), r, "none")
    _check_curve(result, per, pooled)


def check_k_naive(adata, fovs, result):
    per, pooled = _ks(fovs, lambda f: np.ones(f.n, bool), None, np.array([30.0]),
                      "translation", naive=True)
    assert dict(result.per_fov) == pytest.approx({k: v[0] for k, v in per.items()},
                                                  rel=1e-9)
    assert result.pool() == pytest.approx(pooled[0], rel=1e-9)


def check_pcf_pct(adata, fovs, result):
    r = np.arange(5, 61, 5.0)
    per, s_tot, d_tot = {}, 0.0, 0.0
    for f in fovs:
        a = f.t("PCT")
        n = a.sum()
        g, _ = reference_pcf(f.xy[a], r, f.window, correction="translation")
        per[f.name] = g
        d = n * (n - 1) / f.area
        s_tot, d_tot = s_tot + g * d, d_tot + d
    _check_curve(result, per, s_tot / d_tot)


def check_l_envelope_csr(adata, fovs, result):
    r = np.arange(10, 51, 10.0)
    per, pooled = _ks(fovs, _t("PCT"), None, r, "translation")
    _check_curve(result, {k: np.sqrt(v / np.pi) for k, v in per.items()},
                 np.sqrt(pooled / np.pi))
    table = result.table()
    assert (table["lo"] <= table["hi"]).all()
    # PCT cells are clustered (tubules): from 20 µm L leaves the CSR envelope, and no
    # simulation deviates as much, so p = 1 / (19 + 1)
    above = table[table.r >= 20]
    assert (above["value"] > above["hi"]).all()
    assert result.p_values.to_dict() == pytest.approx(
        {"18": 0.05, "23": 0.05, "all (pooled)": 0.05})
    again = run_query(adata, _ripley_page()["l_envelope_csr"])
    assert again.table().equals(table)


def check_l_cross_labels(adata, fovs, result):
    r = np.arange(10, 41, 10.0)
    per, pooled = _ks(fovs, _t("PCT"), _t("macrophage"), r, "translation")
    _check_curve(result, {k: np.sqrt(v / np.pi) for k, v in per.items()},
                 np.sqrt(pooled / np.pi))
    table = result.table()
    assert table[["lo", "hi"]].notna().all().all() and (table["lo"] <= table["hi"]).all()
    assert ((0 < result.p_values) & (result.p_values <= 1)).all()


CHECKS = {name[len("check_"):]: fn for name, fn in dict(globals()).items()
          if name.startswith("check_")}


@pytest.mark.parametrize("entry", sorted(CHECKS))
def test_ripley_cookbook_query_matches_brute_force(kidney, entry):
    adata, fovs = kidney
    CHECKS[entry](adata, fovs, run_query(adata, _ripley_page()[entry]))
