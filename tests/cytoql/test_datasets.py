"""The bundled data set: content, packaging and independence of copies."""

from __future__ import annotations

from importlib import resources

import numpy as np
import scipy.sparse as sp

from cytoql.data import Sample
from cytoql.datasets import cosmx_kidney


def test_cosmx_kidney_content(kidney):
    assert kidney.shape == (6555, 11)
    assert sorted(kidney.obs["fov"].cat.categories) == ["18", "23"]
    assert kidney.obs["fov"].value_counts().sum() == 6555
    assert kidney.obs["cell_type"].dtype == "category"
    assert kidney.obs["cell_type"].nunique() == 26
    assert kidney.uns["spatial_unit"] == "um"
    xy = kidney.obsm["spatial"]
    assert xy.shape == (6555, 2) and np.isfinite(xy).all()
    # Micrometres, not the source's millimetres: two CosMx FOVs span ~0.5-1 mm each.
    extent = xy.max(axis=0) - xy.min(axis=0)
    assert (extent > 300).all() and (extent < 20000).all()
    assert sp.issparse(kidney.X)
    np.testing.assert_allclose(kidney.X.data, np.round(kidney.X.data))  # raw counts
    assert kidney.obs_names.is_unique


def test_cosmx_kidney_returns_independent_copies():
    first = cosmx_kidney()
    second = cosmx_kidney()
    assert first is not second
    first.obsm["spatial"][:] = 0.0
    first.obs["cell_type"] = "changed"
    first.uns["spatial_unit"] = "mm"
    third = cosmx_kidney()
    for other in (second, third):
        assert other.obsm["spatial"].any()
        assert other.obs["cell_type"].nunique() == 26
        assert other.uns["spatial_unit"] == "um"
    np.testing.assert_array_equal(second.obsm["spatial"], third.obsm["spatial"])


def test_cosmx_kidney_ships_as_package_data_with_its_license():
    data = resources.files("cytoql.datasets").joinpath("data")
    assert data.joinpath("cosmx_kidney.h5ad").is_file()
    notice = data.joinpath("COSMX_KIDNEY_LICENSE.md").read_text(encoding="utf-8")
    assert "MIT" in notice and "Bruker Spatial Biology" in notice
    assert "COSMX_KIDNEY_LICENSE.md" in cosmx_kidney.__doc__


def test_cosmx_kidney_reads_as_a_sample_without_unit_assumptions(kidney):
    sample = Sample.from_anndata(kidney)
    assert sample.n_cells == 6555
    assert sorted(f.name for f in sample.fovs) == ["18", "23"]
    assert len(sample.cell_types) == 26
    assert not sample.scale.assumed
    assert sum(f.n_cells for f in sample.fovs) == 6555
