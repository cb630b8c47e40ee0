"""The syntax tree: immutable, hashable nodes, each with the span of its text.

Spans do not take part in equality or hashing, so two trees compare equal when they
say the same thing (``parse(print(tree)) == tree``) and the planner can share equal
sub-expressions wherever they were written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cytoql.source import Span

__all__ = [
    "BinaryOp", "BoolOp", "Call", "Compare", "Expr", "IsIn", "Keyword", "Let", "Name",
    "Nearest", "Negate", "Node", "Not", "Program", "Quantity", "Query", "Range", "SetOp",
    "String", "Where", "Within",
]

_NO_SPAN = Span(0, 0)


def _span():
    return field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Node:
    """Base class of syntax-tree nodes."""


@dataclass(frozen=True)
class Expr(Node):
    """Base class of expressions."""


@dataclass(frozen=True)
class Name(Expr):
    """An identifier: a let binding, ``cells``, ``type``, an obs column, an option."""

    id: str
    span: Span = _span()


@dataclass(frozen=True)
class Quantity(Expr):
    """A number with an optional unit, e.g. ``30 um``; ``unit`` is the canonical spelling
    of a known unit (``µm`` is stored as ``um``) or the text as written otherwise."""

    value: float
    unit: str | None = None
    span: Span = _span()
    unit_span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class String(Expr):
    """A string literal (cell type, category, gene, column name)."""

    value: str
    span: Span = _span()


@dataclass(frozen=True)
class Keyword(Node):
    """A named argument ``name = value`` of a call."""

    name: Name
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Call(Expr):
    """A call of a built-in, ``func(args..., name = value...)``."""

    func: Name
    args: tuple[Expr, ...] = ()
    keywords: tuple[Keyword, ...] = ()
    span: Span = _span()


@dataclass(frozen=True)
class BinaryOp(Expr):
    """Arithmetic ``left op right`` with op in ``+ - * /``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()
    op_span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Negate(Expr):
    """Unary minus."""

    operand: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Compare(Expr):
    """``left op right`` with op in ``== != < <= > >=``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()
    op_span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class IsIn(Expr):
    """``value in (a, b, ...)``."""

    value: Expr
    options: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class BoolOp(Expr):
    """``left and right`` / ``left or right``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Not(Expr):
    """``not operand``."""

    operand: Expr
    span: Span = _span()


@dataclass(frozen=True)
class SetOp(Expr):
    """Set algebra: ``left union|intersect|except right``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Where(Expr):
    """``base where predicate``: the cells of ``base`` for which ``predicate`` holds."""

    base: Expr
    predicate: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Within(Expr):
    """``target within radius [of around]``: for each cell of ``around`` (default: the
    cells in context), the cells of ``target`` at distance <= radius."""

    target: Expr
    radius: Expr
    around: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True)
class Nearest(Expr):
    """``[source ->] nearest target``: for each cell of ``source`` (default: the cells
    in context), its nearest cells of ``target``."""

    source: Expr | None
    target: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Range(Expr):
    """``start .. stop [by step]`` (a keyword argument's value, e.g. radii)."""

    start: Expr
    stop: Expr
    step: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True)
class Let(Node):
    """``let name = value``."""

    name: Name
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Query(Node):
    """The result expression, grouped ``by`` zero or more keys (``fov``, ``type``, a
    categorical obs column)."""

    expr: Expr
    by: tuple[Name, ...] = ()
    span: Span = _span()


@dataclass(frozen=True)
class Program(Node):
    """A whole query text: let bindings, then one query."""

    lets: tuple[Let, ...]
    query: Query
    span: Span = _span()
