"""Evaluation: a paper case, properties against brute force on random point sets, and
the documented results for empty sets, single cells and FOVs without a type."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

import cytoql
from cytoql.errors import EvaluationError
from strategies import labelled_points, radii

TYPES = ["a", "b", "c"]


def make_adata(xy, labels, fovs=None):
    n = len(xy)
    obs = pd.DataFrame({
        "cell_type": pd.Categorical([TYPES[i] for i in labels], categories=TYPES),
        "fov": pd.Categorical(["f1"] * n if fovs is None else list(fovs)),
        "total_counts": np.arange(n, dtype=float),
    }, index=[f"cell{i}" for i in range(n)])
    adata = ad.AnnData(X=np.zeros((n, 1)), obs=obs)
    adata.obsm["spatial"] = np.asarray(xy, float)
    adata.uns["spatial_unit"] = "um"
    return adata


def run(adata, text, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cytoql.query(adata, text, **kw)


@pytest.fixture
def line():
    # a(0,0)  b(1,0)  b(3,0)  a(10,0): nearest b of the a cells at 1 and 7
    return make_adata([[0, 0], [1, 0], [3, 0], [10, 0]], [0, 1, 1, 0])


def test_paper_case_distances_counts_and_composition(line):
    A, B = 'cells where type == "a"', 'cells where type == "b"'
    assert list(run(line, f"distance({A} -> nearest {B})").values) == [1.0, 7.0]
    assert list(run(line, f"distance({A} -> nearest {B}, k = 2)").values) == [3.0, 9.0]
    assert list(run(line, f"count({B} within 2 um of {A})").values) == [1.0, 0.0]
    # the b at 1 has the a at 0 and the b at 3 within 2 µm; never itself
    assert list(run(line, "count(cells within 2 um of cells)").values) == [1.0, 2.0, 1.0, 0.0]
    assert run(line, f"fraction({A} where count({B} within 2 um) >= 1)").value == 0.5
    window = (-1.0, -5.0, 11.0, 5.0)  # 12 µm × 10 µm
    assert list(run(line, f"distance_to_edge({B})", windows=window).values) == [2.0, 4.0]
    assert run(line, f"density({B})", windows=window).value == pytest.approx(2 / 120 * 1e6)
    assert list(run(line, f"nearest_type({A} -> nearest cells)").values) == ["b", "b"]
    shannon = run(line, "shannon(cells within 2 um of cells)").values
    assert shannon.tolist()[:3] == pytest.approx([0.0, np.log(2), 0.0]) and np.isnan(shannon.iloc[3])
    assert run(line, f"mean(distance({A} -> nearest {B}))").value == 4.0


def test_density_is_cells_per_mm2_of_the_window():
    adata = make_adata([[0, 0], [1000, 0], [0, 500], [1000, 500]], [0, 0, 1, 1])
    result = run(adata, 'density(cells where type == "a")')
    assert result.value == pytest.approx(2 / 0.5) and result.unit == "cells/mm²"


@given(labelled_points(min_size=1, max_size=40), radii(), st.integers(1, 3),
       st.lists(st.booleans(), min_size=40, max_size=40))
def test_neighbour_values_match_brute_force_within_each_fov(pts, r, k, split):
    xy, labels = pts
    fovs = np.where(np.asarray(split[:len(xy)]), "f1", "f2")
    adata = make_adata(xy, labels, fovs)
    A, B = 'cells where type == "a"', 'cells where type == "b"'
    counts = run(adata, f"count({B} within {r!r} um of {A})")
    expected_counts, expected_nnd, k_too_large = {}, {}, False
    for fov in np.unique(fovs):
        rows = np.flatnonzero(fovs == fov)
        a, b = rows[labels[rows] == 0], rows[labels[rows] == 1]
        d = cdist(xy[a], xy[b]) if len(a) and len(b) else np.zeros((len(a), len(b)))
        d[a[:, None] == b[None, :]] = np.inf
        for i, cell in enumerate(a):
            expected_counts[f"cell{cell}"] = float((d[i] <= r).sum())
            row = np.sort(d[i])
            expected_nnd[f"cell{cell}"] = row[k - 1] if len(row) >= k else np.nan
        k_too_large |= 0 < len(b) < k
    assert dict(counts.values) == expected_counts
    text = f"distance({A} -> nearest {B}, k = {k})"
    if k_too_large:
        with pytest.raises(EvaluationError):
            run(adata, text)
        return
    got = dict(run(adata, text).values)
    assert got == pytest.approx(expected_nnd, rel=1e-12, nan_ok=True)


def test_fov_without_the_target_type_gives_nan_and_a_warning():
    adata = make_adata([[0, 0], [1, 0], [5, 5], [6, 5]], [0, 1, 0, 0], ["f1", "f1", "f2", "f2"])
    with pytest.warns(cytoql.EmptySelectionWarning, match="W0501"):
        result = cytoql.query(adata, 'mean(distance(cells -> nearest cells where type == "b"))')
    assert result.per_fov["f1"] == 1.0 and np.isnan(result.per_fov["f2"])
    assert result.pool() == 1.0  # the pooled mean gathers the cells that have a value
    count = run(adata, 'count(cells where type == "b")')
    assert dict(count.per_fov) == {"f1": 1.0, "f2": 0.0}


def test_empty_selection_gives_nan_summaries_and_zero_counts(line):
    empty = 'cells where type == "c"'
    assert run(line, f"count({empty})").value == 0
    assert np.isnan(run(line, f"fraction({empty} where total_counts > 1)").value)
    assert np.isnan(run(line, f"mean(distance({empty} -> nearest cells))").value)
    assert len(run(line, empty)) == 0
    assert len(run(line, f"distance({empty} -> nearest cells)")) == 0


def test_single_cell_set_has_no_other_neighbour():
    adata = make_adata([[0, 0], [1, 0], [3, 0]], [0, 1, 1])
    single = 'cells where type == "a"'
    assert np.isnan(run(adata, f"distance({single} -> nearest {single})").values.iloc[0])
    assert run(adata, f"count({single} within 5 um of {single})").values.iloc[0] == 0


def test_several_fovs_refuse_a_silent_value_and_pool_on_request(line):
    two = make_adata([[0, 0], [1, 0], [5, 5], [9, 5]], [0, 1, 0, 1], ["f1", "f1", "f2", "f2"])
    result = run(two, 'mean(distance(cells where type == "a" -> nearest cells where type == "b"))')
    with pytest.raises(cytoql.CytoQLError, match="2 FOVs"):
        result.value
    assert result.pool() == 2.5 and dict(result.per_fov) == {"f1": 1.0, "f2": 4.0}
    assert run(two, "mean(distance(cells -> nearest cells))", pool=True).value == 2.5


def test_cells_in_different_fovs_are_never_neighbours():
    adata = make_adata([[0, 0], [0, 0]], [0, 1], ["f1", "f2"])
    assert run(adata, 'count(cells within 1 um of cells)').values.tolist() == [0.0, 0.0]


def test_query_never_modifies_the_anndata(line):
    before = line.copy()
    run(line, 'fraction(cells where count(cells within 3 um) >= 1) by type')
    assert line.obs.equals(before.obs) and (line.obsm["spatial"] == before.obsm["spatial"]).all()
    assert dict(line.uns) == dict(before.uns)


def test_results_do_not_depend_on_evaluation_order_or_repeats(line):
    text = 'mean(shannon(cells within 5 um of cells where type == "a"))'
    assert run(line, text).value == run(line, text).value


def test_random_streams_derive_from_seed_fov_and_feature_only(line):
    from cytoql.api import compile, schema_of
    import dataclasses

    from cytoql.data import Sample
    from cytoql.data.fov import fov_data
    from cytoql.evaluate import FovEvaluator
    from cytoql.source import Source

    sample = Sample.from_anndata(line)
    plan = compile("count(cells)", schema_of(sample))
    data = fov_data(sample, sample.fovs[0], plan.needs())

    def draw(seed, feature, fov=data):
        ev = FovEvaluator(plan, fov, seed, Source("count(cells)"))
        return ev.rng(feature).random(3).tolist()

    assert draw(1, "k") == draw(1, "k")
    assert draw(1, "k") != draw(2, "k") and draw(1, "k") != draw(1, "other")
    assert draw(1, "k") != draw(1, "k", dataclasses.replace(data, sample="s2"))
    assert draw(1, "k") != draw(1, "k", dataclasses.replace(data, name="other"))


def test_by_option_groups_like_the_by_clause(line):
    from cytoql.errors import QueryNameError

    text = "mean(distance(cells -> nearest cells))"
    in_text = run(line, text + " by type")
    as_option = run(line, text, by="type")
    assert in_text.per_fov.equals(as_option.per_fov)
    assert as_option.query == text + " by type"
    with pytest.raises(QueryNameError, match="E0204"):
        run(line, text, by="celltype")


def test_label_comparisons_never_match_a_missing_label():
    adata = make_adata([[0, 0], [1, 0], [50, 0], [51, 0]], [0, 0, 1, 1])
    labels = adata.obs["cell_type"].astype(object)
    labels.iloc[2:] = None  # two unlabelled cells, each the other's nearest
    adata.obs["cell_type"] = pd.Categorical(labels, categories=TYPES)
    same = run(adata, "nearest_type(cells -> nearest cells) == type").values
    assert same.tolist() == [True, True, False, False]
    assert run(adata, 'count(cells where type != "a")').value == 2


def test_fingerprint_follows_the_data_not_the_object(line):
    text = "count(cells)"
    first, again = run(line, text), run(line.copy(), text)
    assert first.fingerprint == again.fingerprint and len(first.fingerprint) == 16
    moved = line.copy()
    moved.obsm["spatial"] = moved.obsm["spatial"] + 1.0
    assert run(moved, text).fingerprint != first.fingerprint
    assert first.to_dict()["fingerprint"] == first.fingerprint
    assert f"data fingerprint: {first.fingerprint}" in first.explain()
