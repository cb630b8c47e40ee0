"""Sweeps: any number per FOV, written with the radius ``r``, over a range of radii — a
curve.

``sweep(mean(count(B within r)), r = 10 um .. 100 um by 10 um)`` is the metric with
``r`` replaced by each radius in turn, one ordinary query per point. Each point is
evaluated and pooled by its own rule (a mean as a ratio of sums, a count summed …), so
the pooled curve is exact pointwise; the curve itself only gathers the points.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from cytoql.catalog.kinds import LENGTHS, METRIC_OF_R
from cytoql.catalog.spec import ELEMENTWISE, BuildError, Builtin, Param, evaluator, register
from cytoql.plan import Op
from cytoql.types import CurveT, ScalarT, describe
from cytoql.values import Curve

__all__ = ["MAX_SWEEP_POINTS", "Sweep"]

CATEGORY = ("sweeps", 66)

#: Each radius of a sweep is a whole query to check and run: a sweep has at most this
#: many (a range of `r` may otherwise have 10,000).
MAX_SWEEP_POINTS = 500


@dataclass(frozen=True)
class Sweep(Op):
    """The finished values of ``points`` (one query per radius) as a curve over r."""

    folds: ClassVar[bool] = True

    radii: tuple[float, ...]
    points: tuple[Op, ...]


@evaluator(Sweep)
def _sweep(op: Sweep, ev):
    values = [ev.value(point) for point in op.points]
    # a point that does not pool (a per-FOV-only statistic) has no pooled value: NaN
    return Curve(r=np.asarray(op.radii, dtype=np.float64),
                 value=np.array([np.nan if v is None else float(v) for v in values]))


def _build(args, ctx):
    radii, metric = args["r"].value, args["metric"]
    if len(radii) > MAX_SWEEP_POINTS:
        raise BuildError("E0305", f"a sweep has at most {MAX_SWEEP_POINTS} radii, got "
                         f"{len(radii)}", "r", "too many radii",
                         help="use a larger step: each radius is a whole query")
    points, dim = [], None
    for radius in radii:
        (op, t), errors = metric.value(radius)
        if errors:
            first = errors[0]
            raise BuildError.of(dataclasses.replace(
                first, notes=first.notes + (f"at r = {radius:g} µm of the sweep",)), "metric")
        if not isinstance(t, ScalarT) or t.boolean:
            raise BuildError("E0301", f"`sweep` makes a curve of a number per FOV, not of "
                             f"{describe(t)}", "metric", "not a number per FOV",
                             help="summarise per-cell values first, e.g. "
                                  "`mean(count(cells within r))`")
        points.append(op)
        dim = t.dim
    return Sweep(tuple(radii), tuple(points)), CurveT(dim)


register(Builtin(
    name="sweep", category=CATEGORY[0],
    params=(Param("metric", METRIC_OF_R, "the number per FOV to sweep, written with `r` "
                  "where the radius goes"),
            Param("r", LENGTHS, "the radii: a range `a .. b by step` (or one length)")),
    returns="a curve over r in the metric's unit (no CSR value)",
    doc="Any number per FOV as a function of the radius: the metric is computed with "
        "`r` replaced by each radius of the range (SPIAT's average cells in the "
        "neighbourhood over radii, a fraction with a neighbour within r, …).",
    conventions=(
        "`r` names the swept radius inside the metric only (a length in µm; it shadows "
        "a `let` named r); the metric must use it",
        "each point is an ordinary query, checked and pooled by its own rule: the pooled "
        "curve is exact pointwise, never a mean of per-FOV curves",
        "no CSR value: `auc` integrates the curve itself over r and `crossing_radius` "
        "finds where it crosses 0",
        f"at most {MAX_SWEEP_POINTS} radii; an error at one radius (e.g. r = 0 um for a "
        "neighbourhood) is reported with that radius",
    ),
    examples=('sweep(mean(count(cells where type == "macrophage" within r of cells where '
              'type == "PCT")), r = 10 um .. 100 um by 10 um)',),
    combine=ELEMENTWISE, build=_build, aliases=("over_radii", "radius_sweep")))
