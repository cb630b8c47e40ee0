"""Cell outlines stored so they survive ``write_h5ad``: a NaN-padded array in ``obsm``.

``obsm["polygons"]`` has shape ``(n_cells, max_vertices, 2)``, float64, in the unit of
``obsm["spatial"]``. Row ``i`` holds the exterior ring of cell ``i`` with the first
vertex not repeated, followed by NaN padding; a cell without an outline is all NaN.
Being in ``obsm`` it follows subsetting and concatenation of the AnnData, and it has no
object dtype, so h5ad round trips are exact. Holes are not stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import shapely

from cytoql.errors import DataError
from cytoql.interop import keys

__all__ = ["array_to_polygons", "attach_polygons", "polygons_to_array", "validate_polygon_array"]


def _ring(poly, i) -> np.ndarray | None:
    if poly is None:
        return None
    if isinstance(poly, shapely.Polygon):
        if poly.is_empty:
            return None
        ring = np.asarray(poly.exterior.coords, dtype=np.float64)
    elif isinstance(poly, shapely.Geometry):
        raise DataError(f"outline {i} is a {poly.geom_type}, expected a Polygon")
    else:
        ring = np.asarray(poly, dtype=np.float64)
        if ring.ndim != 2 or ring.shape[1] != 2:
            raise DataError(f"outline {i} must be a (k, 2) vertex array, got shape {ring.shape}")
    if len(ring) > 1 and np.array_equal(ring[0], ring[-1]):
        ring = ring[:-1]
    if not np.isfinite(ring).all():
        raise DataError(f"outline {i} has NaN or infinite vertices")
    if len(ring) < 3:
        raise DataError(f"outline {i} has {len(ring)} distinct vertices; a polygon needs 3")
    return ring


def polygons_to_array(polygons: Sequence) -> np.ndarray:
    """Pack outlines into the padded ``(n, max_vertices, 2)`` storage array.

    Parameters
    ----------
    polygons : sequence of shapely.Polygon, (k, 2) array-like or None
        One outline per cell, in the unit of ``obsm["spatial"]``; None for no outline.
        A closing vertex equal to the first one is dropped.

    Returns
    -------
    ndarray of shape (n, max_vertices, 2), float64, NaN-padded

    Raises
    ------
    DataError
        An outline with fewer than 3 vertices, non-finite vertices, or not a polygon.
    """
    polygons = list(polygons)
    if all(p is None or type(p) is shapely.Polygon for p in polygons):
        return _pack_shapely(polygons)
    rings = [_ring(p, i) for i, p in enumerate(polygons)]
    width = max((len(r) for r in rings if r is not None), default=3)
    out = np.full((len(rings), width, 2), np.nan)
    for i, ring in enumerate(rings):
        if ring is not None:
            out[i, : len(ring)] = ring
    return out


def _pack_shapely(polygons: list) -> np.ndarray:
    """Vectorised :func:`polygons_to_array` for shapely Polygons and None (1M cells in ~1 s)."""
    geoms = np.array([shapely.Polygon() if p is None else p for p in polygons], dtype=object)
    coords, owner = shapely.get_coordinates(shapely.get_exterior_ring(geoms), return_index=True)
    counts = np.bincount(owner, minlength=len(geoms))
    keep = np.ones(len(coords), dtype=bool)
    ends = np.cumsum(counts)[counts > 0] - 1
    keep[ends] = False                      # shapely rings repeat their first vertex last
    coords, owner = coords[keep], owner[keep]
    counts = np.bincount(owner, minlength=len(geoms))
    bad = np.flatnonzero((counts > 0) & (counts < 3))
    if bad.size:
        raise DataError(f"outline {bad[0]} has {counts[bad[0]]} distinct vertices; "
                        "a polygon needs 3")
    if not np.isfinite(coords).all():
        raise DataError(f"outline {owner[~np.isfinite(coords).all(axis=1)][0]} has NaN or "
                        "infinite vertices")
    out = np.full((len(geoms), max(int(counts.max(initial=0)), 3), 2), np.nan)
    starts = np.cumsum(counts) - counts
    out[owner, np.arange(len(owner)) - starts[owner]] = coords
    return out


def validate_polygon_array(array, xy: np.ndarray, obs_names: Sequence[str]) -> np.ndarray:
    """Check a stored polygon array against the cells; return it as float64.

    A polygon belongs to its cell when the cell's position lies within the polygon's
    bounding box grown by half its diagonal: this catches outlines in another unit or
    in another cell order without rejecting concave outlines whose centroid is outside.

    Raises
    ------
    DataError
        Wrong shape, vertices after the NaN padding, fewer than 3 vertices, or outlines
        that do not match their cells (names the first cells).
    """
    arr = np.asarray(array, dtype=np.float64)
    n = len(xy)
    if arr.ndim != 3 or arr.shape[0] != n or arr.shape[2] != 2:
        raise DataError(f"obsm['{keys.POLYGONS}'] must have shape (n_cells={n}, max_vertices, 2), "
                        f"got {arr.shape}")
    present = ~np.isnan(arr).any(axis=2)                      # (n, V) vertex is set
    counts = present.sum(axis=1)
    if (present[:, 1:] & ~present[:, :-1]).any():
        raise DataError(f"obsm['{keys.POLYGONS}'] has vertices after NaN padding; "
                        "each row must be vertices then NaN")
    short = np.flatnonzero((counts > 0) & (counts < 3))
    if short.size:
        raise DataError(f"{short.size} outline(s) in obsm['{keys.POLYGONS}'] have fewer than 3 "
                        f"vertices, e.g. cell {obs_names[short[0]]!r}")
    has = counts > 0
    if has.any():
        with np.errstate(invalid="ignore"):
            lo = np.nanmin(arr[has], axis=1)
            hi = np.nanmax(arr[has], axis=1)
        slack = 0.5 * np.hypot(*(hi - lo).T)[:, None]
        pos = xy[has]
        off = ((pos < lo - slack) | (pos > hi + slack)).any(axis=1)
        if off.any():
            bad = np.flatnonzero(has)[off]
            names = ", ".join(repr(str(obs_names[i])) for i in bad[:5])
            raise DataError(
                f"{bad.size} outline(s) in obsm['{keys.POLYGONS}'] do not match their cells "
                f"(the cell position is far outside the outline), e.g. {names}; outlines "
                "must be in the unit and cell order of obsm['spatial']")
    return arr


def array_to_polygons(array: np.ndarray) -> list[shapely.Polygon | None]:
    """Unpack the padded storage array into shapely Polygons (None where absent)."""
    out: list[shapely.Polygon | None] = []
    for row in np.asarray(array, dtype=np.float64):
        ring = row[~np.isnan(row).any(axis=1)]
        out.append(shapely.Polygon(ring) if len(ring) >= 3 else None)
    return out


def attach_polygons(adata, polygons, *, copy: bool = True):
    """Store cell outlines in ``obsm["polygons"]``.

    Parameters
    ----------
    adata : AnnData
    polygons : sequence or mapping
        One outline per cell in obs order (shapely Polygon, (k, 2) vertices or None), or
        a mapping from obs name to outline (cells not named get no outline).
    copy : bool, default True
        Return a modified copy and leave ``adata`` untouched; with False, write into
        ``adata`` (and return it).

    Returns
    -------
    AnnData

    Raises
    ------
    DataError
        A sequence of the wrong length, names not in ``obs_names``, malformed outlines,
        or outlines that do not lie at their cells.
    """
    names = adata.obs_names
    if isinstance(polygons, Mapping):
        unknown = [k for k in polygons if k not in names]
        if unknown:
            raise DataError(f"{len(unknown)} outline key(s) are not obs names, "
                            f"e.g. {unknown[:3]!r}")
        position = {name: i for i, name in enumerate(names)}
        ordered: list = [None] * adata.n_obs
        for name, poly in polygons.items():
            ordered[position[name]] = poly
        polygons = ordered
    elif len(polygons) != adata.n_obs:
        raise DataError(f"got {len(polygons)} outlines for {adata.n_obs} cells; "
                        "give one per cell (None for none) or a mapping by obs name")
    array = polygons_to_array(polygons)
    if keys.SPATIAL in adata.obsm:
        validate_polygon_array(array, np.asarray(adata.obsm[keys.SPATIAL], dtype=np.float64)[:, :2],
                               np.asarray(names))
    target = adata.copy() if copy else adata
    target.obsm[keys.POLYGONS] = array
    return target
