"""Every cookbook query, run on the kidney data and compared with brute force.

The references use only numpy/scipy on the AnnData (full distance matrices per FOV),
never the CytoQL evaluator or its kernels; pooled values are recomputed from the
gathered cells of all FOVs, so the combine rules are checked too.
"""

from __future__ import annotations

import warnings
from functools import cached_property
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import cdist

import cytoql
from cookbook import cookbook

ROOT = Path(__file__).parents[2]
DATA = ROOT / "cytoql" / "datasets" / "data" / "cosmx_kidney.h5ad"
IMMUNE = ["macrophage", "monocyte", "T CD4 memory", "T CD8 memory", "B-cell", "NK", "mDC",
          "plasmablast"]
GLOMERULAR = ["Podocyte", "Mesangial.cell", "Glomerular.endothelium"]


class Fov:
    """Brute-force view of one FOV."""

    def __init__(self, adata, name):
        rows = np.flatnonzero(adata.obs["fov"].astype(str).to_numpy() == name)
        self.name = name
        self.xy = np.asarray(adata.obsm["spatial"], float)[rows]
        self.type = adata.obs["cell_type"].astype(str).to_numpy()[rows]
        self.total = adata.obs["total_counts"].to_numpy(float)[rows]
        self.fov = adata.obs["fov"].astype(str).to_numpy()[rows]
        x = adata.X[rows]
        self.X = np.asarray(x.todense() if hasattr(x, "todense") else x, float)
        self.genes = list(adata.var_names)
        lo, hi = self.xy.min(axis=0), self.xy.max(axis=0)
        self.window = (lo[0], lo[1], hi[0], hi[1])
        self.area = float((hi[0] - lo[0]) * (hi[1] - lo[1]))
        self.n = len(rows)

    @cached_property
    def d(self):
        return cdist(self.xy, self.xy)

    def t(self, *names):
        return np.isin(self.type, names)

    def expr(self, gene):
        return self.X[:, self.genes.index(gene)]

    def pair_d(self, a, b):
        """Distances from cells of mask a to cells of mask b, inf to itself."""
        ia, ib = np.flatnonzero(a), np.flatnonzero(b)
        sub = self.d[np.ix_(ia, ib)].copy()
        sub[ia[:, None] == ib[None, :]] = np.inf
        return sub, ib

    def nnd(self, a, b, k=1):
        sub, _ = self.pair_d(a, b)
        if sub.shape[1] < k:
            return np.full(sub.shape[0], np.nan)
        kth = np.sort(sub, axis=1)[:, k - 1]
        return np.where(np.isfinite(kth), kth, np.nan)

    def nearest_type(self, a, b):
        sub, ib = self.pair_d(a, b)
        return self.type[ib[np.argmin(sub, axis=1)]]

    def count(self, a, b, r):
        sub, _ = self.pair_d(a, b)
        return (sub <= r).sum(axis=1).astype(float)

    def edge(self, a):
        x, y = self.xy[a, 0], self.xy[a, 1]
        x0, y0, x1, y1 = self.window
        return np.minimum(np.minimum(x - x0, x1 - x), np.minimum(y - y0, y1 - y))

    def diversity(self, a, b, r, kind):
        sub, ib = self.pair_d(a, b)
        out = []
        for row in sub:
            types = self.type[ib[row <= r]]
            if not len(types):
                out.append(np.nan)
                continue
            p = np.unique(types, return_counts=True)[1] / len(types)
            out.append(-(p * np.log(p)).sum() if kind == "shannon" else 1 - (p ** 2).sum())
        return np.array(out)


def _clean(values):
    values = np.asarray(values, float)
    return values[~np.isnan(values)]


