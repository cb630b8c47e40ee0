"""Calls: overload choice, argument binding, defaults, constants and neighbour specs."""

from __future__ import annotations

from cytoql import nodes as n
from cytoql import plan as p
from cytoql.catalog.spec import AGGREGATES, CATALOG, REQUIRED, Builtin, BuildError, builtins, lookup
from cytoql.check.base import Arg, CheckerBase, Context, ERR, RADIUS
from cytoql.diagnostics.diagnostic import Suggestion
from cytoql.diagnostics.suggest import closest
from cytoql.resolve import unknown_function
from cytoql.types import CELLS, ErrorT, NearestT, PerCellT, ScalarT, WithinT, describe

__all__ = ["Calls"]


class Calls(CheckerBase):
    """Checks calls of built-ins against the catalog (mixed into the checker)."""

    def call(self, node: n.Call, ctx):
        name = node.func.id
        overloads = lookup(name) or next(
            (lookup(b.name) for b in builtins() if name in b.aliases), [])
        if not overloads:
            for arg in (*node.args, *(k.value for k in node.keywords)):
                self.loose(arg, ctx)
            self.diags.append(unknown_function(name, node.func.span, sorted(CATALOG)))
            return None, ERR
        entry, first = self.pick(node, overloads, ctx)
        if entry is None:
            return None, ERR
        args = self.bind(node, entry, ctx, first)
        if args is None:
            return None, ERR
        try:
            built = entry.build(args, Context(self.schema, ctx))
        except BuildError as exc:
            if exc.diagnostic is not None:
                self.diags.append(exc.diagnostic)
                return None, ERR
            arg = args.get(exc.param)
            span = arg.node.span if arg is not None and arg.node is not None else node.span
            return self.error(exc.code, exc.message, span, exc.label, help=exc.help)
        op = built[0]
        if type(op) in AGGREGATES and AGGREGATES[type(op)].combine(op) is not entry.combine:
            raise TypeError(f"catalog bug: {entry.name} declares combine "
                            f"{entry.combine.name!r} but its operation pools by "
                            f"{AGGREGATES[type(op)].combine(op).name!r}")
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
        checked, t = None, None
        if any(b.params[0].kind.expression for b in overloads) and not isinstance(
                first, (n.Within, n.Nearest, n.Range)):
            checked = self.expr(first, ctx)
            t = checked[1]
            if isinstance(t, ErrorT):
                return None, None
        for entry in overloads:
            if entry.params[0].kind.matches(first, t):
                return entry, checked if entry.params[0].kind.expression else None
        found = describe(t) if t is not None else "this argument"
        return self.error("E0301", f"`{node.func.id}` does not take {found}", first.span,
                          "no signature takes this",
                          notes=[f"`{b.signature()}`: first argument {b.params[0].kind.words}"
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
        args, unused = {}, []
        for param in sorted(params, key=lambda q: q.name != "over"):
            if param.name not in given:
                if param.default is REQUIRED:
                    self.error("E0302", f"`{entry.name}` needs `{param.name}` "
                               f"({param.kind.words})", node.span, f"`{param.name}` missing",
                               notes=(f"`{entry.signature()}`",))
                    ok = False
                elif param.default == "context":
                    args[param.name] = Arg(ctx, CELLS, None)
                elif param.default == "cells":
                    args[param.name] = Arg(p.AllCells(), CELLS, None)
                elif param.default is None:  # an optional argument left out
                    args[param.name] = Arg(None, None, None, None)
                else:
                    args[param.name] = Arg(None, ScalarT(bare=True), None, param.default)
                    unused.append(param)
                continue
            arg_node, checked = given[param.name]
            arg = self.argument(entry, param, arg_node, ctx, checked)
            if arg is None:
                ok = False
            else:
                args[param.name] = arg
        for param in unused:
            other = args.get(param.used_when[0]) if param.used_when else None
            if other is None or other.value in param.used_when[1]:
                self.defaults.append(f"{entry.name}: {param.name} = "
                                     f"{param.kind.show_default(param.default)}")
        return args if ok else None

    def argument(self, entry, param, node, ctx, checked) -> Arg | None:
        return param.kind.check(self, entry, param, node, ctx, checked)

    def within(self, node: n.Within, ctx) -> Arg | None:
        to, tt = self.cells(node.target, ctx)
        radius = RADIUS.kind.check(self, None, RADIUS, node.radius, ctx, None)
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
