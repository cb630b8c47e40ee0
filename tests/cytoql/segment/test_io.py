"""Reading images: axes, channel names, pixel size from metadata, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from cytoql.errors import AssumptionWarning, DataError
from cytoql.segment import image_from_array, read_image, segment, write_ome_tiff
from cytoql.segment.io import select_channel


@pytest.fixture
def stack():
    return np.random.default_rng(0).random((3, 20, 30)).astype(np.float32)


def test_ome_tiff_round_trip_of_channels_and_pixel_size(tmp_path, stack):
    path = write_ome_tiff(tmp_path / "x.ome.tif", stack, ["DAPI", "CD3", "PanCK"], 0.325)
    image = read_image(path)
    assert image.channel_names == ["DAPI", "CD3", "PanCK"]
    assert image.um_per_px == pytest.approx(0.325)
    assert image.pixel_size_source == "ome"
    assert image.shape == (20, 30)
    np.testing.assert_array_equal(np.asarray(image.pixels), stack)


def test_ome_pixel_size_in_nanometres_is_converted(tmp_path, stack):
    path = tmp_path / "nm.ome.tif"
    tifffile.imwrite(path, stack, ome=True, metadata={
        "axes": "CYX", "PhysicalSizeX": 650.0, "PhysicalSizeXUnit": "nm"})
    assert read_image(path).um_per_px == pytest.approx(0.65)


def test_tiff_resolution_tags_give_the_pixel_size(tmp_path, stack):
    path = tmp_path / "res.tif"
    # 20000 px per cm = 0.5 µm per px
    tifffile.imwrite(path, stack, photometric="minisblack", resolution=(20000, 20000),
                     resolutionunit="CENTIMETER")
    image = read_image(path)
    assert image.um_per_px == pytest.approx(0.5)
    assert image.pixel_size_source == "tiff-resolution"
    assert image.channel_names == ["ch0", "ch1", "ch2"]


def test_imagej_micron_resolution(tmp_path, stack):
    path = tmp_path / "ij.tif"
    # ImageJ stores px per unit with unit=micron: 4 px/µm = 0.25 µm/px
    tifffile.imwrite(path, stack, imagej=True, resolution=(4.0, 4.0),
                     metadata={"axes": "CYX", "unit": "um"})
    image = read_image(path)
    assert image.um_per_px == pytest.approx(0.25)
    assert image.pixels.shape == (3, 20, 30)


def test_screen_dpi_and_missing_resolution_mean_unknown(tmp_path, stack):
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, stack, photometric="minisblack")
    assert read_image(plain).um_per_px is None
    dpi = tmp_path / "dpi.tif"
    tifffile.imwrite(dpi, stack, photometric="minisblack", resolution=(72, 72),
                     resolutionunit="INCH")
    assert read_image(dpi).um_per_px is None


def test_argument_overrides_metadata_with_a_warning(tmp_path, stack):
    path = write_ome_tiff(tmp_path / "x.ome.tif", stack, ["a", "b", "c"], 0.5)
    with pytest.warns(AssumptionWarning, match="overrides the file's pixel size 0.5"):
        image = read_image(path, um_per_px=0.25)
    assert image.um_per_px == 0.25 and image.pixel_size_source == "argument"


def test_channel_last_and_single_plane_files(tmp_path, stack):
    yxc = tmp_path / "rgb.tif"
    tifffile.imwrite(yxc, (np.moveaxis(stack, 0, -1) * 255).astype(np.uint8), photometric="rgb")
    assert read_image(yxc).pixels.shape == (3, 20, 30)
    single = tmp_path / "one.tif"
    tifffile.imwrite(single, stack[0])
    assert read_image(single).pixels.shape == (1, 20, 30)


def test_channels_by_index_name_and_case(stack):
    image = image_from_array(stack, channel_names=["DAPI", "CD3", "PanCK"])
    assert select_channel(image, "CD3", "nuclear") == 1
    assert select_channel(image, "panck", "nuclear") == 2
    assert select_channel(image, -1, "nuclear") == 2
    assert select_channel(image, "0", "nuclear") == 0


def test_wrong_channel_index_lists_the_channels(stack):
    image = image_from_array(stack, channel_names=["DAPI", "CD3", "PanCK"])
    with pytest.raises(DataError, match=r"nuclear channel index 5 is out of range; the image "
                                        r"has 3 channel\(s\): 0: 'DAPI', 1: 'CD3', 2: 'PanCK'"):
        select_channel(image, 5, "nuclear")
    with pytest.raises(DataError, match="membrane channel 'CD8' is not in the image"):
        segment(stack, channel_names=["DAPI", "CD3", "PanCK"], membrane="CD8")


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_text("not an image")
    with pytest.raises(DataError, match="cannot read .*bad.tif.* as a TIFF image"):
        read_image(bad)
    with pytest.raises(DataError, match="no image file at"):
        read_image(tmp_path / "absent.tif")


def test_one_pixel_image_is_rejected(tmp_path):
    path = tmp_path / "dot.tif"
    tifffile.imwrite(path, np.ones((1, 1), dtype=np.uint16))
    with pytest.raises(DataError, match=r"image is 1 × 1 pixels; segmentation needs at least 2 × 2"):
        read_image(path)
    with pytest.raises(DataError, match="at least 2 × 2"):
        segment(np.ones((1, 1)))


def test_z_stack_is_rejected_with_advice(tmp_path):
    path = tmp_path / "z.ome.tif"
    tifffile.imwrite(path, np.zeros((4, 2, 16, 16), dtype=np.uint8), ome=True,
                     metadata={"axes": "ZCYX"})
    with pytest.raises(DataError, match="axis 'Z' has 4 planes.*export one plane"):
        read_image(path)


def test_bad_channel_names_and_pixel_size(stack):
    with pytest.raises(DataError, match="2 channel names for 3 channels"):
        image_from_array(stack, channel_names=["a", "b"])
    with pytest.raises(DataError, match="channel names must be unique"):
        image_from_array(stack, channel_names=["a", "a", "b"])
    with pytest.raises(DataError, match="um_per_px must be a positive finite number"):
        image_from_array(stack, um_per_px=0)


def test_compressed_tiles_are_decoded_on_demand(tmp_path, small):
    path = tmp_path / "zlib.ome.tif"
    tifffile.imwrite(path, small.pixels, ome=True, compression="zlib", tile=(32, 32),
                     metadata={"axes": "CYX", "Channel": {"Name": small.channel_names},
                               "PhysicalSizeX": 0.5, "PhysicalSizeXUnit": "µm"})
    image = read_image(path)
    assert not isinstance(image.pixels, np.ndarray)          # nothing decoded yet
    assert image.pixels.shape == small.pixels.shape and image.um_per_px == 0.5
    np.testing.assert_array_equal(image.pixels[2][10:40, 5:70], small.pixels[2, 10:40, 5:70])
    np.testing.assert_array_equal(np.asarray(image.pixels), small.pixels)
    tiled = segment(image, nuclear="DAPI", tile_size=48, tile_overlap=32)
    whole = segment(small.pixels, channel_names=small.channel_names, um_per_px=0.5,
                    nuclear="DAPI")
    np.testing.assert_array_equal(tiled.obsm["spatial"], whole.obsm["spatial"])
    np.testing.assert_array_equal(tiled.X, whole.X)


def test_compressed_yx_file_with_singleton_axes(tmp_path):
    data = np.arange(2 * 3 * 5, dtype=np.uint16).reshape(1, 2, 3, 5)
    path = tmp_path / "tzyx.ome.tif"
    tifffile.imwrite(path, data, ome=True, compression="zlib", metadata={"axes": "TCYX"})
    image = read_image(path)
    assert image.pixels.shape == (2, 3, 5)
    np.testing.assert_array_equal(np.asarray(image.pixels), data[0])
    np.testing.assert_array_equal(image.pixels[-1][1:, :2], data[0, 1, 1:, :2])


def test_a_zero_pixel_size_in_the_file_is_treated_as_unknown(tmp_path, stack):
    path = tmp_path / "zero.ome.tif"
    tifffile.imwrite(path, stack, ome=True, metadata={"axes": "CYX", "PhysicalSizeX": 0.0})
    with pytest.warns(AssumptionWarning, match="pixel size 0.0 µm \\(ome\\) is not a positive"):
        image = read_image(path)
    assert image.um_per_px is None and image.pixel_size_source == "unknown"
