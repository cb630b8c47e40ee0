"""The syntax tree: immutable, hashable nodes, each with the span of its text.

Spans do not take part in equality or hashing, so two trees compare equal when they
say the same thing (``parse(print(tree)) == tree``) and the planner can share equal
sub-expressions wherever they were written.

Equality and hashing never recurse: a node computes its hash once, when it is built
(its children are built first and already know theirs), and ``==`` walks both trees
with an explicit stack. A chain of 10⁵ ``or`` or ``+`` therefore hashes and compares
like any other tree; only code that recurses over the tree itself needs the nesting
bound of :data:`cytoql.parse.MAX_DEPTH`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

from cytoql.source import Span

__all__ = [
    "BinaryOp", "BoolOp", "Call", "Compare", "Expr", "IsIn", "Keyword", "Let", "Name",
    "Nearest", "Negate", "Node", "Not", "Program", "Quantity", "Query", "Range", "SetOp",
    "String", "Where", "Within",
]

_NO_SPAN = Span(0, 0)


def _span():
    return field(default=_NO_SPAN, compare=False, repr=False)


def _node(cls):
    """Make ``cls`` a frozen dataclass that keeps :class:`Node`'s equality and hash."""
    cls = dataclass(frozen=True, eq=False)(cls)
    cls._compared = tuple(f.name for f in fields(cls) if f.compare)
    return cls


@_node
class Node:
    """Base class of syntax-tree nodes."""

    _compared: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        key = tuple(getattr(self, name) for name in self._compared)
        object.__setattr__(self, "_hash", hash((type(self).__name__, key)))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        stack = [(self, other)]
        while stack:
            a, b = stack.pop()
            if a is b:
                continue
            if isinstance(a, Node):
                if type(a) is not type(b) or a._hash != b._hash:
                    return False
                stack.extend((getattr(a, f), getattr(b, f)) for f in a._compared)
            elif isinstance(a, tuple):
                if not isinstance(b, tuple) or len(a) != len(b):
                    return False
                stack.extend(zip(a, b))
            elif isinstance(b, (Node, tuple)) or a != b:
                return False
        return True

    def __reduce__(self):
        # rebuild through __init__: the cached hash of a string differs between processes
        return type(self), tuple(getattr(self, f.name) for f in fields(self))


@_node
class Expr(Node):
    """Base class of expressions."""


@_node
class Name(Expr):
    """An identifier: a let binding, ``cells``, ``type``, an obs column, an option."""

    id: str
    span: Span = _span()


@_node
class Quantity(Expr):
    """A number with an optional unit, e.g. ``30 um``; ``unit`` is the canonical spelling
    of a known unit (``µm`` is stored as ``um``) or the text as written otherwise."""

    value: float
    unit: str | None = None
    span: Span = _span()
    unit_span: Span | None = field(default=None, compare=False, repr=False)


@_node
class String(Expr):
    """A string literal (cell type, category, gene, column name)."""

    value: str
    span: Span = _span()


@_node
class Keyword(Node):
    """A named argument ``name = value`` of a call."""

    name: Name
    value: Expr
    span: Span = _span()


@_node
class Call(Expr):
    """A call of a built-in, ``func(args..., name = value...)``."""

    func: Name
    args: tuple[Expr, ...] = ()
    keywords: tuple[Keyword, ...] = ()
    span: Span = _span()


@_node
class BinaryOp(Expr):
    """Arithmetic ``left op right`` with op in ``+ - * /``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()
    op_span: Span | None = field(default=None, compare=False, repr=False)


@_node
class Negate(Expr):
    """Unary minus."""

    operand: Expr
    span: Span = _span()


@_node
class Compare(Expr):
    """``left op right`` with op in ``== != < <= > >=``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()
    op_span: Span | None = field(default=None, compare=False, repr=False)


@_node
class IsIn(Expr):
    """``value in (a, b, ...)``."""

    value: Expr
    options: tuple[Expr, ...]
    span: Span = _span()


@_node
class BoolOp(Expr):
    """``left and right`` / ``left or right``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@_node
class Not(Expr):
    """``not operand``."""

    operand: Expr
    span: Span = _span()


@_node
class SetOp(Expr):
    """Set algebra: ``left union|intersect|except right``."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@_node
class Where(Expr):
    """``base where predicate``: the cells of ``base`` for which ``predicate`` holds."""

    base: Expr
    predicate: Expr
    span: Span = _span()


@_node
class Within(Expr):
    """``target within radius [of around]``: for each cell of ``around`` (default: the
    cells in context), the cells of ``target`` at distance <= radius."""

    target: Expr
    radius: Expr
    around: Expr | None = None
    span: Span = _span()


@_node
class Nearest(Expr):
    """``[source ->] nearest target``: for each cell of ``source`` (default: the cells
    in context), its nearest cells of ``target``."""

    source: Expr | None
    target: Expr
    span: Span = _span()


@_node
class Range(Expr):
    """``start .. stop [by step]`` (a keyword argument's value, e.g. radii)."""

    start: Expr
    stop: Expr
    step: Expr | None = None
    span: Span = _span()


@_node
class Let(Node):
    """``let name = value``."""

    name: Name
    value: Expr
    span: Span = _span()


@_node
class Query(Node):
    """The result expression, grouped ``by`` zero or more keys (``fov``, ``type``, a
    categorical obs column)."""

    expr: Expr
    by: tuple[Name, ...] = ()
    span: Span = _span()


@_node
class Program(Node):
    """A whole query text: let bindings, then one query."""

    lets: tuple[Let, ...]
    query: Query
    span: Span = _span()
