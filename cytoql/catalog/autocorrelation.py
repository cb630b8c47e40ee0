"""Spatial autocorrelation: Moran's I and Geary's C of tile counts or of per-cell values,
with analytic or permutation tests, and the local statistics (local Moran, Getis–Ord Gi*)
as per-cell values.

Weights are built within one FOV: cells (or tiles) of different FOVs are never
neighbours. The global statistics are per-FOV numbers that do not pool (a pooled I is
neither a sum nor a ratio of sums of the per-FOV ones, and a permutation test over
pooled cells would mix FOVs), so they declare ``NOT_POOLED``; the local ones are per
cell and concatenate over FOVs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cytoql.catalog.kinds import CELLS, INTEGER, LENGTH_KIND, VALUES, Option
from cytoql.catalog.spec import (NOT_POOLED, PER_CELL, BuildError, Builtin, Param, aggregate,
                                 cost, evaluator, register)
from cytoql.plan import Op
from cytoql.types import PerCellT, ScalarT
from cytoql.units import DIMENSIONLESS
from cytoql.work import Cost

__all__ = ["LocalAutocorrelation", "TileAutocorrelation", "ValueAutocorrelation"]

CATEGORY = ("spatial autocorrelation", 63)

WEIGHTS = Option("knn", "distance",
                 aliases={"KNN": "knn", "nearest": "knn", "band": "distance",
                          "distance_band": "distance", "DistanceBand": "distance",
                          "radius": "distance"})
TRANSFORM = Option("row", "binary", aliases={"r": "row", "b": "binary",
                                             "row_standardised": "row",
                                             "row_standardized": "row"})
CONTIGUITY = Option("rook", "queen")
TEST = Option("randomisation", "normality", "permutation",
              aliases={"randomization": "randomisation", "rand": "randomisation",
                       "norm": "normality", "normal": "normality", "sim": "permutation",
                       "permutations": "permutation"})
REPORT = Option("statistic", "z", "p", aliases={"I": "statistic", "C": "statistic",
                                                "value": "statistic", "p_value": "p"})
LOCAL_REPORT = Option("statistic", "z", "p", aliases={"value": "statistic", "p_value": "p",
                                                      "Is": "statistic", "Gs": "statistic"})


@dataclass(frozen=True)
class TileAutocorrelation(Op):
    """Moran's I (``statistic = "moran"``) or Geary's C (``"geary"``) of the counts of
    ``cells`` in square tiles of ``size`` µm with rook or queen contiguity."""

    statistic: str
    cells: Op
    size: float
    contiguity: str
    transform: str
    test: str
    report: str
    nperm: int


@dataclass(frozen=True)
class ValueAutocorrelation(Op):
    """Moran's I or Geary's C of per-cell ``values`` over the cells of ``domain``, with kNN
    (``k``) or distance-band (``radius`` µm) weights."""

    statistic: str
    values: Op
    domain: Op
    weights: str
    k: int
    radius: float | None
    transform: str
    test: str
    report: str
    nperm: int


@dataclass(frozen=True)
class LocalAutocorrelation(Op):
    """Local Moran I_i (``statistic = "moran"``) or Getis–Ord Gi* (``"gstar"``) of each
    cell of ``domain``; ``report`` the statistic, its z-score or its p-value."""

    statistic: str
    values: Op
    domain: Op
    weights: str
    k: int
    radius: float | None
    transform: str
    report: str


# ------------------------------------------------------------------------ evaluation


def _report(op, res) -> float:
    """The reported number of an AutocorrelationResult."""
    if op.report == "statistic":
        return res.statistic
    if op.test == "permutation":
        return res.p_sim
    if op.report == "z":
        return res.z_rand if op.test == "randomisation" else res.z_norm
    return res.p_rand if op.test == "randomisation" else res.p_norm


def _global(op, ev, y, weights) -> np.ndarray:
    from cytoql.kernels import autocorrelation as ac

    fn = ac.morans_i if op.statistic == "moran" else ac.gearys_c
    nperm = op.nperm if op.test == "permutation" else 0
    res = fn(y, weights, transform=op.transform, nperm=nperm,
             rng=ev.rng(op) if nperm else None)
    if not np.isfinite(res.statistic):
        ev.warn_empty(op, f"{_NAMES[op.statistic]} is undefined here (constant values or "
                      "no pair of neighbours): NaN")
    return np.array([_report(op, res)])


def _tile_partial(op: TileAutocorrelation, ev, group):
    from cytoql.kernels import autocorrelation as ac
    from cytoql.kernels import quadrats

    ids = ev.ids(op.cells)
    if not len(ids):
        ev.warn_empty(op, "no cells to count in the tiles: the value is NaN")
    counts, _, _ = quadrats.quadrat_counts(ev.xy[ids], ev.window.as_tuple(), op.size)
    if counts.size < 2:
        w = ev.window
        ev.warn_empty(op, f"tiles of {op.size:g} µm cover the window ({w.width:g} × "
                      f"{w.height:g} µm) with one tile: no neighbours, NaN")
        return np.array([np.nan])
    return _global(op, ev, counts.ravel().astype(float),
                   ac.grid_weights(counts.shape, op.contiguity))


def _cells_and_values(op, ev):
    """FOV-local ids of the cells with a value, and their values (NaN ones skipped)."""
    ids = ev.ids(op.domain)
    y = ev.numbers(op.values)[ids]
    bad = np.isnan(y)
    if bad.any():
        ev.warn(op, "W0502", f"{int(bad.sum())} of {len(y)} cells have no value (NaN) and "
                "are left out")
    return ids[~bad], y[~bad]


def _weights(op, ev, ids):
    """Spatial weights over the cells ``ids``, or None (after a warning) when too few."""
    from cytoql.kernels import autocorrelation as ac

    if op.weights == "knn":
        if len(ids) <= op.k:
            ev.warn_empty(op, f"{len(ids)} cells with a value, k = {op.k} needs at least "
                          f"{op.k + 1}: NaN")
            return None
        return ac.knn_weights(ev.xy[ids], op.k)
    return ac.distance_band_weights(ev.xy[ids], op.radius)


def _value_partial(op: ValueAutocorrelation, ev, group):
    ids, y = _cells_and_values(op, ev)
    weights = _weights(op, ev, ids)
    if weights is None:
        return np.array([np.nan])
    return _global(op, ev, y, weights)


def _finish(op, partial) -> float:
    return float(partial[0])


aggregate(TileAutocorrelation, partial=_tile_partial, finish=_finish, combine=NOT_POOLED)
aggregate(ValueAutocorrelation, partial=_value_partial, finish=_finish, combine=NOT_POOLED)


def _weights_cost(op, w, permutations: int):
    """The weights' edges (kNN or distance band), visited once per permutation."""
    edges = op.k * w.size(op.domain) if op.weights == "knn" else w.pairs(
        op.domain, op.domain, op.radius)
    return Cost(permutations * edges, 8 * w.n + 24 * edges)