REDUCE = {
    "count": lambda v: float(np.sum(v)),
    "sum": lambda v: float(np.sum(_clean(v))),
    "mean": lambda v: float(np.mean(_clean(v))) if len(_clean(v)) else np.nan,
    "fraction": lambda v: float(np.mean(v)) if len(v) else np.nan,
    "median": lambda v: float(np.median(_clean(v))) if len(_clean(v)) else np.nan,
    "min": lambda v: float(np.min(_clean(v))),
    "max": lambda v: float(np.max(_clean(v))),
    "std": lambda v: float(np.std(_clean(v), ddof=1)),
    "cv": lambda v: float(np.std(_clean(v), ddof=1) / np.mean(_clean(v))),
    "skewness": lambda v: float(stats.skew(_clean(v), bias=True)),
    "q90": lambda v: float(np.quantile(_clean(v), 0.9)),
}


def gather(reducer, fn):
    """Reference of a summary: per FOV, and pooled over the gathered cells."""
    def ref(fovs):
        values = {f.name: np.asarray(fn(f)) for f in fovs}
        pooled = REDUCE[reducer](np.concatenate(list(values.values())))
        return {k: REDUCE[reducer](v) for k, v in values.items()}, pooled
    return ref


def grouped(reducer, fn, groups=lambda f: f.type):
    """Per (FOV, group) and per group pooled; fn gives (values, mask of cells) per FOV."""
    def ref(fovs):
        per, pooled_parts = {}, {}
        for f in fovs:
            values, mask = fn(f)
            g = groups(f)[mask]
            for name in np.unique(g):
                sel = values[g == name]
                per[(f.name, name)] = REDUCE[reducer](sel)
                pooled_parts.setdefault(name, []).append(sel)
        return per, {k: REDUCE[reducer](np.concatenate(v)) for k, v in pooled_parts.items()}
    return ref


def density(fn):
    def ref(fovs):
        per = {f.name: fn(f).sum() / f.area * 1e6 for f in fovs}
        return per, sum(fn(f).sum() for f in fovs) / sum(f.area for f in fovs) * 1e6
    return ref


def odds(fn):
    def table(e, o):
        return np.array([np.sum(e & o), np.sum(e & ~o), np.sum(~e & o), np.sum(~e & ~o)])

    def ratio(t):
        return t[0] * t[3] / (t[1] * t[2])

    def ref(fovs):
        tables = {f.name: table(*fn(f)) for f in fovs}
        return {k: ratio(t) for k, t in tables.items()}, ratio(sum(tables.values()))
    return ref


def composition(fn):
    """Shares of each type among all (centre, neighbour) pairs; pooled from summed pairs."""
    def pairs(f):
        sub, ib = f.pair_d(*fn(f)[:2])
        hits = f.type[np.broadcast_to(ib, sub.shape)[sub <= fn(f)[2]]]
        names, counts = np.unique(hits, return_counts=True)
        return dict(zip(names, counts.astype(float)))

    def ref(fovs):
        per, total = {}, {}
        for f in fovs:
            counts = pairs(f)
            n = sum(counts.values())
            per.update({(f.name, k): v / n for k, v in counts.items()})
            for k, v in counts.items():
                total[k] = total.get(k, 0.0) + v
        n = sum(total.values())
        return per, {k: v / n for k, v in total.items()}
    return ref


ALL = lambda f: np.ones(f.n, bool)  # noqa: E731

