"""The cell-type interactions cookbook page against independent computations.

Enrichment: edge counts of graphs built here from scipy (Delaunay) and full distance
matrices (kNN, radius), z-scores against ``squidpy.gr.nhood_enrichment`` on the same
graph within Monte-Carlo error (per FOV, and pooled as squidpy with
``library_key="fov"`` on the block-diagonal graph of both FOVs). Co-occurrence: pair
counts from full distance matrices with squidpy's formula, and squidpy's
``gr.co_occurrence`` itself for the cumulative bins. Mixing scores: SPIAT's
``mixing_score_summary`` formulas. Curve summaries: the trapezoid rule and linear
interpolation on brute-force Ripley curves (spatstat's definitions).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.spatial import Delaunay

from cookbook import cookbook
from kidney_reference import load_kidney, run_query

GLOMERULAR = ("Podocyte", "Mesangial.cell", "Glomerular.endothelium", "Parietal.epithelium")


@pytest.fixture(scope="module")
def kidney():
    return load_kidney()


def _page():
    return cookbook("interactions")


def test_every_query_of_the_page_is_checked():
    assert set(_page()) == set(CHECKS)


# ---------------------------------------------------------------------- enrichment
def _delaunay_adjacency(xy):
    tri = Delaunay(xy)
    pairs = np.vstack([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]],
                       tri.simplices[:, [0, 2]]])
    adj = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                            shape=(len(xy), len(xy))).tocsr()
    return ((adj + adj.T) > 0).astype(float).tocsr()


def _knn_adjacency(d, k):
    d = d.copy()
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    adj = np.zeros(d.shape, bool)
    adj[np.repeat(np.arange(len(d)), k), nearest.ravel()] = True
    return sparse.csr_matrix((adj | adj.T).astype(float))


def _radius_adjacency(d, r):
    adj = d <= r
    np.fill_diagonal(adj, False)
    return sparse.csr_matrix(adj.astype(float))


def _edge_counts(adj, codes, n_labels):
    coo = adj.tocoo()
    out = np.zeros((n_labels, n_labels))
    np.add.at(out, (codes[coo.row], codes[coo.col]), 1)
    return out


def _squidpy_z(xy, labels, categories, adj, fov=None, n_perms=1000):
    ad = pytest.importorskip("anndata")
    sq = pytest.importorskip("squidpy")
    obs = pd.DataFrame({"type": pd.Categorical(labels, categories=categories)})
    if fov is not None:
        obs["fov"] = pd.Categorical(fov)
    obs.index = obs.index.astype(str)
    adata = ad.AnnData(np.zeros((len(xy), 1)), obs=obs, obsm={"spatial": xy})
    adata.obsp["spatial_connectivities"] = adj
    with np.errstate(divide="ignore", invalid="ignore"):
        z, counts = sq.gr.nhood_enrichment(adata, cluster_key="type", n_perms=n_perms,
                                           seed=0, copy=True, show_progress_bar=False,
                                           library_key="fov" if fov is not None else None)
    return np.asarray(z, float), np.asarray(counts, float)


def _enrichment_check(entry, adata, fovs, result, member, graph):
    categories = list(adata.obs["cell_type"].cat.categories)
    codes_of = {name: i for i, name in enumerate(categories)}
    blocks, xys, labels, fov_names = [], [], [], []
    for f in fovs:
        keep = member(f)
        xy, types = f.xy[keep], f.type[keep]
        adj = graph(xy, f.d[np.ix_(keep, keep)])
        codes = np.array([codes_of[t] for t in types])
        got = result.per_fov.xs(f.name, level="fov").to_numpy()
        z_sq, counts_sq = _squidpy_z(xy, types, categories, adj)
        # squidpy's count matrix is the count of the same graph: exact
        np.testing.assert_array_equal(counts_sq, _edge_counts(adj, codes, len(categories)))
        common = np.array([np.sum(codes == i) >= 20 for i in range(len(categories))])
        _within_monte_carlo(got[np.ix_(common, common)], z_sq[np.ix_(common, common)])
        blocks.append(adj)
        xys.append(xy)
        labels.append(types)
        fov_names.append(np.full(len(xy), f.name))
    z_pooled, _ = _squidpy_z(np.vstack(xys), np.concatenate(labels), categories,
                             sparse.block_diag(blocks).tocsr(),
                             fov=np.concatenate(fov_names))
    counts = np.bincount(np.concatenate([[codes_of[t] for t in x] for x in labels]),
                         minlength=len(categories))
    common = counts >= 40
    pooled = result.pool().to_numpy()
    _within_monte_carlo(pooled[np.ix_(common, common)], z_pooled[np.ix_(common, common)])
    assert result.what == "z-score"
    # seeded per (seed, sample, FOV, call): the same query gives the same z-scores
    again = run_query(adata, _page()[entry])
    np.testing.assert_array_equal(again.pool().to_numpy(), pooled)


def _within_monte_carlo(got, want):
    """z from 200 permutations against squidpy's 1000: the mean's error is about
    1/sqrt(200) of a z unit, the standard deviation's about 5% of z."""
    both = np.isfinite(got) & np.isfinite(want)
    assert both.sum() >= 0.9 * np.isfinite(want).sum()
    np.testing.assert_array_less(np.abs(got - want)[both], 0.4 + 0.2 * np.abs(want[both]))
    # the check is not vacuous: strong enrichment and avoidance are both present
    assert (want[both] > 3).any() and (want[both] < -3).any()


