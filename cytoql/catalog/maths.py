"""Scalar maths: square root, logarithm, exponential and absolute value of numbers, one
per FOV or per cell, with their unit rules.

Like arithmetic, these run on per-cell values and on finished per-FOV values (a mean,
a Ripley K at one radius …), per FOV and on the pooled value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from cytoql.catalog.kinds import NUMERIC
from cytoql.catalog.spec import ELEMENTWISE, BuildError, Builtin, Param, evaluator, register
from cytoql.plan import Op
from cytoql.types import PerCellT, ScalarT
from cytoql.units import DIMENSIONLESS, Dim

__all__ = ["Maths"]

CATEGORY = ("maths", 55)

_FUNCTIONS = {"sqrt": np.sqrt, "log": np.log, "exp": np.exp, "abs": np.abs}


@dataclass(frozen=True)
class Maths(Op):
    """``function`` of ``operand`` (elementwise)."""

    folds: ClassVar[bool] = True

    function: str
    operand: Op


@evaluator(Maths)
def _maths(op, ev):
    value = np.asarray(ev.value(op.operand), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        out = _FUNCTIONS[op.function](value)
    return out[()] if out.ndim == 0 else out


def _result_dim(function: str, dim: Dim) -> Dim:
    if function == "abs":
        return dim
    if function == "sqrt":
        if dim.length % 2 or dim.cells % 2 or dim.angle % 2:
            raise BuildError("E0304", f"the square root of {dim.article()} has no unit here",
                             "x", f"{dim.name}", help="take the root of an area, a "
                             "dimensionless number or a squared quantity")
        return Dim(dim.length // 2, dim.cells // 2, dim.angle // 2)
    if dim != DIMENSIONLESS:
        raise BuildError("E0304", f"`{function}` needs a dimensionless number, got "
                         f"{dim.article()}", "x", dim.name,
                         help="divide by a quantity of the same unit first, e.g. "
                              "`log(mean(distance(A -> nearest B)) / 10 um)`")
    return DIMENSIONLESS


def _build(function):
    def build(args, ctx):
        x = args["x"]
        dim = _result_dim(function, x.type.dim)
        op = Maths(function, x.op)
        if isinstance(x.type, PerCellT):
            return op, PerCellT("number", x.type.context, dim)
        return op, ScalarT(dim, bare=x.type.bare)
    return build


_X = Param("x", NUMERIC, "a number per FOV (e.g. a summary) or per-cell numbers")
_ENTRIES = {
    "sqrt": ("Square root; the unit's exponents halve (√µm² = µm).",
             "NaN for negative numbers", 'sqrt(ripley_k(cells where type == "PCT", r = 30 um) / pi)',
             ("square_root",)),
    "log": ("Natural logarithm of a dimensionless number.", "NaN below 0, -inf at 0",
            'log(count(cells where type == "PCT") / count(cells where type == "macrophage"))',
            ("ln",)),
    "exp": ("Exponential of a dimensionless number.", "inf on overflow",
            'mean(exp(-distance(cells -> nearest cells) / 10 um))', ()),
    "abs": ("Absolute value; keeps the unit.", "none",
            'abs(ripley_h(cells where type == "macrophage", r = 40 um))', ("fabs",)),
}

for _name, (_doc, _edge, _example, _aliases) in _ENTRIES.items():
    register(Builtin(
        name=_name, category=CATEGORY[0], params=(_X,),
        returns="a number of the rule's unit, per FOV or per cell like its argument",
        doc=_doc,
        conventions=(f"special values: {_edge}",
                     "on a per-FOV value it applies per FOV and to the pooled value (the "
                     "pooled argument, not a pool of per-FOV results)"),
        examples=(_example,), combine=ELEMENTWISE, build=_build(_name), aliases=_aliases))
