"""Global composition of cell sets: counts, fractions and densities over the window."""

from __future__ import annotations

from cytoql import plan as p
from cytoql.catalog.kinds import CELLS
from cytoql.catalog.spec import ADDITIVE, RATIO_OF_SUMS, Builtin, Param, register
from cytoql.catalog.summaries import Summary
from cytoql.types import ScalarT
from cytoql.units import COUNT, DENSITY, DIMENSIONLESS

__all__: list[str] = []

CATEGORY = ("composition", 40)

_SET = Param("cells", CELLS, "the cells to count")


def _count(args, ctx):
    return Summary("count", (), args["cells"].op), ScalarT(COUNT)


def _fraction(args, ctx):
    cells = args["cells"].op
    base = cells.base if isinstance(cells, p.Filter) else ctx.cells
    return Summary("fraction", (cells,), base), ScalarT(DIMENSIONLESS)


def _density(args, ctx):
    return Summary("density", (), args["cells"].op), ScalarT(DENSITY)


register(Builtin(
    name="count", category="composition", params=(_SET,),
    returns="a count per FOV (cells)",
    doc="Number of cells in a set.",
    conventions=("cells without a label never match a type condition",),
    examples=('count(cells where type == "PCT")',), combine=ADDITIVE, build=_count))

register(Builtin(
    name="fraction", category="composition", params=(_SET,),
    returns="a dimensionless number per FOV, in [0, 1]",
    doc="Fraction of cells: for `S where condition`, the share of S for which the "
        "condition holds; for any other set, its share of the cells in context (all cells "
        "at the top level).",
    conventions=("`fraction(A where c)` = count(A where c) / count(A)",
                 "NaN when the denominator set is empty"),
    examples=('fraction(cells where type == "Podocyte")',), combine=RATIO_OF_SUMS,
    build=_fraction))

register(Builtin(
    name="density", category="composition", params=(_SET,),
    returns="a density per FOV (cells/mm²)",
    doc="Cells per unit area of the FOV's window.",
    conventions=("the window is the FOV rectangle from metadata, else the bounding box of "
                 "its cells (recorded as an assumption)",
                 "pooled over FOVs as total cells / total window area"),
    examples=('density(cells where type == "macrophage")',), combine=RATIO_OF_SUMS,
    build=_density))