REFERENCES = {
    "count_pct": gather("count", lambda f: f.t("PCT")),
    "fraction_podocyte": gather("fraction", lambda f: f.t("Podocyte")),
    "density_macrophage": density(lambda f: f.t("macrophage")),
    "density_all": density(ALL),
    "count_immune": gather("count", lambda f: f.t(*IMMUNE)),
    "union_glomerular": gather("count", lambda f: f.t("Podocyte", "Mesangial.cell")),
    "except_spp1": gather("count", lambda f: f.t("PCT") & ~(f.expr("SPP1") > 2)),
    "intersect_b2m": gather("count", lambda f: f.t("PCT") & (f.expr("B2M") > 5)),
    "fraction_total_counts": gather("fraction", lambda f: f.total > 500),
    "count_fov_column": gather("count", lambda f: f.fov == "23"),
    "fraction_pct_by_fov": gather("fraction", lambda f: f.t("PCT")),
    "count_by_type": grouped("count", lambda f: (np.ones(f.n), ALL(f))),
    "fraction_podocyte_in_glomerulus": gather(
        "fraction", lambda f: f.t("Podocyte")[f.t(*GLOMERULAR)]),
    "fraction_spp1_macrophage": gather(
        "fraction", lambda f: (f.expr("SPP1") > 2)[f.t("macrophage")]),
    "mean_b2m_pct": gather("mean", lambda f: f.expr("B2M")[f.t("PCT")]),
    "median_counts_by_type": grouped("median", lambda f: (f.total, ALL(f))),
    "density_pct_by_fov": density(lambda f: f.t("PCT")),
    "mean_counts_col": gather("mean", lambda f: f.total),
    "fraction_spp1": gather("fraction", lambda f: f.expr("SPP1") > 2),
    "nnd_podocyte_mesangial": gather(
        "mean", lambda f: f.nnd(f.t("Podocyte"), f.t("Mesangial.cell"))),
    "median_nnd_pct_macrophage": gather(
        "median", lambda f: f.nnd(f.t("PCT"), f.t("macrophage"))),
    "third_nnd_pct": gather("mean", lambda f: f.nnd(f.t("PCT"), f.t("PCT"), k=3)),
    "max_nnd_podocyte_pct": gather("max", lambda f: f.nnd(f.t("Podocyte"), f.t("PCT"))),
    "min_nnd_macrophage_podocyte": gather(
        "min", lambda f: f.nnd(f.t("macrophage"), f.t("Podocyte"))),
    "std_nnd_all": gather("std", lambda f: f.nnd(ALL(f), ALL(f))),
    "cv_nnd_all": gather("cv", lambda f: f.nnd(ALL(f), ALL(f))),
    "skewness_nnd_fibroblast": gather(
        "skewness", lambda f: f.nnd(f.t("Fibroblast"), f.t("Myofibroblast"))),
    "quantile_nnd_all": gather("q90", lambda f: f.nnd(ALL(f), ALL(f))),
    "nnd_by_type": grouped("mean", lambda f: (f.nnd(ALL(f), ALL(f)), ALL(f))),
    "pct_near_macrophage_mm": gather(
        "count", lambda f: f.nnd(f.t("PCT"), f.t("macrophage")) <= 50.0),
    "nearest_type_podocyte": gather(
        "fraction", lambda f: f.nearest_type(f.t("Podocyte"), ALL(f)) == "Podocyte"),
    "nearest_type_macrophage_pct": gather(
        "fraction", lambda f: f.nearest_type(f.t("macrophage"), ALL(f)) == "PCT"),
    "count_nearest_mesangial": gather(
        "count", lambda f: f.nearest_type(ALL(f), ALL(f)) == "Mesangial.cell"),
    "median_edge_glomerular_endothelium": gather(
        "median", lambda f: f.edge(f.t("Glomerular.endothelium"))),
    "fraction_near_edge": gather("fraction", lambda f: f.edge(ALL(f)) < 50),
    "mean_macrophages_around_pct": gather(
        "mean", lambda f: f.count(f.t("PCT"), f.t("macrophage"), 30)),
    "fraction_pct_with_macrophage": gather(
        "fraction", lambda f: f.count(f.t("PCT"), f.t("macrophage"), 30) >= 1),
    "nested_rule": gather("count", lambda f: (f.count(f.t("PCT"), f.t("macrophage"), 30) >= 2)
                          & (f.count(f.t("PCT"), f.t("Fibroblast"), 30) == 0)),
    "fraction_crowded": gather("fraction", lambda f: f.count(ALL(f), ALL(f), 20) >= 3),
    "sum_macrophage_pct_pairs": gather(
        "sum", lambda f: f.count(f.t("PCT"), f.t("macrophage"), 20)),
    "max_neighbours": gather("max", lambda f: f.count(ALL(f), ALL(f), 30)),
    "mean_neighbours_by_type": grouped("mean", lambda f: (f.count(ALL(f), ALL(f), 30), ALL(f))),
    "pct_near_spp1_high": gather(
        "fraction", lambda f: f.count(f.t("PCT"), f.expr("SPP1") > 2, 20) >= 1),
    "counts_near_macrophage": gather(
        "mean", lambda f: f.total[f.count(ALL(f), f.t("macrophage"), 20) >= 1]),
    "local_fraction_pct_around_macrophage": gather(
        "mean", lambda f: _ratio(f.count(f.t("macrophage"), f.t("PCT"), 50),
                                 f.count(f.t("macrophage"), ALL(f), 50))),
    "more_podocytes_than_mesangial": gather(
        "fraction", lambda f: f.count(f.t("Glomerular.endothelium"), f.t("Podocyte"), 50)
        > f.count(f.t("Glomerular.endothelium"), f.t("Mesangial.cell"), 50)),
    "local_fraction_among_glomerular": gather(
        "mean", lambda f: _ratio(f.count(f.t("Podocyte"), f.t("Mesangial.cell"), 40),
                                 f.count(f.t("Podocyte"), f.t(*GLOMERULAR), 40))),
    "composition_macrophage": composition(lambda f: (f.t("macrophage"), ALL(f), 30)),
    "shannon_podocyte": gather(
        "mean", lambda f: f.diversity(f.t("Podocyte"), ALL(f), 50, "shannon")),
    "simpson_macrophage": gather(
        "mean", lambda f: f.diversity(f.t("macrophage"), ALL(f), 40, "simpson")),
    "odds_ratio_pct_macrophage": odds(
        lambda f: (f.t("PCT"), f.count(ALL(f), f.t("macrophage"), 30) >= 1)),
}


