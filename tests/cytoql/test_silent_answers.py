"""Answers that used to be silent now say what they did (issue 13, item 5)."""

from __future__ import annotations

import math
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import cytoql
from cytoql.errors import AssumptionWarning, EmptySelectionWarning


def make_adata(xy, labels, fovs=None, dtype=float):
    n = len(xy)
    obs = pd.DataFrame({
        "cell_type": pd.Categorical(labels, categories=["a", "b"]),
        "fov": pd.Categorical(["f1"] * n if fovs is None else fovs),
        "score": np.linspace(0.0, 1.0, n),
    }, index=[f"c{i}" for i in range(n)])
    adata = ad.AnnData(obs=obs)
    adata.obsm["spatial"] = np.asarray(xy, dtype=dtype)
    adata.uns["spatial_unit"] = "um"
    return adata


def warned(adata, text, code):
    """The result and the messages of ``code`` it warned with."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cytoql.query(adata, text)
    return result, [str(w.message) for w in caught if str(w.message).startswith(code)]


def test_density_over_a_zero_area_window_warns_and_is_nan():
    adata = make_adata([[5.0, 5.0]] * 4, ["a", "a", "b", "b"])
    result, messages = warned(adata, "density(cells)", "W0506")
    assert math.isnan(result.value)
    assert messages == ["W0506: FOV f1: the window has zero area (0 × 0 µm: its cells lie "
                        "on one point or line): the density is NaN"]


def test_density_over_a_window_with_area_does_not_warn():
    adata = make_adata([[0.0, 0.0], [10.0, 10.0]], ["a", "b"])
    result, messages = warned(adata, "density(cells)", "W0506")
    assert result.value == pytest.approx(2 / 100 * 1e6)
    assert messages == []


def test_grouping_by_a_label_with_missing_values_says_how_many_are_left_out():
    adata = make_adata([[0, 0], [1, 1], [2, 2], [3, 3]], ["a", None, "b", None])
    result, messages = warned(adata, "count(cells) by type", "W0507")
    assert result.pool().to_dict() == {"a": 1.0, "b": 1.0}
    assert messages == ["W0507: FOV f1: 2 of 4 cells have no `type` label: they are in no "
                        "group, and the pooled values of the groups leave them out"
                        .replace("`type`", "`cell_type`")]


def test_grouping_with_every_cell_labelled_does_not_warn():
    adata = make_adata([[0, 0], [1, 1]], ["a", "b"])
    _, messages = warned(adata, "count(cells) by type", "W0507")
    assert messages == []


def test_float16_positions_are_converted_with_a_recorded_assumption():
    xy = np.array([[1000.0, 1000.0], [1003.0, 1000.0], [0.0, 3000.0]])
    adata = make_adata(xy, ["a", "b", "a"], dtype=np.float16)
    with pytest.warns(AssumptionWarning, match="stored as float16") as caught:
        result = cytoql.query(adata, "count(cells)")
    note = [a for a in result.assumptions if "float16" in a]
    assert note and "resolved only to 2 µm at the largest coordinate" in note[0]
    assert any("float32 or float64" in str(w.message) for w in caught)
    assert adata.obsm["spatial"].dtype == np.float16  # the caller's array untouched


def test_float32_positions_need_no_note():
    adata = make_adata([[0.0, 0.0], [3.0, 4.0]], ["a", "b"], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cytoql.query(adata, "count(cells)")
    assert not [a for a in result.assumptions if "stored as" in a]


@pytest.mark.parametrize("summary", ["std", "cv", "skewness"])
def test_a_spread_of_one_cell_is_nan_with_w0502(summary):
    adata = make_adata([[0, 0], [1, 1], [2, 2]], ["a", "b", "b"])
    result, messages = warned(adata, f'{summary}(col("score"), over = cells where type == "a")',
                              "W0502")
    assert math.isnan(result.value)
    assert messages == [f"W0502: FOV f1: 1 cell with a value: the {summary} needs at least "
                        "2, so it is NaN"]


def test_a_spread_of_two_cells_does_not_warn():
    adata = make_adata([[0, 0], [1, 1], [2, 2]], ["a", "b", "b"])
    result, messages = warned(adata, 'std(col("score"), over = cells where type == "b")',
                              "W0502")
    assert result.value == pytest.approx(np.std([0.5, 1.0], ddof=1))
    assert messages == []


@pytest.mark.parametrize("text, value, said", [
    ('count(cells where type == "b")', 0.0, "the count is 0"),
    ('density(cells where type == "b")', 0.0, "the density is 0"),
    ('sum(col("score"), over = cells where type == "b")', 0.0, "the sum is 0"),
    ('mean(col("score"), over = cells where type == "b")', math.nan, "the mean is NaN"),
    ('median(col("score"), over = cells where type == "b")', math.nan, "the median is NaN"),
])
def test_the_empty_set_warning_says_the_value_it_gives(text, value, said):
    adata = make_adata([[0, 0], [1, 1]], ["a", "a"])
    result, messages = warned(adata, text, "W0501")
    assert (math.isnan(result.value) and math.isnan(value)) or result.value == value
    assert messages == [f"W0501: FOV f1: no cells: {said}"]


def test_the_empty_set_warning_is_still_an_empty_selection_warning():
    adata = make_adata([[0, 0], [1, 1]], ["a", "a"])
    with pytest.warns(EmptySelectionWarning, match="the count is 0"):
        cytoql.query(adata, 'count(cells where type == "b")')
