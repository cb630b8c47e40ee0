"""Stage 4: the checked query as a DAG of operations.

The checker builds operations (:class:`Op`, frozen and hashable, spans outside
equality); equal operations are one node of the DAG, so an intermediate result (a cell
set, its spatial index, a per-cell value) is computed once per FOV however often the
query mentions it. Operations are pure data: how each runs is registered by operation
class, beside its catalog entry (``cytoql.catalog.*``) or, for the core ones defined
here (sets, columns, arithmetic, logic), in :mod:`cytoql.evaluate`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from cytoql.source import Span
from cytoql.types import Type

__all__ = ["postorder", "AllCells", "Arith", "Comparison", "Const", "GeneValues", "InLabels", "LabelCodes",
           "Neighbourhood", "Pairing", "SameLabel",
           "Logic", "Negation", "Negative", "NumericColumn", "Op", "Plan", "SetCombine",
           "Filter"]


@dataclass(frozen=True)
class Op:
    """One operation of the plan: pure data (frozen, hashable, compared by value).

    ``inputs`` are the operations it reads, including those inside argument specs
    (:class:`Neighbourhood`, :class:`Pairing`) and tuples. ``folds`` marks the core
    operations (arithmetic, logic, constants) that also run on finished per-FOV values.
    """

    folds: ClassVar[bool] = False

    def __post_init__(self):
        # Plans of long flat chains are thousands of ops deep: each op hashes once, when
        # built (its inputs already hashed), so hashing never recurses down the chain.
        cls = type(self)
        if "_hash_is_cached" not in cls.__dict__:
            _cache_hash(cls)
        hash(self)

    def inputs(self) -> tuple[Op, ...]:
        out = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out.extend(_ops_in(value))
        return tuple(out)

    def label(self) -> str:
        """One line for ``--explain``."""
        parts = []
        for f in dataclasses.fields(self):
            if not f.compare:
                continue
            value = getattr(self, f.name)
            if not isinstance(value, Op) and not (isinstance(value, tuple) and value
                                                  and isinstance(value[0], Op)):
                parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _cache_hash(cls) -> None:
    """Wrap the dataclass-generated ``__hash__`` of ``cls`` so that the hash is stored on the
    instance, and replace ``__eq__`` by an iterative comparison (same object or different
    hashes answer at once)."""
    generated_hash = cls.__hash__

    def __hash__(self):
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = generated_hash(self)
            object.__setattr__(self, "_hash", cached)
        return cached

    cls.__hash__, cls.__eq__ = __hash__, _equal
    cls._hash_is_cached = True


def _equal(a, b) -> bool:
    """Structural equality of two ops, walking both with a stack (no recursion down
    chains)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if type(x) is not type(y) or hash(x) != hash(y):
            return False
        for f in dataclasses.fields(x):
            if not f.compare:
                continue
            u, v = getattr(x, f.name), getattr(y, f.name)
            if isinstance(u, Op):
                stack.append((u, v))
            elif isinstance(u, tuple) and isinstance(v, tuple) and len(u) == len(v):
                for s, t in zip(u, v):
                    if isinstance(s, Op):
                        stack.append((s, t))
                    elif s != t:
                        return False
            elif u != v:
                return False
    return True


def _ops_in(value) -> list:
    if isinstance(value, Op):
        return [value]
    if isinstance(value, tuple):
        return [o for v in value for o in _ops_in(v)]
    if isinstance(value, (Neighbourhood, Pairing)):
        return [o for f in dataclasses.fields(value) for o in _ops_in(getattr(value, f.name))]
    return []


# ---------------------------------------------------------------------- cell sets
@dataclass(frozen=True)
class AllCells(Op):
    """Every cell of the FOV."""


@dataclass(frozen=True)
class Filter(Op):
    """The cells of ``base`` for which ``predicate`` (per-cell or scalar) is true."""

    base: Op
    predicate: Op


@dataclass(frozen=True)
class SetCombine(Op):
    """``union``, ``intersect`` or ``except``."""

    op: str
    left: Op
    right: Op


# ---------------------------------------------------------------------- per-cell data
@dataclass(frozen=True)
class NumericColumn(Op):
    """A numeric obs column (float64, NaN where missing)."""

    column: str


@dataclass(frozen=True)
class LabelCodes(Op):
    """Integer codes of a label column (-1 = missing)."""

    column: str


@dataclass(frozen=True)
class GeneValues(Op):
    """Expression of one gene (``adata.X`` or a layer)."""

    gene: str
    layer: str | None = None


@dataclass(frozen=True)
class InLabels(Op):
    """True where the label code is one of ``codes``."""

    values: Op
    codes: tuple[int, ...]