@cost(ValueAutocorrelation)
def _value_cost(op: ValueAutocorrelation, w):
    return _weights_cost(op, w, 1 + (op.nperm if op.test == "permutation" else 0))


@cost(LocalAutocorrelation)
def _local_cost(op: LocalAutocorrelation, w):
    return _weights_cost(op, w, 1)


@evaluator(LocalAutocorrelation)
def _run_local(op: LocalAutocorrelation, ev):
    from cytoql.kernels import autocorrelation as ac

    out = np.full(ev.n, np.nan)
    ids, y = _cells_and_values(op, ev)
    weights = _weights(op, ev, ids)
    if weights is None:
        return out
    fn = ac.local_morans_i if op.statistic == "moran" else ac.getis_ord_g_star
    res = fn(y, weights, transform=op.transform)
    if op.report == "statistic":
        out[ids] = res.statistic
    elif op.report == "z":
        out[ids] = res.z
    else:
        from scipy import stats

        out[ids] = 2.0 * stats.norm.sf(np.abs(res.z))
    return out


# --------------------------------------------------------------------------- building

_NAMES = {"moran": "Moran's I", "geary": "Geary's C", "gstar": "Gi*"}


def _check_test(args):
    test, report, nperm = args["test"], args["report"], args["nperm"]
    if test.node is not None and report.value == "statistic":
        raise BuildError("E0305", "`test` chooses the null of z and p: the statistic itself "
                         "does not depend on it", "test", "no z or p reported",
                         help="add `report = p` (or `report = z`), or drop `test`")
    if test.value == "permutation" and report.value == "z":
        raise BuildError("E0305", "the permutation test gives a p-value, not a z-score",
                         "report", "z with permutations",
                         help="use `report = p` with `test = permutation`, or `test = "
                              "randomisation` for an analytic z")
    if nperm.node is not None and test.value != "permutation":
        raise BuildError("E0305", "`nperm` only applies to `test = permutation`", "nperm",
                         "no permutations in this test",
                         help="add `test = permutation`, or drop `nperm`")


