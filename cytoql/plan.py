"""Stage 4: the checked query as a DAG of operations.

The checker builds operations (:class:`Op`, frozen and hashable, spans outside
equality); equal operations are one node of the DAG, so an intermediate result (a cell
set, its spatial index, a per-cell value) is computed once per FOV however often the
query mentions it. Built-in operations live next to their catalog entries
(``cytoql.catalog.*``); the core ones (sets, columns, arithmetic, logic) are here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from cytoql.source import Span
from cytoql.types import Type

__all__ = ["AllCells", "Arith", "Comparison", "Const", "GeneValues", "InLabels", "LabelCodes",
           "Neighbourhood", "Pairing", "SameLabel",
           "Logic", "Negation", "Negative", "NumericColumn", "Op", "Plan", "SetCombine",
           "Filter"]


@dataclass(frozen=True)
class Op:
    """One operation; ``evaluate(ev)`` computes it on one FOV through the evaluator
    ``ev`` (:class:`cytoql.evaluate.FovEvaluator`), which memoises shared inputs."""

    def inputs(self) -> tuple[Op, ...]:
        out = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Op):
                out.append(value)
            elif isinstance(value, tuple):
                out.extend(v for v in value if isinstance(v, Op))
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

    def evaluate(self, ev):  # pragma: no cover - every concrete op overrides it
        raise NotImplementedError


# ---------------------------------------------------------------------- cell sets
@dataclass(frozen=True)
class AllCells(Op):
    """Every cell of the FOV."""

    def evaluate(self, ev):
        return np.ones(ev.n, dtype=bool)


@dataclass(frozen=True)
class Filter(Op):
    """The cells of ``base`` for which ``predicate`` (per-cell or scalar) is true."""

    base: Op
    predicate: Op

    def evaluate(self, ev):
        return ev.mask(self.base) & ev.truth(self.predicate)


@dataclass(frozen=True)
class SetCombine(Op):
    """``union``, ``intersect`` or ``except``."""

    op: str
    left: Op
    right: Op

    def evaluate(self, ev):
        a, b = ev.mask(self.left), ev.mask(self.right)
        if self.op == "union":
            return a | b
        if self.op == "intersect":
            return a & b
        return a & ~b


# ---------------------------------------------------------------------- per-cell data
@dataclass(frozen=True)
class NumericColumn(Op):
    """A numeric obs column (float64, NaN where missing)."""

    column: str

    def evaluate(self, ev):
        return ev.sample.numeric(self.column)[ev.fov.index]


@dataclass(frozen=True)
class LabelCodes(Op):
    """Integer codes of a label column (-1 = missing)."""

    column: str

    def evaluate(self, ev):
        if self.column == ev.sample.type_key:
            return ev.sample.type_codes[ev.fov.index]
        return ev.sample.codes(self.column)[0][ev.fov.index]


@dataclass(frozen=True)
class GeneValues(Op):
    """Expression of one gene (``adata.X`` or a layer)."""

    gene: str
    layer: str | None = None

    def evaluate(self, ev):
        return ev.sample.expression(self.gene, self.layer)[ev.fov.index]


@dataclass(frozen=True)
class InLabels(Op):
    """True where the label code is one of ``codes``."""

    values: Op
    codes: tuple[int, ...]

    def evaluate(self, ev):
        return np.isin(ev.value(self.values), np.asarray(self.codes, dtype=np.int64))


@dataclass(frozen=True)
class SameLabel(Op):
    """True where two label-code arrays of one column agree on a label (a missing
    label, -1, never matches)."""

    left: Op
    right: Op

    def evaluate(self, ev):
        a, b = ev.value(self.left), ev.value(self.right)
        return (a == b) & (a >= 0)


# ---------------------------------------------------------------------- arithmetic & logic
@dataclass(frozen=True)
class Const(Op):
    """A number in canonical units (µm, cells, rad)."""

    value: float

    def evaluate(self, ev):
        return self.value


@dataclass(frozen=True)
class Arith(Op):
    """``+ - * /``; division follows IEEE (x/0 = ±inf, 0/0 = NaN)."""

    op: str
    left: Op
    right: Op

    def evaluate(self, ev):
        a = np.asarray(ev.value(self.left), dtype=np.float64)
        b = np.asarray(ev.value(self.right), dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = {"+": np.add, "-": np.subtract, "*": np.multiply,
                   "/": np.true_divide}[self.op](a, b)
        return out[()] if out.ndim == 0 else out


@dataclass(frozen=True)
class Negative(Op):
    operand: Op

    def evaluate(self, ev):
        return -ev.value(self.operand)


@dataclass(frozen=True)
class Comparison(Op):
    """``== != < <= > >=``; a comparison with NaN is false (``!=`` too)."""

    op: str
    left: Op
    right: Op

    def evaluate(self, ev):
        a, b = np.asarray(ev.value(self.left)), np.asarray(ev.value(self.right))
        with np.errstate(invalid="ignore"):
            out = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
                   ">": np.greater, ">=": np.greater_equal}[self.op](a, b)
        if self.op == "!=" and (a.dtype.kind == "f" or b.dtype.kind == "f"):
            out = out & ~(np.isnan(a.astype(float)) | np.isnan(b.astype(float)))
        return out[()] if out.ndim == 0 else out


@dataclass(frozen=True)
class Logic(Op):
    """``and`` / ``or``."""

    op: str
    left: Op
    right: Op

    def evaluate(self, ev):
        a, b = ev.truth(self.left), ev.truth(self.right)
        return (a & b) if self.op == "and" else (a | b)


@dataclass(frozen=True)
class Negation(Op):
    """``not``."""

    operand: Op

    def evaluate(self, ev):
        return ~ev.truth(self.operand)


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
        seen: dict[Op, None] = {}

        def visit(op: Op):
            if op in seen:
                return
            for child in op.inputs():
                visit(child)
            seen[op] = None

        visit(self.root)
        return list(seen)

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
