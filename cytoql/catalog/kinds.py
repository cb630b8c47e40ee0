"""Parameter kinds: what an argument may be, each kind owning its check, its diagnostic
and its doc text.

A :class:`Kind` checks one argument node of a call against a :class:`~cytoql.catalog.spec.Param`
through the checker ``c`` (its ``expr``, ``error`` and ``mismatch``), and returns a checked
:class:`Arg` or ``None`` after reporting an error. Kinds never evaluate anything: a
constant is folded from literal nodes only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cytoql import nodes as n
from cytoql import plan as p
from cytoql.diagnostics.diagnostic import Suggestion
from cytoql.diagnostics.suggest import closest
from cytoql.printer import to_text
from cytoql.source import Span
from cytoql.types import (CellSetT, CurveT, ErrorT, PerCellT, RangeT, ScalarT, StringT, Type,
                          describe)
from cytoql.units import LENGTH

__all__ = ["BOOL", "CELLS", "CURVE", "INTEGER", "LENGTH_KIND", "LENGTHS", "MAX_LENGTH_UM",
           "MAX_RANGE_POINTS", "METRIC_OF_R", "NEAREST", "NUMBER", "NUMERIC", "PROBABILITY", "STRING", "VALUES", "WITHIN",
           "Arg", "Kind", "Option", "constant_value"]

#: The largest length a query may state (1 m): beyond it a radius is a typo, and
#: squared distances would lose precision or overflow.
MAX_LENGTH_UM = 1e6
#: The most radii a range may have (a curve over more points is a typo of the step).
MAX_RANGE_POINTS = 10_000
#: Whole numbers beyond 2^53 are not exact in float64, the type literals are read as.
_MAX_WHOLE = 2 ** 53


@dataclass(frozen=True)
class Arg:
    """A checked argument: its op (or spec), type, constant value and node."""

    op: object
    type: Type
    node: n.Node | None
    value: object = None


def constant_value(op) -> float | None:
    """The value of an op built only from constants, else None."""
    if isinstance(op, p.Const):
        return op.value
    if isinstance(op, p.Negative):
        inner = constant_value(op.operand)
        return None if inner is None else -inner
    if isinstance(op, p.Arith):
        a, b = constant_value(op.left), constant_value(op.right)
        if a is None or b is None:
            return None
        if op.op == "/":
            return a / b if b else None
        if op.op == "^":
            try:
                return float(a ** b) if a > 0 or float(b).is_integer() else None
            except OverflowError:
                return math.inf
        return {"+": a + b, "-": a - b, "*": a * b}[op.op]
    return None


def _literal_text(c, node) -> str:
    """The argument as the user wrote it (so 99999999999999999999 is not echoed as 1e+20)."""
    return c.source.text[node.span.start:node.span.end] or to_text(node)


class Kind:
    """Base class: ``name`` is shown in signatures, ``words`` in docs and messages."""

    name = "value"
    words = "a value"
    #: Checked as a plain expression first (so the overload choice can see its type).
    expression = True

    def matches(self, node, t: Type | None) -> bool:
        """Whether a first argument selects a signature starting with this kind."""
        return False

    def check(self, c, entry, param, node, ctx, checked) -> Arg | None:
        raise NotImplementedError

    def show_default(self, value) -> str:
        return "none" if value is None else repr(value)

    def _expression(self, c, node, ctx, checked, expected: str, help=None) -> Arg | None:
        """The argument as an expression this kind matches, else a mismatch error."""
        op, t = checked if checked is not None else c.expr(node, ctx)
        if isinstance(t, ErrorT):
            return None
        if not self.matches(node, t):
            c.mismatch(node, expected, t, help=help(t) if callable(help) else help)
            return None
        return Arg(op, t, node)


class _Cells(Kind):
    name, words = "cells", "a cell set"

    def matches(self, node, t):
        return isinstance(t, CellSetT)

    def check(self, c, entry, param, node, ctx, checked):
        return self._expression(c, node, ctx, checked, "a cell set", c.cells_help)

    def show_default(self, value):
        return {"context": "cells in context", "cells": "cells", None: "none"}.get(
            value, repr(value))


class _Values(Kind):
    """Per-cell numbers or per-cell conditions."""

    def __init__(self, kind: str):
        self.kind = kind
        self.name = kind
        self.words = "per-cell numbers" if kind == "number" else \
            "per-cell true/false values (a condition)"

    def matches(self, node, t):
        return isinstance(t, PerCellT) and t.kind == self.kind

    def check(self, c, entry, param, node, ctx, checked):
        op, t = checked if checked is not None else c.expr(node, ctx)
        if isinstance(t, ErrorT):
            return None
        if not self.matches(node, t):
            hint = None
            if isinstance(t, CellSetT):
                hint = ("a cell set has no values: summarise per-cell values, e.g. "
                        "`mean(distance(A -> nearest B))`, or count cells with `count(A)`")
            elif isinstance(t, ScalarT) and self.kind == "number":
                hint = "this is already one number per FOV: use it directly"
            c.mismatch(node, self.words.split(" (")[0], t, help=hint)
            return None
        return Arg(op, t, node)


class _Numeric(Kind):
    """A number per FOV or per cell: the operand of the maths functions."""

    name, words = "numeric", "a number (one per FOV, or per-cell numbers)"

    def matches(self, node, t):
        return (isinstance(t, ScalarT) and not t.boolean) or (
            isinstance(t, PerCellT) and t.kind == "number")

    def check(self, c, entry, param, node, ctx, checked):
        return self._expression(c, node, ctx, checked, "a number")


class _Within(Kind):
    name, words = "within", "a neighbourhood `B within r` (optionally `of A`)"
    expression = False

    def matches(self, node, t):
        return isinstance(node, n.Within)

    def check(self, c, entry, param, node, ctx, checked):
        if not isinstance(node, n.Within):
            c.loose(node, ctx)
            c.error("E0301", f"`{entry.name}` needs {self.words}", node.span,
                    "not a neighbourhood", help="write e.g. `B within 30 um`")
            return None
        return c.within(node, ctx)


class _Nearest(Kind):
    name, words = "nearest", "a pairing `A -> nearest B` (or `nearest B` for the cells in context)"
    expression = False

    def matches(self, node, t):
        return isinstance(node, n.Nearest)

    def check(self, c, entry, param, node, ctx, checked):
        if not isinstance(node, n.Nearest):
            c.loose(node, ctx)
            c.error("E0301", f"`{entry.name}` needs {self.words}", node.span, "not a pairing",
                    help="write e.g. `A -> nearest B`")
            return None
        return c.nearest(node, ctx)


class _String(Kind):
    name, words = "string", "a string"

    def check(self, c, entry, param, node, ctx, checked):
        op, t = checked if checked is not None else c.expr(node, ctx)
        if isinstance(t, ErrorT):
            return None
        if not isinstance(t, StringT):
            c.mismatch(node, "a string", t)
            return None
        return Arg(None, t, node, t.value)


class _Curve(Kind):
    name, words = "curve", "a curve over r (e.g. `ripley_l(A, r = 0 um .. 100 um by 10 um)`)"

    def matches(self, node, t):
        return isinstance(t, CurveT)

    def check(self, c, entry, param, node, ctx, checked):
        return self._expression(c, node, ctx, checked, "a curve",
                                "give a curve function a range of radii, e.g. "
                                "`r = 0 um .. 100 um by 10 um`")


class _MetricOfR(Kind):
    """A number per FOV written with the name ``r``; the builder checks it once per
    radius (``Arg.value(radius)`` → ``((op, type), errors)``)."""

    name = "metric of r"
    words = "a number per FOV that uses the radius `r` (e.g. `mean(count(cells within r))`)"
    expression = False

    def check(self, c, entry, param, node, ctx, checked):
        if not _mentions(node, "r"):
            c.loose(node, ctx)
            c.error("E0302", f"the {param.name} of `{entry.name}` does not use `r`", node.span,
                    "no `r` in here", help="write the swept radius as `r`, e.g. "
                    "`mean(count(cells within r))`")
            return None
        return Arg(None, None, node, lambda radius: c.expr_bound(
            node, ctx, "r", (p.Const(radius), ScalarT(LENGTH))))


def _mentions(node, name: str) -> bool:
    """Whether ``name`` is read as a value anywhere in ``node`` (not as a function or
    keyword name)."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, n.Name) and node.id == name:
            return True
        for field in node._compared:
            if (isinstance(node, n.Call) and field == "func") or (
                    isinstance(node, n.Keyword) and field == "name"):
                continue
            value = getattr(node, field)
            stack.extend(v for v in (value if isinstance(value, tuple) else (value,))
                         if isinstance(v, n.Node))
    return False


