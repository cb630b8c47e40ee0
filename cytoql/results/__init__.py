"""Typed results: the value, its unit, the query, resolved defaults, conventions,
assumptions and warnings. Per-FOV results come back per FOV; pooling over FOVs is
explicit and exact, by each built-in's declared combine rule.

One module per result shape (``cells``, ``scalar``, ``table``, ``curve``); each
registers itself for the checker type it answers.
"""

from cytoql.results.base import FovOutput, Result, Shape, shape_of
from cytoql.results.cells import CellSetResult, PerCellResult
from cytoql.results.curve import CurveResult
from cytoql.results.scalar import ScalarResult
from cytoql.results.table import TableResult

__all__ = ["CellSetResult", "CurveResult", "FovOutput", "PerCellResult", "Result",
           "ScalarResult", "Shape", "TableResult", "build_result", "shape_of"]


def build_result(plan, outputs, sample, *, assumptions, warnings, source, pool,
                 fingerprint) -> Result:
    """Combine per-FOV outputs into the :class:`Result` of the plan's shape."""
    common = dict(plan=plan, assumptions=assumptions, warnings=warnings, source=source,
                  fingerprint=fingerprint)
    return shape_of(plan.type).assemble(plan, outputs, sample, common, pool)
