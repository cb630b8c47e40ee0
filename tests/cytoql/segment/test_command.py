"""``cytoql segment`` and ``cytoql demo --image``."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import tifffile

from cytoql.cli import main
from cytoql.segment import write_ome_tiff
from cytoql.segment.command import DEMO_GATING


@pytest.fixture
def ome(small, tmp_path):
    return write_ome_tiff(tmp_path / "tissue.ome.tif", small.pixels, small.channel_names,
                          small.um_per_px)


def test_segment_writes_typed_cells(ome, tmp_path, capsys, small):
    rules = tmp_path / "gating.toml"
    rules.write_text(DEMO_GATING)
    out = tmp_path / "cells.h5ad"
    code = main(["segment", str(ome), "-o", str(out), "--nuclear", "DAPI",
                 "--gating", str(rules), "--min-distance", "4", "--tile-size", "64"])
    assert code == 0
    adata = ad.read_h5ad(out)
    assert adata.n_obs == small.n_cells
    assert adata.uns["spatial_unit"] == "um"
    assert list(adata.uns["fov_windows"]) == ["tissue"]
    np.testing.assert_array_equal(adata.uns["fov_windows"]["tissue"], [0.0, 0.0, 64.0, 64.0])
    assert adata.uns["segmentation"]["parameters"]["min_distance"] == 4
    assert adata.uns["segmentation"]["tile_size"] == 64
    assert sorted(set(adata.obs["cell_type"])) <= ["B cell", "Epithelial", "T cell",
                                                   "unassigned"]
    printed = capsys.readouterr().out
    assert f"{small.n_cells} cells segmented by skimage" in printed
    assert "0.5 µm/px from ome" in printed and f"wrote {out}" in printed
    assert main(["info", str(out)]) == 0                  # the output is CytoQL data
    assert f"cell outlines: {small.n_cells} of {small.n_cells} cells" in capsys.readouterr().out


def test_pixel_size_argument_and_channel_names(small, tmp_path):
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, small.pixels, photometric="minisblack")
    out = tmp_path / "px.h5ad"
    assert main(["segment", str(plain), "-o", str(out), "--channel-names",
                 ",".join(small.channel_names), "--nuclear", "DAPI"]) == 0
    assert ad.read_h5ad(out).uns["spatial_unit"] == "px"
    assert main(["segment", str(plain), "-o", str(out), "--um-per-px", "0.25"]) == 0
    adata = ad.read_h5ad(out)
    assert adata.uns["spatial_unit"] == "um" and adata.uns["segmentation"]["um_per_px"] == 0.25
    assert list(adata.var_names) == ["ch0", "ch1", "ch2", "ch3", "ch4"]


@pytest.mark.parametrize("argv, code, message", [
    (["--nuclear", "7"], 1, "nuclear channel index 7 is out of range"),
    (["--membrane", "CD99"], 1, "membrane channel 'CD99' is not in the image"),
    (["--threshold", "triangle"], 2, "threshold must be 'otsu' or 'local'"),
    (["--diameter", "12"], 2, "--diameter do not apply to --method skimage"),
    (["--method", "cellpose", "--model-path", "/nowhere/w.pt"], 1,
     "cellpose weights not found at model_path='/nowhere/w.pt'"),
])
def test_bad_options_exit_with_a_message(ome, tmp_path, capsys, argv, code, message):
    if "cellpose" in argv:
        pytest.importorskip("cellpose")
    assert main(["segment", str(ome), "-o", str(tmp_path / "x.h5ad"), *argv]) == code
    assert message in capsys.readouterr().err


def test_missing_and_unreadable_images_are_usage_errors(tmp_path, capsys):
    assert main(["segment", str(tmp_path / "none.tif"), "-o", "x.h5ad"]) == 2
    assert "no such file" in capsys.readouterr().err
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"\x00" * 64)
    assert main(["segment", str(junk), "-o", "x.h5ad"]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert not (tmp_path / "x.h5ad").exists()


def test_image_demo_runs_end_to_end(capsys):
    assert main(["demo", "--image"]) == 0
    printed = capsys.readouterr().out
    assert "220 of 220 nuclei found" in printed
    assert "100% of found cells typed correctly" in printed
    assert "mean distance from a T cell to the nearest epithelial cell" in printed
    assert 'mean(distance(cells where type == "T cell" -> nearest' in printed
    assert "cells/mm²" in printed and "T cell: " in printed
