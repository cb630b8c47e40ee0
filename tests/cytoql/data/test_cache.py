"""Samples are reused per AnnData only while what they read is unchanged."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import cytoql
from cytoql.data import cache
from cytoql.datasets import synthetic


@pytest.fixture
def adata():
    cache.clear()
    return synthetic(400, seed=3)


def _run(adata, text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cytoql.query(adata, text)


def test_the_same_unchanged_anndata_reuses_its_sample(adata):
    assert cache.sample_of(adata) is cache.sample_of(adata)
    assert cache.sample_of(adata, type_key=None) is not cache.sample_of(adata)


def test_positions_edited_in_place_are_seen(adata):
    text = "min(distance(cells -> nearest cells))"
    before = _run(adata, text).value
    adata.obsm["spatial"][0] = adata.obsm["spatial"][1] + 0.5
    assert before > 1 and _run(adata, text).value == pytest.approx(0.5 * 2 ** 0.5)


def test_labels_edited_in_place_are_seen(adata):
    first = adata.obs["cell_type"].cat.categories[0]
    text = f'count(cells where type == "{first}")'
    before = _run(adata, text).value
    adata.obs.loc[adata.obs_names[adata.obs["cell_type"] != first][:5], "cell_type"] = first
    assert _run(adata, text).value == before + 5


def test_a_new_column_is_known_to_the_next_query(adata):
    adata.obs["score"] = np.arange(adata.n_obs, dtype=float)
    assert _run(adata, "max(score)").value == adata.n_obs - 1


def test_the_cache_keeps_a_bounded_number_of_anndata_objects(adata):
    for seed in range(cache.MAX_ENTRIES + 3):
        cache.sample_of(synthetic(50, seed=seed))
    assert len(cache._CACHE) == cache.MAX_ENTRIES
