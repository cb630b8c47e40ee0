"""Spatial index: CytoQL's numba KD-tree and grid against scipy's cKDTree (C++).

Every query is "all cells against all cells, excluding the cell itself", the shape of
the language's neighbourhood questions. Radius 30 µm at the kidney's density gives
about 14 neighbours per cell.

The "index build included" cases are what the language runs (:class:`PointIndex`: a
uniform grid for these tissues) against cKDTree built in the call and queried on
every core: ``query(k=2, workers=-1)`` (the first hit is the cell itself) and
``query_pairs`` + one ``np.bincount`` for the per-cell counts by type.
"""

from __future__ import annotations

import numpy as np
from harness import Case
from scipy.spatial import cKDTree

from cytoql.kernels import spatial_index as si

R = 30.0
RADII = np.linspace(2.0, 100.0, 50)


def _setup(p):
    return {"xy": p.xy, "labels": p.labels, "n_labels": p.n_labels,
            "self": np.arange(len(p.xy), dtype=np.int64),
            "tree": si.build_kdtree(p.xy), "ckd": cKDTree(p.xy)}


def _count_by_label_ckd(d):
    lists = d["ckd"].query_ball_point(d["xy"], R)
    out = np.zeros((len(d["xy"]), d["n_labels"]), dtype=np.int64)
    labels = d["labels"]
    for i, nb in enumerate(lists):
        out[i] = np.bincount(labels[nb], minlength=d["n_labels"])
        out[i, labels[i]] -= 1  # the cell itself
    return out


def _nearest_ckd(d):
    return cKDTree(d["xy"]).query(d["xy"], k=2, workers=-1)


def _count_by_label_pairs(d):
    pairs = cKDTree(d["xy"]).query_pairs(R, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    labels, n_labels = d["labels"], d["n_labels"]
    flat = np.bincount(np.concatenate([i * n_labels + labels[j], j * n_labels + labels[i]]),
                       minlength=len(d["xy"]) * n_labels)
    return flat.reshape(len(d["xy"]), n_labels)


def _cumulative_ckd(d):
    # cKDTree.count_neighbors gives pair totals per radius (no per-cell rows):
    # the closest scipy equivalent of the Ripley pair-count pass.
    return d["ckd"].count_neighbors(d["ckd"], RADII)


CASES = [
    Case("nearest other cell, index build included", _setup,
         lambda d: si.PointIndex(d["xy"]).knn(d["xy"], 1, skip=d["self"]),
         {"scipy cKDTree build + query(k=2, workers=-1)": _nearest_ckd}, target=">= 3x at 1M"),
    Case("counts by type within 30 µm, index build included", _setup,
         lambda d: si.PointIndex(d["xy"]).count_within_by_label(
             d["labels"], d["n_labels"], d["xy"], R, skip=d["self"]),
         {"scipy cKDTree build + query_pairs + bincount": _count_by_label_pairs},
         target=">= 3x at 1M"),
    Case("build", _setup, lambda d: si.build_kdtree(d["xy"]),
         {"scipy cKDTree": lambda d: cKDTree(d["xy"])}, target="comparable"),
    Case("knn k=1 (nearest other cell)", _setup, lambda d: si.knn(d["tree"], d["xy"], 1, skip=d["self"]),
         {"scipy cKDTree": lambda d: d["ckd"].query(d["xy"], 2)}, target="on par at 1M"),
    Case("knn k=10", _setup, lambda d: si.knn(d["tree"], d["xy"], 10, skip=d["self"]),
         {"scipy cKDTree": lambda d: d["ckd"].query(d["xy"], 11)}, target="on par at 1M"),
    Case("count within 30 µm", _setup, lambda d: si.count_within(d["tree"], d["xy"], R, skip=d["self"]),
         {"scipy cKDTree": lambda d: d["ckd"].query_ball_point(d["xy"], R, return_length=True)},
         target="on par at 1M"),
    Case("count by label within 30 µm", _setup,
         lambda d: si.count_within_by_label(d["tree"], d["labels"], d["n_labels"], d["xy"], R, skip=d["self"]),
         {"scipy cKDTree + bincount": _count_by_label_ckd}, target=">= 3x"),
    Case("cumulative counts, 50 radii to 100 µm", _setup,
         lambda d: si.cumulative_counts(d["tree"], d["xy"], RADII, skip=d["self"]),
         {"scipy count_neighbors (totals only)": _cumulative_ckd}, sizes=(10_000, 100_000)),
]
