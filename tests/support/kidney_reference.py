"""Brute-force views of the bundled kidney data for the cookbook checks.

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
from scipy import stats
from scipy.spatial.distance import cdist

import cytoql

ROOT = Path(__file__).parents[2]
DATA = ROOT / "cytoql" / "datasets" / "data" / "cosmx_kidney.h5ad"
FOVS = ("18", "23")


def load_kidney():
    """The kidney AnnData and a brute-force :class:`Fov` per FOV."""
    adata = ad.read_h5ad(DATA)
    return adata, [Fov(adata, name) for name in FOVS]


def run_query(adata, text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cytoql.query(adata, text)


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


def clean(values):
    values = np.asarray(values, float)
    return values[~np.isnan(values)]


REDUCE = {
    "count": lambda v: float(np.sum(v)),
    "sum": lambda v: float(np.sum(clean(v))),
    "mean": lambda v: float(np.mean(clean(v))) if len(clean(v)) else np.nan,
    "fraction": lambda v: float(np.mean(v)) if len(v) else np.nan,
    "median": lambda v: float(np.median(clean(v))) if len(clean(v)) else np.nan,
    "min": lambda v: float(np.min(clean(v))),
    "max": lambda v: float(np.max(clean(v))),
    "std": lambda v: float(np.std(clean(v), ddof=1)),
    "cv": lambda v: float(np.std(clean(v), ddof=1) / np.mean(clean(v))),
    "skewness": lambda v: float(stats.skew(clean(v), bias=True)),
    "q90": lambda v: float(np.quantile(clean(v), 0.9)),
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
