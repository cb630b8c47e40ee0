"""Syntax tree → canonical CytoQL text (``cytoql fmt``); ``parse(to_text(t)) == t``.

Canonical form: one statement a line, single spaces around binary operators and
keywords, double-quoted strings, canonical unit spellings (``30 um``), and parentheses
only where precedence needs them.
"""

from __future__ import annotations

from cytoql import nodes as n

__all__ = ["format_query", "to_text"]

# Binding strength, loosest first; mirrors the precedence in grammar/cytoql.lark.
# Neighbourhoods and pairings (_SPEC) only appear as call arguments.
_SPEC, _SETOP, _WHERE, _OR, _AND, _NOT, _CMP, _SUM, _PROD, _UNARY, _POW, _ATOM = range(0, 12)


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _expr(node: n.Expr, need: int = _SETOP) -> str:
    return _wrap(*_format(node), need)


def _wrap(text: str, level: int, need: int) -> str:
    if level == _SPEC and need > _SPEC:
        raise ValueError("a neighbourhood or pairing is only printable as a call argument")
    return f"({text})" if level < need else text


# Binary operators: (left field, right field). Their left spine is printed in a loop, so
# a flat chain of any length (`a or b or c ...`) costs no recursion (`^` associates to
# the right: its left operand is an atom and the loop stops there).
_CHAINS = {n.BinaryOp: ("left", "right"), n.BoolOp: ("left", "right"),
           n.SetOp: ("left", "right"), n.Where: ("base", "predicate")}


def _chain_levels(node) -> tuple[int, int, int]:
    """(level of ``node``, level its left operand needs, level its right one needs)."""
    match node:
        case n.BinaryOp(op="^"):
            return _POW, _ATOM, _UNARY
        case n.BinaryOp(op=op):
            level = _SUM if op in "+-" else _PROD
            return level, level, level + 1
        case n.BoolOp(op=op):
            level = _OR if op == "or" else _AND
            return level, level, level + 1
        case n.SetOp():
            return _SETOP, _SETOP, _WHERE
        case n.Where():
            return _WHERE, _WHERE, _OR


def _format_chain(node) -> tuple[str, int]:
    spine = []
    while type(node) in _CHAINS:
        spine.append(node)
        node = getattr(node, _CHAINS[type(node)][0])
    text, level = _format(node)
    for link in reversed(spine):
        own, left_need, right_need = _chain_levels(link)
        right = getattr(link, _CHAINS[type(link)][1])
        op = "where" if isinstance(link, n.Where) else link.op
        text, level = f"{_wrap(text, level, left_need)} {op} {_expr(right, right_need)}", own
    return text, level


def _format(node: n.Node) -> tuple[str, int]:
    if type(node) in _CHAINS:
        return _format_chain(node)
    match node:
        case n.Name(id=name):
            return name, _ATOM
        case n.Quantity(value=value, unit=unit):
            return _number(value) + (f" {unit}" if unit else ""), _ATOM
        case n.String(value=value):
            return _string(value), _ATOM
        case n.Call(func=func, args=args, keywords=keywords):
            parts = [_expr(a, _SPEC) for a in args]
            parts += [f"{k.name.id} = {_expr(k.value, _SPEC)}" for k in keywords]
            return f"{func.id}({', '.join(parts)})", _ATOM
        case n.Range(start=start, stop=stop, step=step):
            text = f"{_expr(start, _SUM)} .. {_expr(stop, _SUM)}"
            return text + (f" by {_expr(step, _SUM)}" if step is not None else ""), _ATOM
        case n.Negate(operand=operand):
            return "-" + _expr(operand, _UNARY), _UNARY
        case n.Within(target=target, radius=radius, around=around):
            text = f"{_expr(target)} within {_expr(radius)}"
            return text + (f" of {_expr(around)}" if around is not None else ""), _SPEC
        case n.Nearest(source=source, target=target):
            prefix = f"{_expr(source)} -> " if source is not None else ""
            return f"{prefix}nearest {_expr(target)}", _SPEC
        case n.Compare(op=op, left=left, right=right):
            return f"{_expr(left, _SUM)} {op} {_expr(right, _SUM)}", _CMP
        case n.IsIn(value=value, options=options):
            return f"{_expr(value, _SUM)} in ({', '.join(_expr(o) for o in options)})", _CMP
        case n.Not(operand=operand):
            return f"not {_expr(operand, _NOT)}", _NOT
        case n.Let(name=name, value=value):
            return f"let {name.id} = {_expr(value)}", _ATOM
        case n.Query(expr=expr, by=by):
            return _expr(expr) + (" by " + ", ".join(k.id for k in by) if by else ""), _ATOM
        case n.Program(lets=lets, query=query):
            return "\n".join(_format(s)[0] for s in (*lets, query)), _ATOM
    raise TypeError(f"cannot print {type(node).__name__}")


def to_text(node: n.Node) -> str:
    """Canonical text of a program, statement or expression.

    Parameters
    ----------
    node : Node

    Returns
    -------
    str
        Text that parses back to an equal tree.
    """
    return _format(node)[0]


def format_query(text: str) -> str:
    """Parse and print ``text`` canonically (comments are dropped).

    Raises
    ------
    QuerySyntaxError
    """
    from cytoql.parse import parse

    return to_text(parse(text))
