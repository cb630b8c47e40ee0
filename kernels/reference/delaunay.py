"""Reference for the `delaunay` kernel module: Qhull's triangles (scipy).

Points are centred on their bounding box as the kernel does; the first index at each
position stands for its group, as in the kernel. Qhull's precision decides near-degenerate
input, so the two agree on points in general position; on co-circular points each may
pick another (equally Delaunay) triangulation.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import Delaunay, QhullError

__all__ = ["triangles"]


def triangles(xy) -> tuple[np.ndarray, np.ndarray]:
    """Counter-clockwise Qhull triangles over representatives, and ``rep`` per point."""
    xy = np.asarray(xy, dtype=np.float64)
    centred = xy - 0.5 * (xy.min(axis=0) + xy.max(axis=0)) if len(xy) else xy
    first: dict[tuple[float, float], int] = {}
    rep = np.array([first.setdefault((float(x), float(y)), i)
                    for i, (x, y) in enumerate(centred)], dtype=np.int64)
    ids = np.flatnonzero(rep == np.arange(len(xy)))
    empty = np.empty((0, 3), dtype=np.int64)
    if len(ids) < 3:
        return empty, rep
    try:
        simplices = ids[Delaunay(centred[ids], qhull_options="Qbb Qc Qz Q12").simplices]
    except QhullError:
        return empty, rep
    out = []
    for i, j, k in simplices.tolist():
        (ax, ay), (bx, by), (cx, cy) = centred[i], centred[j], centred[k]
        ccw = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax) > 0
        out.append((i, j, k) if ccw else (i, k, j))
    return np.array(out, dtype=np.int64).reshape(-1, 3), rep
