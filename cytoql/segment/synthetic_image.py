"""Synthetic multiplex images with known cells, for tests and the image demo.

Nuclei are ellipses of known centre, semi-axes and angle, drawn on a pixel grid whose
pixel ``(row, col)`` covers ``[col, col + 1) × [row, row + 1)``; some nuclei come in
touching pairs. Channels: a nuclear stain, a membrane stain (a ring around each cell
body) and one marker per cell type, expressed in the cell body of cells of that type.
Every channel gets a small blur and Gaussian noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

__all__ = ["DEFAULT_MARKERS", "SyntheticImage", "synthetic_multiplex_image"]

#: Cell type → the marker it expresses in the default synthetic image.
DEFAULT_MARKERS = {"T cell": "CD3", "B cell": "CD20", "Epithelial": "PanCK"}

_BACKGROUND = 0.05
_BODY_PX = 4  # cell body = nucleus grown by this many pixels
_GAP_PX = 2 * _BODY_PX + 2  # free space between isolated nuclei


@dataclass(frozen=True, eq=False)
class SyntheticImage:
    """A synthetic multiplex image and the truth it was drawn from.

    Attributes
    ----------
    pixels : ndarray of shape (C, Y, X), float32
    channel_names : list of str
        ``["DAPI", "Membrane", *markers]``.
    labels : ndarray of shape (Y, X), int32
        True nucleus labels, 1..n in the order of the other attributes.
    centres : ndarray of shape (n, 2), float64
        Ellipse centres ``(x, y)`` in pixels (x = column, y = row, pixel edges at integers).
    semi_axes : ndarray of shape (n, 2), float64
        ``(a, b)`` semi-axes in pixels, ``a >= b``.
    angles : ndarray of shape (n,), float64
        Angle of the major axis from +x towards +y, radians in ``[0, π)``.
    cell_types : ndarray of shape (n,), str
    touching : ndarray of shape (n,), bool
        True for nuclei drawn as part of a touching pair.
    um_per_px : float
    """

    pixels: np.ndarray
    channel_names: list[str]
    labels: np.ndarray
    centres: np.ndarray
    semi_axes: np.ndarray
    angles: np.ndarray
    cell_types: np.ndarray
    touching: np.ndarray
    um_per_px: float

    @property
    def n_cells(self) -> int:
        return len(self.centres)


def _ellipse_mask(shape, centre, axes, angle) -> np.ndarray:
    rows, cols = np.indices(shape, dtype=np.float64)
    dx, dy = cols + 0.5 - centre[0], rows + 0.5 - centre[1]
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / axes[0]
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / axes[1]
    return u * u + v * v <= 1.0


def _place(rng, shape, radius, placed, margin) -> np.ndarray | None:
    """A centre at least ``radius + r_other + _GAP_PX`` from every placed nucleus."""
    height, width = shape
    centres = np.array([c for c, _ in placed]).reshape(-1, 2)
    radii = np.array([r for _, r in placed])
    for _ in range(200):
        centre = rng.uniform([margin, margin], [width - margin, height - margin])
        if (np.hypot(*(centres - centre).T) >= radius + radii + _GAP_PX).all():
            return centre
    return None


def synthetic_multiplex_image(shape: tuple[int, int] = (256, 256), n_cells: int = 40, *,
                              rng: np.random.Generator, um_per_px: float = 0.5,
                              radius: tuple[float, float] = (5.0, 8.0),
                              elongation: tuple[float, float] = (1.0, 1.6),
                              touching_pairs: int = 4, noise: float = 0.03,
                              markers: dict[str, str] | None = None) -> SyntheticImage:
    """Draw a multiplex image with known nuclei, cell types and markers.

    Parameters
    ----------
    shape : (int, int), default (256, 256)
        ``(height, width)`` in pixels.
    n_cells : int, default 40
        Number of nuclei to place (fewer when the image is too crowded; all nuclei lie
        fully inside the image).
    rng : numpy.random.Generator
    um_per_px : float, default 0.5
        Pixel size recorded with the image (and written to OME-TIFF by the demo).
    radius : (float, float), default (5, 8)
        Range of the semi-major axis in pixels.
    elongation : (float, float), default (1, 1.6)
        Range of the axis ratio a / b of isolated nuclei.
    touching_pairs : int, default 4
        Number of pairs of round nuclei whose discs touch (centre distance r1 + r2).
    noise : float, default 0.03
        Standard deviation of the additive Gaussian noise (signal is 1).
    markers : dict, optional
        Cell type → marker channel name; default :data:`DEFAULT_MARKERS`.

    Returns
    -------
    SyntheticImage
    """
    markers = dict(DEFAULT_MARKERS if markers is None else markers)
    types = list(markers)
    margin = radius[1] + 2
    placed: list[tuple[np.ndarray, float]] = []
    centres, axes, angles, touching = [], [], [], []

    for _ in range(touching_pairs):
        if len(centres) + 2 > n_cells:
            break
        r1, r2 = rng.uniform(*radius, size=2)
        centre = _place(rng, shape, r1 + 2 * r2, placed, margin + 2 * r2)
        if centre is None:
            break
        theta = rng.uniform(0, 2 * np.pi)
        first = centre - 0.5 * r2 * np.array([np.cos(theta), np.sin(theta)])
        second = first + (r1 + r2) * np.array([np.cos(theta), np.sin(theta)])
        placed.append((centre, r1 + 2 * r2))
        for c, r in ((first, r1), (second, r2)):
            centres.append(c)
            axes.append((r, r))
            angles.append(0.0)
            touching.append(True)
    while len(centres) < n_cells:
        a = rng.uniform(*radius)
        centre = _place(rng, shape, a, placed, margin)
        if centre is None:
            break
        placed.append((centre, a))
        centres.append(centre)
        axes.append((a, a / rng.uniform(*elongation)))
        angles.append(rng.uniform(0, np.pi))
        touching.append(False)

    labels = np.zeros(shape, dtype=np.int32)
    for i, (c, ab, angle) in enumerate(zip(centres, axes, angles), start=1):
        # draw inside the ellipse's bounding box only (nuclei lie inside the image)
        r0, c0 = int(c[1] - ab[0]) - 1, int(c[0] - ab[0]) - 1
        r1, c1 = int(c[1] + ab[0]) + 2, int(c[0] + ab[0]) + 2
        box = labels[r0:r1, c0:c1]
        inside = _ellipse_mask(box.shape, c - (c0, r0), ab, angle)
        box[inside & (box == 0)] = i
    cell_types = np.array([types[i % len(types)] for i in rng.permutation(len(centres))],
                          dtype=object).astype(str) if centres else np.array([], dtype=str)

    nuclei = labels > 0
    bodies = ndi.grey_dilation(labels, size=2 * _BODY_PX + 1)
    bodies = np.where(labels > 0, labels, bodies)
    ring = ndi.binary_dilation(bodies > 0, iterations=2) & ~ndi.binary_erosion(bodies > 0)
    channels = [nuclei.astype(np.float64), ring.astype(np.float64)]
    for cell_type in types:
        expressing = np.flatnonzero(cell_types == cell_type) + 1
        channels.append(np.isin(bodies, expressing).astype(np.float64))
    pixels = np.stack(channels)
    pixels = ndi.gaussian_filter(pixels, sigma=(0, 0.7, 0.7)) * (1 - _BACKGROUND) + _BACKGROUND
    pixels += rng.normal(0.0, noise, size=pixels.shape)
    return SyntheticImage(
        pixels=pixels.astype(np.float32),
        channel_names=["DAPI", "Membrane", *markers.values()],
        labels=labels,
        centres=np.asarray(centres, dtype=np.float64).reshape(-1, 2),
        semi_axes=np.asarray(axes, dtype=np.float64).reshape(-1, 2),
        angles=np.asarray(angles, dtype=np.float64),
        cell_types=cell_types,
        touching=np.asarray(touching, dtype=bool),
        um_per_px=float(um_per_px),
    )