def _check_weights(args):
    """(weights, k, radius) after refusing parameters of the other kind of weights."""
    weights, k, radius = args["weights"].value, args["k"], args["radius"]
    if weights == "distance":
        if radius.node is None:
            raise BuildError("E0302", "distance-band weights need a `radius`", "weights",
                             "no radius", help="add e.g. `radius = 30 um`")
        if k.node is not None:
            raise BuildError("E0305", "`k` applies to kNN weights, not a distance band", "k",
                             "not used by `weights = distance`",
                             help="drop `k`, or use `weights = knn`")
        return weights, k.value, radius.value
    if radius.node is not None:
        raise BuildError("E0305", "`radius` applies to distance-band weights, not kNN",
                         "radius", "not used by `weights = knn`",
                         help="add `weights = distance`, or drop `radius`")
    return weights, k.value, None


def _check_over(args):
    values, over = args["values"], args["over"]
    if over.node is not None and over.op != values.type.context:
        raise BuildError("E0306", "the values are for other cells than `over`", "values",
                         "per-cell values of another cell set",
                         help="drop `over`, or write the values without an explicit source so "
                              "that they are for the cells of `over`")
    return values.type.context


def _build_tiles(statistic):
    def build(args, ctx):
        _check_test(args)
        return (TileAutocorrelation(statistic, args["cells"].op, args["size"].value,
                                    args["contiguity"].value, args["transform"].value,
                                    args["test"].value, args["report"].value,
                                    args["nperm"].value), ScalarT(DIMENSIONLESS))
    return build


def _build_values(statistic):
    def build(args, ctx):
        _check_test(args)
        weights, k, radius = _check_weights(args)
        domain = _check_over(args)
        return (ValueAutocorrelation(statistic, args["values"].op, domain, weights, k, radius,
                                     args["transform"].value, args["test"].value,
                                     args["report"].value, args["nperm"].value),
                ScalarT(DIMENSIONLESS))
    return build


def _build_local(statistic):
    def build(args, ctx):
        weights, k, radius = _check_weights(args)
        domain = _check_over(args)
        return (LocalAutocorrelation(statistic, args["values"].op, domain, weights, k, radius,
                                     args["transform"].value, args["report"].value),
                PerCellT("number", domain, DIMENSIONLESS))
    return build


_TRANSFORM = Param("transform", TRANSFORM, "`row` (each cell's weights divided by their sum, "
                   "esda's default) or `binary` (weights 1)", default="row")
_TEST = Param("test", TEST, "null of z and p: `randomisation` (values permuted, analytic "
              "moments), `normality` (values normal) or `permutation` (a Monte-Carlo "
              "p-value over `nperm` permutations)", default="randomisation")
_REPORT = Param("report", REPORT, "the number returned: the `statistic` (I or C), its `z`-"
                "score or its two-sided `p`-value under `test`", default="statistic")
