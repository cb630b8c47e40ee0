"""Quadrat counts and their variance-to-mean ratio: CytoQL against numpy.

30 µm square tiles anchored at the window's lower-left corner (the last row and
column partial, counted like whole ones), then the VMR with the sample variance.
numpy's ``histogram2d`` gets the same edges; its tiles are half-open like CytoQL's and
its last bin is closed, which matches CytoQL's rule for points on the window's max edge.
"""

from __future__ import annotations

import numpy as np
from harness import Case

from cytoql.kernels import quadrats

SIZE = 30.0


def _setup(p):
    _, x_edges, y_edges = quadrats.quadrat_counts(p.xy, p.window, SIZE)
    return {"xy": p.xy, "window": p.window, "x_edges": x_edges, "y_edges": y_edges}


def _ours(d):
    counts, _, _ = quadrats.quadrat_counts(d["xy"], d["window"], SIZE)
    return counts, quadrats.vmr(counts)


def _numpy(d):
    counts, _, _ = np.histogram2d(d["xy"][:, 1], d["xy"][:, 0], bins=[d["y_edges"], d["x_edges"]])
    return counts, counts.var(ddof=1) / counts.mean()


CASES = [
    Case(f"quadrat counts ({SIZE:g} µm tiles) + VMR", _setup, _ours,
         {"numpy histogram2d": _numpy}),
]