def _bound_text(param) -> str:
    low, high = param.minimum, param.maximum
    if low is not None and high is not None:
        return f"in [{low:g}, {high:g}]"
    if low is not None:
        return f"> {low:g}" if param.strict else f">= {low:g}"
    return f"<= {high:g}"


def _in_bounds(param, value) -> bool:
    low, high = param.minimum, param.maximum
    if low is not None and (value <= low if param.strict else value < low):
        return False
    return high is None or value <= high


class _Constant(Kind):
    """A number known at compile time, range-checked against the parameter's bounds."""

    def __init__(self, name: str, words: str, whole: bool = False):
        self.name, self.words, self.whole = name, words, whole

    def check(self, c, entry, param, node, ctx, checked):
        op, t = checked if checked is not None else c.expr(node, ctx)
        if isinstance(t, ErrorT):
            return None
        value = constant_value(op) if isinstance(t, ScalarT) else None
        shown = _literal_text(c, node)
        if not isinstance(t, ScalarT) or not t.bare or value is None or (
                self.whole and not (math.isfinite(value) and float(value).is_integer())):
            c.error("E0301", f"`{param.name}` needs {self.words}, got "
                    f"{'`' + shown + '`' if isinstance(t, ScalarT) and t.bare else describe(t)}",
                    node.span, "not a plain number" if not self.whole else "not a whole number")
            return None
        if not math.isfinite(value):
            c.error("E0305", f"`{param.name}` must be finite, got {shown}", node.span,
                    "out of range", help=param.doc)
            return None
        if self.whole:
            if abs(value) > _MAX_WHOLE:
                c.error("E0305", f"`{param.name}` must be at most {_MAX_WHOLE}, got {shown}",
                        node.span, "too large", help=param.doc)
                return None
            value = int(value)
        if not _in_bounds(param, value):
            c.error("E0305", f"`{param.name}` must be {_bound_text(param)}, got {shown}",
                    node.span, "out of range", help=param.doc)
            return None
        return Arg(None, t, node, value)


