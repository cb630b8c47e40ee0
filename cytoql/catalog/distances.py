"""Distances: nearest and k-th nearest distance, nearest-neighbour type, distance to the
window edge. Each is a per-cell value; summarise it with the summaries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cytoql.catalog.kinds import CELLS, INTEGER, NEAREST
from cytoql.catalog.spec import PER_CELL, Builtin, Param, cost, evaluator, register
from cytoql.plan import Op
from cytoql.types import PerCellT
from cytoql.units import LENGTH
from cytoql.work import Cost

__all__ = ["EdgeDistance", "NearestDistance", "NearestLabel"]

CATEGORY = ("distances", 20)

_SELF = "a cell is never its own nearest neighbour (when A and B overlap)"
_FOV = "cells in different FOVs are never neighbours"


@dataclass(frozen=True)
class NearestDistance(Op):
    """Distance (µm) from each cell of ``source`` to its k-th nearest cell of ``target``."""

    source: Op
    target: Op
    k: int


@evaluator(NearestDistance)
def _run_nearest_distance(op, ev):
    out = np.full(ev.n, np.nan)
    query = ev.ids(op.source)
    index = ev.index(op.target)
    if index.size == 0:
        ev.warn_empty(op, "the target set has no cells: distances are NaN")
        return out
    if op.k > index.size:
        ev.fail("E0401", f"k = {op.k} but this FOV has only {index.size} target "
                f"cell{'s' if index.size != 1 else ''}", op,
                help=f"use k <= {index.size}, or a larger target set")
    dist, _ = index.knn(query, op.k)
    kth = dist[:, op.k - 1] if len(query) else np.empty(0)
    out[query] = np.where(np.isfinite(kth), kth, np.nan)
    return out


#: Bytes per (query cell, neighbour) of a k-nearest search: the kernel's distances and
#: indices, and the indices mapped back to the FOV.
_KNN_BYTES = 40


def _knn_cost(source, target, k: int, w) -> Cost:
    found = w.size(source) * min(k, max(w.size(target), 1))
    return Cost(found, 8 * w.n + _KNN_BYTES * found)


@cost(NearestDistance)
def _nearest_distance_cost(op, w):
    return _knn_cost(op.source, op.target, op.k, w)


@dataclass(frozen=True)
class NearestLabel(Op):
    """Label code (of ``column``) of each source cell's nearest target cell; -1 if none."""

    source: Op
    target: Op
    column: str


@evaluator(NearestLabel)
def _run_nearest_label(op, ev):
    out = np.full(ev.n, -1, dtype=np.int64)
    query = ev.ids(op.source)
    index = ev.index(op.target)
    if index.size == 0:
        ev.warn_empty(op, "the target set has no cells: no nearest type")
        return out
    _, nearest = index.knn(query, 1)
    found = nearest[:, 0] >= 0 if len(query) else np.zeros(0, bool)
    codes = ev.labels(op.column)
    out[query[found]] = codes[nearest[found, 0]]
    return out


cost(NearestLabel)(lambda op, w: _knn_cost(op.source, op.target, 1, w))


@dataclass(frozen=True)
class EdgeDistance(Op):
    """Distance (µm) from each cell of ``cells`` to the nearest edge of its FOV window."""

    cells: Op


@evaluator(EdgeDistance)
def _run_edge_distance(op, ev):
    out = np.full(ev.n, np.nan)
    ids = ev.ids(op.cells)
    w = ev.window
    x, y = ev.xy[ids, 0], ev.xy[ids, 1]
    out[ids] = np.minimum(np.minimum(x - w.xmin, w.xmax - x), np.minimum(y - w.ymin, w.ymax - y))
    return out


def _distance(args, ctx):
    pair = args["pair"].op
    return (NearestDistance(pair.source, pair.target, args["k"].value),
            PerCellT("number", pair.source, LENGTH))


def _nearest_type(args, ctx):
    pair = args["pair"].op
    key = ctx.schema.type_key
    return NearestLabel(pair.source, pair.target, key), PerCellT("label", pair.source, column=key)


def _edge(args, ctx):
    cells = args["of"].op
    return EdgeDistance(cells), PerCellT("number", cells, LENGTH)


_PAIR = Param("pair", NEAREST, "`A -> nearest B`: for each cell of A, its nearest cells of B")

register(Builtin(
    name="distance", category="distances",
    params=(_PAIR, Param("k", INTEGER, "which neighbour: 1 = nearest, 2 = second nearest, …",
                         default=1, minimum=1)),
    returns="a length (µm) for each cell of A",
    doc="Distance from each cell of A to its k-th nearest cell of B (nearest-neighbour "
        "distance, NND, when k = 1).",
    conventions=(_SELF, _FOV, "Euclidean distance in µm",
                 "NaN where B has no cell in the FOV (warning W0501); error E0401 when k "
                 "exceeds the number of B cells in a FOV",
                 "a cell of both A and B with exactly k B cells in its FOV has no k-th "
                 "other neighbour: NaN"),
    examples=('median(distance(cells where type == "PCT" -> nearest cells where type == "macrophage"))',),
    combine=PER_CELL, build=_distance))

register(Builtin(
    name="nearest_type", category="distances", params=(_PAIR,),
    returns="the cell type (label) for each cell of A",
    doc="Cell type of each A cell's nearest cell of B; compare it with a type, e.g. "
        '`nearest_type(A -> nearest cells) == "PCT"`.',
    conventions=(_SELF, _FOV, "ties in distance go to the cell listed first in the data",
                 "no label (never equal to a type) where B has no cell in the FOV"),
    examples=('fraction(nearest_type(cells where type == "Podocyte" -> nearest cells) == "Podocyte")',),
    combine=PER_CELL, build=_nearest_type))

register(Builtin(
    name="distance_to_edge", category="distances",
    params=(Param("of", CELLS, "the cells measured", default="context"),),
    returns="a length (µm) for each cell",
    doc="Distance from each cell to the nearest edge of its FOV's window.",
    conventions=("the window is the FOV rectangle from metadata, else the bounding box of "
                 "its cells (recorded as an assumption)",
                 "cells on the edge have distance 0"),
    examples=('fraction(cells where distance_to_edge() < 50 um)',),
    combine=PER_CELL, build=_edge))
