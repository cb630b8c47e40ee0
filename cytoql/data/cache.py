"""Samples built once per AnnData and reused while the AnnData is unchanged.

Building a :class:`~cytoql.data.Sample` (positions to µm, label codes, FOVs and
windows) and its schema costs more than a one-kernel query at 10⁶ cells, and a notebook
asks many queries of one AnnData. :func:`sample_of` keeps the last sample built for each
AnnData object and its options, and reuses it only while a *token* of what the sample
read is unchanged: the identity and shape of obs, obsm and var names, the obs columns and
their dtypes, a checksum of the positions' bits, and checksums of the codes or values of
every categorical and numeric obs column (so an in-place edit of the positions or of a
label is seen). Not detected: in-place edits of the characters of an object-dtype (string)
obs column — assign a new column instead (documented in docs/limits.md).

A sample refers to its AnnData, so the cache keeps the :data:`MAX_ENTRIES` most recently
used ones alive; :func:`clear` drops them.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

from cytoql.data.sample import Sample

__all__ = ["MAX_ENTRIES", "clear", "sample_of"]

#: How many AnnData objects (and their samples) the cache keeps.
MAX_ENTRIES = 2
_CACHE: OrderedDict[int, tuple] = OrderedDict()


def clear() -> None:
    """Forget every cached sample (and release the AnnData objects they refer to)."""
    _CACHE.clear()


def _checksum(values) -> tuple:
    """The sum (mod 2^64) of the bits of an array's elements: a change of any one element
    changes it (a few milliseconds at 10⁶ cells; no copy for contiguous arrays)."""
    arr = np.ascontiguousarray(values)
    if arr.dtype.kind not in "biuf" or arr.size == 0:
        return (arr.dtype.str, arr.shape)
    bits = arr.reshape(-1).view(np.dtype(f"u{arr.dtype.itemsize}"))
    return (arr.dtype.str, arr.shape, int(bits.sum(dtype=np.uint64)))


def _column_token(series: pd.Series) -> tuple:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return ("cat", tuple(map(str, series.cat.categories)), _checksum(series.cat.codes))
    if series.dtype.kind in "biuf":
        return ("num", _checksum(series.to_numpy()))
    return ("obj", str(series.dtype), id(series.array), len(series))


def _token(adata, options: dict) -> tuple:
    obsm = {key: (id(value), getattr(value, "shape", None)) for key, value in adata.obsm.items()}
    spatial = adata.obsm.get(options.get("spatial_key", "spatial"))
    return (tuple(sorted((k, repr(v)) for k, v in options.items())), adata.shape, id(adata.obs_names), id(adata.var_names),
            tuple(sorted(obsm.items())),
            _checksum(np.asarray(spatial)) if spatial is not None else None,
            tuple((str(c), _column_token(adata.obs[c])) for c in adata.obs.columns),
            repr(adata.uns.get("spatial_unit")), repr(adata.uns.get("fov_windows")),
            tuple(adata.layers.keys()))


def sample_of(adata, **options) -> Sample:
    """The :class:`Sample` of ``adata`` with ``options`` (as :meth:`Sample.from_anndata`),
    reused while the AnnData is unchanged (see the module notes)."""
    token = _token(adata, options)
    entry = _CACHE.get(id(adata))
    if entry is not None and entry[0] is adata and entry[1] == token:
        _CACHE.move_to_end(id(adata))
        return entry[2]
    sample = Sample.from_anndata(adata, **options)
    _CACHE[id(adata)] = (adata, token, sample)
    _CACHE.move_to_end(id(adata))
    while len(_CACHE) > MAX_ENTRIES:
        _CACHE.popitem(last=False)
    return sample
