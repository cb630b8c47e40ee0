"""One point set with the index each query runs fastest on, built when first needed."""

from __future__ import annotations

import numpy as np

from ._kdtree_build import KDTree, build_kdtree
from ._kdtree_knn import knn
from ._kdtree_radius import count_within, count_within_by_label
from ._validate import as_points
from .grid_index import (
    GridIndex,
    build_grid,
    grid_count_within,
    grid_count_within_by_label,
    grid_knn,
    grid_suits,
)


class PointIndex:
    """The points of one set, indexed for kNN and fixed-radius counts.

    Queries run on a uniform grid (:func:`~cytoql.kernels.grid_index.build_grid`) unless
    its cells would be crowded (:func:`~cytoql.kernels.grid_index.grid_suits`), then on
    a KD-tree; results are identical either way. Indexes are built on first use and
    kept: one grid for kNN and radii up to twice its cell, one per larger radius
    (whose cells are at least ``r / 2``, so a query reads at most 5 x 5 of them).

    Parameters
    ----------
    xy : array_like of shape (n, 2), float
        The indexed points, finite.

    Examples
    --------
    >>> import numpy as np
    >>> cells = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> index = PointIndex(cells)
    >>> index.count_within(cells[[4]], 1.0, skip=[4]).tolist()
    [4]
    >>> index.knn(cells[:1], 1, skip=[0])[1].tolist()
    [[1]]
    """

    def __init__(self, xy):
        self.xy = as_points(xy, "xy")
        self._tree: KDTree | None = None
        self._grids: dict[float | None, GridIndex | None] = {}

    @property
    def tree(self) -> KDTree:
        """The KD-tree over the points (built on first access)."""
        if self._tree is None:
            self._tree = build_kdtree(self.xy)
        return self._tree

    def _grid(self, r: float | None = None) -> GridIndex | None:
        """A grid fit for radius ``r`` (kNN when None), or None where a tree is better."""
        if None not in self._grids:
            grid = build_grid(self.xy)
            self._grids[None] = grid if grid_suits(grid) else None
        base = self._grids[None]
        if base is None or r is None or float(r) <= 2.0 * base.cell:
            return base
        if r not in self._grids:
            # coarse by design; the points are spread, as the kNN grid showed
            self._grids[r] = build_grid(self.xy, r)
        return self._grids[r]

    def knn(self, query_xy, k: int, *, skip=None) -> tuple[np.ndarray, np.ndarray]:
        """As :func:`~cytoql.kernels.spatial_index.knn`."""
        grid = self._grid()
        if grid is None:
            return knn(self.tree, query_xy, k, skip=skip)
        return grid_knn(grid, query_xy, k, skip=skip)

    def count_within(self, query_xy, r: float, *, skip=None) -> np.ndarray:
        """As :func:`~cytoql.kernels.spatial_index.count_within`."""
        grid = self._grid(r)
        if grid is None:
            return count_within(self.tree, query_xy, r, skip=skip)
        return grid_count_within(grid, query_xy, r, skip=skip)

    def count_within_by_label(self, labels, n_labels: int, query_xy, r: float, *,
                              skip=None) -> np.ndarray:
        """As :func:`~cytoql.kernels.spatial_index.count_within_by_label`."""
        grid = self._grid(r)
        if grid is None:
            return count_within_by_label(self.tree, labels, n_labels, query_xy, r,
                                         skip=skip)
        return grid_count_within_by_label(grid, labels, n_labels, query_xy, r, skip=skip)
