"""Image → label image → AnnData, optionally tile by tile for images too large for memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from cytoql.segment.cellpose_method import CellposeSegmenter
from cytoql.segment.io import MultiplexImage, image_from_array, read_image, select_channel
from cytoql.segment.measure import labels_to_anndata
from cytoql.segment.params import METHODS
from cytoql.segment.skimage_method import otsu_threshold, segment_tile

__all__ = ["METHODS", "segment", "segment_labels", "tile_grid"]

def _method_params(method: str, options: Mapping | None):
    if method not in METHODS:
        raise ValueError(f"unknown segmentation method {method!r}; "
                         f"choose one of {', '.join(map(repr, METHODS))}")
    cls = METHODS[method]
    options = dict(options or {})
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(map(repr, unknown))} for method "
                         f"{method!r}; valid options: {', '.join(valid)}")
    return cls(**options)


def tile_grid(height: int, width: int, tile_size: int | None, overlap: int):
    """Tiles covering an image: cores partition it, windows add ``overlap`` around them.

    Parameters
    ----------
    height, width : int
        Image size in pixels.
    tile_size : int or None
        Side of a core; None gives one tile (the whole image).
    overlap : int
        Pixels of context on each side of a core (clipped at the image border).

    Returns
    -------
    list of (window, core)
        ``window``: (row slice, col slice) into the image; ``core``: (row slice, col
        slice) of the core inside the window.
    """
    if tile_size is None:
        whole = (slice(0, height), slice(0, width))
        return [(whole, whole)]
    if not (isinstance(tile_size, (int, np.integer)) and tile_size >= 1):
        raise ValueError(f"tile_size must be a positive integer, got {tile_size!r}")
    if not (isinstance(overlap, (int, np.integer)) and overlap >= 0):
        raise ValueError(f"tile_overlap must be an integer >= 0, got {overlap!r}")
    tiles = []
    for y0 in range(0, height, tile_size):
        for x0 in range(0, width, tile_size):
            y1, x1 = min(y0 + tile_size, height), min(x0 + tile_size, width)
            wy0, wx0 = max(0, y0 - overlap), max(0, x0 - overlap)
            wy1, wx1 = min(height, y1 + overlap), min(width, x1 + overlap)
            tiles.append(((slice(wy0, wy1), slice(wx0, wx1)),
                          (slice(y0 - wy0, y1 - wy0), slice(x0 - wx0, x1 - wx0))))
    return tiles


def _raster_order(labels: np.ndarray) -> np.ndarray:
    """Renumber objects 1..n in raster order of their first pixel (tiling-independent)."""
    ids, first = np.unique(labels.ravel(), return_index=True)
    keep = ids > 0
    ids, first = ids[keep], first[keep]
    lut = np.zeros(int(labels.max(initial=0)) + 1, dtype=np.int32)
    lut[ids[np.argsort(first, kind="stable")]] = np.arange(1, len(ids) + 1, dtype=np.int32)
    return lut[labels]


def segment_labels(image: MultiplexImage, *, nuclear: int | str = 0,
                   membrane: int | str | None = None, method: str = "skimage",
                   options: Mapping | None = None, tile_size: int | None = None,
                   tile_overlap: int = 64) -> np.ndarray:
    """Segment an image into a label image.

    Parameters
    ----------
    image : MultiplexImage
    nuclear : int or str, default 0
        Nuclear channel, by index or by name.
    membrane : int or str, optional
        Membrane / cytoplasm channel: guides cell-body growth (skimage ``expand_px``)
        or is cellpose's cytoplasm input.
    method : {"skimage", "cellpose"}, default "skimage"
    options : mapping, optional
        Method parameters: the fields of :class:`SkimageParams` or :class:`CellposeParams`.
    tile_size : int, optional
        Process the image in square tiles of this many pixels (cores) instead of whole.
    tile_overlap : int, default 64
        Context around each core. An object is kept by the tile whose core contains its
        centroid, so the overlap must exceed the largest object's diameter plus the
        method's context (skimage: 4·sigma + expand_px (+ block_size/2 for the local
        threshold)); then the skimage method gives exactly the untiled result. Cellpose
        normalises intensities per tile, so its tiled masks can differ slightly.

    Returns
    -------
    ndarray of shape (Y, X), int32
        0 background, objects 1..n numbered in raster order of their first pixel.

    Raises
    ------
    DataError
        Unknown channel; cellpose missing or its weights absent.
    ValueError
        Unknown method or option, bad parameter values.
    """
    params = _method_params(method, options)
    nuclear_channel = image.pixels[select_channel(image, nuclear, "nuclear")]
    membrane_channel = (None if membrane is None else
                        image.pixels[select_channel(image, membrane, "membrane")])
    height, width = image.shape
    if tile_size is not None and tile_overlap < params.context_px:
        raise ValueError(f"tile_overlap={tile_overlap} px is less than the {params.context_px} "
                         f"px of context the {method} method needs around an object; the "
                         "overlap should exceed that plus the largest object diameter")
    tiles = tile_grid(height, width, tile_size, tile_overlap)
    if method == "skimage":
        threshold = (otsu_threshold(nuclear_channel, params.sigma, tiles)
                     if params.threshold == "otsu" else None)

        def run(nuc, mem):
            return segment_tile(nuc, mem, params, threshold)
    else:
        run = CellposeSegmenter(params)

    labels = np.zeros((height, width), dtype=np.int32)
    next_id = 1
    for window, core in tiles:
        tile = run(np.asarray(nuclear_channel[window], dtype=np.float64),
                   None if membrane_channel is None
                   else np.asarray(membrane_channel[window], dtype=np.float64))
        n = int(tile.max(initial=0))
        if n == 0:
            continue
        rows, cols = np.nonzero(tile)
        ids = tile[rows, cols]
        counts = np.bincount(ids, minlength=n + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cy = np.bincount(ids, weights=rows + 0.5, minlength=n + 1) / counts
            cx = np.bincount(ids, weights=cols + 0.5, minlength=n + 1) / counts
        inside = ((counts > 0) & (cy >= core[0].start) & (cy < core[0].stop)
                  & (cx >= core[1].start) & (cx < core[1].stop))
        inside[0] = False
        lut = np.zeros(n + 1, dtype=np.int32)
        lut[inside] = np.arange(next_id, next_id + int(inside.sum()), dtype=np.int32)
        next_id += int(inside.sum())
        mapped = lut[tile]
        target = labels[window]
        free = (mapped > 0) & (target == 0)  # first tile wins where two objects overlap
        target[free] = mapped[free]
    return _raster_order(labels)


def segment(image, *, nuclear: int | str = 0, membrane: int | str | None = None,
            method: str = "skimage", options: Mapping | None = None,
            um_per_px: float | None = None, channel_names: list[str] | None = None,
            fov: str | None = None, tile_size: int | None = None, tile_overlap: int = 64,
            simplify_px: float = 0.5, gating=None, type_key: str = "cell_type"):
    """Segment a multiplex image into cells and return them as AnnData.

    Parameters
    ----------
    image : str, Path, ndarray or MultiplexImage
        A TIFF / OME-TIFF file, a ``(C, Y, X)`` or ``(Y, X)`` array, or an image read by
        :func:`read_image`.
    nuclear : int or str, default 0
        Nuclear channel by index or by name (OME channel names or ``channel_names``).
    membrane : int or str, optional
        Membrane channel (see :func:`segment_labels`).
    method : {"skimage", "cellpose"}, default "skimage"
    options : mapping, optional
        Parameters of the method (:class:`SkimageParams`, :class:`CellposeParams`).
    um_per_px : float, optional
        Pixel size in µm; overrides the file's metadata. Unknown pixel size: positions,
        outlines and areas stay in pixels, ``uns["spatial_unit"] = "px"``.
    channel_names : list of str, optional
        Channel names (override the file's).
    fov : str, optional
        FOV name; default the file name without ``.tif``/``.ome.tif``, or ``"image"``.
    tile_size, tile_overlap : int, optional
        Tiled processing (see :func:`segment_labels`).
    simplify_px : float, default 0.5
        Outline simplification tolerance in pixels.
    gating : str, Path, dict or GatingRules, optional
        Cell-typing rules (see :func:`~cytoql.segment.gating.load_gating`), applied to
        the mean intensities; the result goes to ``obs[type_key]``.
    type_key : str, default "cell_type"

    Returns
    -------
    AnnData
        See :func:`labels_to_anndata` for the layout; ``uns["segmentation"]`` records the
        method, its parameters and the tiling.

    Raises
    ------
    DataError
        Unreadable image, unknown channel, image smaller than 2 × 2, missing cellpose
        weights, gating rules naming absent markers.
    ValueError
        Unknown method or option, bad parameter values.

    Examples
    --------
    >>> import numpy as np
    >>> from cytoql.segment import segment, synthetic_multiplex_image
    >>> img = synthetic_multiplex_image((128, 128), n_cells=12, rng=np.random.default_rng(3))
    >>> adata = segment(img.pixels, channel_names=img.channel_names, nuclear="DAPI",
    ...                 um_per_px=0.5)
    >>> adata.n_obs, adata.uns["spatial_unit"], list(adata.var_names[:2])
    (12, 'um', ['DAPI', 'Membrane'])
    """
    from cytoql.segment.gating import assign_cell_types, load_gating

    if isinstance(image, MultiplexImage):
        if um_per_px is not None or channel_names is not None:
            raise ValueError("an image already read carries its pixel size and channel "
                             "names: pass um_per_px / channel_names to read_image instead")
    elif isinstance(image, (str, Path)):
        image = read_image(image, um_per_px=um_per_px, channel_names=channel_names)
    else:
        image = image_from_array(image, channel_names=channel_names, um_per_px=um_per_px)
    if fov is None:
        fov = (Path(image.source).name.split(".")[0] or "image") if image.source != "array" \
            else "image"
    params = _method_params(method, options)
    labels = segment_labels(image, nuclear=nuclear, membrane=membrane, method=method,
                            options=options, tile_size=tile_size, tile_overlap=tile_overlap)
    record = {
        "method": method,
        "parameters": params.as_dict(),
        "nuclear_channel": image.channel_names[select_channel(image, nuclear, "nuclear")],
        "tile_size": int(tile_size) if tile_size is not None else 0,
        "tile_overlap": int(tile_overlap) if tile_size is not None else 0,
        "simplify_px": float(simplify_px),
    }
    if membrane is not None:
        record["membrane_channel"] = image.channel_names[select_channel(image, membrane,
                                                                        "membrane")]
    adata = labels_to_anndata(labels, image, fov=fov, simplify_px=simplify_px, record=record)
    if gating is not None:
        adata = assign_cell_types(adata, load_gating(gating), key=type_key, copy=False)
    return adata
