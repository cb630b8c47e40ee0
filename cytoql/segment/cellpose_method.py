"""Cellpose segmentation (optional extra ``cytoql[segment]``), with local weights only.

CytoQL never downloads model weights. They come from ``model_path`` when given, else
from cellpose's own model cache (``$CELLPOSE_LOCAL_MODELS_PATH`` or
``~/.cellpose/models``) under the name ``model``; when the file is missing a
:class:`~cytoql.errors.DataError` names every place that was looked at and how to get
the weights.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cytoql.errors import DataError
from cytoql.segment.params import CellposeParams

__all__ = ["CellposeSegmenter", "find_weights"]


def _cache_dir() -> Path:
    env = os.environ.get("CELLPOSE_LOCAL_MODELS_PATH")
    return Path(env) if env else Path.home() / ".cellpose" / "models"


def find_weights(params: CellposeParams) -> Path:
    """The weights file to load, checked to exist before cellpose can try a download.

    Raises
    ------
    DataError
        No file at ``model_path``, or no ``model`` in cellpose's cache directory.
    """
    if params.model_path is not None:
        path = Path(params.model_path).expanduser()
        if path.is_file():
            return path
        raise DataError(
            f"cellpose weights not found at model_path={str(path)!r}; CytoQL never "
            "downloads weights: pass the path of an existing weights file")
    path = _cache_dir() / params.model
    if path.is_file():
        return path
    raise DataError(
        f"cellpose weights for model {params.model!r} not found: looked for {str(path)!r} "
        "(cellpose's model cache; set CELLPOSE_LOCAL_MODELS_PATH to use another directory). "
        "CytoQL never downloads weights: pass model_path= (--model-path) to a weights file, "
        "or fetch the model once with cellpose itself, e.g. "
        f"`python -c \"from cellpose import models; models.CellposeModel(pretrained_model='{params.model}')\"`")


class CellposeSegmenter:
    """A loaded cellpose model that labels one tile at a time.

    Parameters
    ----------
    params : CellposeParams

    Raises
    ------
    DataError
        cellpose is not installed, or the weights file is missing.
    """

    def __init__(self, params: CellposeParams):
        try:
            from cellpose import models
        except ImportError:
            raise DataError("method 'cellpose' needs the optional dependency cellpose: "
                            "pip install 'cytoql[segment]'") from None
        weights = find_weights(params)
        self.params = params
        self.weights = weights
        self._model = models.CellposeModel(gpu=params.gpu, pretrained_model=str(weights))

    def __call__(self, nuclear: np.ndarray, membrane: np.ndarray | None) -> np.ndarray:
        """Label a tile: ``(Y, X)`` nuclear and optional membrane channel → int32 masks."""
        from skimage.segmentation import relabel_sequential

        channels = [nuclear] if membrane is None else [membrane, nuclear]
        stack = np.stack([np.asarray(c, dtype=np.float32) for c in channels], axis=-1)
        masks = self._model.eval(stack, channel_axis=-1, diameter=self.params.diameter,
                                 flow_threshold=self.params.flow_threshold,
                                 cellprob_threshold=self.params.cellprob_threshold,
                                 min_size=self.params.min_size)[0]
        return relabel_sequential(np.asarray(masks).astype(np.int32, copy=False))[0]