def _length(c, param, node, op, t, what: str = "a constant length") -> float | None:
    """A checked constant length in µm, or None after an error."""
    if isinstance(t, ErrorT):
        return None
    value = constant_value(op) if isinstance(t, ScalarT) else None
    if isinstance(t, ScalarT) and t.bare and value is not None:
        fix = Suggestion(Span(node.span.end, node.span.end), " um", True)
        c.error("E0303", f"`{param.name}` needs a length, got a bare number", node.span,
                "no unit", help=f"write `{to_text(node)} um` (or `mm`)", suggestions=(fix,))
        return None
    if not isinstance(t, ScalarT) or t.dim != LENGTH or value is None:
        c.error("E0304" if isinstance(t, ScalarT) and t.dim != LENGTH else "E0301",
                f"`{param.name}` needs {what}, got {describe(t)}", node.span, "not a length",
                help="write e.g. `30 um`")
        return None
    if not math.isfinite(value) or abs(value) > MAX_LENGTH_UM:
        c.error("E0305", f"`{param.name}` must be a finite length of at most 1 m, got "
                f"{_literal_text(c, node)}", node.span, "out of range",
                help="lengths are in µm or mm; a radius beyond the tissue is a typo")
        return None
    return value


class _Length(Kind):
    name, words = "length", "a constant length (e.g. `30 um`)"

    def check(self, c, entry, param, node, ctx, checked):
        if isinstance(node, n.Range):
            c.error("E0301", f"`{param.name}` takes one length, not a range", node.span,
                    "a range", help="write one length, e.g. `30 um`")
            return None
        op, t = checked if checked is not None else c.expr(node, ctx)
        value = _length(c, param, node, op, t)
        if value is None:
            return None
        if not _in_bounds(param, value):
            c.error("E0305", f"`{param.name}` must be {_bound_text(param)}, got "
                    f"{_literal_text(c, node)}", node.span, "out of range", help=param.doc)
            return None
        return Arg(None, t, node, value)


