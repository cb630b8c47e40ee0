"""Every cookbook query, run on the kidney data and compared with brute force.

The references use only numpy/scipy on the AnnData (full distance matrices per FOV),
never the CytoQL evaluator or its kernels; pooled values are recomputed from the
gathered cells of all FOVs, so the combine rules are checked too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cookbook import cookbook
from kidney_reference import (ALL, composition, density, gather, grouped, load_kidney, odds,
                              run_query)

IMMUNE = ["macrophage", "monocyte", "T CD4 memory", "T CD8 memory", "B-cell", "NK", "mDC",
          "plasmablast"]
GLOMERULAR = ["Podocyte", "Mesangial.cell", "Glomerular.endothelium"]


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
    return load_kidney()


def test_main_cookbook_page_has_a_reference_for_each_query():
    assert set(cookbook("cookbook")) == set(REFERENCES)


def test_cookbook_has_at_least_90_queries():
    # each family page (docs/cookbook/*.md) is checked by its own test module in
    # tests/cytoql/cookbook/, which asserts a reference for every query of its page
    assert len(cookbook()) >= 90


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
    result = run_query(adata, text)
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
