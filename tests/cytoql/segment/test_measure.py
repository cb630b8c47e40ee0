"""Label image → AnnData: positions, outlines, morphology, intensities, units, h5ad."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cytoql.data import Sample
from cytoql.errors import CytoQLWarning
from cytoql.interop import keys
from cytoql.segment import image_from_array, labels_to_anndata, segment
from cytoql.segment.synthetic_image import _ellipse_mask


@pytest.fixture
def two_objects():
    """A 10 × 20 px rectangle (label 5) and a 4 × 4 px square (label 9) on 40 × 60 px."""
    labels = np.zeros((40, 60), dtype=np.int32)
    labels[10:20, 20:40] = 5
    labels[30:34, 2:6] = 9
    pixels = np.zeros((2, 40, 60))
    pixels[0][labels == 5] = 2.0
    pixels[0][labels == 9] = 4.0
    pixels[1] = 1.0
    pixels[1][labels == 9] = 3.0
    pixels[1, 10, 20] = 11.0          # one bright pixel: rectangle mean = (199 + 11) / 200
    return labels, pixels


def test_known_mask_gives_exact_positions_areas_and_means(two_objects):
    labels, pixels = two_objects
    image = image_from_array(pixels, channel_names=["DAPI", "CD3"], um_per_px=0.5)
    adata = labels_to_anndata(labels, image, fov="f1")
    assert list(adata.obs_names) == ["f1_5", "f1_9"]
    assert list(adata.obs["label"]) == [5, 9]
    assert list(adata.var_names) == ["DAPI", "CD3"]
    # rectangle: columns 20..39 -> x in [20, 40) px, centre 30 px = 15 µm; rows 10..19 -> 7.5 µm
    np.testing.assert_allclose(adata.obsm[keys.SPATIAL], [[15.0, 7.5], [2.0, 16.0]])
    np.testing.assert_allclose(adata.obs["area"], [200 * 0.25, 16 * 0.25])
    np.testing.assert_allclose(adata.X, [[2.0, 210 / 200], [4.0, 3.0]])
    np.testing.assert_allclose(adata.obs["solidity"], [1.0, 1.0])
    assert adata.obs["orientation"].iloc[0] == pytest.approx(0.0)   # long side along x
    assert adata.uns[keys.SPATIAL_UNIT] == "um"
    assert keys.UM_PER_PX not in adata.uns
    assert adata.uns[keys.FOV_WINDOWS] == {"f1": [0.0, 0.0, 30.0, 20.0]}
    assert list(adata.obs[keys.FOV]) == ["f1", "f1"]


def test_outline_of_a_rectangle_follows_its_pixel_edges(two_objects):
    labels, pixels = two_objects
    image = image_from_array(pixels, um_per_px=0.5)
    raw = labels_to_anndata(labels, image, simplify_px=0)
    rect = Sample.from_anndata(raw, type_key=None).polygons()[0]
    # marching squares at 0.5 passes through edge midpoints and cuts each corner by
    # a 0.5 × 0.5 px triangle: area 200 - 4 · 0.125 px²
    assert rect.bounds == pytest.approx((10.0, 5.0, 20.0, 10.0))
    assert rect.area == pytest.approx((200 - 0.5) * 0.25)
    simplified = Sample.from_anndata(labels_to_anndata(labels, image), type_key=None).polygons()
    assert len(simplified[0].exterior.coords) <= len(rect.exterior.coords)
    assert simplified[0].hausdorff_distance(rect) <= 0.5 * 0.5 + 1e-9  # tolerance 0.5 px


@pytest.mark.parametrize("degrees", [0.0, 30.0, 120.0])
def test_orientation_is_the_major_axis_angle_from_x_towards_y(degrees):
    mask = _ellipse_mask((80, 80), (40.0, 40.0), (20.0, 8.0), np.radians(degrees))
    adata = labels_to_anndata(mask.astype(np.int32), image_from_array(mask[None] * 1.0))
    assert adata.obs["orientation"].iloc[0] == pytest.approx(degrees, abs=1.0)
    # ellipse eccentricity sqrt(1 - b²/a²) = 0.9165
    assert adata.obs["eccentricity"].iloc[0] == pytest.approx(0.9165, abs=0.01)


def test_unknown_pixel_size_keeps_pixels_and_the_data_model_says_so(two_objects):
    labels, pixels = two_objects
    adata = labels_to_anndata(labels, image_from_array(pixels))
    assert adata.uns[keys.SPATIAL_UNIT] == "px"
    assert keys.UM_PER_PX not in adata.uns
    np.testing.assert_allclose(adata.obsm[keys.SPATIAL][0], [30.0, 15.0])
    assert adata.obs["area"].iloc[0] == 200
    assert adata.uns["segmentation"]["obs_units"]["area"] == "px2"
    sample = Sample.from_anndata(adata, type_key=None)
    assert sample.scale.assumed
    assert any("px" in a for a in sample.assumptions)


def test_known_pixel_size_gives_micrometres_in_the_data_model(small):
    adata = segment(small.pixels, channel_names=small.channel_names, um_per_px=0.5)
    sample = Sample.from_anndata(adata, type_key=None)
    assert not sample.scale.assumed and sample.scale.um_per_unit == 1.0
    window = sample.fovs[0].window
    assert window.source == "metadata"
    assert window.as_tuple() == (0.0, 0.0, 64.0, 64.0)
    assert adata.uns["segmentation"]["um_per_px"] == 0.5


def test_polygons_round_trip_through_h5ad(small, tmp_path):
    adata = segment(small.pixels, channel_names=small.channel_names, um_per_px=0.5)
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    back = ad.read_h5ad(path)
    np.testing.assert_array_equal(back.obsm[keys.POLYGONS], adata.obsm[keys.POLYGONS])
    np.testing.assert_array_equal(back.obsm[keys.SPATIAL], adata.obsm[keys.SPATIAL])
    assert back.uns["segmentation"]["method"] == "skimage"
    polygons = Sample.from_anndata(back, type_key=None).polygons()
    areas = np.array([p.area for p in polygons])
    # outline (corner-cut, simplified) vs pixel-count area: within 12 % for 5-8 px nuclei
    np.testing.assert_allclose(areas, back.obs["area"], rtol=0.12)
    inside = [p.buffer(1e-9).contains(shapely.Point(xy))
              for p, xy in zip(polygons, back.obsm[keys.SPATIAL])]
    assert all(inside)


@pytest.mark.parametrize("pixels", [np.zeros((2, 50, 50)),
                                    np.full((2, 50, 50), 7.0)], ids=["black", "flat"])
def test_blank_image_gives_an_empty_anndata_with_a_warning(pixels, tmp_path):
    with pytest.warns(CytoQLWarning, match="no objects were segmented"):
        adata = segment(pixels, um_per_px=1.0)
    assert adata.n_obs == 0 and list(adata.var_names) == ["ch0", "ch1"]
    assert adata.obsm[keys.SPATIAL].shape == (0, 2)
    assert adata.obsm[keys.POLYGONS].shape[0] == 0
    assert adata.uns[keys.FOV_WINDOWS] == {"image": [0.0, 0.0, 50.0, 50.0]}
    adata.write_h5ad(tmp_path / "empty.h5ad")


def test_labels_must_match_the_image():
    image = image_from_array(np.zeros((1, 10, 10)))
    with pytest.raises(ValueError, match=r"labels have shape \(10, 12\) but the image is \(10, 10\)"):
        labels_to_anndata(np.zeros((10, 12), dtype=np.int32), image)
    with pytest.raises(ValueError, match="2-D integer array"):
        labels_to_anndata(np.zeros((10, 10)), image)


@settings(max_examples=40)
@given(st.integers(0, 2**32 - 1), st.integers(2, 24), st.integers(2, 24),
       st.integers(1, 6), st.sampled_from([None, 0.5, 2.0]))
def test_random_label_images_measure_like_brute_force(seed, height, width, n_ids, um_per_px):
    """Areas, centroids and means against per-object numpy sums, on arbitrary labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_ids + 1, size=(height, width)).astype(np.int32)
    pixels = rng.random((2, height, width))
    image = image_from_array(pixels, um_per_px=um_per_px)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CytoQLWarning)   # an all-zero draw is empty
        adata = labels_to_anndata(labels, image, fov="f")
    ids = [i for i in range(1, n_ids + 1) if (labels == i).any()]
    assert list(adata.obs["label"]) == ids
    s = 1.0 if um_per_px is None else um_per_px
    rows, cols = np.indices(labels.shape)
    for k, i in enumerate(ids):
        mask = labels == i
        assert adata.obs["area"].iloc[k] == pytest.approx(mask.sum() * s * s)
        np.testing.assert_allclose(adata.obsm[keys.SPATIAL][k],
                                   [(cols[mask].mean() + 0.5) * s, (rows[mask].mean() + 0.5) * s])
        np.testing.assert_allclose(adata.X[k], pixels[:, mask].mean(axis=1))
    assert adata.obsm[keys.POLYGONS].shape[0] == len(ids)   # validated against positions


def test_an_object_in_two_pieces_gets_their_convex_hull():
    labels = np.zeros((20, 30), dtype=np.int32)
    labels[2:6, 2:6] = 1
    labels[12:16, 22:26] = 1
    adata = labels_to_anndata(labels, image_from_array(np.ones((1, 20, 30))), simplify_px=0)
    hull = Sample.from_anndata(adata, type_key=None).polygons()[0]
    assert hull.bounds == pytest.approx((2.0, 2.0, 26.0, 16.0))
    assert hull.contains(shapely.Point(adata.obsm[keys.SPATIAL][0]))
    assert adata.obs["area"].iloc[0] == 32     # morphology still counts the pixels
