"""Summaries of per-cell values: mean, median, quantile, std, CV, skewness, min, max,
sum, count and fraction — and the reducers every summary (also counts, fractions and
densities of cell sets) is computed with.

A reducer turns the values of one FOV (and group) into a *partial*, partials of several
FOVs merge (summed when additive, concatenated when gathered), and ``finish`` gives the
value. So a pooled answer is exact: a mean pools as Σx / n, a median over the gathered
values, never as a mean of per-FOV medians.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cytoql.catalog.kinds import BOOL, CELLS, PROBABILITY, VALUES
from cytoql.catalog.spec import (ADDITIVE, GATHER, RATIO_OF_SUMS, BuildError, Builtin, Combine,
                                 Param, aggregate, register)
from cytoql.plan import Op
from cytoql.types import ScalarT
from cytoql.units import COUNT, DIMENSIONLESS

__all__ = ["REDUCERS", "Reducer", "Summary"]

CATEGORY = ("summaries", 50)


@dataclass(frozen=True)
class Reducer:
    """``partial(values, area) -> ndarray``; ``finish(merged partial) -> float``.

    ``least`` is the number of values the summary needs to be defined (NaN below);
    ``zero`` marks the sums (count, sum, density), which are 0 over no cells.
    """

    name: str
    combine: Combine
    partial: Callable
    finish: Callable
    least: int = 1
    zero: bool = False


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def _gathered(fn, minimum: int = 1):
    def finish(values: np.ndarray) -> float:
        return float(fn(values)) if len(values) >= minimum else float("nan")
    return finish


def _std(values):
    return np.std(values, ddof=1)


def _skewness(values):
    centred = values - values.mean()
    m2 = np.mean(centred ** 2)
    return np.mean(centred ** 3) / m2 ** 1.5 if m2 > 0 else np.nan


def _cv(values):
    mean = values.mean()
    return _std(values) / mean if mean != 0 else np.nan


def _odds(table) -> float:
    a, b, c, d = table
    if b * c == 0:
        return float("inf") if a * d > 0 else float("nan")
    return float(a * d / (b * c))


def _table(values, area):
    exposed, outcome = values[:, 0].astype(bool), values[:, 1].astype(bool)
    return np.array([np.sum(exposed & outcome), np.sum(exposed & ~outcome),
                     np.sum(~exposed & outcome), np.sum(~exposed & ~outcome)], dtype=float)


def _keep(values, area):
    return np.asarray(values, dtype=float)


REDUCERS: dict[str, Reducer] = {r.name: r for r in [
    Reducer("count", ADDITIVE, lambda v, a: np.array([np.sum(v)], float), lambda s: float(s[0]),
            zero=True),
    Reducer("sum", ADDITIVE, lambda v, a: np.array([np.sum(v)], float), lambda s: float(s[0]),
            zero=True),
    Reducer("mean", RATIO_OF_SUMS, lambda v, a: np.array([np.sum(v), len(v)], float),
            lambda s: _ratio(s[0], s[1])),
    Reducer("fraction", RATIO_OF_SUMS, lambda v, a: np.array([np.sum(v), len(v)], float),
            lambda s: _ratio(s[0], s[1])),
    Reducer("density", RATIO_OF_SUMS, lambda v, a: np.array([np.sum(v), a], float),
            lambda s: _ratio(s[0], s[1]), zero=True),
    Reducer("odds_ratio", ADDITIVE, _table, _odds),
    Reducer("median", GATHER, _keep, _gathered(np.median)),
    Reducer("std", GATHER, _keep, _gathered(_std, 2), least=2),
    Reducer("cv", GATHER, _keep, _gathered(_cv, 2), least=2),
    Reducer("skewness", GATHER, _keep, _gathered(_skewness, 2), least=2),
    Reducer("min", GATHER, _keep, _gathered(np.min)),
    Reducer("max", GATHER, _keep, _gathered(np.max)),
]}


@dataclass(frozen=True)
class Summary(Op):
    """Reduce ``values`` (per-cell ops, or none: one per cell) over the cells of ``domain``.

    ``q`` is the quantile level for ``quantile``. Cells whose value is NaN are skipped.
    """

    reducer: str
    values: tuple[Op, ...]
    domain: Op
    q: float | None = None

    def reduce(self) -> Reducer:
        if self.reducer == "quantile":
            q = self.q
            return Reducer("quantile", GATHER, _keep,
                           _gathered(lambda v: np.quantile(v, q)))
        return REDUCERS[self.reducer]


def _summary_partial(summary: Summary, ev, group):
    reducer = summary.reduce()
    mask = ev.mask(summary.domain)
    if group is None and not mask.any():
        ev.warn_empty(summary, f"no cells: the {reducer.name} is "
                      + ("0" if reducer.zero else "NaN"))
    if group is None and reducer.name == "density" and ev.window.area == 0:
        w = ev.window
        ev.warn(summary, "W0506", f"the window has zero area ({w.width:g} × {w.height:g} "
                "µm: its cells lie on one point or line): the density is NaN")
    if group is not None:
        mask = mask & group
    if summary.values:
        cols = [ev.numbers(v)[mask] for v in summary.values]
        values = cols[0] if len(cols) == 1 else np.column_stack(cols)
        bad = np.isnan(values) if values.ndim == 1 else np.isnan(values).any(axis=1)
        if bad.any():
            if group is None:
                ev.warn(summary, "W0502", f"{int(bad.sum())} of {len(values)} cells have "
                        "no value (NaN) and are skipped")
            values = values[~bad]
        if group is None and 0 < len(values) < reducer.least:
            ev.warn(summary, "W0502", f"{len(values)} cell with a value: the "
                    f"{reducer.name} needs at least {reducer.least}, so it is NaN")
    else:
        values = np.ones(int(mask.sum()))
    return reducer.partial(values, ev.window.area)


aggregate(Summary, partial=_summary_partial, finish=lambda op, part: op.reduce().finish(part),
          combine=lambda op: op.reduce().combine, groupable=True)


_OVER = Param("over", CELLS, "the cells summarised: the context of per-cell values written "
               "without an explicit cell set, e.g. `mean(expr(\"B2M\"), over = A)`",
               default="context")
_SKIP = "cells whose value is undefined (NaN) are skipped, and the result says how many"
_EMPTY = "over no cells the result is NaN, and a count or sum is 0 (warning W0501)"


def _summary(name, doc, reducer, *, unit=None, extra=(), conventions=(), example,
             q=False, kind=VALUES):
    """Register one summary; ``unit`` None keeps the unit of the values."""
    params = (Param("values", kind, "per-cell values, for the cells in context"),) + extra + (
        _OVER,)

    def build(args, ctx):
        values, over = args["values"], args["over"]
        if over.node is not None and over.op != values.type.context:
            raise BuildError("E0306", "the values are for other cells than `over`", "values",
                             "per-cell values of another cell set",
                             help="drop `over`, or write the values without an explicit "
                                  "source so that they are for the cells of `over`")
        dim = values.type.dim if unit is None else unit
        level = args["q"].value if q else None
        return Summary(reducer, (values.op,), values.type.context, level), ScalarT(dim)

    register(Builtin(
        name=name, category="summaries", params=params,
        returns="a number per FOV, " + ("in the unit of the values" if unit is None
                                        else unit.article()),
        doc=doc, conventions=(_SKIP, _EMPTY) + tuple(conventions), examples=(example,),
        combine=REDUCERS[reducer].combine if reducer in REDUCERS else GATHER, build=build,
        aliases={"skewness": ("skew",), "std": ("sd",)}.get(name, ())))


_summary("mean", "Arithmetic mean of per-cell values.", "mean",
         example='mean(count(cells where type == "macrophage" within 30 um of cells where type == "PCT"))')
_summary("median", "Median of per-cell values (the middle value; the mean of the two "
         "middle values for an even count).", "median",
         example='median(distance(cells where type == "PCT" -> nearest cells where type == "macrophage"))')
_summary("quantile", "The q-quantile of per-cell values.", "quantile",
         extra=(Param("q", PROBABILITY, "quantile level in [0, 1], e.g. 0.9",
                      minimum=0.0, maximum=1.0),),
         conventions=("linear interpolation between order statistics (numpy's default, "
                      "R type 7)",),
         example='quantile(distance(cells -> nearest cells), q = 0.9)', q=True)
_summary("std", "Sample standard deviation of per-cell values.", "std",
         conventions=("sample standard deviation (divides by n - 1); NaN for fewer than "
                      "2 cells (warning W0502)",),
         example='std(distance(cells -> nearest cells))')
_summary("cv", "Coefficient of variation: sample standard deviation / mean.", "cv",
         unit=DIMENSIONLESS, conventions=("std with n - 1; NaN when the mean is 0 or for fewer "
                                   "than 2 cells (warning W0502)",),
         example='cv(distance(cells -> nearest cells))')
_summary("skewness", "Skewness of per-cell values.", "skewness", unit=DIMENSIONLESS,
         conventions=("Fisher–Pearson coefficient g1 = m3 / m2^1.5 with population moments "
                      "(scipy.stats.skew with bias=True); NaN when all values are equal, and for "
                      "fewer than 2 cells (warning W0502)",),
         example='skewness(distance(cells where type == "Fibroblast" -> nearest cells where type == "Myofibroblast"))')
_summary("min", "Smallest per-cell value.", "min",
         example='min(distance(cells where type == "macrophage" -> nearest cells where type == "Podocyte"))')
_summary("max", "Largest per-cell value.", "max",
         example='max(distance(cells where type == "Podocyte" -> nearest cells where type == "PCT"))')
_summary("sum", "Sum of per-cell values.", "sum",
         example='sum(count(cells where type == "macrophage" within 20 um of cells where type == "PCT"))')
_summary("count", "Number of cells for which a condition holds.", "count", unit=COUNT,
         kind=BOOL, example='count(nearest_type(cells -> nearest cells) == "Mesangial.cell")')
_summary("fraction", "Fraction of the cells in context for which a condition holds.",
         "fraction", unit=DIMENSIONLESS, kind=BOOL,
         example='fraction(nearest_type(cells where type == "Podocyte" -> nearest cells) == "Podocyte")')
