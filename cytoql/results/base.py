"""What every result carries, and the result-shape protocol.

A :class:`Shape` owns one kind of result end to end: what it collects from one FOV
(:meth:`Shape.fov_output`), how the FOVs combine (:meth:`Shape.assemble`), its
:class:`Result` class and that class's JSON. Shapes are registered by the checker
type they answer (:func:`shape_of`), so a new built-in of an existing shape needs no
edit here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cytoql.diagnostics.render import render_json, render_short

__all__ = ["FovOutput", "Result", "Shape", "format_number", "jsonable", "register_shape",
           "shape_of"]


@dataclass
class FovOutput:
    """What one FOV contributes to a result.

    ``rows``: sample rows of the cells (cell sets, per-cell values); ``values``: their
    values; ``partials``: {aggregate op: {group key: partial}} for per-FOV results;
    ``warnings``: W05xx diagnostics.
    """

    fov: str
    rows: np.ndarray | None = None
    values: np.ndarray | None = None
    partials: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


class Shape:
    """One kind of result: per-FOV output, combination over FOVs, Result class."""

    def fov_output(self, ev) -> FovOutput:
        raise NotImplementedError

    def assemble(self, plan, outputs: list[FovOutput], sample, common: dict, pool: bool):
        raise NotImplementedError


_SHAPES: dict[type, Shape] = {}


def register_shape(type_class: type, shape: Shape) -> Shape:
    """Make ``shape`` the result shape of plans whose type is a ``type_class``."""
    _SHAPES[type_class] = shape
    return shape


def shape_of(t) -> Shape:
    """The result shape of a checked type."""
    try:
        return _SHAPES[type(t)]
    except KeyError:  # the checker only lets result types through
        raise TypeError(f"no result shape for {type(t).__name__}") from None


class Result:
    """What every result carries besides its value.

    Attributes
    ----------
    query : str
        The canonical text of the query.
    unit : str
        Unit of the values (``µm``, ``cells/mm²``, ``cells``, ``""`` when dimensionless).
    defaults, conventions, assumptions : tuple of str
    warnings : tuple of Diagnostic
    fingerprint : str
        Hash of the data the query read (:func:`cytoql.api.fingerprint`), computed when
        first read.
    plan : Plan
    """

    kind = "result"

    def __init__(self, *, plan, unit, assumptions, warnings, source, fingerprint):
        self.plan = plan
        self._fingerprint = fingerprint
        self.query = plan.text
        self.unit = unit
        self.defaults = plan.defaults
        self.conventions = plan.conventions
        self.assumptions = tuple(assumptions)
        self.warnings = tuple(warnings)
        self._source = source

    @property
    def fingerprint(self) -> str:
        if callable(self._fingerprint):
            self._fingerprint = self._fingerprint()
        return self._fingerprint

    def explain(self) -> str:
        """Plan, defaults, conventions, assumptions and warnings as text."""
        lines = [self.plan.explain(), f"data fingerprint: {self.fingerprint}",
                 "assumptions:" + ("" if self.assumptions else " none")]
        lines += [f"  - {a}" for a in self.assumptions]
        if self.warnings:
            lines.append("warnings:")
            lines += [f"  - {render_short(w, self._source)}" for w in self.warnings]
        return "\n".join(lines)

    def _meta(self) -> dict:
        return {"kind": self.kind, "query": self.query, "unit": self.unit,
                "fingerprint": self.fingerprint,
                "defaults": list(self.defaults), "conventions": list(self.conventions),
                "assumptions": list(self.assumptions),
                "warnings": [render_json(w, self._source) for w in self.warnings]}

    def _footer(self) -> str:
        lines = [f"query: {self.query}"]
        lines += [f"default: {d}" for d in self.defaults]
        lines += [f"assumption: {a}" for a in self.assumptions]
        lines += [render_short(w, self._source) for w in self.warnings]
        return "\n".join(lines)


def jsonable(value):
    """A number for JSON: NaN → None, ±inf → "inf"/"-inf"."""
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def format_number(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"
