"""A 2-D KD-tree built and queried in numba: kNN, radius lists, fused radius counts.

The tree is a complete binary tree stored implicitly (node ``i`` has children ``2i+1``
and ``2i+2``); every node splits its points at the median of its widest coordinate, so
all leaves sit at the same depth and hold at most ``leaf_size`` points. Points are
stored in tree order, so a node is a contiguous range ``[start, end)`` of that order.

Conventions shared by every query
---------------------------------
* Distances are Euclidean, computed as ``sqrt(dx*dx + dy*dy)`` in float64 (the same
  formula as :mod:`cytoql.kernels.reference.spatial_index`, so ``d == r`` ties agree
  bit for bit).
* "Within ``r``" means ``d <= r`` (closed ball). Radius tests run on squared distances
  against the largest float64 ``t`` with ``sqrt(t) <= r``, which is exactly equivalent
  to ``sqrt(d2) <= r``.
* Indices returned are indices into the ``xy`` given to :func:`build_kdtree`.
* ``skip[i]`` (an original index, or ``-1`` for none) is never returned or counted for
  query ``i``: this is how a cell is kept out of its own neighbourhood. Another point at
  the same position but with a different index is a neighbour at distance 0.
* Ties in distance are broken by the smaller original index.
* Queries run in parallel over independent query points; every output is integer or
  per-query, so results do not depend on the number of threads.

The implementation is split by what it owns: the build (``_kdtree_build``), kNN
(``_kdtree_knn``), radius queries (``_kdtree_radius``) and radial histograms
(``_kdtree_pairs``), over shared helpers (``_kdtree_common``). A uniform grid with the
same conventions and results serves kNN and fixed-radius counts where it is faster
(:mod:`cytoql.kernels.grid_index`, chosen by :class:`PointIndex`).
"""

from __future__ import annotations

from ._kdtree_build import KDTree, build_kdtree
from ._kdtree_knn import knn, nearest_of_label
from ._kdtree_pairs import cumulative_counts, label_pair_counts
from ._kdtree_radius import count_within, count_within_by_label, query_radius
from ._point_index import PointIndex

__all__ = [
    "KDTree",
    "PointIndex",
    "build_kdtree",
    "count_within",
    "count_within_by_label",
    "cumulative_counts",
    "knn",
    "label_pair_counts",
    "nearest_of_label",
    "query_radius",
]

