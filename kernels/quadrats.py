"""Quadrat counts on a rectangular grid and the dispersion indices built on them."""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit
from ._validate import as_points, as_window

__all__ = ["max_tile_count", "morisita_index", "quadrat_counts", "vmr"]

# Refuse grids larger than this many bins: a size typed in the wrong unit (um for mm)
# would otherwise try to allocate gigabytes.
MAX_BINS = 100_000_000


@jit
def _bin_index(v, edges):
    """Bin k with edges[k] <= v < edges[k+1]; the last bin also takes v == edges[-1]."""
    nb = edges.shape[0] - 1
    k = np.searchsorted(edges, v, side="right") - 1
    return min(max(k, 0), nb - 1)


@jit
def _count(xy, x_edges, y_edges, counts):
    for i in range(xy.shape[0]):
        counts[_bin_index(xy[i, 1], y_edges), _bin_index(xy[i, 0], x_edges)] += 1


def _edges(lo, hi, step, nbins):
    edges = lo + step * np.arange(nbins + 1, dtype=np.float64)
    edges[-1] = hi
    return edges


def quadrat_counts(xy, window, size=None, *, nx=None, ny=None):
    """Count points in the tiles of a grid laid over a rectangular window.

    Parameters
    ----------
    xy : ndarray of shape (n, 2), float64
        Point coordinates, all inside ``window`` (edges included).
    window : tuple of 4 floats
        ``(xmin, ymin, xmax, ymax)``, same unit as ``xy``.
    size : float, optional
        Side of the square tiles, > 0, in the unit of ``xy``.
    nx, ny : int, optional
        Numbers of equal tiles across x and y; give both instead of ``size``.

    Returns
    -------
    counts : ndarray of shape (n_y, n_x), int64
        ``counts[j, i]`` = points in the tile ``[x_edges[i], x_edges[i+1]) x
        [y_edges[j], y_edges[j+1])``.
    x_edges : ndarray of shape (n_x + 1,), float64
    y_edges : ndarray of shape (n_y + 1,), float64

    Raises
    ------
    ValueError
        Neither or both of ``size`` and ``(nx, ny)``; a non-positive size or tile
        number; points outside the window; more than ``MAX_BINS`` tiles.

    Notes
    -----
    The grid is anchored at the window's lower-left corner: with ``size`` the tiles
    have edges ``xmin + k * size`` and the last row and column are partial tiles cut
    by the window, which are **kept** and counted like whole ones (plain counts, not
    area-weighted: a statistic over them treats every tile alike, so pick a size that
    divides the window when that matters). Tiles are half-open ``[a, b)``: a point on
    an internal edge goes to the upper tile; a point on the window's max edge goes to
    the last tile.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[0.0, 0.0], [1.0, 0.5], [2.5, 2.0], [2.2, 0.9]])
    >>> counts, x_edges, y_edges = quadrat_counts(xy, (0, 0, 2.5, 2), size=1.0)
    >>> counts.tolist()  # 3 columns, the last one partial: [2, 2.5)
    [[1, 1, 1], [0, 0, 1]]
    >>> x_edges.tolist()
    [0.0, 1.0, 2.0, 2.5]
    """
    xy = as_points(xy)
    xmin, ymin, xmax, ymax = window = as_window(window)
    if (size is None) == (nx is None and ny is None):
        raise ValueError("give either size or both nx and ny")
    width, height = xmax - xmin, ymax - ymin
    if size is not None:
        size = float(size)
        if not (size > 0 and math.isfinite(size)):
            raise ValueError(f"size must be a finite number > 0, got {size!r}")
        # a tile is partial only if the window extends beyond the full ones by more
        # than rounding: 0.3 / 0.1 = 2.9999999999999996 is 3 tiles, not 4
        n_x = max(1, math.ceil(width / size - 1e-9))
        n_y = max(1, math.ceil(height / size - 1e-9))
        step_x = step_y = size
    else:
        if nx is None or ny is None:
            raise ValueError("give both nx and ny")
        for name, v in (("nx", nx), ("ny", ny)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        n_x, n_y = int(nx), int(ny)
        step_x, step_y = width / n_x, height / n_y
    if n_x * n_y > MAX_BINS:
        raise ValueError(f"{n_x} x {n_y} tiles exceed the limit of {MAX_BINS}; "
                         "is size in the unit of xy?")
    outside = ((xy[:, 0] < xmin) | (xy[:, 0] > xmax)
               | (xy[:, 1] < ymin) | (xy[:, 1] > ymax))
    if outside.any():
        rows = np.flatnonzero(outside)
        raise ValueError(f"xy has {rows.size} point(s) outside window {window}, first "
                         f"at index {rows[:5].tolist()}")
    x_edges = _edges(xmin, xmax, step_x, n_x)
    y_edges = _edges(ymin, ymax, step_y, n_y)
    counts = np.zeros((n_y, n_x), dtype=np.int64)
    _count(xy, x_edges, y_edges, counts)
    return counts, x_edges, y_edges


def _as_counts(counts):
    arr = np.asarray(counts)
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"counts must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False).ravel()
    if arr.size and arr.min() < 0:
        raise ValueError(f"counts must be >= 0, got {arr.min()}")
    return arr


def vmr(counts):
    """Variance-to-mean ratio (index of dispersion) of quadrat counts.

    Parameters
    ----------
    counts : array_like of int, any shape
        Tile counts, e.g. from :func:`quadrat_counts`; flattened.

    Returns
    -------
    float
        ``s^2 / mean`` with the sample variance ``s^2`` (ddof = 1): about 1 under
        complete spatial randomness, > 1 clustered, < 1 regular. NaN with fewer than
        two tiles or no points.
    """
    c = _as_counts(counts)
    if c.size < 2 or c.sum() == 0:
        return float("nan")
    return float(c.var(ddof=1) / c.mean())


def max_tile_count(counts):
    """Largest number of points in one tile.

    Parameters
    ----------
    counts : array_like of int, any shape
        Tile counts.

    Returns
    -------
    int
        0 when there are no tiles.
    """
    c = _as_counts(counts)
    return int(c.max()) if c.size else 0


def morisita_index(counts):
    """Morisita's index of dispersion of quadrat counts.

    Parameters
    ----------
    counts : array_like of int, any shape
        Tile counts ``n_i`` over ``Q`` tiles, ``N = sum n_i``.

    Returns
    -------
    float
        ``I_M = Q * sum n_i (n_i - 1) / (N (N - 1))``: about 1 under complete spatial
        randomness, > 1 clustered, < 1 regular; NaN when ``N < 2``.

    Notes
    -----
    Morisita (1959), *Memoirs of the Faculty of Science, Kyushu University, Series E*
    2: 215-235, eq. 1.
    """
    c = _as_counts(counts)
    total = int(c.sum())
    if total < 2:
        return float("nan")
    return float(c.size * np.sum(c * (c - 1)) / (total * (total - 1)))
