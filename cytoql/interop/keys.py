"""Every AnnData key CytoQL reads or writes, in one place.

Reading
-------
``obsm[SPATIAL]``       (n, 2) float positions, in the unit ``uns[SPATIAL_UNIT]``
``uns[SPATIAL_UNIT]``   "um" / "µm" / "micron", "nm", "mm", or "px" with ``uns[UM_PER_PX]``
``obs[CELL_TYPE]``      the default label column (categorical)
``obs[FOV]``            field of view of each cell; cells in different FOVs are never neighbours
``uns[FOV_WINDOWS]``    {fov name: [xmin, ymin, xmax, ymax]} in the unit of ``obsm[SPATIAL]``
``obsm[POLYGONS]``      (n, max_vertices, 2) float outlines in the unit of ``obsm[SPATIAL]``,
                        padded with NaN; rings are not closed (the first vertex is not
                        repeated); a cell without an outline is all NaN

Writing (segmentation, ``cytoql.segment``)
------------------------------------------
``uns[SEGMENTATION]``   how the labels were made: method, parameters, pixel size and its source
``uns[CELL_TYPING]``    the rules (or source column) that produced a cell-type column, and counts
"""

__all__ = [
    "CELL_TYPE",
    "CELL_TYPING",
    "FOV",
    "FOV_WINDOWS",
    "POLYGONS",
    "SEGMENTATION",
    "SINGLE_FOV",
    "SPATIAL",
    "SPATIAL_UNIT",
    "UM_PER_PX",
]

SPATIAL = "spatial"
SPATIAL_UNIT = "spatial_unit"
UM_PER_PX = "um_per_px"
CELL_TYPE = "cell_type"
FOV = "fov"
FOV_WINDOWS = "fov_windows"
POLYGONS = "polygons"
SEGMENTATION = "segmentation"
CELL_TYPING = "cell_typing"

#: Name of the one field of view of data without an ``obs[FOV]`` column.
SINGLE_FOV = "all"
