"""Reading multiplex images: channels, channel names and the pixel size.

An image is read as a channel-first stack ``(C, Y, X)``. The pixel size comes, in this
order, from OME-XML ``PhysicalSizeX`` (converted from ``PhysicalSizeXUnit``), from the
TIFF resolution tags (``XResolution`` with ``ResolutionUnit`` inch or centimetre, or
ImageJ's ``unit=micron``), and else is unknown: the caller may pass it, and otherwise
positions stay in pixels (``uns["spatial_unit"] = "px"``).
"""

from __future__ import annotations

import re
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cytoql.errors import AssumptionWarning, DataError

__all__ = ["MultiplexImage", "image_from_array", "read_image", "select_channel", "write_ome_tiff"]

# µm per unit for OME's UnitsLength spellings that occur for pixel sizes.
_OME_LENGTH = {"µm": 1.0, "um": 1.0, "micron": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4,
               "m": 1e6, "Å": 1e-4, "pm": 1e-6}
# TIFF ResolutionUnit: 2 = inch, 3 = centimetre (1 = none: no physical meaning).
_TIFF_RESOLUTION_UNIT = {2: 25400.0, 3: 10000.0}
# Resolutions image editors write by default; they say nothing about a microscope.
_SCREEN_DPI = (72.0, 96.0)