def _ratio(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


@pytest.fixture(scope="module")
def kidney_data():
    adata = ad.read_h5ad(DATA)
    return adata, [Fov(adata, name) for name in ("18", "23")]


def test_cookbook_has_at_least_40_queries_each_with_a_reference():
    entries = cookbook()
    assert len(entries) >= 40
    assert set(entries) == set(REFERENCES)


def test_every_catalog_example_is_a_cookbook_query_so_it_is_checked_by_brute_force():
    from cytoql.catalog import builtins

    queries = {q.strip() for q in cookbook().values()}
    for entry in builtins():
        assert entry.examples, entry.name
        for example in entry.examples:
            assert example in queries, (entry.signature(), example)


@pytest.mark.parametrize("entry", sorted(REFERENCES))
def test_cookbook_query_matches_brute_force(kidney_data, entry):
    adata, fovs = kidney_data
    text = cookbook()[entry]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cytoql.query(adata, text)
    per_fov, pooled = REFERENCES[entry](fovs)
    got = result.per_fov
    if isinstance(got, pd.DataFrame):  # a table: shares per FOV (rows) and type (columns)
        got = got.stack()
        assert {k: v for k, v in got.items() if v} == pytest.approx(per_fov, rel=1e-9)
        assert {k: v for k, v in result.pool().items() if v} == pytest.approx(pooled, rel=1e-9)
    elif got.index.nlevels == 1:
        assert dict(got) == pytest.approx(per_fov, rel=1e-9, nan_ok=True)
        assert result.pool() == pytest.approx(pooled, rel=1e-9, nan_ok=True)
    else:
        got = {k: v for k, v in got.items() if k in per_fov or not np.isnan(v) and v != 0}
        assert got == pytest.approx(per_fov, rel=1e-9, nan_ok=True)
        pool = {k: v for k, v in result.pool().items() if k in pooled}
        assert pool == pytest.approx(pooled, rel=1e-9, nan_ok=True)