def check_nhood_delaunay(adata, fovs, result):
    sq = pytest.importorskip("squidpy")
    ad = pytest.importorskip("anndata")
    f = fovs[0]
    # squidpy's own Delaunay graph is the graph built here
    one = ad.AnnData(np.zeros((f.n, 1)), obsm={"spatial": f.xy})
    sq.gr.spatial_neighbors(one, coord_type="generic", delaunay=True)
    theirs = (one.obsp["spatial_connectivities"] > 0).astype(float)
    assert (theirs != _delaunay_adjacency(f.xy)).nnz == 0
    _enrichment_check("nhood_delaunay", adata, fovs, result, lambda f: np.ones(f.n, bool),
                      lambda xy, d: _delaunay_adjacency(xy))


def check_nhood_knn(adata, fovs, result):
    _enrichment_check("nhood_knn", adata, fovs, result, lambda f: np.ones(f.n, bool),
                      lambda xy, d: _knn_adjacency(d, 10))


def check_nhood_radius_glomerular(adata, fovs, result):
    _enrichment_check("nhood_radius_glomerular", adata, fovs, result,
                      lambda f: f.t(*GLOMERULAR), lambda xy, d: _radius_adjacency(d, 25.0))


# ---------------------------------------------------------------------- co-occurrence
def _pair_counts(f, a, b, edges, cumulative):
    """(A→B, A→any, any→B, all) ordered pairs of distinct cells per bin."""
    d = f.d.copy()
    np.fill_diagonal(d, np.inf)
    out = []
    for i in range(1, len(edges)):
        if cumulative:
            inside = d <= edges[i]
        elif edges[i - 1] == 0:
            inside = d <= edges[i]
        else:
            inside = (d > edges[i - 1]) & (d <= edges[i])
        out.append([inside[np.ix_(a, b)].sum(), inside[a].sum(), inside[:, b].sum(),
                    inside.sum()])
    return np.array(out, float).T


def _ratio(c):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((c[1] > 0) & (c[2] > 0), c[0] * c[3] / (c[1] * c[2]), np.nan)


def _cooc_curves(fovs, a_type, b_type, edges, cumulative):
    per, total = {}, 0.0
    for f in fovs:
        c = _pair_counts(f, f.t(a_type), f.t(b_type), edges, cumulative)
        per[f.name] = _ratio(c)
        total = total + c
    return per, _ratio(total)


def _check_curve(result, per, pooled, rel=1e-12):
    for name, want in per.items():
        got = result.per_fov[result.per_fov.fov == name]["value"].to_numpy()
        np.testing.assert_allclose(got, want, rtol=rel, equal_nan=True, err_msg=name)
    np.testing.assert_allclose(result.pool()["value"].to_numpy(), pooled, rtol=rel,
                               equal_nan=True)


