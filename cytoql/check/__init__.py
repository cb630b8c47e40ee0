"""Stage 3b: types and units against the catalog; fills defaults; builds the plan.

The checker walks the tree once, reporting every independent error: an expression with
an error gets :class:`~cytoql.types.ErrorT`, which every later check accepts silently,
so one mistake is reported once. Per-cell values carry the cell set they are for (the
*context*: the filtered set inside ``where``, else all cells) and are never combined
across different sets.
"""

from __future__ import annotations

import math

from cytoql import nodes as n
from cytoql import plan as p
from cytoql.catalog.spec import AGGREGATES, CATALOG, aggregates_of
from cytoql.check.base import (Arg, Context, ERR, SPEC_HELP, cells_help, is_numeric,
                               raise_for)
from cytoql.check.calls import Calls
from cytoql.check.operators import Operators
from cytoql.printer import to_text
from cytoql.resolve import RESERVED, Schema, unknown_column, unknown_name, unknown_unit
from cytoql.source import Source
from cytoql.types import (CELLS, CellSetT, ErrorT, NearestT, PerCellT, RangeT, ScalarT,
                          StringT, Type, WithinT, describe)
from cytoql.units import DIMENSIONLESS, UNITS, Dim

__all__ = ["Arg", "Context", "check", "raise_for"]


_SPINE = (n.BinaryOp, n.BoolOp, n.SetOp, n.Where)


def _left_spine(node) -> list:
    """The nodes down the left spine of a flat chain (``a + b + c …``, ``x or y or …``,
    ``A where … where …``), nearest first; the parser bounds every other nesting."""
    out = []
    child = node.base if isinstance(node, n.Where) else getattr(node, "left", None)
    while isinstance(node, _SPINE) and isinstance(child, _SPINE):
        out.append(child)
        node = child
        child = node.base if isinstance(node, n.Where) else node.left
    return out


