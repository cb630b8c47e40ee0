"""Classical nucleus segmentation with scikit-image: the method that always works.

Pipeline, per tile: Gaussian smoothing → foreground by a global Otsu threshold (computed
once over the whole image from a histogram, so tiles agree) or a local (adaptive)
threshold → removal of small objects and filling of holes → Euclidean distance transform
→ seeds at its local maxima (``peak_local_max`` with ``min_distance``, merged within
one h-maximum so that a ridge gives one seed) → seeded
watershed on the inverted distance, which splits touching nuclei → removal of objects
smaller than ``min_size`` → optional growth of each nucleus into a cell body, along a
membrane channel when there is one.
"""

from __future__ import annotations


import numpy as np
from scipy import ndimage as ndi

from cytoql.errors import DataError
from cytoql.segment.params import TRUNCATE, SkimageParams

__all__ = ["otsu_threshold", "segment_tile"]

_OTSU_BINS = 256


def _smooth(channel: np.ndarray, sigma: float) -> np.ndarray:
    data = np.asarray(channel, dtype=np.float64)
    if sigma == 0:
        return data
    return ndi.gaussian_filter(data, sigma, mode="nearest", truncate=TRUNCATE)


def _watershed_by_component(elevation: np.ndarray, markers: np.ndarray,
                            mask: np.ndarray) -> np.ndarray:
    """Seeded watershed run on each connected component of ``mask`` separately.

    scikit-image breaks ties between equal elevations by a queue order that is global
    to the array, so the split line between two touching nuclei would depend on every
    other object in the tile; per component (on its bounding box) it depends on that
    component alone, which makes tiled and untiled results identical.
    """
    from skimage.segmentation import watershed

    out = np.zeros(markers.shape, dtype=np.int32)
    components, _ = ndi.label(mask)
    for i, box in enumerate(ndi.find_objects(components), start=1):
        inside = components[box] == i
        seeds = np.where(inside, markers[box], 0)
        ids = np.unique(seeds[seeds > 0])
        if len(ids) == 1:
            out[box][inside] = ids[0]
        elif len(ids) > 1:
            out[box][inside] = watershed(elevation[box], seeds, mask=inside)[inside]
    return out


def otsu_threshold(channel, sigma: float, tiles) -> float | None:
    """Otsu threshold of the smoothed channel, accumulated tile by tile.

    Parameters
    ----------
    channel : array of shape (Y, X)
        The nuclear channel (a memory map is read one tile at a time).
    sigma : float
        Smoothing applied before thresholding, as in :func:`segment_tile`.
    tiles : sequence of (window, core) slice pairs
        ``window`` is read and smoothed; only its ``core`` (relative slices) is counted,
        so each pixel is counted once.

    Returns
    -------
    float or None
        The threshold; None for a constant image (nothing can be foreground).

    Raises
    ------
    DataError
        The channel has NaN or infinite pixels.
    """
    from skimage.filters import threshold_otsu

    bounds = [(float(np.min(core)), float(np.max(core)))
              for core in (channel[w][c] for w, c in tiles)]
    lo, hi = min(b[0] for b in bounds), max(b[1] for b in bounds)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise DataError("the nuclear channel has NaN or infinite pixels; replace them "
                        "(e.g. numpy.nan_to_num) before segmenting")
    if not hi > lo:
        return None
    edges = np.linspace(lo, hi, _OTSU_BINS + 1)
    counts = np.zeros(_OTSU_BINS, dtype=np.int64)
    for window, core in tiles:
        smoothed = _smooth(channel[window], sigma)[core]
        counts += np.histogram(np.clip(smoothed, lo, hi), bins=edges)[0]
    return float(threshold_otsu(hist=(counts, 0.5 * (edges[:-1] + edges[1:]))))


def segment_tile(nuclear: np.ndarray, membrane: np.ndarray | None, params: SkimageParams,
                 threshold: float | None) -> np.ndarray:
    """Label the nuclei (or cells) of one tile.

    Parameters
    ----------
    nuclear : ndarray of shape (Y, X)
    membrane : ndarray of shape (Y, X) or None
        Used only to guide ``expand_px`` growth.
    params : SkimageParams
    threshold : float or None
        The global Otsu threshold (``params.threshold == "otsu"``); None means no
        foreground. Ignored for the local threshold.

    Returns
    -------
    ndarray of shape (Y, X), int32
        0 is background; objects are numbered 1..n.
    """
    from skimage.feature import peak_local_max
    from skimage.filters import threshold_local
    from skimage.morphology import h_maxima, remove_small_objects
    from skimage.segmentation import expand_labels, relabel_sequential

    smoothed = _smooth(nuclear, params.sigma)
    if params.threshold == "local":
        foreground = smoothed > threshold_local(smoothed, params.block_size, method="gaussian",
                                                offset=params.offset, mode="nearest")
    elif threshold is None:
        return np.zeros(smoothed.shape, dtype=np.int32)
    else:
        foreground = smoothed > threshold
    foreground = ndi.binary_fill_holes(
        remove_small_objects(foreground, max_size=params.min_size - 1)
        if params.min_size > 0 else foreground)
    components, n_components = ndi.label(foreground)
    if n_components == 0:
        return np.zeros(smoothed.shape, dtype=np.int32)
    distance = ndi.distance_transform_edt(foreground)
    peaks = tuple(peak_local_max(distance, min_distance=params.min_distance,
                                 labels=components, exclude_border=False).T)
    # Seeds are the h-maxima regions that hold a peak: a ridge (elongated nucleus) or a
    # plateau gives one seed, not one per peak.
    regions, n_regions = ndi.label(h_maxima(distance, params.h))
    chosen = np.zeros(n_regions + 1, dtype=bool)
    chosen[regions[peaks]] = True
    chosen[0] = False
    markers = np.where(chosen[regions], regions, 0).astype(np.int32)
    # A component without a deep enough peak (a thin line, a speck) is seeded whole.
    seeded = np.zeros(n_components + 1, dtype=bool)
    seeded[components[markers > 0]] = True
    unseeded = ~seeded[components] & foreground
    markers[unseeded] = components[unseeded] + n_regions
    labels = _watershed_by_component(-distance, markers, foreground)
    if params.min_size > 0:  # watershed fragments of a component can be small too
        labels[np.bincount(labels.ravel())[labels] < params.min_size] = 0
    if params.expand_px > 0:
        grown = expand_labels(labels, params.expand_px)
        if membrane is not None:
            grown = _watershed_by_component(_smooth(membrane, params.sigma), labels, grown > 0)
        labels = grown
    return relabel_sequential(labels.astype(np.int32, copy=False))[0]