@dataclass(frozen=True)
class SameLabel(Op):
    """True where two label-code arrays of one column agree on a label (a missing
    label, -1, never matches)."""

    left: Op
    right: Op


# ---------------------------------------------------------------------- arithmetic & logic
@dataclass(frozen=True)
class Const(Op):
    """A number in canonical units (µm, cells, rad)."""

    folds: ClassVar[bool] = True

    value: float


@dataclass(frozen=True)
class Arith(Op):
    """``+ - * / ^``; IEEE arithmetic (x/0 = ±inf, 0/0 = NaN)."""

    folds: ClassVar[bool] = True

    op: str
    left: Op
    right: Op


@dataclass(frozen=True)
class Negative(Op):
    """Unary minus."""

    folds: ClassVar[bool] = True

    operand: Op


@dataclass(frozen=True)
class Comparison(Op):
    """``== != < <= > >=``; a comparison with NaN is false (``!=`` too)."""

    folds: ClassVar[bool] = True

    op: str
    left: Op
    right: Op


@dataclass(frozen=True)
class Logic(Op):
    """``and`` / ``or``."""

    folds: ClassVar[bool] = True

    op: str
    left: Op
    right: Op


@dataclass(frozen=True)
class Negation(Op):
    """``not``."""

    folds: ClassVar[bool] = True

    operand: Op


# ---------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class Plan:
    """A checked query ready to run.

    Attributes
    ----------
    root : Op
        The result expression.
    type : Type
        Its type (cell set, per-cell values, scalar).
    by : tuple of str
        Grouping keys: ``"fov"`` and/or label columns.
    text : str
        The canonical text of the query.
    defaults : tuple of str
        Parameters the query left out, with the values used.
    conventions : tuple of str
        The conventions of the built-ins it calls.
    spans : dict
        Op → span of the text it came from (for runtime diagnostics).
    """

    root: Op
    type: Type
    by: tuple[str, ...]
    text: str
    defaults: tuple[str, ...] = ()
    conventions: tuple[str, ...] = ()
    spans: dict = field(default_factory=dict, compare=False, repr=False)

    def ops(self) -> list[Op]:
        """Every distinct operation, inputs before users (each shared node once)."""
        return postorder(self.root)

    def needs(self) -> tuple[frozenset, frozenset, bool]:
        """What the plan reads of the data besides positions and windows: (obs columns,
        (gene, layer) pairs, whether cell outlines are needed)."""
        columns, genes, outlines = set(self.by) - {"fov"}, set(), False
        for op in self.ops():
            for f in dataclasses.fields(op):
                value = getattr(op, f.name)
                if f.name == "column" and isinstance(value, str):
                    columns.add(value)
            if isinstance(op, GeneValues):
                genes.add((op.gene, op.layer))
            outlines = outlines or getattr(op, "needs_outlines", False)
        return frozenset(columns), frozenset(genes), outlines

    def span_of(self, op: Op) -> Span:
        return self.spans.get(op, Span(0, len(self.text)))

    def explain(self) -> str:
        """The plan as numbered steps, with defaults and conventions."""
        ops = self.ops()
        number = {op: i + 1 for i, op in enumerate(ops)}
        lines = [f"query: {self.text}", "plan (one pass per field of view; shared steps "
                 "run once):"]
        for op in ops:
            ins = ", ".join(f"#{number[i]}" for i in op.inputs())
            lines.append(f"  #{number[op]:<3} {op.label()}" + (f" <- {ins}" if ins else ""))
        if self.by:
            lines.append("grouped by: " + ", ".join(self.by))
        lines.append("defaults:" + ("" if self.defaults else " none"))
        lines.extend(f"  - {d}" for d in self.defaults)
        lines.append("conventions:" + ("" if self.conventions else " none"))
        lines.extend(f"  - {c}" for c in self.conventions)
        return "\n".join(lines)


def postorder(root: Op, done=()) -> list[Op]:
    """``root`` and the operations under it, inputs before users, each once, skipping
    those in ``done`` (and what lies under them); iterative, for chains of any length."""
    order: dict[Op, None] = {}
    stack = [(root, False)]
    while stack:
        op, expanded = stack.pop()
        if op in order or op in done:
            continue
        if expanded:
            order[op] = None
            continue
        stack.append((op, True))
        stack.extend((child, False) for child in reversed(op.inputs())
                     if child not in order and child not in done)
    return list(order)


# ---------------------------------------------------------------------- argument specs
@dataclass(frozen=True)
class Neighbourhood:
    """``target within radius of around`` as checked: set ops and a radius in µm."""

    target: Op
    radius: float
    around: Op


@dataclass(frozen=True)
class Pairing:
    """``source -> nearest target`` as checked."""

    source: Op
    target: Op