_NPERM = Param("nperm", INTEGER, "number of permutations of `test = permutation`",
               default=999, minimum=1, maximum=99_999,
               used_when=("test", ("permutation",)))
_VALUES = Param("values", VALUES, "per-cell numbers, for the cells in context")
_OVER = Param("over", CELLS, "the cells whose values are used: the context of values written "
              "without an explicit cell set, e.g. `morans_i(expr(\"B2M\"), over = A)`",
              default="context")
_WEIGHT_PARAMS = (
    Param("weights", WEIGHTS, "neighbours: `knn` (the k nearest cells) or `distance` (all "
          "cells within `radius`)", default="knn"),
    Param("k", INTEGER, "neighbours per cell of `weights = knn`", default=6, minimum=1,
          maximum=1000),
    Param("radius", LENGTH_KIND, "band radius of `weights = distance` (d <= radius)",
          default=None, minimum=0.0, strict=True),
    _TRANSFORM,
)

_FOV = "cells in different FOVs are never neighbours; each FOV is its own pattern"
_NOT_POOLED = ("not pooled over FOVs: the pooled value is NaN (a global statistic of "
               "several FOVs is not a sum or ratio of sums of per-FOV parts; compare FOVs)")
_TESTS = ("z and p as esda: analytic moments of Cliff & Ord under randomisation (default; "
          "no assumption on the values' distribution) or normality; p is two-sided",
          "test = permutation: esda's folded pseudo p-value (1 + min(L, nperm − L)) / "
          "(1 + nperm), L = #{permuted ≥ observed}, one-sided in the observed direction; "
          "permutations seeded per (seed, sample, FOV, call)",
          "NaN when undefined: constant values or no pair of neighbours (warning W0501)")
_WEIGHT_CONVENTIONS = (
    "kNN weights: the k nearest other cells (ties to the smaller index), not symmetric; "
    "distance band: all other cells at d <= radius, symmetric; default k = 6 (squidpy's "
    "n_neighs)",
    "row transform (default, as esda): each row divided by its sum; a cell without "
    "neighbours keeps a zero row",
    "cells whose value is NaN are left out before the weights are built (warning W0502)",
)
_TILE_CONVENTIONS = (
    "the counts of the cells in square tiles of side `size` anchored at the window's "
    "lower-left corner; partial edge tiles are kept and count like whole ones",
    "the window is the FOV rectangle from metadata, else the bounding box of its cells",
    "tiles are neighbours by rook (sharing an edge) or queen (an edge or a corner) "
    "contiguity; weights 1 before the transform",
)


def _global_entries(name, statistic, doc, aliases, tile_example, value_example, extra=()):
    register(Builtin(
        name=name, category=CATEGORY[0],
        params=(Param("cells", CELLS, "the cells counted in the tiles"),
                Param("size", LENGTH_KIND, "side of the square tiles", minimum=0.0,
                      strict=True),
                Param("contiguity", CONTIGUITY, "tile neighbours: `rook` (edges) or `queen` "
                      "(edges and corners)", default="rook"),
                _TRANSFORM, _TEST, _REPORT, _NPERM),
        returns="a dimensionless number per FOV (the statistic, z or p)",
        doc=doc + " Of the cell counts in square tiles.",
        conventions=(_FOV,) + _TILE_CONVENTIONS + extra + _TESTS + (_NOT_POOLED,),
        examples=(tile_example,), combine=NOT_POOLED, build=_build_tiles(statistic),
        aliases=aliases))
    register(Builtin(
        name=name, category=CATEGORY[0],
        params=(_VALUES,) + _WEIGHT_PARAMS + (_TEST, _REPORT, _NPERM, _OVER),
        returns="a dimensionless number per FOV (the statistic, z or p)",
        doc=doc + " Of per-cell values, with kNN or distance-band weights.",
        conventions=(_FOV,) + _WEIGHT_CONVENTIONS + extra + _TESTS + (_NOT_POOLED,),
        examples=(value_example,), combine=NOT_POOLED, build=_build_values(statistic),
        aliases=aliases))


