"""The scikit-image method on synthetic images with known nuclei."""

from __future__ import annotations

import numpy as np
import pytest

from cytoql.segment import SkimageParams, image_from_array, segment, segment_labels
from cytoql.segment.pipeline import tile_grid
from cytoql.segment.skimage_method import otsu_threshold, segment_tile
from cytoql.segment.synthetic_image import synthetic_multiplex_image
from segmentation import match_by_iou


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_detection_recall_and_precision_by_iou(seed):
    img = synthetic_multiplex_image((384, 384), n_cells=120, touching_pairs=10, noise=0.15,
                                    rng=np.random.default_rng(seed))
    labels = segment_labels(image_from_array(img.pixels))
    t, lab = match_by_iou(img.labels, labels)
    recall, precision = len(t) / img.n_cells, len(lab) / labels.max()
    # measured 1.00 / 1.00 on seeds 0-5 at this noise; 0.95 leaves room for one or two
    # ambiguous touching pairs on other platforms' float rounding
    assert recall >= 0.95 and precision >= 0.95
    assert np.isin(np.flatnonzero(img.touching), t).mean() >= 0.9  # pairs are split


def test_centroids_within_a_pixel_and_areas_within_tolerance(crowded):
    adata = segment(crowded.pixels, channel_names=crowded.channel_names, nuclear="DAPI")
    labels = segment_labels(image_from_array(crowded.pixels))
    t, lab = match_by_iou(crowded.labels, labels)
    xy = adata.obsm["spatial"][lab]                    # rows follow label order 1..n
    assert np.hypot(*(xy - crowded.centres[t]).T).max() < 1.0
    ellipse_area = np.pi * crowded.semi_axes[t, 0] * crowded.semi_axes[t, 1]
    # blur + threshold move the boundary by a fraction of a pixel: at a 5-8 px radius
    # that is within 15 % of the area (measured -5 % .. +11 %)
    assert np.abs(adata.obs["area"].to_numpy()[lab] / ellipse_area - 1).max() < 0.15


@pytest.fixture(scope="module")
def touching():
    """512 × 512 px, 212 nuclei of which 120 in touching pairs, 128 px tiles.

    With one global watershed this image gave different split lines in tiles (the
    queue order that breaks ties spans the whole array); seed found by search.
    """
    return synthetic_multiplex_image((512, 512), n_cells=300, touching_pairs=60, noise=0.1,
                                     rng=np.random.default_rng(0))


@pytest.mark.parametrize("options", [None, {"expand_px": 4.0}], ids=["nuclei", "cells"])
def test_tiled_equals_untiled_with_objects_across_tile_borders(touching, options):
    image = image_from_array(touching.pixels)
    tile = 128
    rows, cols = np.nonzero(touching.labels)
    ids = touching.labels[rows, cols]
    crossing = {i for i in np.unique(ids)
                if len(np.unique(rows[ids == i] // tile)) > 1
                or len(np.unique(cols[ids == i] // tile)) > 1}
    assert len(crossing) >= 20
    untiled = segment_labels(image, membrane="1", options=options)
    tiled = segment_labels(image, membrane="1", options=options, tile_size=tile,
                           tile_overlap=48)
    assert untiled.max() == touching.n_cells
    np.testing.assert_array_equal(tiled, untiled)


def test_tiled_equals_untiled_with_local_threshold(small):
    image = image_from_array(small.pixels)
    options = {"threshold": "local", "block_size": 31, "offset": -0.15}
    untiled = segment_labels(image, options=options)
    tiled = segment_labels(image, options=options, tile_size=40, tile_overlap=50)
    assert untiled.max() >= small.n_cells - 1
    np.testing.assert_array_equal(tiled, untiled)


def test_tile_grid_cores_partition_the_image():
    cover = np.zeros((70, 45), dtype=int)
    for window, core in tile_grid(70, 45, 16, 5):
        rows, cols = window
        assert rows.start >= 0 and rows.stop <= 70 and cols.stop <= 45
        assert core[0].start <= 5 and rows.stop - (rows.start + core[0].stop) <= 5
        cover[rows, cols][core] += 1
    assert (cover == 1).all()


def test_expansion_grows_nuclei_without_overlap(small):
    image = image_from_array(small.pixels)
    nuclei = segment_labels(image)
    cells = segment_labels(image, membrane=1, options={"expand_px": 3.0})
    assert cells.max() == nuclei.max()
    assert (cells > 0).sum() > 1.5 * (nuclei > 0).sum()
    assert ((nuclei > 0) <= (cells > 0)).all()


def test_constant_image_has_no_foreground():
    flat = np.full((40, 40), 0.3)
    assert otsu_threshold(flat, 1.0, [((slice(None),) * 2, (slice(None),) * 2)]) is None
    assert segment_tile(flat, None, SkimageParams(), None).max() == 0


def test_thin_line_without_a_strict_peak_is_kept_whole():
    img = np.zeros((20, 40))
    img[10, 5:35] = 1.0
    labels = segment_tile(img, None, SkimageParams(sigma=0, min_size=5), 0.5)
    assert labels.max() == 1 and (labels > 0).sum() == 30


@pytest.mark.parametrize("bad, message", [
    ({"threshold": "triangle"}, "threshold must be 'otsu' or 'local'"),
    ({"block_size": 10}, "block_size must be an odd integer"),
    ({"min_distance": 0}, "min_distance must be an integer >= 1"),
    ({"sigma": -1}, "sigma must be >= 0"),
])
def test_bad_parameters_are_rejected(bad, message):
    with pytest.raises(ValueError, match=message):
        SkimageParams(**bad)


def test_overlap_below_the_method_context_is_refused(small):
    with pytest.raises(ValueError, match=r"tile_overlap=3 px is less than the 6 px of context"):
        segment_labels(image_from_array(small.pixels), tile_size=32, tile_overlap=3,
                       options={"sigma": 1.5})


def test_nan_pixels_are_a_data_error():
    from cytoql.errors import DataError

    pixels = np.ones((1, 20, 20))
    pixels[0, 3, 3] = np.nan
    with pytest.raises(DataError, match="nuclear channel has NaN or infinite pixels"):
        segment(pixels)