@dataclass(frozen=True, eq=False)
class MultiplexImage:
    """A channel-first multiplex image with its channel names and pixel size.

    Attributes
    ----------
    pixels : array of shape (C, Y, X)
        Intensities; a ``numpy.memmap`` when the file allowed it, so tiles are read
        from disk on demand.
    channel_names : list of str
        One unique name per channel (``"ch0"``, ``"ch1"`` ... when the file has none).
    um_per_px : float or None
        Pixel size in µm (square pixels), None when unknown.
    pixel_size_source : {"ome", "tiff-resolution", "imagej", "argument", "unknown"}
        Where ``um_per_px`` came from.
    source : str
        The file the image was read from, or ``"array"``.
    """

    pixels: np.ndarray
    channel_names: list[str]
    um_per_px: float | None
    pixel_size_source: str
    source: str = "array"

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` in pixels."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[2])


def _channel_first(data: np.ndarray, axes: str, path: str) -> np.ndarray:
    """Reorder ``data`` with tifffile ``axes`` to (C, Y, X); drop singleton T/Z/Q axes."""
    axes = axes.upper()
    # Without a channel axis, RGB samples (S) or plain pages (I, Q: unknown) are channels.
    for stand_in in "SIQ":
        if "C" not in axes and stand_in in axes:
            axes = axes.replace(stand_in, "C")
    for ax in list(axes):
        if ax not in "CYX":
            i = axes.index(ax)
            if data.shape[i] != 1:
                raise DataError(f"{path}: axis {ax!r} has {data.shape[i]} planes (axes "
                                f"{axes!r}, shape {data.shape}); CytoQL segments 2-D "
                                "images: export one plane or a projection first")
            data = np.take(data, 0, axis=i)
            axes = axes.replace(ax, "")
    if "Y" not in axes or "X" not in axes:
        raise DataError(f"{path}: image axes {axes!r} have no Y and X")
    if "C" not in axes:
        data, axes = data[np.newaxis], "C" + axes
    return np.transpose(data, [axes.index(a) for a in "CYX"])


def _ome_metadata(xml: str) -> tuple[float | None, list[str]]:
    """Pixel size (µm) and channel names from OME-XML (first image)."""
    root = ET.fromstring(xml)
    pixels = next((el for el in root.iter() if el.tag.endswith("}Pixels") or el.tag == "Pixels"),
                  None)
    if pixels is None:
        return None, []
    names = [ch.get("Name") or ch.get("ID") or "" for ch in pixels
             if ch.tag.endswith("}Channel") or ch.tag == "Channel"]
    size = pixels.get("PhysicalSizeX")
    if size is None:
        return None, names
    unit = pixels.get("PhysicalSizeXUnit", "µm")
    if unit not in _OME_LENGTH:
        warnings.warn(f"OME PhysicalSizeXUnit {unit!r} is not a length CytoQL knows; "
                      "the pixel size is treated as unknown", AssumptionWarning, stacklevel=3)
        return None, names
    return float(size) * _OME_LENGTH[unit], names


def _tiff_pixel_size(page, imagej: dict | None) -> tuple[float | None, str]:
    """Pixel size from the resolution tags of the first page, or (None, "unknown")."""
    tag = page.tags.get("XResolution")
    if tag is None:
        return None, "unknown"
    num, den = tag.value
    if not num or not den:
        return None, "unknown"
    px_per_unit = num / den
    unit_tag = page.tags.get("ResolutionUnit")
    res_unit = int(unit_tag.value) if unit_tag is not None else 2
    if imagej and str(imagej.get("unit", "")).lower() in {"micron", "um", "µm", "\\u00b5m"}:
        return 1.0 / px_per_unit, "imagej"
    if res_unit in _TIFF_RESOLUTION_UNIT:
        if res_unit == 2 and px_per_unit in _SCREEN_DPI:
            return None, "unknown"
        return _TIFF_RESOLUTION_UNIT[res_unit] / px_per_unit, "tiff-resolution"
    return None, "unknown"


def read_image(path, *, um_per_px: float | None = None,
               channel_names: list[str] | None = None) -> MultiplexImage:
    """Read a (multi-channel) TIFF or OME-TIFF as a channel-first stack.

    Parameters
    ----------
    path : str or Path
        A ``.tif``/``.tiff``/``.ome.tif`` file. Axes are taken from the file (OME or
        ImageJ metadata); singleton T/Z axes are dropped; RGB samples count as channels.
    um_per_px : float, optional
        Pixel size in µm. Overrides the file's metadata (with a warning when the two
        disagree by more than 1 %).
    channel_names : list of str, optional
        Names for the channels, overriding the OME channel names.

    Notes
    -----
    Without a channel axis in the metadata, RGB samples or the pages of a plain
    multi-page TIFF are the channels.

    Returns
    -------
    MultiplexImage

    Raises
    ------
    DataError
        The file does not exist, is not a readable TIFF, has several Z/T planes, an
        image smaller than 2 × 2 pixels, or the wrong number of channel names.
    """
    import tifffile

    file = Path(path)
    if not file.is_file():
        raise DataError(f"no image file at {str(file)!r}")
    try:
        with tifffile.TiffFile(file) as tif:
            series = tif.series[0]
            axes = series.axes
            try:
                data = tifffile.memmap(file, series=0, mode="r")
            except ValueError:  # compressed or tiled: not mappable, read into memory
                data = series.asarray()
            meta_size, source, names = None, "unknown", []
            if tif.is_ome and tif.ome_metadata:
                meta_size, names = _ome_metadata(tif.ome_metadata)
                source = "ome" if meta_size is not None else "unknown"
            if meta_size is None:
                meta_size, source = _tiff_pixel_size(series.pages[0], tif.imagej_metadata)
    except DataError:
        raise
    except Exception as exc:  # tifffile raises many types for a non-TIFF
        raise DataError(f"cannot read {str(file)!r} as a TIFF image: {exc}") from None
    pixels = _channel_first(data, axes, str(file))
    if channel_names is None and len(names) == pixels.shape[0] and all(names):
        channel_names = names
    return _assemble(pixels, channel_names, um_per_px, meta_size, source, str(file))


def image_from_array(pixels, *, channel_names: list[str] | None = None,
                     um_per_px: float | None = None) -> MultiplexImage:
    """Wrap an in-memory ``(C, Y, X)`` or ``(Y, X)`` array as a :class:`MultiplexImage`."""
    arr = np.asarray(pixels)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3:
        raise DataError(f"an image array must be (C, Y, X) or (Y, X), got shape {arr.shape}")
    return _assemble(arr, channel_names, um_per_px, None, "unknown", "array")


def _assemble(pixels, channel_names, um_per_px, meta_size, source, origin) -> MultiplexImage:
    n_channels, height, width = pixels.shape
    if height < 2 or width < 2:
        raise DataError(f"{origin}: image is {height} × {width} pixels; segmentation needs "
                        "at least 2 × 2")
    if not np.issubdtype(pixels.dtype, np.number) or np.issubdtype(pixels.dtype, np.complexfloating):
        raise DataError(f"{origin}: pixel type {pixels.dtype} is not a real number type")
    if channel_names is None:
        channel_names = [f"ch{i}" for i in range(n_channels)]
    channel_names = [str(n) for n in channel_names]
    if len(channel_names) != n_channels:
        raise DataError(f"{origin}: {len(channel_names)} channel names for {n_channels} "
                        f"channels: {channel_names}")
    if len(set(channel_names)) != n_channels:
        raise DataError(f"{origin}: channel names must be unique, got {channel_names}")
    if um_per_px is not None:
        um_per_px = float(um_per_px)
        if not (0 < um_per_px < float("inf")):
            raise DataError(f"um_per_px must be a positive finite number, got {um_per_px!r}")
        if meta_size is not None and abs(meta_size - um_per_px) > 0.01 * meta_size:
            warnings.warn(f"{origin}: um_per_px={um_per_px:g} overrides the file's pixel size "
                          f"{meta_size:g} µm ({source})", AssumptionWarning, stacklevel=3)
        meta_size, source = um_per_px, "argument"
    return MultiplexImage(pixels, channel_names, meta_size, source, origin)


def select_channel(image: MultiplexImage, channel: int | str, role: str) -> int:
    """Index of ``channel`` (an index or a name) in ``image``.

    Raises
    ------
    DataError
        The index is out of range or the name is unknown; the message lists the channels.
    """
    names = image.channel_names
    listing = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names))
    if isinstance(channel, (int, np.integer)) and not isinstance(channel, bool):
        if not -len(names) <= channel < len(names):
            raise DataError(f"{role} channel index {channel} is out of range; the image has "
                            f"{len(names)} channel(s): {listing}")
        return int(channel) % len(names)
    if isinstance(channel, str):
        if channel in names:
            return names.index(channel)
        if re.fullmatch(r"-?\d+", channel):
            return select_channel(image, int(channel), role)
        folded = [n.casefold() for n in names]
        if folded.count(channel.casefold()) == 1:
            return folded.index(channel.casefold())
        raise DataError(f"{role} channel {channel!r} is not in the image; channels: {listing}")
    raise DataError(f"{role} channel must be an index or a name, got {channel!r}")


def write_ome_tiff(path, pixels: np.ndarray, channel_names: list[str],
                   um_per_px: float | None = None) -> Path:
    """Write a ``(C, Y, X)`` stack as OME-TIFF with channel names and pixel size.

    Parameters
    ----------
    path : str or Path
    pixels : ndarray of shape (C, Y, X)
    channel_names : list of str
    um_per_px : float, optional
        Stored as OME ``PhysicalSizeX``/``PhysicalSizeY`` in µm; omitted when None.

    Returns
    -------
    Path
    """
    import tifffile

    metadata: dict = {"axes": "CYX", "Channel": {"Name": list(channel_names)}}
    if um_per_px is not None:
        metadata.update(PhysicalSizeX=float(um_per_px), PhysicalSizeXUnit="µm",
                        PhysicalSizeY=float(um_per_px), PhysicalSizeYUnit="µm")
    path = Path(path)
    tifffile.imwrite(path, np.asarray(pixels), ome=True, metadata=metadata)
    return path