class _Checker(Operators, Calls):
    """Walks a program once, collecting every independent error.

    Long flat chains are checked bottom-up without recursion: each spine node's left
    operand is checked first and handed to it through ``_spine``.
    """

    def __init__(self, schema, source):
        super().__init__(schema, source)
        self._spine: dict = {}

    def program(self, prog: n.Program) -> p.Plan | None:
        for let in prog.lets:
            name = let.name.id
            if name in self.lets:
                self.error("E0207", f"`{name}` is bound twice", let.name.span,
                           "bound again here", help="give the second binding another name")
            elif name in RESERVED or name in self.schema.columns:
                what = "a reserved name" if name in RESERVED else "an obs column"
                self.error("E0206", f"ambiguous name `{name}`", let.name.span,
                           f"`{name}` is also {what}",
                           help=f"choose another name, e.g. `{name}_set`")
            self.lets[name] = self.expr(let.value, p.AllCells())
        root, rtype = self.expr(prog.query.expr, p.AllCells())
        if isinstance(rtype, (StringT, WithinT, NearestT, RangeT)):
            self.error("E0301", f"a query computes cells, per-cell values or a number, not "
                       f"{describe(rtype)}", prog.query.expr.span, "nothing to compute",
                       help=SPEC_HELP.get(type(rtype)))
            rtype = ERR
        by = self.group_keys(prog.query, rtype, root)
        if any(d.severity == "error" for d in self.diags):
            return None
        return p.Plan(root=root, type=rtype, by=by, text=to_text(prog),
                      defaults=tuple(dict.fromkeys(self.defaults)),
                      conventions=tuple(dict.fromkeys(self.conventions)), spans=self.spans)

    def group_keys(self, query: n.Query, rtype: Type, root=None) -> tuple[str, ...]:
        keys = []
        for key in query.by:
            if key.id == "fov":
                keys.append("fov")
            elif key.id == "type" and self.schema.type_key is not None:
                keys.append(self.schema.type_key)
            elif key.id in self.schema.categories:
                keys.append(key.id)
            elif key.id in self.schema.numeric:
                self.error("E0307", f"cannot group by numeric column `{key.id}`", key.span,
                           "not a label column", help="group by `fov`, `type` or a "
                           "categorical obs column")
            else:
                self.diags.append(unknown_column(self.schema, key.id, key.span))
        if query.by and not isinstance(rtype, (ScalarT, ErrorT)):
            self.error("E0307", f"`by` groups summaries, not {describe(rtype)}", query.expr.span,
                       "not a summary", help="summarise first, e.g. `mean(...) by type` or "
                       "`count(...) by fov`")
        elif any(k != "fov" for k in keys) and root is not None and not all(
                AGGREGATES[type(a)].groupable for a in aggregates_of(root)):
            self.error("E0307", "this statistic cannot be grouped by a label column",
                       query.expr.span, "a statistic of the whole FOV",
                       help="compute it per set instead, e.g. for `A` and `B` separately "
                            "with `cells where type == ...`; `by fov` is always possible")
        if len(set(keys)) != len(keys):
            self.error("E0307", "a grouping key is repeated", query.span, "repeated key")
        return tuple(keys)

    # ------------------------------------------------------------------ expressions
    def expr_bound(self, node: n.Expr, ctx: p.Op, name: str, value: tuple) -> tuple:
        """``node`` checked with ``name`` bound to ``value`` (an ``(op, type)`` pair, as a
        ``let`` binds), e.g. once per radius of a sweep: ``((op, type), errors)``. The
        errors are the caller's to report; warnings join the program's, once each."""
        saved = self.lets.get(name), name in self.lets, self._spine, self.diags
        self.lets[name], self._spine, self.diags = value, {}, []
        try:
            checked, found = self.expr(node, ctx), self.diags
        finally:
            shadowed, was_bound, self._spine, self.diags = saved
            if was_bound:
                self.lets[name] = shadowed
            else:
                del self.lets[name]
        self.diags.extend(d for d in found if d.severity != "error" and d not in self.diags)
        return checked, [d for d in found if d.severity == "error"]

    def expr(self, node: n.Expr, ctx: p.Op) -> tuple[object, Type]:
        key = (id(node), id(ctx))
        if key in self._spine:
            return self._spine[key][1]
        pending = []  # a flat chain: check it bottom-up, iteratively
        for inner in _left_spine(node):
            if (id(inner), id(ctx)) in self._spine:
                break
            pending.append(inner)
        for inner in reversed(pending):
            # the entry keeps ctx alive, so its id is not reused during the check
            self._spine[(id(inner), id(ctx))] = (ctx, self._checked(inner, ctx))
        return self._checked(node, ctx)

    def _checked(self, node, ctx):
        op, t = self._expr(node, ctx)
        self.note_span(op, node.span)
        return op, t

    def _expr(self, node, ctx):
        match node:
            case n.Name():
                return self.name(node, ctx)
            case n.Quantity():
                return self.quantity(node)
            case n.String(value=value):
                return None, StringT(value)
            case n.Call():
                return self.call(node, ctx)
            case n.BinaryOp():
                return self.arith(node, ctx)
            case n.Negate(operand=operand):
                op, t = self.expr(operand, ctx)
                if isinstance(t, ErrorT):
                    return None, ERR
                if not is_numeric(t):
                    return self.mismatch(operand, "a number", t)
                return p.Negative(op), t
            case n.Compare():
                return self.compare(node, ctx)
            case n.IsIn():
                return self.is_in(node, ctx)
            case n.BoolOp(op=op, left=left, right=right):
                (lo, lt), (ro, rt) = self.condition(left, ctx), self.condition(right, ctx)
                if isinstance(lt, ErrorT) or isinstance(rt, ErrorT):
                    return None, ERR
                return p.Logic(op, lo, ro), self.joint(node, lt, rt, "bool", DIMENSIONLESS)
            case n.Not(operand=operand):
                op, t = self.condition(operand, ctx)
                return (None, ERR) if isinstance(t, ErrorT) else (p.Negation(op), t)
            case n.SetOp(op=op, left=left, right=right):
                (lo, lt), (ro, rt) = self.cells(left, ctx), self.cells(right, ctx)
                if isinstance(lt, ErrorT) or isinstance(rt, ErrorT):
                    return None, ERR
                return p.SetCombine(op, lo, ro), CELLS
            case n.Where(base=base, predicate=predicate):
                bo, bt = self.cells(base, ctx)
                if isinstance(bt, ErrorT):
                    self.condition(predicate, p.AllCells())
                    return None, ERR
                po, pt = self.condition(predicate, bo)
                if isinstance(pt, ErrorT):
                    return None, ERR
                if isinstance(pt, PerCellT) and pt.context != bo:
                    return self.error(
                        "E0306", "the condition is about other cells than the ones filtered",
                        predicate.span, "per-cell values of another cell set",
                        help="inside `A where ...` per-cell values are for the cells of A: "
                             "drop the explicit `of`/`->` source or use A")
                return p.Filter(bo, po), CELLS
            case n.Within() | n.Nearest():
                kind = "within" if isinstance(node, n.Within) else "nearest"
                return self.error("E0301", f"a {'neighbourhood' if kind == 'within' else 'pairing'}"
                                  " is only an argument", node.span, "used as a value",
                                  help=SPEC_HELP[WithinT if kind == "within" else NearestT])
            case n.Range():
                return self.error("E0301", "a range is only the value of a keyword argument",
                                  node.span, "used as a value")
        raise TypeError(f"unexpected node {type(node).__name__}")

    def cells(self, node, ctx):
        op, t = self.expr(node, ctx)
        if isinstance(t, (CellSetT, ErrorT)):
            return op, t
        return self.mismatch(node, "a cell set", t, help=cells_help(t))

    def condition(self, node, ctx):
        op, t = self.expr(node, ctx)
        if isinstance(t, ErrorT) or (isinstance(t, PerCellT) and t.kind == "bool") or (
                isinstance(t, ScalarT) and t.boolean):
            return op, t
        return self.mismatch(node, "a condition (true/false per cell)", t,
                             help="compare a value, e.g. `count(B within 30 um) >= 1`")

    def joint(self, node, a: Type, b: Type, kind: str, dim: Dim) -> Type:
        """Type of combining two operands: per-cell if either is, contexts must agree."""
        cells = [t for t in (a, b) if isinstance(t, PerCellT)]
        if not cells:
            return ScalarT(dim, boolean=kind == "bool")
        if len(cells) == 2 and cells[0].context != cells[1].context:
            self.error("E0306", "per-cell values over different cells are combined", node.span,
                       "the two sides are for different cell sets",
                       help="combine values of the same cells, e.g. both `of A`")
            return ERR
        return PerCellT(kind, cells[0].context, dim)

    # ------------------------------------------------------------------ leaves
    def name(self, node: n.Name, ctx):
        name = node.id
        schema = self.schema
        if name in self.lets:
            return self.lets[name]
        if name == "cells":
            return p.AllCells(), CELLS
        if name == "pi":
            return p.Const(math.pi), ScalarT(DIMENSIONLESS, bare=True)
        if name == "type":
            if schema.type_key is None:
                return self.error("E0402", "this data has no cell-type column", node.span,
                                  "`type` needs a label column",
                                  help="pass type_key= naming the label column",
                                  notes=(f"label columns: {', '.join(schema.categories)}",))
            if "type" in schema.categories and schema.type_key != "type":
                return self.error("E0206", "ambiguous name `type`", node.span,
                                  f'the cell type (obs["{schema.type_key}"]) or obs["type"]?',
                                  help='write `col("type")` for the obs column')
            return self.label_column(schema.type_key, ctx)
        if name in schema.categories:
            return self.label_column(name, ctx)
        if name in schema.numeric:
            return p.NumericColumn(name), PerCellT("number", ctx)
        self.diags.append(unknown_name(schema, name, node.span, list(self.lets),
                                       list(CATALOG)))
        return None, ERR

    def label_column(self, column, ctx):
        return p.LabelCodes(column), PerCellT("label", ctx, column=column)

    def quantity(self, node: n.Quantity):
        if node.unit is None:
            return p.Const(node.value), ScalarT(DIMENSIONLESS, bare=True)
        unit = UNITS.get(node.unit)
        if unit is None:
            self.diags.append(unknown_unit(node.unit, node.unit_span or node.span))
            return None, ERR
        return p.Const(unit.to_canonical(node.value)), ScalarT(unit.dim)

    # ------------------------------------------------------------------ operators

def check(program: n.Program, schema: Schema, source: Source) -> p.Plan:
    """Check a parsed program against a dataset's schema and build its plan.

    Parameters
    ----------
    program : Program
    schema : Schema
    source : Source
        The text the spans point into (for the error messages).

    Returns
    -------
    Plan

    Raises
    ------
    QueryNameError, QueryTypeError, QueryError
        With every independent error of the query, in text order.
    """
    checker = _Checker(schema, source)
    plan = checker.program(program)
    raise_for(checker.diags, source)
    return plan
