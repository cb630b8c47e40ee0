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
import weakref
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
    pixels : array-like of shape (C, Y, X)
        Intensities: an ndarray, a ``numpy.memmap`` of an uncompressed file, or a lazy
        stack of a compressed one. ``pixels[c]`` is a channel, ``pixels[c][rows, cols]``
        (slices) a window, ``numpy.asarray`` reads all; tiles are read on demand.
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


def _axis_roles(shape: tuple[int, ...], axes: str, path: str) -> str:
    """The role of each stored axis: "C", "Y", "X", or "0" (a singleton, dropped).

    Without a channel axis, RGB samples (S) or plain pages (I, Q: unknown) are channels.
    """
    axes = axes.upper()
    for stand_in in "SIQ":
        if "C" not in axes and stand_in in axes:
            axes = axes.replace(stand_in, "C")
    roles = ""
    for ax, size in zip(axes, shape):
        if ax in "CYX":
            roles += ax
        elif size == 1:
            roles += "0"
        else:
            raise DataError(f"{path}: axis {ax!r} has {size} planes (axes {axes!r}, shape "
                            f"{tuple(shape)}); CytoQL segments 2-D images: export one "
                            "plane or a projection first")
    if "Y" not in roles or "X" not in roles:
        raise DataError(f"{path}: image axes {axes!r} have no Y and X")
    return roles


def _channel_first(data: np.ndarray, roles: str) -> np.ndarray:
    """View of ``data`` as (C, Y, X), given the roles of its axes."""
    data = data[tuple(0 if r == "0" else slice(None) for r in roles)]
    kept = roles.replace("0", "")
    if "C" not in kept:
        data, kept = data[np.newaxis], "C" + kept
    return np.transpose(data, [kept.index(a) for a in "CYX"])


class _LazyStack:
    """A (C, Y, X) view of a compressed TIFF that decodes only what is indexed.

    ``stack[c]`` is a plane; ``plane[rows, cols]`` (slices) reads that window;
    ``numpy.asarray`` reads everything. Holds the open TIFF file.
    """

    ndim = 3

    def __init__(self, array, roles: str, tif):
        self._array, self._roles = array, roles
        weakref.finalize(self, tif.close)  # the file stays open exactly as long as the view
        size = dict(zip(roles, array.shape))
        self.shape = (size.get("C", 1), size["Y"], size["X"])
        self.dtype = np.dtype(array.dtype)

    def read(self, c: int, rows: slice, cols: slice) -> np.ndarray:
        index = tuple({"0": 0, "C": c, "Y": rows, "X": cols}[r] for r in self._roles)
        window = np.asarray(self._array[index])
        return window.T if self._roles.index("X") < self._roles.index("Y") else window

    def __getitem__(self, c):
        if not isinstance(c, (int, np.integer)):
            raise TypeError("index a lazily read image by channel first: stack[c][rows, cols]")
        return _LazyPlane(self, int(c) % self.shape[0])

    def __array__(self, dtype=None, copy=None):
        return np.stack([np.asarray(self[c], dtype=dtype) for c in range(self.shape[0])])


class _LazyPlane:
    """One channel of a :class:`_LazyStack`; ``plane[rows, cols]`` reads a window."""

    ndim = 2

    def __init__(self, stack: _LazyStack, c: int):
        self._stack, self._c = stack, c
        self.shape, self.dtype = stack.shape[1:], stack.dtype

    def __getitem__(self, key):
        rows, cols = key if isinstance(key, tuple) else (key, slice(None))
        if not (isinstance(rows, slice) and isinstance(cols, slice)):
            raise TypeError("a lazily read plane is indexed by two slices")
        return self._stack.read(self._c, rows, cols)

    def __array__(self, dtype=None, copy=None):
        plane = self[:, :]
        return plane if dtype is None else plane.astype(dtype, copy=False)


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
    multi-page TIFF are the channels. Uncompressed files are memory-mapped; compressed
    or tiled ones are decoded window by window (through zarr) as tiles ask for them.

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
    tif = None
    try:
        tif = tifffile.TiffFile(file)
        series = tif.series[0]
        roles = _axis_roles(series.shape, series.axes, str(file))
        meta_size, source, names = None, "unknown", []
        if tif.is_ome and tif.ome_metadata:
            meta_size, names = _ome_metadata(tif.ome_metadata)
            source = "ome" if meta_size is not None else "unknown"
        if meta_size is None:
            meta_size, source = _tiff_pixel_size(series.pages[0], tif.imagej_metadata)
        try:
            pixels = _channel_first(tifffile.memmap(file, series=0, mode="r"), roles)
            tif.close()
        except ValueError:  # compressed or tiled: decode windows on demand through zarr
            import zarr

            pixels = _LazyStack(zarr.open(series.aszarr(), mode="r"), roles, tif)
    except Exception as exc:  # tifffile raises many types for a non-TIFF
        if tif is not None:
            tif.close()
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot read {str(file)!r} as a TIFF image: {exc}") from None
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
    if meta_size is not None and not 0 < meta_size < float("inf"):
        warnings.warn(f"{origin}: the file's pixel size {meta_size!r} µm ({source}) is not a "
                      "positive number; it is treated as unknown", AssumptionWarning,
                      stacklevel=3)
        meta_size, source = None, "unknown"
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
