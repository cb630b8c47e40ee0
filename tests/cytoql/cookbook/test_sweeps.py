"""The sweeps cookbook page against brute-force distances (``cdist``): per FOV, and
pooled over all cells of both FOVs at each radius (never a mean of per-FOV curves)."""

from __future__ import annotations

import numpy as np
import pytest

import cytoql
from cytoql.errors import QueryError
from cookbook import cookbook
from kidney_reference import load_kidney, run_query


@pytest.fixture(scope="module")
def kidney():
    return load_kidney()


def _page():
    return cookbook("sweeps")


def _near(f, a, b, r):
    """Per cell of mask a: the number of cells of mask b at distance <= r (not itself)."""
    d = f.d[np.ix_(a, b)].copy()
    d[f.d[np.ix_(a, b)] == 0] = np.inf  # only a cell's distance to itself is 0 here
    return (d <= r).sum(axis=1)


def _mean_curves(fovs, a_type, b_type, radii):
    """Per FOV and pooled: mean over cells of type a of their b neighbours, per radius."""
    per, pooled = {}, []
    for r in radii:
        counts = {}
        for f in fovs:
            a = f.t(a_type) if a_type else np.ones(f.n, bool)
            b = f.t(b_type) if b_type else np.ones(f.n, bool)
            counts[f.name] = _near(f, a, b, r)
            per.setdefault(f.name, []).append(counts[f.name].mean())
        pooled.append(np.concatenate(list(counts.values())).mean())
    return per, np.array(pooled)


def _fraction_curves(fovs, a_type, b_type, radii):
    per, pooled = {}, []
    for r in radii:
        hits, total = 0, 0
        for f in fovs:
            has = _near(f, f.t(a_type), f.t(b_type), r) >= 1
            per.setdefault(f.name, []).append(has.mean())
            hits, total = hits + has.sum(), total + has.size
        pooled.append(hits / total)
    return per, np.array(pooled)


def _trapezoid(y, x):
    y = np.asarray(y)
    return sum((y[i] + y[i + 1]) / 2 * (x[i + 1] - x[i]) for i in range(len(x) - 1))


def _check_curve(result, radii, per, pooled):
    assert np.array_equal(result.r, radii)
    for fov, values in per.items():
        rows = result.per_fov[result.per_fov["fov"] == fov]
        assert rows["value"].to_numpy() == pytest.approx(values, rel=1e-12)
        assert rows["theo"].isna().all()
    assert result.pool()["value"].to_numpy() == pytest.approx(pooled, rel=1e-12)


def test_macrophages_around_pct(kidney):
    adata, fovs = kidney
    radii = np.arange(10.0, 101.0, 10.0)
    result = run_query(adata, _page()["sweep_macrophages_around_pct"])
    assert result.kind == "curve" and result.unit == "cells"
    _check_curve(result, radii, *_mean_curves(fovs, "PCT", "macrophage", radii))


def test_podocytes_near_mesangial(kidney):
    adata, fovs = kidney
    radii = np.arange(5.0, 51.0, 5.0)
    result = run_query(adata, _page()["sweep_podocytes_near_mesangial"])
    _check_curve(result, radii, *_fraction_curves(fovs, "Podocyte", "Mesangial.cell", radii))


def test_auc_of_a_sweep_integrates_the_curve(kidney):
    adata, fovs = kidney
    radii = np.arange(10.0, 51.0, 10.0)
    per, pooled = _mean_curves(fovs, None, None, radii)
    result = run_query(adata, _page()["sweep_auc_neighbours"])
    assert result.unit == "µm·cells"
    want = {fov: _trapezoid(v, radii) for fov, v in per.items()}
    assert dict(result.per_fov) == pytest.approx(want, rel=1e-12)
    assert result.pool() == pytest.approx(_trapezoid(pooled, radii), rel=1e-12)


def test_each_point_is_the_query_at_that_radius(kidney):
    adata, _ = kidney
    curve = run_query(adata, "sweep(median(distance(cells -> nearest cells where "
                             "count(cells within r) >= 3)), r = 10 um .. 30 um by 10 um)")
    for r, value in zip(curve.r, curve.pool()["value"]):
        single = run_query(adata, f"median(distance(cells -> nearest cells where "
                                  f"count(cells within {r:g} um) >= 3))")
        assert value == single.pool()


def test_r_shadows_a_let_of_that_name(kidney):
    adata, _ = kidney
    text = "let r = 5 um\nsweep(mean(count(cells within r)), r = 10 um .. 20 um by 10 um)"
    at_10 = run_query(adata, "mean(count(cells within 10 um))").pool()
    assert run_query(adata, text).pool()["value"].iloc[0] == at_10


@pytest.mark.parametrize("text, code, words", [
    ("sweep(mean(count(cells within r)), r = 0 um .. 30 um by 10 um)", "E0305",
     "at r = 0 µm of the sweep"),
    ("sweep(mean(count(cells within 10 um)), r = 10 um .. 30 um by 10 um)", "E0302",
     "does not use `r`"),
    ("sweep(count(cells within r), r = 10 um .. 30 um by 10 um)", "E0301",
     "not of per-cell values"),
    ("sweep(mean(count(cells within r)), r = 1 um .. 1000 um by 1 um)", "E0305",
     "at most 500 radii"),
    ("sweep(mean(count(cells within r)) > 1, r = 10 um .. 30 um by 10 um)", "E0301",
     "a curve of a number per FOV"),
])
def test_sweep_errors(kidney, text, code, words):
    adata, _ = kidney
    with pytest.raises(QueryError) as info:
        cytoql.compile(text, cytoql.schema_of(adata))
    (d,) = info.value.diagnostics
    assert d.code == code
    assert words in d.message + " ".join(d.notes)
