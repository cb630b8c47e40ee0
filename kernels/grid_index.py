"""A uniform grid (cell list) over 2-D points: kNN and fixed-radius counts.

Points are counting-sorted into square cells, so a cell is a contiguous range of the
grid order and the build is O(n). For the shapes the language asks most (every cell's
nearest other cells, every cell's neighbours within a few cell diameters) a query
reads a handful of adjacent cells with no tree descent: on the 1M-cell synthetic
tissue the build plus all-cells k = 1 ran ~3x faster than the KD-tree of
:mod:`cytoql.kernels.spatial_index`. The KD-tree stays the index for everything else,
and for point sets that would crowd a few cells (see :func:`grid_suits`).

The results are those of :mod:`cytoql.kernels.spatial_index`, bit for bit: the same
distance formula, the same closed ball (``d2 <= t`` against the same squared
threshold), the same ``skip`` rule and ties broken by the smaller original index.
Cell bounds are only used to skip or accept whole cells, with a slack that makes
either decision conservative under rounding.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._chunks import run_in_slices
from ._jit import jit, jit_parallel, prange
from ._kdtree_common import (_as_radius, _before, _insert, _radius_threshold,
                             _skip_positions, _tree_labels)
from ._validate import as_int, as_points

__all__ = ["GridIndex", "build_grid", "grid_count_within", "grid_count_within_by_label",
           "grid_knn", "grid_suits"]

# Mean points per cell over the bounding box: small enough that a k = 1 query reads
# about 3 x 3 cells of a few points, large enough that cell overhead stays low.
_POINTS_PER_CELL = 2.0
# grid_suits: the mean number of points sharing a point's cell, above which the grid
# loses to the KD-tree (uniform points at _POINTS_PER_CELL give 3).
_MAX_CROWDING = 32.0
_BLOCK = 256


class GridIndex(NamedTuple):
    """A uniform grid over ``n`` 2-D points; picklable. Build it with :func:`build_grid`.

    Attributes
    ----------
    xy : ndarray of shape (n, 2), float64
        The points in grid order (row-major cells; original order within a cell).
    perm : ndarray of shape (n,), int64
        ``perm[p]`` is the original index of the point at grid position ``p``.
    inverse : ndarray of shape (n,), int64
        ``inverse[i]`` is the grid position of original point ``i``.
    cell_start : ndarray of shape (nx * ny + 1,), int64
        Cell ``c = cy * nx + cx`` holds positions ``cell_start[c]:cell_start[c + 1]``.
    xmin, ymin : float
        Lower-left corner of cell (0, 0).
    cell : float
        Side of a cell, > 0.
    nx, ny : int
        Number of cells along x and y; points beyond the last cell are clamped into it.
    """

    xy: np.ndarray
    perm: np.ndarray
    inverse: np.ndarray
    cell_start: np.ndarray
    xmin: float
    ymin: float
    cell: float
    nx: int
    ny: int


@jit
def grid_sort(xy, xmin, ymin, cell, nx, ny):
    """Counting sort of points into grid cells: (order, cell_start of length nx*ny+1).

    Stable: within a cell, points keep their input order. Points outside the grid are
    clamped into its border cells.
    """
    n = xy.shape[0]
    cell_of = np.empty(n, np.int64)
    counts = np.zeros(nx * ny + 1, np.int64)
    for i in range(n):
        c = _cell_of(xy[i, 0], xy[i, 1], xmin, ymin, cell, nx, ny)
        cell_of[i] = c
        counts[c + 1] += 1
    for c in range(nx * ny):
        counts[c + 1] += counts[c]
    fill = counts[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        c = cell_of[i]
        order[fill[c]] = i
        fill[c] += 1
    return order, counts


@jit
def _cell_of(x, y, xmin, ymin, cell, nx, ny):
    fx = min(max((x - xmin) / cell, 0.0), nx - 1.0)
    fy = min(max((y - ymin) / cell, 0.0), ny - 1.0)
    return int(fy) * nx + int(fx)


def build_grid(xy, r: float | None = None) -> GridIndex:
    """Sort 2-D points into a uniform grid.

    Parameters
    ----------
    xy : array_like of shape (n, 2), float
        Point coordinates, finite; ``n`` may be 0. Duplicates are allowed.
    r : float, optional
        The largest radius the grid will be queried with, > 0. The cell side is then at
        least ``r / 2``, so a radius query reads at most 5 x 5 cells. Default: a cell
        side for about two points per cell, the best for kNN.

    Returns
    -------
    GridIndex
        The grid; the input array is not modified.

    Raises
    ------
    ValueError
        If ``xy`` is not of shape (n, 2) or has a non-finite coordinate, or ``r`` is
        not a finite number > 0.

    Examples
    --------
    >>> import numpy as np
    >>> grid = build_grid(np.array([[3.0, 0.0], [0.0, 0.0], [0.5, 0.0]]))
    >>> grid.perm.tolist(), grid.nx, grid.ny
    ([1, 2, 0], 2, 1)
    """
    xy = as_points(xy, "xy")
    n = len(xy)
    if n == 0:
        return GridIndex(xy.copy(), np.empty(0, np.int64), np.empty(0, np.int64),
                         np.zeros(2, np.int64), 0.0, 0.0, 1.0, 1, 1)
    xmin, ymin, xmax, ymax = _bounds(xy)
    width = xmax - xmin
    height = ymax - ymin
    # About _POINTS_PER_CELL points per cell over the box, and never more cells along
    # the longer side than that (a thin strip of points would otherwise get n**2 cells).
    cell = max(math.sqrt(_POINTS_PER_CELL * width * height / n),
               max(width, height) * _POINTS_PER_CELL / n)
    if r is not None:
        cell = max(cell, float(_as_radius(r)[0]) / 2.0)
    if not cell > 0.0 or not math.isfinite(width / cell + height / cell):
        cell = max(width, height, 1.0)
    nx = int(width / cell) + 1
    ny = int(height / cell) + 1
    order, cell_start = grid_sort(xy, xmin, ymin, cell, nx, ny)
    sorted_xy, inverse = _take(xy, order)
    return GridIndex(sorted_xy, order, inverse, cell_start, xmin, ymin, cell, nx, ny)


@jit
def _bounds(xy):
    """(xmin, ymin, xmax, ymax) in one pass (numpy's axis reductions are strided)."""
    xmin = xy[0, 0]
    ymin = xy[0, 1]
    xmax = xmin
    ymax = ymin
    for i in range(1, xy.shape[0]):
        xmin = min(xmin, xy[i, 0])
        xmax = max(xmax, xy[i, 0])
        ymin = min(ymin, xy[i, 1])
        ymax = max(ymax, xy[i, 1])
    return xmin, ymin, xmax, ymax


@jit
def _take(xy, order):
    """``xy[order]`` and the inverse permutation of ``order``."""
    n = order.shape[0]
    out = np.empty((n, 2), np.float64)
    inverse = np.empty(n, np.int64)
    for p in range(n):
        i = order[p]
        out[p, 0] = xy[i, 0]
        out[p, 1] = xy[i, 1]
        inverse[i] = p
    return out, inverse


def grid_suits(grid: GridIndex) -> bool:
    """Whether queries on ``grid`` stay close to constant cost per query.

    False when points crowd a few cells (duplicates, a far outlier stretching the box,
    extreme clustering): the mean number of points sharing a point's cell is then
    above ``_MAX_CROWDING`` and a KD-tree is the better index.
    """
    n = len(grid.perm)
    if n == 0:
        return True
    sizes = np.diff(grid.cell_start).astype(np.float64)
    return float(sizes @ sizes) / n <= _MAX_CROWDING


def _slack(grid: GridIndex, r: float = 0.0) -> float:
    """Absolute slack on cell-bound distances: far above any rounding of the bounds."""
    reach = abs(grid.xmin) + abs(grid.ymin) + (grid.nx + grid.ny + 2) * grid.cell + r
    return 1e-9 * reach


def _sorted_queries(grid: GridIndex, query: np.ndarray, skip_pos: np.ndarray):
    """The queries and their skips in the grid's cell order, and that order.

    Consecutive queries then read the same cells, and their own coordinates
    sequentially: ~30% faster than visiting them in place in cell order.
    """
    order = grid_sort(query, grid.xmin, grid.ymin, grid.cell, grid.nx, grid.ny)[0]
    return _take(query, order)[0], skip_pos[order], order


# --------------------------------------------------------------------------- knn


@jit
def _gap(lo, width, q):
    """Distance from ``q`` to the interval ``[lo, lo + width]`` (0 inside)."""
    return max(0.0, max(lo - q, q - (lo + width)))


@jit
def _scan_cell(xy, perm, cell_start, c, qx, qy, skip_pos, out_d, out_i):
    k = out_d.shape[0]
    # d2 above this cannot round to a distance at or below the k-th kept one
    cut = out_d[k - 1] * out_d[k - 1] * (1.0 + 1e-14)
    for p in range(cell_start[c], cell_start[c + 1]):
        dx = qx - xy[p, 0]
        dy = qy - xy[p, 1]
        d2 = dx * dx + dy * dy
        if d2 > cut or p == skip_pos:
            continue
        d = math.sqrt(d2)
        j = perm[p]
        if _before(d, j, out_d[k - 1], out_i[k - 1]):
            _insert(out_d, out_i, k - 1, d, j)
            cut = out_d[k - 1] * out_d[k - 1] * (1.0 + 1e-14)


@jit
def _knn_one(xy, perm, cell_start, xmin, ymin, cell, nx, ny, slack, qx, qy, skip_pos,
             out_d, out_i):
    """Rings of cells around the query's cell, until no farther cell can hold a point
    that sorts before the k-th kept (a point at an equal distance still can)."""
    k = out_d.shape[0]
    for t in range(k):
        out_d[t] = np.inf
        out_i[t] = -1
    home = _cell_of(qx, qy, xmin, ymin, cell, nx, ny)
    cx = home % nx
    cy = home // nx
    s = 0
    while True:
        for gy in range(max(cy - s, 0), min(cy + s, ny - 1) + 1):
            gap_y = max(0.0, _gap(ymin + gy * cell, cell, qy) - slack)
            step = 1 if gy == cy - s or gy == cy + s else 2 * s
            for gx in range(cx - s, cx + s + 1, step):
                if gx < 0 or gx >= nx:
                    continue
                gap_x = max(0.0, _gap(xmin + gx * cell, cell, qx) - slack)
                if gap_x * gap_x + gap_y * gap_y > out_d[k - 1] * out_d[k - 1]:
                    continue
                _scan_cell(xy, perm, cell_start, gy * nx + gx, qx, qy, skip_pos, out_d,
                           out_i)
        # Any point outside the (2s+1)^2 block lies beyond one of its sides that the
        # grid extends past, so at least that side's distance away.
        beyond = np.inf
        if cx - s > 0:
            beyond = min(beyond, qx - (xmin + (cx - s) * cell))
        if cx + s < nx - 1:
            beyond = min(beyond, xmin + (cx + s + 1) * cell - qx)
        if cy - s > 0:
            beyond = min(beyond, qy - (ymin + (cy - s) * cell))
        if cy + s < ny - 1:
            beyond = min(beyond, ymin + (cy + s + 1) * cell - qy)
        if beyond == np.inf or beyond - slack > out_d[k - 1]:
            return
        s += 1


@jit_parallel
def _knn(xy, perm, cell_start, xmin, ymin, cell, nx, ny, slack, query, order, lo, hi,
         skip_pos, out_d, out_i):
    """Sorted queries ``lo..hi-1``; query ``i``'s row goes to ``out[order[i]]``."""
    k = out_d.shape[1]
    for b in prange((hi - lo + _BLOCK - 1) // _BLOCK):
        dist = np.empty(k, np.float64)
        idx = np.empty(k, np.int64)
        for i in range(lo + b * _BLOCK, min(hi, lo + (b + 1) * _BLOCK)):
            _knn_one(xy, perm, cell_start, xmin, ymin, cell, nx, ny, slack, query[i, 0],
                     query[i, 1], skip_pos[i], dist, idx)
            out_d[order[i]] = dist
            out_i[order[i]] = idx


def grid_knn(grid, query_xy, k: int, *, skip=None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest grid points of each query point.

    Parameters, returns and conventions are those of
    :func:`cytoql.kernels.spatial_index.knn` with ``grid`` in place of the tree; the
    results are identical.

    Parameters
    ----------
    grid : GridIndex
        From :func:`build_grid`.
    query_xy : array_like of shape (m, 2), float
        Query coordinates, finite; ``m`` may be 0.
    k : int
        Number of neighbours, >= 1.
    skip : array_like of shape (m,), int, optional
        ``skip[i]`` is an original index never returned for query ``i``; ``-1`` skips
        nothing.

    Returns
    -------
    distances : ndarray of shape (m, k), float64
        Ascending per row; ``inf`` where fewer than ``k`` points are available.
    indices : ndarray of shape (m, k), int64
        Original indices, ties to the smaller; ``-1`` where none is available.

    Raises
    ------
    TypeError, ValueError
        As :func:`cytoql.kernels.spatial_index.knn`.

    Examples
    --------
    >>> import numpy as np
    >>> cells = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> d, i = grid_knn(build_grid(cells), cells[:1], 3, skip=[0])
    >>> d.round(3).tolist(), i.tolist()
    ([[1.0, 1.0, 1.414]], [[1, 3, 4]])
    """
    _check_grid(grid)
    query = as_points(query_xy, "query_xy")
    k = as_int(k, "k", 1)
    skip_pos = _skip_positions(grid, skip, len(query))
    out_d = np.full((len(query), k), np.inf)
    out_i = np.full((len(query), k), -1, dtype=np.int64)
    if len(query) and len(grid.perm):
        sorted_query, sorted_skip, order = _sorted_queries(grid, query, skip_pos)
        slack = _slack(grid)

        def step(lo, hi):
            _knn(grid.xy, grid.perm, grid.cell_start, grid.xmin, grid.ymin, grid.cell,
                 grid.nx, grid.ny, slack, sorted_query, order, lo, hi, sorted_skip, out_d,
                 out_i)

        run_in_slices(len(query), step, first=1 << 16)
    return out_d, out_i


# --------------------------------------------------------------------------- radius


@jit
def _tally(xy, labels, labelled, a, b, qx, qy, skip_pos, thr, out, i):
    """Add the positions in ``[a, b)`` within the squared threshold ``thr`` to row i."""
    # branch-free: whether a point is in is a coin toss the branch predictor loses
    if labelled:
        for p in range(a, b):
            dx = qx - xy[p, 0]
            dy = qy - xy[p, 1]
            out[i, labels[p]] += (dx * dx + dy * dy <= thr) & (p != skip_pos)
    else:
        n_in = 0
        for p in range(a, b):
            dx = qx - xy[p, 0]
            dy = qy - xy[p, 1]
            n_in += (dx * dx + dy * dy <= thr) & (p != skip_pos)
        out[i, 0] += n_in


@jit
def _cell_range(lo, hi, q, xmin, cell, nx):
    """Cells ``first..last`` of a row overlapping ``[q + lo, q + hi]``, clamped."""
    first = int(min(max((q + lo - xmin) / cell, 0.0), nx - 1.0))
    last = int(min(max((q + hi - xmin) / cell, 0.0), nx - 1.0))
    return first, last


@jit
def _count_one(xy, cell_start, labels, labelled, xmin, ymin, cell, nx, ny, slack, qx,
               qy, skip_pos, r, thr, out, i):
    """Add the points within ``r`` of ``(qx, qy)`` to ``out[i, labels[p]]``
    (``out[i, 0]`` when not ``labelled``).

    Row by row: the cells a row shares with the disc are one contiguous run of grid
    positions; its middle cells, wholly inside the disc, are tallied without distance
    tests. Chords are widened (narrowed, for wholly inside) by the slack.
    """
    outer = r + slack
    inner = r - slack
    gy_lo, gy_hi = _cell_range(-outer, outer, qy, ymin, cell, ny)
    for gy in range(gy_lo, gy_hi + 1):
        y0 = ymin + gy * cell
        gap_y = max(0.0, _gap(y0, cell, qy) - slack)
        if gap_y > outer:
            continue
        half = math.sqrt(outer * outer - gap_y * gap_y) + slack
        lo, hi = _cell_range(-half, half, qx, xmin, cell, nx)
        row = gy * nx
        a = cell_start[row + lo]
        b = cell_start[row + hi + 1]
        far_y = max(qy - y0, y0 + cell - qy) + slack
        if far_y >= inner:
            _tally(xy, labels, labelled, a, b, qx, qy, skip_pos, thr, out, i)
            continue
        # cells wholly inside: [x0, x0 + cell] within qx -/+ the inner chord
        chord = math.sqrt(inner * inner - far_y * far_y) - slack
        first = max(lo, int(math.ceil((qx - chord - xmin) / cell)))
        last = min(hi, int(math.floor((qx + chord - xmin) / cell)) - 1)
        if first > last:
            _tally(xy, labels, labelled, a, b, qx, qy, skip_pos, thr, out, i)
            continue
        fa = cell_start[row + first]
        fb = cell_start[row + last + 1]
        _tally(xy, labels, labelled, a, fa, qx, qy, skip_pos, thr, out, i)
        _tally(xy, labels, labelled, fb, b, qx, qy, skip_pos, thr, out, i)
        if labelled:
            for p in range(fa, fb):
                out[i, labels[p]] += 1
        else:
            out[i, 0] += fb - fa
        if fa <= skip_pos < fb:
            out[i, labels[skip_pos] if labelled else 0] -= 1


@jit_parallel
def _count(xy, cell_start, labels, labelled, xmin, ymin, cell, nx, ny, slack, query,
           order, lo, hi, skip_pos, r, thr, out):
    """Sorted queries ``lo..hi-1``; query ``i``'s row goes to ``out[order[i]]``."""
    for b in prange((hi - lo + _BLOCK - 1) // _BLOCK):
        row = np.empty((1, out.shape[1]), np.int64)
        for i in range(lo + b * _BLOCK, min(hi, lo + (b + 1) * _BLOCK)):
            row[0] = 0
            _count_one(xy, cell_start, labels, labelled, xmin, ymin, cell, nx, ny, slack,
                       query[i, 0], query[i, 1], skip_pos[i], r, thr, row, 0)
            out[order[i]] = row[0]


def _counts(grid, labels_grid, labelled, query_xy, r, skip, n_cols) -> np.ndarray:
    query = as_points(query_xy, "query_xy")
    thr = _radius_threshold(r)
    r = float(r)
    skip_pos = _skip_positions(grid, skip, len(query))
    if not (len(query) and len(grid.perm) and n_cols):
        return np.zeros((len(query), n_cols), dtype=np.int64)
    out = np.empty((len(query), n_cols), dtype=np.int64)  # every row is written
    sorted_query, sorted_skip, order = _sorted_queries(grid, query, skip_pos)
    slack = _slack(grid, r)

    def step(lo, hi):
        _count(grid.xy, grid.cell_start, labels_grid, labelled, grid.xmin, grid.ymin,
               grid.cell, grid.nx, grid.ny, slack, sorted_query, order, lo, hi,
               sorted_skip, r, thr, out)

    run_in_slices(len(query), step)
    return out


def grid_count_within(grid, query_xy, r: float, *, skip=None) -> np.ndarray:
    """Number of grid points within distance ``r`` (``d <= r``) of each query point.

    As :func:`cytoql.kernels.spatial_index.count_within`, on a grid; identical results.

    Parameters
    ----------
    grid : GridIndex
        From :func:`build_grid`, best built with this ``r``.
    query_xy : array_like of shape (m, 2), float
        Query coordinates, finite.
    r : float
        Radius, finite and > 0.
    skip : array_like of shape (m,), int, optional
        ``skip[i]`` is an original index never counted for query ``i``; ``-1`` none.

    Returns
    -------
    ndarray of shape (m,), int64

    Raises
    ------
    TypeError, ValueError
        As :func:`cytoql.kernels.spatial_index.count_within`.

    Examples
    --------
    >>> import numpy as np
    >>> cells = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> grid_count_within(build_grid(cells, 1.0), cells[[4]], 1.0, skip=[4]).tolist()
    [4]
    """
    _check_grid(grid)
    zeros = np.zeros(len(grid.perm), dtype=np.int64)
    return _counts(grid, zeros, False, query_xy, r, skip, 1)[:, 0]


def grid_count_within_by_label(grid, labels, n_labels: int, query_xy, r: float, *,
                               skip=None) -> np.ndarray:
    """Per query point, the number of grid points of each label within distance ``r``.

    As :func:`cytoql.kernels.spatial_index.count_within_by_label`, on a grid; identical
    results.

    Parameters
    ----------
    grid : GridIndex
        From :func:`build_grid`, best built with this ``r``.
    labels : array_like of shape (n,), int
        Label code of each grid point, in the original order, in ``[0, n_labels)``.
    n_labels : int
        Number of labels (columns of the result), >= 0.
    query_xy : array_like of shape (m, 2), float
        Query coordinates, finite.
    r : float
        Radius, finite and > 0.
    skip : array_like of shape (m,), int, optional
        ``skip[i]`` is an original index never counted for query ``i``; ``-1`` none.

    Returns
    -------
    ndarray of shape (m, n_labels), int64

    Raises
    ------
    TypeError, ValueError
        As :func:`cytoql.kernels.spatial_index.count_within_by_label`.

    Examples
    --------
    >>> import numpy as np
    >>> cells = np.array([(c, r) for r in range(3) for c in range(3)], dtype=float)
    >>> rows = np.repeat(np.arange(3), 3)
    >>> grid_count_within_by_label(build_grid(cells, 1.0), rows, 3, cells[[4]], 1.0,
    ...                            skip=[4]).tolist()
    [[1, 2, 1]]
    """
    _check_grid(grid)
    labels_grid, n_labels = _tree_labels(grid, labels, n_labels)
    return _counts(grid, labels_grid, True, query_xy, r, skip, n_labels)


def _check_grid(grid) -> None:
    if not isinstance(grid, GridIndex):
        raise TypeError(f"grid must be a GridIndex from build_grid, got {type(grid).__name__}")
