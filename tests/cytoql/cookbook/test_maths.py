"""The maths cookbook page against numpy on brute-force values (pooled values transform
the pooled argument)."""

from __future__ import annotations

import numpy as np
import pytest

from cookbook import cookbook
from cytoql.kernels.reference.ripley import ripley_k as reference_k
from kidney_reference import load_kidney, run_query


@pytest.fixture(scope="module")
def kidney():
    return load_kidney()


def _k(fovs, name, r):
    """Per-FOV K at one radius (translation) and the pooled ratio of sums."""
    per, s, d = {}, 0.0, 0.0
    for f in fovs:
        a = f.t(name)
        n = a.sum()
        k = reference_k(f.xy[a], [r], f.window, correction="translation")[0][0]
        per[f.name] = k
        w = n * (n - 1) / f.area
        s, d = s + k * w, d + w
    return per, s / d


def _nnd(f):
    d = f.d.copy()
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


# Means of a per-cell function of the nearest-neighbour distance (pooled over all cells).
_PER_CELL_NND = {"mean_exp_nnd": lambda d: np.exp(-d / 10.0),
                 "mean_square_nnd": lambda d: d * d,
                 "mean_gaussian_nnd": lambda d: np.exp(-(d / 10.0) ** 2)}


def expected(name, fovs):
    if name == "sqrt_k_over_pi":
        per, pooled = _k(fovs, "PCT", 30.0)
        return {k: np.sqrt(v / np.pi) for k, v in per.items()}, np.sqrt(pooled / np.pi)
    if name == "log_ratio_pct_macrophage":
        counts = {f.name: (f.t("PCT").sum(), f.t("macrophage").sum()) for f in fovs}
        total = np.sum(list(counts.values()), axis=0)
        return {k: np.log(a / b) for k, (a, b) in counts.items()}, np.log(total[0] / total[1])
    if name == "abs_h_macrophage":
        per, pooled = _k(fovs, "macrophage", 40.0)
        return ({k: abs(np.sqrt(v / np.pi) - 40.0) for k, v in per.items()},
                abs(np.sqrt(pooled / np.pi) - 40.0))
    if name in _PER_CELL_NND:
        values = {f.name: _PER_CELL_NND[name](_nnd(f)) for f in fovs}
        return ({k: v.mean() for k, v in values.items()},
                np.concatenate(list(values.values())).mean())
    if name == "rms_nnd":
        per, pooled = expected("mean_square_nnd", fovs)
        return {k: np.sqrt(v) for k, v in per.items()}, np.sqrt(pooled)
    if name == "area_per_cell":
        return {f.name: f.area / f.n for f in fovs}, sum(f.area for f in fovs) / sum(
            f.n for f in fovs)
    raise KeyError(name)


def test_every_query_of_the_page_is_checked(kidney):
    for name in cookbook("maths"):
        expected(name, kidney[1])


@pytest.mark.parametrize("entry", sorted(cookbook("maths")))
def test_maths_cookbook_query_matches_numpy(kidney, entry):
    adata, fovs = kidney
    result = run_query(adata, cookbook("maths")[entry])
    per, pooled = expected(entry, fovs)
    assert dict(result.per_fov) == pytest.approx(per, rel=1e-9)
    assert result.pool() == pytest.approx(pooled, rel=1e-9)


def test_units_follow_the_algebra(kidney):
    adata, _ = kidney
    assert run_query(adata, cookbook("maths")["area_per_cell"]).unit == "µm²/cell"
    assert run_query(adata, cookbook("maths")["sqrt_k_over_pi"]).unit == "µm"
    assert run_query(adata, cookbook("maths")["log_ratio_pct_macrophage"]).unit == ""
    assert run_query(adata, cookbook("maths")["mean_square_nnd"]).unit == "µm²"
    assert run_query(adata, cookbook("maths")["rms_nnd"]).unit == "µm"
