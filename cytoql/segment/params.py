"""The parameters of each segmentation method, apart from the methods themselves.

The CLI builds ``cytoql segment``'s options from these classes; keeping them here, with
nothing but numpy and the standard library, lets ``cytoql`` build its parser without
importing scipy.ndimage, scikit-image or cellpose.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["METHODS", "TRUNCATE", "CellposeParams", "SkimageParams"]

TRUNCATE = 4.0  # Gaussian kernel radius in sigmas (scikit-image's default)


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
        context = math.ceil(TRUNCATE * self.sigma) + math.ceil(self.expand_px)
        if self.threshold == "local":
            context += self.block_size // 2
        return context

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CellposeParams:
    """Parameters of the cellpose method.

    Attributes
    ----------
    model_path : str, optional
        A weights file (e.g. a fine-tuned model). Takes precedence over ``model``.
    model : str, default "cpsam"
        Name of a model in cellpose's cache directory, used when ``model_path`` is None.
    diameter : float, optional
        Typical cell diameter in pixels; None lets cellpose use its default scale.
    flow_threshold : float, default 0.4
        Maximum flow error of a mask (cellpose's ``flow_threshold``).
    cellprob_threshold : float, default 0.0
        Minimum cell probability logit of a pixel (cellpose's ``cellprob_threshold``).
    min_size : int, default 15
        Masks with fewer pixels are removed by cellpose.
    gpu : bool, default False
        Run on a GPU when torch sees one.
    """

    model_path: str | None = None
    model: str = "cpsam"
    diameter: float | None = None
    flow_threshold: float = 0.4
    cellprob_threshold: float = 0.0
    min_size: int = 15
    gpu: bool = False

    def __post_init__(self):
        if self.diameter is not None and not self.diameter > 0:
            raise ValueError(f"diameter must be > 0 pixels, got {self.diameter!r}")

    @property
    def context_px(self) -> int:
        """Pixels of context a tile needs around an object (about one diameter)."""
        return int(np.ceil(self.diameter)) if self.diameter else 30

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


#: Segmentation method name → its parameter class.
METHODS = {"skimage": SkimageParams, "cellpose": CellposeParams}