_global_entries(
    "morans_i", "moran",
    "Moran's I: the correlation of values with their neighbours' (E[I] = −1/(n−1) under "
    "no autocorrelation; > 0 clustered, < 0 dispersed).",
    ("moran", "Moran", "morans", "moran_i"),
    'morans_i(cells where type == "PCT", size = 50 um, contiguity = rook)',
    'morans_i(expr("B2M"), weights = knn, k = 6)',
    extra=("I = n / S0 · Σ_ij w_ij z_i z_j / Σ_i z_i², z = y − mean(y), S0 = Σ_ij w_ij",))
_global_entries(
    "gearys_c", "geary",
    "Geary's C: squared differences between neighbours relative to the variance "
    "(E[C] = 1; < 1 clustered, > 1 dispersed).",
    ("geary", "Geary", "gearys", "geary_c"),
    'gearys_c(cells where type == "macrophage", size = 100 um, contiguity = queen)',
    'gearys_c(expr("B2M"), weights = distance, radius = 30 um, transform = binary)',
    extra=("C = (n − 1) Σ_ij w_ij (y_i − y_j)² / (2 S0 Σ_i z_i²)",))

_LOCAL_REPORT = Param("report", LOCAL_REPORT, "the number per cell: the `statistic`, its "
                      "`z`-score or its two-sided normal `p`-value", default="statistic")
_PER_CELL = ("one value per cell in context; NaN for cells outside it or without a value",
             "z-scores use analytic moments; p = 2 · (1 − Φ(|z|)) (esda's p_norm is "
             "one-sided: half of it); no permutation (conditional randomisation) test",
             "NaN for fewer than k + 1 cells with a value (kNN), constant values (local "
             "Moran) or a zero sum (Gi*)")

register(Builtin(
    name="local_moran", category=CATEGORY[0],
    params=(_VALUES,) + _WEIGHT_PARAMS + (_LOCAL_REPORT, _OVER),
    returns="a dimensionless number for each cell (the statistic, z or p)",
    doc="Local Moran's I_i (Anselin's LISA): each cell's contribution to Moran's I, "
        "> 0 where a cell is like its neighbours (a hot or cold spot), < 0 where it is an "
        "outlier among them.",
    conventions=(_FOV,) + _WEIGHT_CONVENTIONS + (
        "I_i = (n − 1) z_i Σ_j w_ij z_j / Σ_k z_k², z = y − mean(y) over the cells of the "
        "FOV in context (esda's Moran_Local)",
        "z under total randomisation: E[I_i] = −w_i/(n − 1), Var as Sokal et al. 1998 "
        "(esda's EI, VI)") + _PER_CELL,
    examples=('mean(local_moran(expr("B2M"), k = 6))',),
    combine=PER_CELL, build=_build_local("moran"),
    aliases=("lisa", "LISA", "Moran_Local", "local_morans_i")))

register(Builtin(
    name="gi_star", category=CATEGORY[0],
    params=(_VALUES,) + _WEIGHT_PARAMS + (_LOCAL_REPORT, _OVER),
    returns="a dimensionless number for each cell (the statistic, z or p)",
    doc="Getis–Ord Gi*: the share of the total value held by each cell's neighbourhood, "
        "the cell itself included; a large z marks a hot spot.",
    conventions=(_FOV,) + _WEIGHT_CONVENTIONS + (
        "each cell is its own neighbour with weight 1 (the star), before the transform",
        "G*_i = Σ_j w_ij y_j / Σ_j y_j; E = W_i / n, Var = W_i (n − W_i) / ((n − 1) n²) · "
        "s² / ȳ² with W_i = Σ_j w_ij and s² the population variance (esda's "
        "G_Local(star=True))",
        "meant for values >= 0 (counts, expression)") + _PER_CELL,
    examples=('count(gi_star(expr("B2M"), report = z) > 1.96)',),
    combine=PER_CELL, build=_build_local("gstar"),
    aliases=("getis_ord", "G_Local", "g_star", "local_g", "hotspot")))
