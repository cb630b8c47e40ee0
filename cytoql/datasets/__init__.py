"""Data sets for examples, tests and benchmarks: one bundled real sample and a generator.

- :func:`cosmx_kidney`: two fields of view of a CosMx SMI kidney biopsy (bundled, MIT).
- :func:`synthetic`: seeded synthetic tissue from documented point processes, any size.
"""

from __future__ import annotations

from importlib import resources

import anndata as ad

from cytoql.datasets.synthetic import (
    BACKGROUND_RATE,
    DEFAULT_CELL_TYPES,
    DEFAULT_PROPORTIONS,
    DEFAULT_TUMOUR_TYPES,
    MARKER_RATE,
    MARKERS,
    MAX_PACKING,
    PROCESSES,
    synthetic,
)

__all__ = [
    "BACKGROUND_RATE",
    "DEFAULT_CELL_TYPES",
    "DEFAULT_PROPORTIONS",
    "DEFAULT_TUMOUR_TYPES",
    "MARKERS",
    "MARKER_RATE",
    "MAX_PACKING",
    "PROCESSES",
    "cosmx_kidney",
    "synthetic",
]

_KIDNEY = "cosmx_kidney.h5ad"


def cosmx_kidney() -> ad.AnnData:
    """Two fields of view of a CosMx SMI kidney biopsy, as a fresh AnnData.

    The file ships inside the package (``cytoql/datasets/data/cosmx_kidney.h5ad``) and
    is read on every call, so each caller gets an independent object it may modify.

    Returns
    -------
    AnnData
        6,555 cells x 11 genes: raw counts in ``X`` (sparse float32);
        ``obs["cell_type"]`` (26 annotated types, categorical), ``obs["fov"]`` ("18" and
        "23", categorical), ``obs["total_counts"]``, ``obs["cell_ID"]``;
        ``obsm["spatial"]`` centroids in micrometres with ``uns["spatial_unit"] = "um"``;
        ``uns["source"]`` describes the origin. There are no polygons and no FOV windows
        (a window defaults to the bounding box of the FOV's cells).

    Notes
    -----
    Source: the ``cosmx_kidney`` example data of the InSituCor R package
    (Nanostring-Biostats/InSituCor), MIT license, Copyright 2025 Bruker Spatial Biology.
    The license notice lies beside the file, ``cytoql/datasets/data/COSMX_KIDNEY_LICENSE.md``,
    and must accompany redistributed copies. Centroids were converted from the source's
    millimetres to micrometres; no other value was changed.

    Examples
    --------
    >>> from cytoql.datasets import cosmx_kidney
    >>> adata = cosmx_kidney()
    >>> adata.n_obs, sorted(adata.obs["fov"].cat.categories)
    (6555, ['18', '23'])
    """
    ref = resources.files(__name__).joinpath("data", _KIDNEY)
    with resources.as_file(ref) as path:
        return ad.read_h5ad(path)
