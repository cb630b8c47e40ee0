"""Stage 3b: types and units against the catalog; fills defaults; builds the plan.

The checker walks the tree once, reporting every independent error: an expression with
an error gets :class:`~cytoql.types.ErrorT`, which every later check accepts silently,
so one mistake is reported once. Per-cell values carry the cell set they are for (the
*context*: the filtered set inside ``where``, else all cells) and are never combined
across different sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from cytoql import nodes as n
from cytoql import plan as p
from cytoql.catalog.spec import (CATALOG, KINDS, REQUIRED, Builtin, BuildError, Param, builtins,
                                 lookup)
from cytoql.diagnostics.diagnostic import Diagnostic, Label, Suggestion
from cytoql.diagnostics.suggest import closest
from cytoql.errors import QueryError, QueryNameError, QuerySyntaxError, QueryTypeError
from cytoql.printer import to_text
from cytoql.resolve import (RESERVED, Schema, unknown_category, unknown_column,
                            unknown_function, unknown_name, unknown_unit)
from cytoql.source import Source, Span
from cytoql.types import (CELLS, CellSetT, ErrorT, NearestT, PerCellT, RangeT, ScalarT,
                          StringT, Type, WithinT, describe)
from cytoql.units import COUNT, DIMENSIONLESS, LENGTH, UNITS, Dim, report_unit

__all__ = ["Arg", "Context", "check", "raise_for"]

_ERR = ErrorT()


@dataclass(frozen=True)
class Arg:
    """A checked argument: its op (or spec), type, constant value and node."""

    op: object
    type: Type
    node: n.Node | None
    value: object = None


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


def _constant(op) -> float | None:
    """The value of an op built only from constants, else None."""
    if isinstance(op, p.Const):
        return op.value
    if isinstance(op, p.Negative):
        inner = _constant(op.operand)
        return None if inner is None else -inner
    if isinstance(op, p.Arith):
        a, b = _constant(op.left), _constant(op.right)
        if a is None or b is None:
            return None
        if op.op == "/":
            return a / b if b else None
        return {"+": a + b, "-": a - b, "*": a * b}[op.op]
    return None


class _Checker:
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
        return None, _ERR

    def mismatch(self, node, expected: str, found: Type, help=None):
        return self.error("E0301", f"expected {expected}, found {describe(found)}", node.span,
                          f"this is {describe(found)}", help=help)

    def note_span(self, op, span):
        if op is not None and op not in self.spans:
            self.spans[op] = span
        return op

    # ------------------------------------------------------------------ program
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
                       help=_SPEC_HELP.get(type(rtype)))
            rtype = _ERR
        by = self.group_keys(prog.query, rtype)
        if any(d.severity == "error" for d in self.diags):
            return None
        return p.Plan(root=root, type=rtype, by=by, text=to_text(prog),
                      defaults=tuple(dict.fromkeys(self.defaults)),
                      conventions=tuple(dict.fromkeys(self.conventions)), spans=self.spans)

    def group_keys(self, query: n.Query, rtype: Type) -> tuple[str, ...]:
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
        if len(set(keys)) != len(keys):
            self.error("E0307", "a grouping key is repeated", query.span, "repeated key")
        return tuple(keys)

    # ------------------------------------------------------------------ expressions
    def expr(self, node: n.Expr, ctx: p.Op) -> tuple[object, Type]:
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
                    return None, _ERR
                if not _numeric(t):
                    return self.mismatch(operand, "a number", t)
                return p.Negative(op), t
            case n.Compare():
                return self.compare(node, ctx)
            case n.IsIn():
                return self.is_in(node, ctx)
            case n.BoolOp(op=op, left=left, right=right):
                (lo, lt), (ro, rt) = self.condition(left, ctx), self.condition(right, ctx)
                if isinstance(lt, ErrorT) or isinstance(rt, ErrorT):
                    return None, _ERR
                return p.Logic(op, lo, ro), self.joint(node, lt, rt, "bool", DIMENSIONLESS)
            case n.Not(operand=operand):
                op, t = self.condition(operand, ctx)
                return (None, _ERR) if isinstance(t, ErrorT) else (p.Negation(op), t)
            case n.SetOp(op=op, left=left, right=right):
                (lo, lt), (ro, rt) = self.cells(left, ctx), self.cells(right, ctx)
                if isinstance(lt, ErrorT) or isinstance(rt, ErrorT):
                    return None, _ERR
                return p.SetCombine(op, lo, ro), CELLS
            case n.Where(base=base, predicate=predicate):
                bo, bt = self.cells(base, ctx)
                if isinstance(bt, ErrorT):
                    self.condition(predicate, p.AllCells())
                    return None, _ERR
                po, pt = self.condition(predicate, bo)
                if isinstance(pt, ErrorT):
                    return None, _ERR
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
                                  help=_SPEC_HELP[WithinT if kind == "within" else NearestT])
            case n.Range():
                return self.error("E0301", "a range is only the value of a keyword argument",
                                  node.span, "used as a value")
        raise TypeError(f"unexpected node {type(node).__name__}")

    def cells(self, node, ctx):
        op, t = self.expr(node, ctx)
        if isinstance(t, (CellSetT, ErrorT)):
            return op, t
        return self.mismatch(node, "a cell set", t, help=_cells_help(t))

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
            return _ERR
        return PerCellT(kind, cells[0].context, dim)

    # ------------------------------------------------------------------ leaves
    def name(self, node: n.Name, ctx):
        name = node.id
        schema = self.schema
        if name in self.lets:
            return self.lets[name]
        if name == "cells":
            return p.AllCells(), CELLS
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
        return None, _ERR

    def label_column(self, column, ctx):
        return p.LabelCodes(column), PerCellT("label", ctx, column=column)

    def quantity(self, node: n.Quantity):
        if node.unit is None:
            return p.Const(node.value), ScalarT(DIMENSIONLESS, bare=True)
        unit = UNITS.get(node.unit)
        if unit is None:
            self.diags.append(unknown_unit(node.unit, node.unit_span or node.span))
            return None, _ERR
        return p.Const(unit.to_canonical(node.value)), ScalarT(unit.dim)

    # ------------------------------------------------------------------ operators
    def arith(self, node: n.BinaryOp, ctx):
        (lo, lt), (ro, rt) = self.expr(node.left, ctx), self.expr(node.right, ctx)
        if isinstance(lt, ErrorT) or isinstance(rt, ErrorT):
            return None, _ERR
        for side, t in ((node.left, lt), (node.right, rt)):
            if not _numeric(t):
                return self.mismatch(side, "a number", t)
        ld, rd = lt.dim, rt.dim
        if node.op in "+-":
            dim = self.same_units(node, lt, rt, "add" if node.op == "+" else "subtract")
            if dim is None:
                return None, _ERR
        else:
            dim = ld * rd if node.op == "*" else ld / rd
        t = self.joint(node, lt, rt, "number", dim)
        if isinstance(t, ScalarT) and lt.bare and rt.bare:
            t = ScalarT(dim, bare=True)
        return p.Arith(node.op, lo, ro), t

    def same_units(self, node, lt, rt, verb: str) -> Dim | None:
        """The common dimension of two operands, or an E0303/E0304 error."""
        if lt.dim == rt.dim:
            return lt.dim
        for bare, other, side in ((lt, rt, node.left), (rt, lt, node.right)):
            if isinstance(bare, ScalarT) and bare.bare and other.dim in (COUNT, DIMENSIONLESS):
                return other.dim
            if isinstance(bare, ScalarT) and bare.bare and isinstance(side, n.Quantity):
                symbol = report_unit(other.dim)[1]
                unit = next((u.name for u in UNITS.values() if u.symbol == symbol), None)
                fix = (Suggestion(Span(side.span.end, side.span.end), f" {unit}", True),) \
                    if unit else ()
                self.error("E0303", f"missing unit: cannot {verb} a bare number and "
                           f"{other.dim.article()}", side.span, "this number has no unit",
                           help=f"write the unit, e.g. `{to_text(side)} {unit}`" if unit
                           else "give both sides the same unit", suggestions=fix)
                return None
        self.error("E0304", f"unit mismatch: cannot {verb} {lt.dim.article()} and "
                   f"{rt.dim.article()}", node.op_span or node.span,
                   f"{lt.dim.name} {node.op} {rt.dim.name}",
                   help="both sides need the same unit dimension")
        return None

    def compare(self, node: n.Compare, ctx):
        (lo, lt), (ro, rt) = self.expr(node.left, ctx), self.expr(node.right, ctx)
        if isinstance(lt, ErrorT) or isinstance(rt, ErrorT):
            return None, _ERR
        label = next((t for t in (lt, rt) if isinstance(t, PerCellT) and t.kind == "label"), None)
        string = next(((side, t) for side, t in ((node.left, lt), (node.right, rt))
                       if isinstance(t, StringT)), None)
        if label is not None and string is not None:
            if node.op not in ("==", "!="):
                return self.error("E0301", f"labels have no order: `{node.op}` needs numbers",
                                  node.op_span or node.span, "use == or !=")
            code = self.category(label.column, string[0])
            if code is None:
                return None, _ERR
            col_op = lo if lt is label else ro
            op = p.InLabels(col_op, (code,))
            return (op if node.op == "==" else p.Negation(op)), PerCellT("bool", label.context)
        if label is not None or string is not None:
            if label is not None and isinstance(lt, PerCellT) and isinstance(rt, PerCellT) \
                    and lt.kind == rt.kind == "label" and lt.column == rt.column \
                    and node.op in ("==", "!="):
                same = p.SameLabel(lo, ro)
                return ((same if node.op == "==" else p.Negation(same)),
                        self.joint(node, lt, rt, "bool", DIMENSIONLESS))
            side, t = (node.left, lt) if isinstance(lt, (StringT, PerCellT)) and (
                isinstance(lt, StringT) or lt.kind == "label") else (node.right, rt)
            other = rt if t is lt else lt
            return self.error("E0301", f"cannot compare {describe(t)} with {describe(other)}",
                              node.span, "mismatched comparison",
                              help="compare labels (e.g. `type`) with strings and numbers "
                                   "with numbers")
        for side, t in ((node.left, lt), (node.right, rt)):
            if not _numeric(t):
                return self.mismatch(side, "a number", t)
        if self.same_units(node, lt, rt, "compare") is None:
            return None, _ERR
        return p.Comparison(node.op, lo, ro), self.joint(node, lt, rt, "bool", DIMENSIONLESS)

    def is_in(self, node: n.IsIn, ctx):
        vo, vt = self.expr(node.value, ctx)
        if isinstance(vt, ErrorT):
            return None, _ERR
        if not (isinstance(vt, PerCellT) and vt.kind == "label"):
            return self.mismatch(node.value, "labels (e.g. `type`)", vt)
        codes, ok = [], True
        for option in node.options:
            if not isinstance(option, n.String):
                self.error("E0301", "`in (...)` lists strings", option.span, "not a string")
                ok = False
                continue
            code = self.category(vt.column, option)
            ok = ok and code is not None
            codes.append(code)
        if not ok:
            return None, _ERR
        return p.InLabels(vo, tuple(sorted(set(codes)))), PerCellT("bool", vt.context)

    def category(self, column: str, node: n.String) -> int | None:
        names = self.schema.categories[column]
        if node.value in names:
            return names.index(node.value)
        self.diags.append(unknown_category(self.schema, column, node.value, node.span,
                                           column == self.schema.type_key))
        return None

    # ------------------------------------------------------------------ calls
    def call(self, node: n.Call, ctx):
        name = node.func.id
        overloads = lookup(name) or next(
            (lookup(b.name) for b in builtins() if name in b.aliases), [])
        if not overloads:
            for arg in (*node.args, *(k.value for k in node.keywords)):
                self.loose(arg, ctx)
            self.diags.append(unknown_function(name, node.func.span, sorted(CATALOG)))
            return None, _ERR
        entry, first = self.pick(node, overloads, ctx)
        if entry is None:
            return None, _ERR
        args = self.bind(node, entry, ctx, first)
        if args is None:
            return None, _ERR
        try:
            built = entry.build(args, Context(self.schema, ctx))
        except BuildError as exc:
            if hasattr(exc, "diagnostic"):
                self.diags.append(exc.diagnostic)
                return None, _ERR
            arg = args.get(exc.param)
            span = arg.node.span if arg is not None and arg.node is not None else node.span
            return self.error(exc.code, exc.message, span, exc.label, help=exc.help)
        self.conventions.extend(entry.conventions)
        return built

    def loose(self, node, ctx):
        """Check an argument of an unknown call for its own errors."""
        if isinstance(node, n.Within):
            self.loose(node.target, ctx)
            self.loose(node.radius, ctx)
            if node.around is not None:
                self.loose(node.around, ctx)
        elif isinstance(node, n.Nearest):
            if node.source is not None:
                self.loose(node.source, ctx)
            self.loose(node.target, ctx)
        elif isinstance(node, n.Range):
            for part in (node.start, node.stop, node.step):
                if part is not None:
                    self.loose(part, ctx)
        else:
            self.expr(node, ctx)

    def pick(self, node: n.Call, overloads: list[Builtin], ctx):
        """The signature whose first parameter fits the first argument."""
        if len(overloads) == 1:
            return overloads[0], None
        if not node.args:
            return self.error("E0302", f"`{node.func.id}` needs an argument", node.span,
                              "no arguments",
                              notes=[f"`{b.signature()}`" for b in overloads])
        first = node.args[0]
        if isinstance(first, n.Within):
            kind, checked = "within", None
        elif isinstance(first, n.Nearest):
            kind, checked = "nearest", None
        else:
            checked = self.expr(first, ctx)
            t = checked[1]
            if isinstance(t, ErrorT):
                return None, None
            kind = ("cells" if isinstance(t, CellSetT) else
                    "bool" if isinstance(t, PerCellT) and t.kind == "bool" else
                    "number" if isinstance(t, PerCellT) and t.kind == "number" else None)
        for entry in overloads:
            if entry.params[0].kind == kind:
                return entry, checked
        found = describe(checked[1]) if checked else KINDS[kind]
        return self.error("E0301", f"`{node.func.id}` does not take {found}", first.span,
                          "no signature takes this",
                          notes=[f"`{b.signature()}`: first argument {KINDS[b.params[0].kind]}"
                                 for b in overloads])

    def bind(self, node: n.Call, entry: Builtin, ctx, first) -> dict | None:
        params = entry.params
        given: dict[str, tuple[n.Node, object]] = {}
        ok = True
        if len(node.args) > len(params):
            extra = node.args[len(params)]
            self.error("E0302", f"`{entry.name}` takes {len(params)} argument"
                       f"{'s' if len(params) != 1 else ''}, got {len(node.args)}",
                       extra.span | node.args[-1].span, "unexpected argument",
                       notes=(f"`{entry.signature()}`",))
            ok = False
        for i, arg in enumerate(node.args[:len(params)]):
            given[params[i].name] = (arg, first if i == 0 else None)
        over = next((kw for kw in node.keywords if kw.name.id == "over"), None)
        if over is not None and "over" in (q.name for q in params):
            # `over = A` sets the cells in context for the other arguments.
            oo, ot = self.cells(over.value, ctx)
            if isinstance(ot, ErrorT):
                return None
            if first is not None and isinstance(first[1], PerCellT) and first[1].context != oo:
                given[params[0].name] = (node.args[0], None)
            ctx = oo
        names = [q.name for q in params]
        for kw in node.keywords:
            key = kw.name.id
            if key not in names:
                hints = closest(key, names)
                self.error("E0302", f"`{entry.name}` has no parameter `{key}`", kw.name.span,
                           "unknown parameter", help=(f"did you mean `{hints[0]}`?" if hints
                                                      else None),
                           notes=(f"`{entry.signature()}`",),
                           suggestions=[Suggestion(kw.name.span, h, len(hints) == 1)
                                        for h in hints[:1]])
                ok = False
            elif key in given:
                self.error("E0302", f"`{key}` is given twice", kw.span, "given again here",
                           notes=(f"`{entry.signature()}`",))
                ok = False
            else:
                given[key] = (kw.value, None)
        args = {}
        for param in sorted(params, key=lambda q: q.name != "over"):
            if param.name not in given:
                if param.default is REQUIRED:
                    self.error("E0302", f"`{entry.name}` needs `{param.name}` "
                               f"({KINDS[param.kind]})", node.span, f"`{param.name}` missing",
                               notes=(f"`{entry.signature()}`",))
                    ok = False
                elif param.default == "context":
                    args[param.name] = Arg(ctx, CELLS, None)
                elif param.default == "cells":
                    args[param.name] = Arg(p.AllCells(), CELLS, None)
                else:
                    args[param.name] = Arg(None, ScalarT(bare=True), None, param.default)
                    self.defaults.append(f"{entry.name}: {param.name} = {param.default!r}")
                continue
            arg_node, checked = given[param.name]
            arg = self.argument(entry, param, arg_node, ctx, checked)
            if arg is None:
                ok = False
            else:
                args[param.name] = arg
        return args if ok else None

    def argument(self, entry, param: Param, node, ctx, checked) -> Arg | None:
        kind = param.kind
        if kind == "within":
            if not isinstance(node, n.Within):
                self.loose(node, ctx)
                self.error("E0301", f"`{entry.name}` needs {KINDS[kind]}", node.span,
                           "not a neighbourhood", help="write e.g. `B within 30 um`")
                return None
            return self.within(node, ctx)
        if kind == "nearest":
            if not isinstance(node, n.Nearest):
                self.loose(node, ctx)
                self.error("E0301", f"`{entry.name}` needs {KINDS[kind]}", node.span,
                           "not a pairing", help="write e.g. `A -> nearest B`")
                return None
            return self.nearest(node, ctx)
        op, t = checked if checked is not None else self.expr(node, ctx)
        if isinstance(t, ErrorT):
            return None
        if kind == "cells":
            if not isinstance(t, CellSetT):
                self.mismatch(node, "a cell set", t, help=_cells_help(t))
                return None
            return Arg(op, t, node)
        if kind in ("number", "bool"):
            want = "per-cell numbers" if kind == "number" else "per-cell true/false values"
            if not isinstance(t, PerCellT) or t.kind != kind:
                hint = None
                if isinstance(t, CellSetT):
                    hint = ("a cell set has no values: summarise per-cell values, e.g. "
                            "`mean(distance(A -> nearest B))`, or count cells with `count(A)`")
                self.mismatch(node, want, t, help=hint)
                return None
            return Arg(op, t, node)
        if kind == "string":
            if not isinstance(t, StringT):
                self.mismatch(node, "a string", t)
                return None
            return Arg(None, t, node, t.value)
        return self.constant(param, node, op, t)

    def constant(self, param: Param, node, op, t) -> Arg | None:
        """A length, integer or probability known at compile time, range-checked."""
        if isinstance(t, ErrorT):
            return None
        value = _constant(op) if isinstance(t, ScalarT) else None
        if param.kind == "length":
            if isinstance(t, ScalarT) and t.bare and value is not None:
                fix = Suggestion(Span(node.span.end, node.span.end), " um", True)
                self.error("E0303", f"`{param.name}` needs a length, got a bare number",
                           node.span, "no unit", help=f"write `{to_text(node)} um` (or `mm`)",
                           suggestions=(fix,))
                return None
            if not isinstance(t, ScalarT) or t.dim != LENGTH or value is None:
                self.error("E0304" if isinstance(t, ScalarT) and t.dim != LENGTH else "E0301",
                           f"`{param.name}` needs a constant length, got {describe(t)}",
                           node.span, "not a length", help="write e.g. `30 um`")
                return None
        else:
            whole = param.kind == "integer"
            if not isinstance(t, ScalarT) or not t.bare or value is None or (
                    whole and not float(value).is_integer()):
                self.error("E0301", f"`{param.name}` needs {KINDS[param.kind]}, got "
                           f"{describe(t)}", node.span, "not a plain number")
                return None
            value = int(value) if whole else float(value)
        low, high = param.minimum, param.maximum
        if (low is not None and (value <= low if param.strict else value < low)) or (
                high is not None and value > high):
            bound = (f"> {low:g}" if param.strict else f">= {low:g}") if low is not None else ""
            if high is not None:
                bound = f"in [{low:g}, {high:g}]"
            shown = to_text(node)
            self.error("E0305", f"`{param.name}` must be {bound}, got {shown}", node.span,
                       "out of range", help=param.doc)
            return None
        return Arg(None, t, node, value)

    def within(self, node: n.Within, ctx) -> Arg | None:
        to, tt = self.cells(node.target, ctx)
        radius = self.constant(_RADIUS, node.radius, *self.expr(node.radius, ctx))
        around, at = (ctx, CELLS) if node.around is None else self.cells(node.around, ctx)
        if isinstance(tt, ErrorT) or isinstance(at, ErrorT) or radius is None:
            return None
        spec = p.Neighbourhood(to, radius.value, around)
        return Arg(spec, WithinT(), node)

    def nearest(self, node: n.Nearest, ctx) -> Arg | None:
        so, st = (ctx, CELLS) if node.source is None else self.cells(node.source, ctx)
        to, tt = self.cells(node.target, ctx)
        if isinstance(st, ErrorT) or isinstance(tt, ErrorT):
            return None
        return Arg(p.Pairing(so, to), NearestT(), node)


_RADIUS = Param("radius", "length", "a neighbourhood radius is a length > 0, e.g. `30 um`",
                minimum=0.0, strict=True)

_SPEC_HELP = {
    WithinT: "use it inside count, local_fraction, shannon or simpson, e.g. "
             "`count(B within 30 um)`",
    NearestT: "use it inside distance or nearest_type, e.g. `distance(A -> nearest B)`",
}


def _numeric(t: Type) -> bool:
    return (isinstance(t, ScalarT) and not t.boolean) or (
        isinstance(t, PerCellT) and t.kind == "number")


def _cells_help(t: Type) -> str | None:
    if isinstance(t, StringT):
        return f'select cells with a condition: `cells where type == "{t.value}"`'
    if isinstance(t, PerCellT) and t.kind == "bool":
        return "filter cells with it: `cells where <condition>`"
    return None


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