class _Lengths(Kind):
    """One length (a scalar result) or a range `a .. b by step` (a curve over r)."""

    name = "length or range"
    words = "a length (`30 um`) or a range of lengths (`0 um .. 100 um by 10 um`)"
    expression = False

    def check(self, c, entry, param, node, ctx, checked):
        if not isinstance(node, n.Range):
            arg = LENGTH_KIND.check(c, entry, param, node, ctx, checked)
            return arg if arg is None else Arg(None, arg.type, node, (arg.value,))
        parts = []
        for part in (node.start, node.stop, node.step):
            if part is None:
                parts.append(None)
                continue
            parts.append(_length(c, param, part, *c.expr(part, ctx)))
        start, stop, step = parts
        if node.step is None:
            c.error("E0302", f"the range of `{param.name}` needs a step", node.span,
                    "no `by`", help=f"write e.g. `{to_text(node)} by 10 um`",
                    suggestions=(Suggestion(Span(node.span.end, node.span.end), " by 10 um",
                                            False),))
            return None
        if None in (start, stop, step):
            return None
        low = param.minimum if param.minimum is not None else 0.0
        if start < low or stop < low:
            c.error("E0305", f"the radii of `{param.name}` must be >= {low:g} um, got "
                    f"{_literal_text(c, node)}", node.span, "negative radius", help=param.doc)
            return None
        if step <= 0:
            c.error("E0305", f"the step of `{param.name}` must be > 0, got "
                    f"{_literal_text(c, node.step)}", node.step.span, "not a positive step")
            return None
        if stop < start:
            c.error("E0305", f"the range of `{param.name}` is empty: it ends before it starts",
                    node.span, "stop < start", help=f"write `{to_text(node.stop)} .. "
                    f"{to_text(node.start)} by {to_text(node.step)}`")
            return None
        count = int(math.floor((stop - start) / step * (1 + 1e-12))) + 1
        if count > MAX_RANGE_POINTS:
            c.error("E0305", f"the range of `{param.name}` has {count} radii (at most "
                    f"{MAX_RANGE_POINTS})", node.span, "too many radii",
                    help="use a larger step")
            return None
        radii = tuple(float(start + i * step) for i in range(count))
        if param.strict and radii[0] <= low:
            radii = radii[1:]
            if not radii:
                c.error("E0305", f"the radii of `{param.name}` must be > {low:g} um",
                        node.span, "no positive radius")
                return None
        return Arg(None, RangeT(LENGTH), node, radii)


class Option(Kind):
    """One of a fixed set of words, written bare (`correction = translation`) or as a
    string; ``aliases`` map other tools' spellings to the canonical word."""

    expression = False

    def __init__(self, *choices: str, aliases: dict[str, str] | None = None):
        self.choices = tuple(choices)
        self.aliases = dict(aliases or {})
        self.name = " | ".join(self.choices)
        self.words = "one of " + ", ".join(f"`{c}`" for c in self.choices)

    def resolve(self, word: str) -> str | None:
        if word in self.choices:
            return word
        folded = word.casefold()
        for choice in self.choices:
            if choice.casefold() == folded:
                return choice
        for alias, target in self.aliases.items():
            if alias.casefold() == folded:
                return target
        return None

    def check(self, c, entry, param, node, ctx, checked):
        if isinstance(node, (n.Name, n.String)):
            word = node.id if isinstance(node, n.Name) else node.value
            choice = self.resolve(word)
            if choice is not None:
                return Arg(None, StringT(choice), node, choice)
            hints = closest(word, list(self.choices) + list(self.aliases))
            hints = list(dict.fromkeys(self.resolve(h) for h in hints))
            c.error("E0305", f"unknown {param.name} `{word}`", node.span,
                    f"not {self.words}",
                    help=f"did you mean `{hints[0]}`?" if hints else None,
                    notes=(f"`{param.name}` is {self.words}",),
                    suggestions=[Suggestion(node.span, h, len(hints) == 1) for h in hints[:1]])
            return None
        c.loose(node, ctx)
        c.error("E0301", f"`{param.name}` needs {self.words}", node.span, "not an option word",
                help=f"write e.g. `{param.name} = {self.choices[0]}`")
        return None

    def show_default(self, value):
        return str(value)


CELLS = _Cells()
VALUES = _Values("number")
NUMERIC = _Numeric()
BOOL = _Values("bool")
WITHIN = _Within()
NEAREST = _Nearest()
STRING = _String()
CURVE = _Curve()
LENGTH_KIND = _Length()
LENGTHS = _Lengths()
METRIC_OF_R = _MetricOfR()
INTEGER = _Constant("integer", "a whole number without unit", whole=True)
PROBABILITY = _Constant("probability", "a number in [0, 1] without unit")
NUMBER = _Constant("constant", "a plain number without unit")

#: The fixed kinds, for the reference page.
KINDS = (CELLS, VALUES, NUMERIC, BOOL, WITHIN, NEAREST, STRING, CURVE, LENGTH_KIND, LENGTHS,
         METRIC_OF_R, INTEGER, PROBABILITY, NUMBER)
