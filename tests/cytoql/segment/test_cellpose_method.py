"""The cellpose method: weights are never downloaded; masks become CytoQL AnnData.

The full run builds a Cellpose-SAM network with random weights, so its masks are
meaningless: it tests the plumbing (loading from a path, running, the AnnData schema).
The conversion of masks to AnnData is tested on known masks in test_measure.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cytoql.errors import CytoQLWarning, DataError
from cytoql.interop import keys
from cytoql.segment import CellposeParams, segment
from cytoql.segment.cellpose_method import find_weights


def test_missing_weights_name_where_they_were_looked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("CELLPOSE_LOCAL_MODELS_PATH", str(tmp_path / "cache"))
    with pytest.raises(DataError) as info:
        find_weights(CellposeParams())
    message = str(info.value)
    assert str(tmp_path / "cache" / "cpsam") in message
    assert "CELLPOSE_LOCAL_MODELS_PATH" in message and "model_path=" in message
    assert "never downloads" in message
    assert not (tmp_path / "cache").exists()   # nothing created, nothing fetched


def test_missing_model_path_is_an_error_before_cellpose_runs(tmp_path):
    with pytest.raises(DataError, match=r"cellpose weights not found at model_path=.*nope.pt"):
        find_weights(CellposeParams(model_path=str(tmp_path / "nope.pt")))


def test_weights_found_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CELLPOSE_LOCAL_MODELS_PATH", str(tmp_path))
    (tmp_path / "mymodel").write_bytes(b"x")
    assert find_weights(CellposeParams(model="mymodel")) == tmp_path / "mymodel"


def test_unknown_cellpose_option_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown option.*'sigma'.*valid options: model_path"):
        segment(np.zeros((2, 8, 8)), method="cellpose", options={"sigma": 1})


@pytest.mark.slow
def test_cellpose_runs_from_a_local_weights_file(tmp_path, monkeypatch, small):
    pytest.importorskip("cellpose")
    torch = pytest.importorskip("torch")
    from cellpose.vit import CPSAM

    # Cellpose-SAM loads state dicts non-strictly and checks for its W2 readout: saving
    # the readout of a freshly initialised network gives a valid local weights file
    # (the encoder keeps its random initialisation); 0.2 MB instead of 1.2 GB.
    torch.manual_seed(0)
    net = CPSAM()
    weights = tmp_path / "random_cpsam.pt"
    torch.save({k: v for k, v in net.state_dict().items() if not k.startswith("encoder.")},
               weights)
    monkeypatch.setenv("CELLPOSE_LOCAL_MODELS_PATH", str(tmp_path / "empty-cache"))
    crop = small.pixels[:, :64, :64]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CytoQLWarning)   # random weights may find nothing
        adata = segment(crop, channel_names=small.channel_names, nuclear="DAPI",
                        membrane="Membrane", method="cellpose", um_per_px=0.5,
                        options={"model_path": str(weights), "diameter": 14.0})
    assert list(adata.var_names) == small.channel_names
    assert adata.uns[keys.SPATIAL_UNIT] == "um"
    assert adata.uns[keys.FOV_WINDOWS] == {"image": [0.0, 0.0, 32.0, 32.0]}
    assert adata.uns["segmentation"]["method"] == "cellpose"
    assert adata.uns["segmentation"]["parameters"]["model_path"] == str(weights)
    assert adata.obsm[keys.SPATIAL].shape == (adata.n_obs, 2)
    assert adata.obsm[keys.POLYGONS].shape[0] == adata.n_obs
    for column in ("fov", "label", "area", "perimeter", "eccentricity", "solidity",
                   "orientation"):
        assert column in adata.obs
    assert not (tmp_path / "empty-cache").exists()   # the cache was never touched


def test_without_cellpose_installed_the_error_says_how_to_get_it(monkeypatch):
    import sys

    from cytoql.segment.cellpose_method import CellposeSegmenter

    monkeypatch.setitem(sys.modules, "cellpose", None)   # import cellpose -> ImportError
    with pytest.raises(DataError, match=r"pip install 'cytoql\[segment\]'"):
        CellposeSegmenter(CellposeParams(model_path="w.pt"))


def test_cellpose_masks_become_cells(small, tmp_path, monkeypatch):
    """The cellpose path end to end with a stand-in model that returns the true masks."""
    models = pytest.importorskip("cellpose.models")
    calls = []

    class TrueMasks:
        def __init__(self, gpu, pretrained_model):
            calls.append(("init", gpu, pretrained_model))

        def eval(self, x, **kwargs):
            calls.append(("eval", x.shape, x.dtype, kwargs))
            # cellpose masks are uint16 with arbitrary ids; 0 is background
            return (small.labels * 3).astype(np.uint16), None, None

    monkeypatch.setattr(models, "CellposeModel", TrueMasks)
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights")
    adata = segment(small.pixels, channel_names=small.channel_names, nuclear="DAPI",
                    membrane="Membrane", method="cellpose", um_per_px=0.5,
                    options={"model_path": str(weights), "diameter": 14.0})
    assert calls[0] == ("init", False, str(weights))
    _, shape, dtype, kwargs = calls[1]
    assert shape == (128, 128, 2) and dtype == np.float32      # (membrane, nuclear) last
    assert kwargs["channel_axis"] == -1 and kwargs["diameter"] == 14.0
    assert adata.n_obs == small.n_cells
    rows, cols = np.nonzero(small.labels)
    ids = small.labels[rows, cols]
    first = np.argsort(rows * 128 + cols, kind="stable")
    order = ids[first][np.sort(np.unique(ids[first], return_index=True)[1])]  # raster order
    truth_xy = np.array([[(cols[ids == i] + 0.5).mean(), (rows[ids == i] + 0.5).mean()]
                         for i in order]) * 0.5
    np.testing.assert_allclose(adata.obsm[keys.SPATIAL], truth_xy)
    np.testing.assert_allclose(adata.obs["area"],
                               [np.sum(small.labels == i) * 0.25 for i in order])
