"""Local neighbourhoods: counts of B within r of each cell, local fractions, diversity
(Shannon, Simpson), and odds ratios of two per-cell conditions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cytoql.catalog.kinds import BOOL, CELLS, WITHIN
from cytoql.catalog.spec import (ADDITIVE, PER_CELL, BuildError, Builtin, Param, aggregate,
                                 cost, evaluator, register)
from cytoql.catalog.summaries import Summary
from cytoql.plan import Op
from cytoql.types import PerCellT, ScalarT, TableT
from cytoql.units import COUNT, DIMENSIONLESS
from cytoql.work import Cost

__all__ = ["Composition", "CountWithin", "Diversity", "LocalFraction"]

CATEGORY = ("neighbourhoods", 30)

_SELF = "a cell is never its own neighbour; neighbours are at distance <= r"
_FOV = "cells in different FOVs are never neighbours"


@dataclass(frozen=True)
class CountWithin(Op):
    """Number of ``target`` cells within ``radius`` µm of each cell of ``around``."""

    target: Op
    radius: float
    around: Op


@evaluator(CountWithin)
def _run_count_within(op, ev):
    out = np.full(ev.n, np.nan)
    query = ev.ids(op.around)
    out[query] = ev.index(op.target).count_within(query, op.radius)
    return out


@cost(CountWithin)
def _count_within_cost(op, w):
    return Cost(w.pairs(op.around, op.target, op.radius), 8 * w.n)


@dataclass(frozen=True)
class LocalFraction(Op):
    """count(target within r) / count(among within r) around each cell of ``around``."""

    target: Op
    among: Op
    radius: float
    around: Op


@evaluator(LocalFraction)
def _run_local_fraction(op, ev):
    num = ev.value(CountWithin(op.target, op.radius, op.around))
    den = ev.value(CountWithin(op.among, op.radius, op.around))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


@cost(LocalFraction)
def _local_fraction_cost(op, w):
    return (_count_within_cost(CountWithin(op.target, op.radius, op.around), w)
            + _count_within_cost(CountWithin(op.among, op.radius, op.around), w))


def _label_counts_cost(op, w, copies: int) -> Cost:
    """Pairs within r, and ``copies`` (cells × labels) float arrays."""
    cells = w.size(op.around)
    return Cost(w.pairs(op.around, op.target, op.radius),
                8 * w.n + copies * 8 * cells * (w.labels(op.column) + 1))


@dataclass(frozen=True)
class Diversity(Op):
    """Shannon (natural log) or Gini–Simpson diversity of the labels of ``column`` among
    the ``target`` cells within ``radius`` of each cell of ``around``."""

    kind: str
    target: Op
    radius: float
    around: Op
    column: str


@evaluator(Diversity)
def _run_diversity(op, ev):
    out = np.full(ev.n, np.nan)
    query = ev.ids(op.around)
    index = ev.index(op.target)
    codes = ev.labels(op.column)
    counts = index.count_by_label(query, codes, op.radius)
    total = counts.sum(axis=1)
    has = total > 0
    share = counts[has] / total[has, None]
    if op.kind == "shannon":
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(share > 0, share * np.log(share), 0.0)
        value = -terms.sum(axis=1)
    else:
        value = 1.0 - (share ** 2).sum(axis=1)
    out[query[has]] = value
    return out


@cost(Diversity)
def _diversity_cost(op, w):
    return _label_counts_cost(op, w, 3)


@dataclass(frozen=True)
class Composition(Op):
    """Per label of ``column``: the number of (A cell, B neighbour) pairs within ``radius``
    whose neighbour has that label, summed over the cells of ``around`` (one FOV)."""

    target: Op
    radius: float
    around: Op
    column: str


def _composition_partial(op, ev, group):
    query = ev.ids(op.around)
    codes = ev.labels(op.column)
    counts = ev.index(op.target).count_by_label(query, codes, op.radius)
    out = np.zeros(len(ev.categories(op.column)))
    out[:counts.shape[1]] = counts.sum(axis=0)
    return out


def _shares(counts):
    total = counts.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / total if total > 0 else np.full(len(counts), np.nan)


aggregate(Composition, partial=_composition_partial, finish=lambda op, counts: _shares(counts),
          combine=ADDITIVE)
cost(Composition)(lambda op, w: _label_counts_cost(op, w, 1))


def _within_result(nb, dim=DIMENSIONLESS):
    return PerCellT("number", nb.around, dim)


def _count(args, ctx):
    nb = args["neighbours"].op
    return CountWithin(nb.target, nb.radius, nb.around), _within_result(nb, COUNT)


def _local_fraction(args, ctx):
    nb = args["neighbours"].op
    return (LocalFraction(nb.target, args["among"].op, nb.radius, nb.around),
            _within_result(nb))


def _diversity(kind):
    def build(args, ctx):
        nb = args["neighbours"].op
        return (Diversity(kind, nb.target, nb.radius, nb.around, ctx.schema.type_key),
                _within_result(nb))
    return build


def _composition(args, ctx):
    nb = args["neighbours"].op
    key = ctx.schema.type_key
    return (Composition(nb.target, nb.radius, nb.around, key),
            TableT(key, what="share of the neighbours"))


def _odds_ratio(args, ctx):
    a, b = args["exposure"], args["outcome"]
    if a.type.context != b.type.context:
        raise BuildError("E0306", "the two conditions are about different cells", "outcome",
                         "per-cell values of another cell set",
                         help="both conditions must be for the same cells (the cells in "
                              "context)")
    return Summary("odds_ratio", (a.op, b.op), a.type.context), ScalarT(DIMENSIONLESS)


_NB = Param("neighbours", WITHIN, "`B within r [of A]`: the B cells within r of each A cell "
            "(A defaults to the cells in context)")
_LABELS = ("cells without a label are left out of the shares",
           "NaN for a cell with no labelled neighbour")

register(Builtin(
    name="count", category="neighbourhoods", params=(_NB,),
    returns="a count for each cell of A",
    doc="Number of B cells within r of each cell of A.",
    conventions=(_SELF, _FOV),
    examples=('mean(count(cells where type == "macrophage" within 30 um of cells where type == "PCT"))',),
    combine=PER_CELL, build=_count))

register(Builtin(
    name="local_fraction", category="neighbourhoods",
    params=(_NB, Param("among", CELLS, "the cells the fraction is out of", default="cells")),
    returns="a dimensionless number in [0, 1] for each cell of A",
    doc="Local ratio: count(B within r) / count(among within r) around each cell of A — "
        "the share of B among its neighbours.",
    conventions=(_SELF, _FOV, "NaN for a cell with no neighbour among `among`"),
    examples=('mean(local_fraction(cells where type == "PCT" within 50 um of cells where type == "macrophage"))',),
    combine=PER_CELL, build=_local_fraction))

register(Builtin(
    name="shannon", category="neighbourhoods", params=(_NB,),
    returns="a dimensionless number >= 0 for each cell of A",
    doc="Shannon diversity −Σ p ln p of the cell types among the B cells within r of each "
        "cell of A (natural log).",
    conventions=(_SELF, _FOV, "natural logarithm; 0 ln 0 = 0") + _LABELS,
    examples=('mean(shannon(cells within 50 um of cells where type == "Podocyte"))',),
    combine=PER_CELL, build=_diversity("shannon")))

register(Builtin(
    name="simpson", category="neighbourhoods", params=(_NB,),
    returns="a dimensionless number in [0, 1) for each cell of A",
    doc="Gini–Simpson diversity 1 − Σ p² of the cell types among the B cells within r of "
        "each cell of A: the probability that two neighbours drawn with replacement differ "
        "in type.",
    conventions=(_SELF, _FOV, "1 − Σ p² (not Simpson's dominance Σ p²)") + _LABELS,
    examples=('mean(simpson(cells within 40 um of cells where type == "macrophage"))',),
    combine=PER_CELL, build=_diversity("simpson")))

register(Builtin(
    name="composition", category="neighbourhoods", params=(_NB,),
    returns="a table: for each FOV (and pooled), the share of each cell type among the "
            "neighbours (dimensionless, rows sum to 1)",
    doc="Cell-type composition of the neighbourhoods within r of the cells of A: the "
        "share of each type among all (A cell, B neighbour) pairs.",
    conventions=(_SELF, _FOV, "pair-weighted: a cell with more neighbours weighs more "
                 "(for equal weights per cell, average `local_fraction` per type)",
                 "cells without a label are left out of the shares",
                 "NaN shares where the A cells have no neighbour at all",
                 "pooled over FOVs by summing the pair counts per type"),
    examples=('composition(cells within 30 um of cells where type == "macrophage")',),
    combine=ADDITIVE, build=_composition))

register(Builtin(
    name="odds_ratio", category="neighbourhoods",
    params=(Param("exposure", BOOL, "first condition, per cell in context"),
            Param("outcome", BOOL, "second condition, for the same cells"),
            Param("over", CELLS, "the cells of the 2×2 table", default="context")),
    returns="a dimensionless number per FOV",
    doc="Odds ratio of the 2×2 table of two per-cell conditions over the cells in context: "
        "(a·d) / (b·c) with a = both, b = exposure only, c = outcome only, d = neither.",
    conventions=("no continuity correction: inf when b·c = 0 < a·d, NaN when both are 0",
                 "pooled over FOVs by summing the 2×2 tables"),
    examples=('odds_ratio(type == "PCT", count(cells where type == "macrophage" within 30 um) >= 1)',),
    combine=ADDITIVE, build=_odds_ratio))
