"""Shared pieces of the checker: checked arguments, the builder context, error
reporting, and small helpers."""

from __future__ import annotations

from dataclasses import dataclass

from cytoql import plan as p
from cytoql.catalog.kinds import LENGTH_KIND, Arg, constant_value
from cytoql.catalog.spec import Param
from cytoql.diagnostics.diagnostic import Diagnostic, Label
from cytoql.errors import QueryError, QueryNameError, QuerySyntaxError, QueryTypeError
from cytoql.resolve import Schema
from cytoql.source import Source
from cytoql.types import (ErrorT, NearestT, PerCellT, ScalarT, StringT, Type, WithinT,
                          describe)

__all__ = ["ERR", "RADIUS", "SPEC_HELP", "Arg", "CheckerBase", "Context", "cells_help",
           "constant_value", "is_numeric", "raise_for"]

ERR = ErrorT()


@dataclass
class Context:
    """What builders may read: the schema, and the cells in context."""

    schema: Schema
    cells: p.Op


def raise_for(diagnostics: list[Diagnostic], source: Source) -> None:
    """Raise the QueryError subclass of the errors' stage (QueryError when mixed)."""
    errors = sorted((d for d in diagnostics if d.severity == "error"),
                    key=lambda d: (d.span.start, d.code))
    if not errors:
        return
    stages = {d.code[:3] for d in errors}
    cls = {"E01": QuerySyntaxError, "E02": QueryNameError,
           "E03": QueryTypeError}.get(stages.pop(), QueryError) if len(stages) == 1 else QueryError
    raise cls(errors, source)


class CheckerBase:
    """State and error reporting shared by the checker's parts."""

    def __init__(self, schema: Schema, source: Source):
        self.schema = schema
        self.source = source
        self.diags: list[Diagnostic] = []
        self.lets: dict[str, tuple[object, Type]] = {}
        self.defaults: list[str] = []
        self.conventions: list[str] = []
        self.spans: dict = {}

    # ------------------------------------------------------------------ helpers
    def error(self, code, message, span, label="", help=None, notes=(), suggestions=()):
        self.diags.append(Diagnostic(code, message, Label(span, label), tuple(notes), help,
                                     tuple(suggestions)))
        return None, ERR

    def mismatch(self, node, expected: str, found: Type, help=None):
        return self.error("E0301", f"expected {expected}, found {describe(found)}", node.span,
                          f"this is {describe(found)}", help=help)

    def cells_help(self, t: Type) -> str | None:
        return cells_help(t)

    def note_span(self, op, span):
        if op is not None and op not in self.spans:
            self.spans[op] = span
        return op


RADIUS = Param("radius", LENGTH_KIND, "a neighbourhood radius is a length > 0, e.g. `30 um`",
                minimum=0.0, strict=True)

SPEC_HELP = {
    WithinT: "use it inside count, local_fraction, shannon or simpson, e.g. "
             "`count(B within 30 um)`",
    NearestT: "use it inside distance or nearest_type, e.g. `distance(A -> nearest B)`",
}


def is_numeric(t: Type) -> bool:
    return (isinstance(t, ScalarT) and not t.boolean) or (
        isinstance(t, PerCellT) and t.kind == "number")


def cells_help(t: Type) -> str | None:
    if isinstance(t, StringT):
        return f'select cells with a condition: `cells where type == "{t.value}"`'
    if isinstance(t, PerCellT) and t.kind == "bool":
        return "filter cells with it: `cells where <condition>`"
    return None