def check_cooc_podocyte_mesangial(adata, fovs, result):
    edges = np.arange(0, 101, 10.0)
    per, pooled = _cooc_curves(fovs, "Podocyte", "Mesangial.cell", edges, False)
    _check_curve(result, per, pooled)
    np.testing.assert_array_equal(result.r, edges[1:])
    assert (result.pool()["theo"] == 1).all()
    # glomerular cells sit together: strong co-occurrence at short range
    assert result.pool()["value"].iloc[1] > 1


def check_cooc_cumulative(adata, fovs, result):
    edges = np.arange(0, 81, 20.0)
    per, pooled = _cooc_curves(fovs, "PCT", "macrophage", edges, True)
    _check_curve(result, per, pooled)
    # squidpy 1.8 itself (cumulative bins, float32 distances) on one FOV
    ad = pytest.importorskip("anndata")
    sq = pytest.importorskip("squidpy")
    f = fovs[0]
    categories = sorted(set(f.type))
    one = ad.AnnData(np.zeros((f.n, 1)), obsm={"spatial": f.xy},
                     obs=pd.DataFrame({"type": pd.Categorical(f.type, categories)},
                                      index=[str(i) for i in range(f.n)]))
    occ, _ = sq.gr.co_occurrence(one, cluster_key="type", interval=edges, copy=True,
                                 show_progress_bar=False)
    theirs = occ[categories.index("macrophage"), categories.index("PCT")]
    np.testing.assert_allclose(per[f.name], theirs, rtol=1e-3)


# ---------------------------------------------------------------------- mixing scores
def _mixing_counts(f, a, b, r):
    """SPIAT: N_AB = A→B interactions, N_AA = half the ordered A–A interactions."""
    d = f.d.copy()
    np.fill_diagonal(d, np.inf)
    return np.array([(d[np.ix_(a, b)] <= r).sum(), (d[np.ix_(a, a)] <= r).sum() / 2,
                     a.sum(), b.sum()], float)


def _mixing_check(fovs, result, a_type, b_type, r, score):
    total = 0.0
    for f in fovs:
        c = _mixing_counts(f, f.t(a_type), f.t(b_type), r)
        assert result.per_fov[f.name] == pytest.approx(score(c), rel=1e-12)
        total = total + c
    assert result.pool() == pytest.approx(score(total), rel=1e-12)


def check_mixing_macrophage_pct(adata, fovs, result):
    _mixing_check(fovs, result, "macrophage", "PCT", 30.0, lambda c: c[0] / c[1])


def check_nms_podocyte_mesangial(adata, fovs, result):
    _mixing_check(fovs, result, "Podocyte", "Mesangial.cell", 20.0,
                  lambda c: 0.5 * c[0] / c[1] * (c[2] - 1) / c[3])


# ---------------------------------------------------------------------- curve summaries
def _cross_k(f, a, b, r):
    """Translation-corrected cross-type K (spatstat's Kcross, edge.Trans) and (S, D)."""
    x0, y0, x1, y1 = f.window
    w, h = x1 - x0, y1 - y0
    ia, ib = np.flatnonzero(a), np.flatnonzero(b)
    dx = np.abs(f.xy[ia][:, None, 0] - f.xy[ib][None, :, 0])
    dy = np.abs(f.xy[ia][:, None, 1] - f.xy[ib][None, :, 1])
    e = w * h / ((w - dx) * (h - dy))
    d = f.d[np.ix_(ia, ib)]
    s = np.array([np.sum(np.where(d <= rr, e, 0.0)) for rr in r])
    dd = len(ia) * len(ib) / f.area
    return s, dd


def _trapezoid(r, y):
    return float(sum((y[i] + y[i - 1]) * (r[i] - r[i - 1]) / 2 for i in range(1, len(r))))


def _first_crossing(r, y):
    """Brute force of the documented rule, written out point by point."""
    start = next(i for i in range(len(y)) if y[i] != 0)
    for i in range(start + 1, len(y)):
        if y[i] == 0 or (y[i] > 0) != (y[start] > 0):
            return r[i - 1] + (r[i] - r[i - 1]) * y[i - 1] / (y[i - 1] - y[i])
    return np.nan


def _k_curves(fovs, a_type, b_type, r):
    per, s_tot, d_tot = {}, 0.0, 0.0
    for f in fovs:
        s, d = _cross_k(f, f.t(a_type), f.t(b_type), r)
        per[f.name] = s / d
        s_tot, d_tot = s_tot + s, d_tot + d
    return per, s_tot / d_tot


