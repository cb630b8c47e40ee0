"""Operators: arithmetic and powers with units, comparisons, `in`, and category resolution."""

from __future__ import annotations

import math

from cytoql import nodes as n
from cytoql import plan as p
from cytoql.catalog.kinds import constant_value
from cytoql.check.base import CheckerBase, ERR, is_numeric
from cytoql.diagnostics.diagnostic import Suggestion
from cytoql.printer import to_text
from cytoql.resolve import unknown_category
from cytoql.source import Span
from cytoql.types import ErrorT, PerCellT, ScalarT, StringT, describe
from cytoql.units import COUNT, DIMENSIONLESS, UNITS, Dim, report_unit

__all__ = ["Operators"]


def _literal_unit(dim: Dim) -> str | None:
    """The unit a literal of ``dim`` is written in (``um`` for a length), if any."""
    symbol = report_unit(dim)[1]
    return next((u.name for u in UNITS.values() if u.symbol == symbol), None)


def _dividing(dim: Dim) -> str:
    """How to make a quantity of ``dim`` dimensionless, in words."""
    unit = _literal_unit(dim)
    return f"divide it by `1 {unit}`" if unit else f"divide it by a quantity in {dim.symbol}"


class Operators(CheckerBase):
    """Checks `+ - * / ^`, comparisons and `in` (mixed into the checker)."""

    def arith(self, node: n.BinaryOp, ctx):
        (lo, lt), (ro, rt) = self.expr(node.left, ctx), self.expr(node.right, ctx)
        if isinstance(lt, ErrorT) or isinstance(rt, ErrorT):
            return None, ERR
        for side, t in ((node.left, lt), (node.right, rt)):
            if not is_numeric(t):
                return self.mismatch(side, "a number", t)
        ld, rd = lt.dim, rt.dim
        if node.op == "^":
            dim = self.power_dim(node, lt, ro, rt)
            if dim is None:
                return None, ERR
        elif node.op in "+-":
            dim = self.same_units(node, lt, rt, "add" if node.op == "+" else "subtract")
            if dim is None:
                return None, ERR
        elif node.op in "*/":
            dim = ld * rd if node.op == "*" else ld / rd
        t = self.joint(node, lt, rt, "number", dim)
        if isinstance(t, ScalarT) and lt.bare and rt.bare:
            t = ScalarT(dim, bare=True)
        return p.Arith(node.op, lo, ro), t

    def power_dim(self, node: n.BinaryOp, lt, ro, rt) -> Dim | None:
        """The dimension of ``base ^ exponent``, or an E0308 error."""
        if rt.dim not in (DIMENSIONLESS, COUNT):
            self.error("E0308", f"the exponent is {rt.dim.article()}", node.right.span,
                       "an exponent has no unit",
                       help=f"make it dimensionless first: {_dividing(rt.dim)}")
            return None
        if lt.dim == DIMENSIONLESS:
            return DIMENSIONLESS
        power = constant_value(ro)
        if power is None:
            self.error("E0308", f"{lt.dim.article()} raised to a power that is not a "
                       "constant", node.right.span, "not a constant",
                       help="the unit of the result must be known when the query is "
                            "checked: use a constant exponent, or make the base "
                            f"dimensionless first: {_dividing(lt.dim)}")
            return None
        exponents = [e * power for e in (lt.dim.length, lt.dim.cells, lt.dim.angle)]
        if not all(math.isfinite(e) and abs(e - round(e)) < 1e-9 for e in exponents):
            self.error("E0308", f"{lt.dim.article()} to the power {power:g} has no unit",
                       node.op_span or node.span, f"{lt.dim.name} ^ {power:g}",
                       help="the unit's exponents must stay whole numbers (an area ^ 0.5 "
                            f"is a length); make the base dimensionless first: "
                            f"{_dividing(lt.dim)}")
            return None
        return Dim(*(int(round(e)) for e in exponents))

    def same_units(self, node, lt, rt, verb: str) -> Dim | None:
        """The common dimension of two operands, or an E0303/E0304 error."""
        if lt.dim == rt.dim:
            return lt.dim
        for bare, other, side in ((lt, rt, node.left), (rt, lt, node.right)):
            if isinstance(bare, ScalarT) and bare.bare and other.dim in (COUNT, DIMENSIONLESS):
                return other.dim
            if isinstance(bare, ScalarT) and bare.bare and isinstance(side, n.Quantity):
                unit = _literal_unit(other.dim)
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
            return None, ERR
        label = next((t for t in (lt, rt) if isinstance(t, PerCellT) and t.kind == "label"), None)
        string = next(((side, t) for side, t in ((node.left, lt), (node.right, rt))
                       if isinstance(t, StringT)), None)
        if label is not None and string is not None:
            if node.op not in ("==", "!="):
                return self.error("E0301", f"labels have no order: `{node.op}` needs numbers",
                                  node.op_span or node.span, "use == or !=")
            code = self.category(label.column, string[0])
            if code is None:
                return None, ERR
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
            if not is_numeric(t):
                return self.mismatch(side, "a number", t)
        if self.same_units(node, lt, rt, "compare") is None:
            return None, ERR
        return p.Comparison(node.op, lo, ro), self.joint(node, lt, rt, "bool", DIMENSIONLESS)

    def is_in(self, node: n.IsIn, ctx):
        vo, vt = self.expr(node.value, ctx)
        if isinstance(vt, ErrorT):
            return None, ERR
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
            return None, ERR
        return p.InLabels(vo, tuple(sorted(set(codes)))), PerCellT("bool", vt.context)

    def category(self, column: str, node: n.String) -> int | None:
        names = self.schema.categories[column]
        if node.value in names:
            return names.index(node.value)
        self.diags.append(unknown_category(self.schema, column, node.value, node.span,
                                           column == self.schema.type_key))
        return None

    # ------------------------------------------------------------------ calls
