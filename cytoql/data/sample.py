"""A read-only view of one AnnData for spatial queries: the object every stage reads.

:class:`Sample` validates the AnnData once, converts positions to µm, splits cells
into fields of view with their windows, and answers questions about labels, columns,
genes and outlines. It never writes to the AnnData it was built from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cytoql.data.polygons import array_to_polygons, validate_polygon_array
from cytoql.data.scale import Scale, resolve_scale
from cytoql.data.window import Window, window_from_bounds, window_of_cells
from cytoql.diagnostics.suggest import closest, quote_list
from cytoql.errors import DataError
from cytoql.interop import keys

__all__ = ["FieldOfView", "Sample"]


@dataclass(frozen=True, eq=False)
class FieldOfView:
    """The cells of one field of view: the unit of work of every evaluation.

    Attributes
    ----------
    name : str
        FOV name (``"sample/fov"`` when the data has a sample column).
    index : ndarray of shape (m,), int64
        Rows of the sample that belong to this FOV, in obs order.
    xy : ndarray of shape (m, 2), float64
        Positions in µm.
    window : Window
    sample : str or None
        The sample this FOV belongs to, when a sample column was given.
    """

    name: str
    index: np.ndarray
    xy: np.ndarray
    window: Window
    sample: str | None = None

    @property
    def n_cells(self) -> int:
        return len(self.index)


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _names(values) -> list[str]:
    return [str(v) for v in values]


class Sample:
    """Spatial view of an AnnData; build it with :meth:`from_anndata`."""

    def __init__(self, adata, *, xy, scale, fovs, type_key, type_codes, cell_types,
                 assumptions, sample_key):
        self._adata = adata
        self.xy = _read_only(xy)
        self.scale: Scale = scale
        self.fovs: tuple[FieldOfView, ...] = fovs
        self.type_key: str | None = type_key
        self._type_codes = None if type_codes is None else _read_only(type_codes)
        self.cell_types: list[str] = cell_types
        self.assumptions: tuple[str, ...] = tuple(assumptions)
        self.sample_key = sample_key

    # ------------------------------------------------------------------ building
    @classmethod
    def from_anndata(cls, adata, *, type_key: str | None = keys.CELL_TYPE,
                     fov_key: str | None = keys.FOV, spatial_key: str = keys.SPATIAL,
                     sample_key: str | None = None, unit: str | None = None,
                     um_per_unit: float | None = None, windows=None) -> Sample:
        """Validate ``adata`` and build the spatial view of it.

        Parameters
        ----------
        adata : AnnData
            Read only; never modified.
        type_key : str or None, default "cell_type"
            Categorical ``obs`` column of cell labels; None for data without labels.
        fov_key : str or None, default "fov"
            ``obs`` column of fields of view; when absent (or None) all cells form one FOV
            named ``"all"``.
        spatial_key : str, default "spatial"
            ``obsm`` key of the (n, 2) positions.
        sample_key : str, optional
            ``obs`` column naming the sample of each cell; FOVs are nested in samples.
        unit, um_per_unit : optional
            Override ``uns["spatial_unit"]`` / give the µm per coordinate unit.
        windows : tuple or mapping, optional
            Window(s) in µm as ``(xmin, ymin, xmax, ymax)``: one for every FOV, or a
            mapping from FOV name to window. Overrides ``uns["fov_windows"]``.

        Raises
        ------
        DataError
            No cells at all (see Notes), missing or misshaped positions, NaN/inf
            coordinates (names the cells), absent
            label / FOV / sample column (lists what exists), duplicate obs names, unknown
            unit, malformed windows, cells outside their FOV's window (outlines are
            checked when first read, see :attr:`polygon_array`).

        Notes
        -----
        An AnnData without cells is refused rather than answered: every value is
        computed per field of view and a FOV exists only where there are cells, so no
        query has a value to report, and an empty object is almost always a filter
        upstream that removed everything. (An empty *selection* inside data with cells
        is answered, with warning W0501.)
        """
        if adata.n_obs == 0:
            raise _no_cells(adata)
        obs_names = adata.obs_names
        if not obs_names.is_unique:
            dup = obs_names[obs_names.duplicated()].unique()
            raise DataError(f"obs names are not unique ({len(dup)} repeated, e.g. "
                            f"{quote_list(dup[:3])}); call adata.obs_names_make_unique() first")

        scale, assumptions = resolve_scale(adata.uns, unit, um_per_unit)
        xy = _positions(adata, spatial_key, obs_names) * scale.um_per_unit
        assumptions.extend(_precision_notes(adata.obsm[spatial_key], spatial_key,
                                            scale.um_per_unit))

        type_codes, cell_types = None, []
        if type_key is not None:
            _require_column(adata, type_key, "label column (type_key)")
            type_codes, cell_types = _codes(adata.obs[type_key], type_key)

        fov_groups = _groups(adata, fov_key, "fov_key")
        sample_groups = _groups(adata, sample_key, "sample_key") if sample_key else None
        fovs, window_notes = _split_fovs(adata, xy, scale, fov_groups, sample_groups, windows)
        assumptions.extend(window_notes)

        return cls(adata, xy=xy, scale=scale, fovs=fovs, type_key=type_key,
                   type_codes=type_codes, cell_types=cell_types, assumptions=assumptions,
                   sample_key=sample_key)

    # ------------------------------------------------------------------ cells
    @property
    def n_cells(self) -> int:
        return len(self.xy)

    @cached_property
    def obs_names(self) -> np.ndarray:
        """Cell names (str), in obs order."""
        return _read_only(np.asarray(self._adata.obs_names).astype(str))

    @property
    def type_codes(self) -> np.ndarray:
        """(n,) int64 index into :attr:`cell_types`; -1 where the label is missing."""
        if self._type_codes is None:
            raise DataError("this sample was built without a label column (type_key=None); "
                            f"categorical columns: {quote_list(self.categorical_columns)}")
        return self._type_codes

    def fov(self, name: str) -> FieldOfView:
        """The field of view called ``name``."""
        for fov in self.fovs:
            if fov.name == str(name):
                return fov
        names = [f.name for f in self.fovs]
        hint = closest(str(name), names)
        raise DataError(f"no field of view {str(name)!r}"
                        + (f"; did you mean {quote_list(hint)}?" if hint else ";")
                        + f" FOVs: {quote_list(names)}")

    # ------------------------------------------------------------------ columns
    @property
    def columns(self) -> list[str]:
        """All ``obs`` column names."""
        return _names(self._adata.obs.columns)

    @property
    def categorical_columns(self) -> list[str]:
        """``obs`` columns usable as labels: categorical, string, boolean or integer."""
        return [c for c in self.columns if _is_labelish(self._adata.obs[c])]

    @property
    def numeric_columns(self) -> list[str]:
        """``obs`` columns of numbers (integer, float, boolean excluded)."""
        return [c for c in self.columns
                if pd.api.types.is_numeric_dtype(self._adata.obs[c])
                and not pd.api.types.is_bool_dtype(self._adata.obs[c])]

    def codes(self, column: str) -> tuple[np.ndarray, list[str]]:
        """Integer codes (-1 = missing) and category names of a label-like column."""
        _require_column(self._adata, column, "column")
        return _codes(self._adata.obs[column], column)

    def numeric(self, column: str) -> np.ndarray:
        """A numeric ``obs`` column as float64 (NaN where missing)."""
        _require_column(self._adata, column, "column")
        series = self._adata.obs[column]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            raise DataError(f"obs[{column!r}] is not numeric (dtype {series.dtype}); "
                            f"numeric columns: {quote_list(self.numeric_columns)}")
        return np.asarray(series, dtype=np.float64).copy()

    # ------------------------------------------------------------------ expression
    @property
    def genes(self) -> list[str]:
        """Gene / marker names (``var_names``)."""
        return _names(self._adata.var_names)

    @property
    def layers(self) -> list[str]:
        return _names(self._adata.layers.keys())

    def expression(self, gene: str, layer: str | None = None) -> np.ndarray:
        """Expression of one gene for every cell, float64, from ``X`` or a layer.

        Raises
        ------
        DataError
            Unknown gene (with close names) or unknown layer (lists the layers).
        """
        var = self._adata.var_names
        if gene not in var:
            hint = closest(gene, self.genes)
            raise DataError(f"no gene or marker {gene!r} in var_names"
                            + (f"; did you mean {quote_list(hint)}?" if hint else "")
                            + f" ({len(var)} genes, e.g. {quote_list(self.genes, 6)})")
        if layer is None:
            matrix = self._adata.X
        elif layer in self._adata.layers:
            matrix = self._adata.layers[layer]
        else:
            raise DataError(f"no layer {layer!r}; layers: {quote_list(self.layers) or 'none'}")
        if matrix is None:
            raise DataError("adata.X is empty; give a layer")
        col = matrix[:, var.get_loc(gene)]
        col = col.toarray() if sp.issparse(col) else np.asarray(col)
        return np.asarray(col, dtype=np.float64).reshape(-1).copy()

    # ------------------------------------------------------------------ outlines
    @property
    def has_polygons(self) -> bool:
        return keys.POLYGONS in self._adata.obsm

    @cached_property
    def polygon_array(self) -> np.ndarray | None:
        """NaN-padded outlines in µm, validated on first use (a query that reads no
        outline never pays for their check); None without outlines.

        Raises
        ------
        DataError
            Malformed outlines, or outlines that do not contain their cell's position.
        """
        if not self.has_polygons:
            return None
        scale = self.scale.um_per_unit
        stored = validate_polygon_array(self._adata.obsm[keys.POLYGONS], self.xy / scale,
                                        self._adata.obs_names)
        return _read_only(stored * scale)

    def polygons(self) -> list:
        """Cell outlines in µm as shapely Polygons (None where a cell has none)."""
        if self.polygon_array is None:
            raise DataError(f"this data has no cell outlines (obsm['{keys.POLYGONS}']); "
                            "attach them with cytoql.data.polygons.attach_polygons")
        return array_to_polygons(self.polygon_array)

    def summary(self) -> str:
        """The schema summary printed by ``cytoql info`` and shown to the agent."""
        from cytoql.data.schema import describe

        return describe(self)


# ---------------------------------------------------------------------- helpers
def _positions(adata, spatial_key: str, obs_names: np.ndarray) -> np.ndarray:
    if spatial_key not in adata.obsm:
        have = _names(adata.obsm.keys())
        raise DataError(f"no positions: adata.obsm[{spatial_key!r}] is missing; obsm keys: "
                        f"{quote_list(have) or 'none'} (pass spatial_key=... to use another)")
    raw = adata.obsm[spatial_key]
    raw = raw.to_numpy() if isinstance(raw, pd.DataFrame) else np.asarray(raw)
    if raw.ndim != 2 or raw.shape[1] != 2:
        raise DataError(f"adata.obsm[{spatial_key!r}] must have shape (n_cells, 2), got "
                        f"{raw.shape}" + ("; 3-D positions are not supported, pass the x/y "
                                          "columns" if raw.ndim == 2 and raw.shape[1] == 3 else ""))
    if raw.dtype.kind not in "iuf":
        raise DataError(f"adata.obsm[{spatial_key!r}] must be numeric, got dtype {raw.dtype}")
    xy = np.array(raw, dtype=np.float64)  # always a copy: the caller's array stays theirs
    if not np.isfinite(xy).all():  # the row-wise search below is 20x slower: only on failure
        rows = np.flatnonzero(~np.isfinite(xy).all(axis=1))
        raise DataError(f"{rows.size} cell(s) have NaN or infinite coordinates in "
                        f"adata.obsm[{spatial_key!r}]: {quote_list(obs_names[rows], 5)}; drop "
                        "them (adata[np.isfinite(adata.obsm['spatial']).all(1)]) or fix them")
    return xy


def _precision_notes(raw, key: str, um_per_unit: float) -> list[str]:
    """The note on positions stored with fewer than 32 bits: they are used as stored
    (converted to float64), and their resolution is said."""
    raw = raw.to_numpy() if isinstance(raw, pd.DataFrame) else np.asarray(raw)
    if raw.dtype.kind != "f" or raw.dtype.itemsize >= 4:
        return []
    step = float(np.spacing(np.abs(raw).max())) * um_per_unit
    return [f"adata.obsm[{key!r}] is stored as {raw.dtype} ({np.finfo(raw.dtype).nmant + 1} "
            f"bits of precision): positions are used as stored, converted to float64, but "
            f"are resolved only to {step:.3g} µm at the largest coordinate, so distances "
            "are off by up to that much; store positions as float32 or float64"]


def _no_cells(adata) -> DataError:
    columns = quote_list(_names(adata.obs.columns)) or "none"
    return DataError(f"the AnnData has no cells (0 rows in obs), so there is nothing to "
                     f"query; check the filter or file that produced it (obs columns: "
                     f"{columns}; {adata.n_vars:,} genes)")


def _require_column(adata, column: str, what: str) -> None:
    if column in adata.obs.columns:
        return
    cols = _names(adata.obs.columns)
    labelish = [c for c in cols if _is_labelish(adata.obs[c])]
    hint = closest(column, cols)
    raise DataError(f"obs has no {what} {column!r}"
                    + (f"; did you mean {quote_list(hint)}?" if hint else "")
                    + f" categorical columns: {quote_list(labelish) or 'none'}")


def _is_labelish(series: pd.Series) -> bool:
    return (isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(series)
            or pd.api.types.is_integer_dtype(series) or pd.api.types.is_object_dtype(series)
            or pd.api.types.is_string_dtype(series))


def _codes(series: pd.Series, column: str) -> tuple[np.ndarray, list[str]]:
    if not _is_labelish(series):
        raise DataError(f"obs[{column!r}] has dtype {series.dtype} and cannot be used as labels; "
                        "use a categorical, string, boolean or integer column")
    cat = series if isinstance(series.dtype, pd.CategoricalDtype) else series.astype("category")
    names = _names(cat.cat.categories)
    if len(set(names)) != len(names):
        raise DataError(f"obs[{column!r}] has categories that are equal as text: "
                        f"{quote_list(names)}")
    return np.asarray(cat.cat.codes, dtype=np.int64).copy(), names


def _groups(adata, key: str | None, what: str) -> tuple[list[str], np.ndarray] | None:
    """(names, codes) of an obs grouping column, or None when there is none."""
    if key is None or (what == "fov_key" and key == keys.FOV and key not in adata.obs.columns):
        return None
    _require_column(adata, key, f"{what.removesuffix('_key')} column ({what})")
    codes, names = _codes(adata.obs[key], key)
    if (codes < 0).any():
        rows = np.flatnonzero(codes < 0)
        raise DataError(f"{rows.size} cell(s) have no value in obs[{key!r}], e.g. "
                        f"{quote_list(np.asarray(adata.obs_names)[rows], 3)}")
    return names, codes


def _split_fovs(adata, xy, scale, fov_groups, sample_groups, windows):
    meta = adata.uns.get(keys.FOV_WINDOWS, {})
    if not isinstance(meta, Mapping):
        raise DataError(f"uns['{keys.FOV_WINDOWS}'] must map FOV name to "
                        f"[xmin, ymin, xmax, ymax], got {type(meta).__name__}")
    if fov_groups is None:
        fov_names, fov_codes = [keys.SINGLE_FOV], np.zeros(len(xy), dtype=np.int64)
    else:
        fov_names, fov_codes = fov_groups
    if sample_groups is None and fov_groups is None:
        parts = [(None, fov_names[0], np.arange(len(xy), dtype=np.int64))]
    elif sample_groups is None:
        parts = [(None, fov_names[c], np.flatnonzero(fov_codes == c)) for c in range(len(fov_names))]
    else:
        s_names, s_codes = sample_groups
        parts = [(s_names[s], fov_names[f], np.flatnonzero((s_codes == s) & (fov_codes == f)))
                 for s in range(len(s_names)) for f in range(len(fov_names))]
    if windows is not None and isinstance(windows, Mapping):
        names = {(f"{s}/{f}" if s is not None else f) for s, f, _ in parts}
        unknown = [str(k) for k in windows if str(k) not in names]
        if unknown:
            raise DataError(f"windows given for unknown FOV(s) {quote_list(unknown)}; "
                            f"FOVs: {quote_list(sorted(names))}")

    fovs, notes = [], []
    for sample, fov_name, index in parts:
        if index.size == 0:
            continue  # an unused category, or a FOV absent from this sample
        name = f"{sample}/{fov_name}" if sample is not None else fov_name
        # one FOV of every cell shares the sample's array (ours, and read-only)
        fxy = _read_only(xy if index.size == len(xy) else xy[index])
        if windows is not None:
            bounds = windows.get(name) if isinstance(windows, Mapping) else windows
        else:
            bounds = None
        if bounds is not None:
            window = window_from_bounds(bounds, "user", f"window of FOV {name!r}")
        elif fov_name in meta or name in meta:
            raw = meta[name] if name in meta else meta[fov_name]
            window = window_from_bounds(np.asarray(raw, dtype=np.float64) * scale.um_per_unit,
                                        "metadata", f"uns['{keys.FOV_WINDOWS}'][{fov_name!r}]")
        else:
            window = window_of_cells(fxy)
            notes.append(f"window of FOV {name!r}: bounding box of its cells "
                         f"(no uns['{keys.FOV_WINDOWS}'] entry)")
        if window.source != "cells":  # the cells' own bounding box holds them all
            outside = ~window.contains(fxy)
            if outside.any():
                cells = np.asarray(adata.obs_names)[index[outside]]
                raise DataError(f"{outside.sum()} cell(s) of FOV {name!r} lie outside its "
                                f"window ({window.describe()}), e.g. {quote_list(cells, 3)}")
        fovs.append(FieldOfView(name, _read_only(index.astype(np.int64, copy=False)), fxy,
                                window, sample))
    return tuple(fovs), notes