def check_auc_cross_k(adata, fovs, result):
    r = np.arange(0, 101, 10.0)
    per, pooled = _k_curves(fovs, "PCT", "macrophage", r)
    want = {name: _trapezoid(r, k - np.pi * r ** 2) for name, k in per.items()}
    assert dict(result.per_fov) == pytest.approx(want, rel=1e-9)
    assert result.pool() == pytest.approx(_trapezoid(r, pooled - np.pi * r ** 2), rel=1e-9)
    assert result.unit == "µm³"


def check_crossing_cooc(adata, fovs, result):
    edges = np.arange(0, 301, 10.0)
    per, pooled = _cooc_curves(fovs, "Podocyte", "Mesangial.cell", edges, False)
    want = {name: _first_crossing(edges[1:], c - 1) for name, c in per.items()}
    assert dict(result.per_fov) == pytest.approx(want, rel=1e-9, nan_ok=True)
    assert result.pool() == pytest.approx(_first_crossing(edges[1:], pooled - 1), rel=1e-9)
    assert np.isfinite(result.pool()) and all(np.isfinite(v) for v in want.values())


def check_crossing_cross_h(adata, fovs, result):
    r = np.arange(10, 201, 10.0)
    per, pooled = _k_curves(fovs, "Mesangial.cell", "Podocyte", r)
    want = {name: _first_crossing(r, np.sqrt(k / np.pi) - r) for name, k in per.items()}
    assert dict(result.per_fov) == pytest.approx(want, rel=1e-9, nan_ok=True)
    assert result.pool() == pytest.approx(
        _first_crossing(r, np.sqrt(pooled / np.pi) - r), rel=1e-9)
    assert np.isfinite(result.pool())
    assert result.unit == "µm"


CHECKS = {name[len("check_"):]: fn for name, fn in dict(globals()).items()
          if name.startswith("check_")}


@pytest.mark.parametrize("entry", sorted(CHECKS))
def test_interactions_cookbook_query_matches_reference(kidney, entry):
    adata, fovs = kidney
    CHECKS[entry](adata, fovs, run_query(adata, _page()[entry]))


# ---------------------------------------------------------------------- summaries, directly
def test_crossing_and_area_of_small_curves():
    from cytoql.catalog.interactions import auc_of, crossing_of
    from cytoql.values import Curve

    r = np.array([0.0, 1.0, 2.0, 3.0])
    curve = Curve(r, np.array([0.0, 2.0, -2.0, -1.0]), np.zeros(4))
    assert crossing_of(curve) == pytest.approx(1.5)
    assert auc_of(curve) == pytest.approx((0 + 2) / 2 + 0 + (-2 - 1) / 2)
    touching = Curve(r, np.array([1.0, 0.5, 0.0, 1.0]), np.zeros(4))
    assert crossing_of(touching) == pytest.approx(2.0)
    assert np.isnan(crossing_of(Curve(r, np.ones(4), np.zeros(4))))
    assert np.isnan(crossing_of(Curve(r, np.array([1.0, np.nan, -1.0, 1.0]), np.zeros(4))))
    assert np.isnan(auc_of(Curve(r, np.array([1.0, np.nan, -1.0, 1.0]), np.zeros(4))))


@pytest.mark.parametrize("text", [
    'mixing_score(cells where type == "macrophage", cells where total_counts < 0, r = 30 um)',
    'co_occurrence(cells where total_counts < 0, cells, r = 0 um .. 50 um by 10 um)',
    'nhood_enrichment(cells where total_counts < 0, nperm = 10)',
])
def test_an_empty_set_warns_at_its_call_and_gives_nan(kidney, text):
    import cytoql

    adata, _ = kidney
    with pytest.warns(cytoql.EmptySelectionWarning, match="W0501"):
        result = cytoql.query(adata, text)
    assert all("W0501" in w.code for w in result.warnings)
    pooled = result.pool()
    values = np.asarray(pooled if np.isscalar(pooled) else pooled.to_numpy(), float)
    if text.startswith("co_occurrence"):
        values = np.asarray(pooled["value"], float)
    assert np.isnan(values).all()
