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

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage as ndi

from cytoql.errors import DataError

__all__ = ["SkimageParams", "otsu_threshold", "segment_tile"]

_OTSU_BINS = 256
_TRUNCATE = 4.0  # Gaussian kernel radius in sigmas (scikit-image's default)


@dataclass(frozen=True)
class SkimageParams:
    """Parameters of the scikit-image method (all lengths in pixels).

    Attributes
    ----------
    sigma : float, default 1.0
        Standard deviation of the Gaussian smoothing of the nuclear channel; 0 disables
        it. Larger values suppress noise but merge close nuclei.
    threshold : {"otsu", "local"}, default "otsu"
        ``"otsu"``: one threshold for the whole image, from the histogram of the
        smoothed channel. ``"local"``: a pixel is foreground when it exceeds the
        Gaussian-weighted mean of its ``block_size`` neighbourhood minus ``offset``
        (for uneven illumination).
    block_size : int, default 51
        Odd side of the neighbourhood of the local threshold; should exceed a nucleus.
    offset : float, default 0.0
        Subtracted from the local mean (intensity units of the channel).
    min_distance : int, default 5
        Minimum distance between two watershed seeds; about the radius of the smallest
        nucleus. Smaller values split elongated nuclei, larger ones merge touching ones.
    min_size : int, default 20
        Objects (and foreground specks) with fewer pixels are removed.
    h : float, default 1.0
        Minimum depth (pixels) of a distance-map maximum, relative to the saddle that
        joins it to a higher one, for it to seed its own object (``h_maxima``): a neck
        between touching nuclei is deep, the ridge of an elongated nucleus is not.
    expand_px : float, default 0.0
        Grow each nucleus by up to this many pixels into a cell body without overlap
        (``skimage.segmentation.expand_labels``); with a membrane channel the growth
        follows a watershed on the smoothed membrane intensity inside that distance.
    """

    sigma: float = 1.0
    threshold: str = "otsu"
    block_size: int = 51
    offset: float = 0.0
    min_distance: int = 5
    min_size: int = 20
    h: float = 1.0
    expand_px: float = 0.0

    def __post_init__(self):
        if self.threshold not in ("otsu", "local"):
            raise ValueError(f"threshold must be 'otsu' or 'local', got {self.threshold!r}")
        if not self.sigma >= 0:
            raise ValueError(f"sigma must be >= 0, got {self.sigma!r}")
        if not (isinstance(self.block_size, int) and self.block_size >= 3
                and self.block_size % 2 == 1):
            raise ValueError(f"block_size must be an odd integer >= 3, got {self.block_size!r}")
        if not (isinstance(self.min_distance, int) and self.min_distance >= 1):
            raise ValueError(f"min_distance must be an integer >= 1, got {self.min_distance!r}")
        if not (isinstance(self.min_size, int) and self.min_size >= 0):
            raise ValueError(f"min_size must be an integer >= 0, got {self.min_size!r}")
        if not self.h >= 0:
            raise ValueError(f"h must be >= 0, got {self.h!r}")
        if not self.expand_px >= 0:
            raise ValueError(f"expand_px must be >= 0, got {self.expand_px!r}")

    @property
    def context_px(self) -> int:
        """Pixels of image a tile needs around an object for the same result as untiled."""
        context = math.ceil(_TRUNCATE * self.sigma) + math.ceil(self.expand_px)
        if self.threshold == "local":
            context += self.block_size // 2
        return context

    def as_dict(self) -> dict:
        return asdict(self)


def _smooth(channel: np.ndarray, sigma: float) -> np.ndarray:
    data = np.asarray(channel, dtype=np.float64)
    if sigma == 0:
        return data
    return ndi.gaussian_filter(data, sigma, mode="nearest", truncate=_TRUNCATE)


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
