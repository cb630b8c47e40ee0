"""From a label image to AnnData: centroids, outlines, morphology and mean intensities.

Coordinates follow the pixel-edge convention: pixel ``(row, col)`` covers
``[col, col + 1) × [row, row + 1)`` in pixel units, x is the column axis and y the row
axis (y grows downwards, as in the image). Positions, outlines and the FOV window are
multiplied by the pixel size when it is known (unit µm), else they stay in pixels.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import shapely
from scipy import ndimage as ndi

from cytoql.errors import CytoQLWarning
from cytoql.interop import keys
from cytoql.segment.io import MultiplexImage

__all__ = ["MORPHOLOGY_COLUMNS", "labels_to_anndata"]

#: obs column → unit (``"{unit}"`` is the spatial unit, "um" or "px").
MORPHOLOGY_COLUMNS = {
    "area": "{unit}2",
    "perimeter": "{unit}",
    "eccentricity": "1",
    "solidity": "1",
    "orientation": "degree",
}


def _outline(mask: np.ndarray, top: int, left: int, tolerance: float) -> shapely.Polygon | None:
    """Outline of ``mask`` (a bounding-box crop), in pixels.

    One piece: its exterior ring (holes dropped). Several pieces (a split object): the
    convex hull of all of them, which still contains the object's centroid.
    """
    from skimage.measure import find_contours

    padded = np.pad(mask.astype(np.float64), 1)
    # (row, col) in the padded crop -> (x, y) with pixel edges at integers
    rings = [shapely.Polygon(np.column_stack([c[:, 1] + left - 0.5, c[:, 0] + top - 0.5]))
             for c in find_contours(padded, 0.5) if len(c) >= 4]
    if not rings:
        return None
    if ndi.label(mask)[1] > 1:
        best = shapely.MultiPolygon(rings).convex_hull
    else:
        best = max(rings, key=lambda ring: ring.area)
    simplified = best.simplify(tolerance, preserve_topology=True) if tolerance > 0 else best
    return simplified if simplified.is_valid and not simplified.is_empty else best


def _orientation_deg(mu: np.ndarray) -> float:
    """Major-axis angle from +x towards +y, in [0, 180); mu is indexed [row power, col power]."""
    theta = 0.5 * math.atan2(2.0 * mu[1, 1], mu[0, 2] - mu[2, 0])
    return math.degrees(theta) % 180.0


def labels_to_anndata(labels: np.ndarray, image: MultiplexImage, *, fov: str = "image",
                      simplify_px: float = 0.5, record: dict | None = None):
    """Measure every object of a label image and build the AnnData of its cells.

    Parameters
    ----------
    labels : ndarray of shape (Y, X), integer
        0 is background; any positive id is one object (ids need not be consecutive).
    image : MultiplexImage
        The image the labels were drawn on (same height and width): mean intensities of
        all its channels become ``X``.
    fov : str, default "image"
        Name of the field of view (``obs["fov"]``, key of ``uns["fov_windows"]``).
    simplify_px : float, default 0.5
        Douglas–Peucker tolerance of the outlines, in pixels (0 keeps every vertex of
        the marching-squares contour).
    record : dict, optional
        Extra entries for ``uns["segmentation"]`` (method and parameters); values must
        be storable in h5ad (no None).

    Returns
    -------
    AnnData
        One row per object, in increasing label order, ``obs_names`` ``"{fov}_{label}"``:

        - ``X`` (n, C) float64: mean intensity of each channel over the object's pixels;
          ``var_names`` the channel names.
        - ``obsm["spatial"]`` (n, 2): centroid (x, y), in µm or px.
        - ``obsm["polygons"]`` (n, V, 2): outline (marching squares at level 0.5 on the
          object's mask, simplified), same unit; holes are dropped and an object in
          several pieces gets their convex hull.
        - ``obs``: ``fov`` (categorical), ``label`` (id in the label image), ``area``
          (pixel count × pixel area), ``perimeter`` (scikit-image's 4-connected
          estimate × pixel size), ``eccentricity``, ``solidity``, ``orientation``
          (major axis from +x towards +y, degrees in [0, 180), y pointing down).
        - ``uns["spatial_unit"]`` "um" when the pixel size is known, else "px" (and no
          ``um_per_px``: the data model then assumes 1 px = 1 µm and says so);
          ``uns["fov_windows"]`` ``{fov: [0, 0, width, height]}``: the image extent;
          ``uns["segmentation"]``: how the labels were made, units of the obs columns.

    Warns
    -----
    CytoQLWarning
        No objects: the AnnData has no rows but the full schema.

    Raises
    ------
    ValueError
        ``labels`` is not a 2-D integer array of the image's height and width.
    """
    import anndata as ad
    from skimage.measure import regionprops

    from cytoql.data.polygons import attach_polygons

    labels = np.asarray(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 2-D integer array, got {labels.dtype} {labels.shape}")
    if labels.shape != image.shape:
        raise ValueError(f"labels have shape {labels.shape} but the image is {image.shape}")
    if labels.size and labels.min() < 0:
        raise ValueError("labels must be >= 0 (0 is background)")
    scale = image.um_per_px if image.um_per_px is not None else 1.0
    unit = "um" if image.um_per_px is not None else "px"

    regions = regionprops(labels)
    ids = np.array([r.label for r in regions], dtype=np.int64)
    n = len(ids)
    if n == 0:
        warnings.warn(f"no objects were segmented in {image.source}; the AnnData is empty "
                      "(check the nuclear channel and the threshold)", CytoQLWarning,
                      stacklevel=2)
    xy = np.array([(r.centroid[1] + 0.5, r.centroid[0] + 0.5) for r in regions],
                  dtype=np.float64).reshape(n, 2)
    morphology = {
        "area": np.array([r.area for r in regions], dtype=np.float64) * scale ** 2,
        "perimeter": np.array([r.perimeter for r in regions], dtype=np.float64) * scale,
        "eccentricity": np.array([r.eccentricity for r in regions], dtype=np.float64),
        "solidity": np.array([r.solidity for r in regions], dtype=np.float64),
        "orientation": np.array([_orientation_deg(r.moments_central) for r in regions],
                                dtype=np.float64),
    }
    means = np.empty((n, len(image.channel_names)), dtype=np.float64)
    for c in range(len(image.channel_names)):
        if n:
            means[:, c] = ndi.mean(np.asarray(image.pixels[c], dtype=np.float64), labels, ids)
    outlines = []
    for r in regions:
        top, left = r.bbox[0], r.bbox[1]
        poly = _outline(r.image, top, left, simplify_px)
        outlines.append(None if poly is None else
                        shapely.affinity.scale(poly, scale, scale, origin=(0.0, 0.0)))

    names = [f"{fov}_{i}" for i in ids]
    obs = pd.DataFrame({keys.FOV: pd.Categorical([fov] * n, categories=[fov]),
                        "label": ids, **morphology}, index=pd.Index(names, dtype=object))
    var = pd.DataFrame(index=pd.Index(image.channel_names, dtype=object))
    height, width = image.shape
    segmentation = {
        "source": image.source,
        "image_shape": [height, width],
        "channels": list(image.channel_names),
        "pixel_size_source": image.pixel_size_source,
        "obs_units": {k: v.format(unit=unit) for k, v in MORPHOLOGY_COLUMNS.items()},
        "n_objects": n,
        **(record or {}),
    }
    if image.um_per_px is not None:
        segmentation["um_per_px"] = float(image.um_per_px)
    adata = ad.AnnData(
        X=means, obs=obs, var=var,
        obsm={keys.SPATIAL: xy * scale},
        uns={keys.SPATIAL_UNIT: unit,
             keys.FOV_WINDOWS: {fov: [0.0, 0.0, width * scale, height * scale]},
             keys.SEGMENTATION: segmentation},
    )
    return attach_polygons(adata, outlines, copy=False)
