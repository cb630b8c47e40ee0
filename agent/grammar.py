"""CytoQL's lark grammar exported for grammar-constrained decoding (GBNF).

GBNF is llama.cpp's grammar format; vLLM accepts it as ``guided_grammar`` (xgrammar and
llguidance read it too). The export is generated from ``cytoql.grammar/cytoql.lark`` at
run time: lark's compiled BNF rules become GBNF rules, terminal regexes are translated
from their parsed form, and optional blanks (``%ignore``) go between symbols. The root
accepts the reply forms the agent reads: a fenced ```` ```cytoql ```` block or
``NOT EXPRESSIBLE: reason``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

try:  # Python 3.11 ships the regex parser as re._parser
    from re import _constants as _C, _parser as _P
except ImportError:  # pragma: no cover
    import sre_constants as _C, sre_parse as _P  # noqa: E401

__all__ = ["gbnf", "lark_grammar"]


def lark_grammar() -> str:
    """The text of ``cytoql.lark``."""
    return resources.files("cytoql.grammar").joinpath("cytoql.lark").read_text(encoding="utf-8")


def _char(code: int, special: str = '\\"') -> str:
    """``code`` escaped for a GBNF string (``special`` = ``\\"``) or class (``\\]-^``)."""
    c = chr(code)
    if c in special:
        return "\\" + c
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, c)


_IN_CLASS = "\\]-^"


def _class(items, negate=False) -> str:
    out = []
    for op, arg in items:
        if op is _C.NEGATE:
            negate = True
        elif op is _C.LITERAL:
            out.append(_char(arg, _IN_CLASS))
        elif op is _C.RANGE:
            out.append(f"{_char(arg[0], _IN_CLASS)}-{_char(arg[1], _IN_CLASS)}")
        elif op is _C.CATEGORY and arg is _C.CATEGORY_DIGIT:
            out.append("0-9")
        elif op is _C.CATEGORY and arg is _C.CATEGORY_SPACE:
            out.append(" \\t\\n\\r\\f")
        elif op is _C.CATEGORY and arg is _C.CATEGORY_WORD:
            out.append("A-Za-z0-9_")
        else:
            raise ValueError(f"cannot export regex class item {op} {arg} to GBNF")
    return "[" + ("^" if negate else "") + "".join(out) + "]"


def _regex(tree) -> str:
    """GBNF for a parsed regex (sre parse tree); lookaheads are dropped (the grammar's
    only one, in UNIT, is implied by the class that follows it)."""
    parts = []
    for op, arg in tree:
        if op is _C.LITERAL:
            parts.append('"' + _char(arg) + '"')
        elif op is _C.NOT_LITERAL:
            parts.append("[^" + _char(arg, _IN_CLASS) + "]")
        elif op is _C.IN:
            parts.append(_class(arg))
        elif op is _C.ANY:
            parts.append("[^\\n]")
        elif op is _C.CATEGORY:
            parts.append(_class([(op, arg)]))
        elif op is _C.SUBPATTERN:
            parts.append("(" + _regex(arg[-1]) + ")")
        elif op is _C.BRANCH:
            parts.append("(" + " | ".join(_regex(b) for b in arg[1]) + ")")
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
            lo, hi, sub = arg
            body = _regex(sub)
            body = body if len(sub) == 1 and sub[0][0] is not _C.BRANCH else f"({body})"
            suffix = {(0, _C.MAXREPEAT): "*", (1, _C.MAXREPEAT): "+", (0, 1): "?"}.get((lo, hi))
            if suffix is None:
                suffix = "{%d,%s}" % (lo, "" if hi is _C.MAXREPEAT else hi)
            parts.append(body + suffix)
        elif op in (_C.ASSERT_NOT, _C.ASSERT, _C.AT):
            continue
        else:
            raise ValueError(f"cannot export regex construct {op} to GBNF")
    return " ".join(parts) if parts else '""'


def _no_left_recursion(name: str, alts: list[list[str]]) -> str:
    """``A ::= A x | A y | b | c`` as ``A ::= (b | c) (x | y)*`` (GBNF engines do not
    accept left recursion; lark's BNF has only the direct kind)."""
    rec = [a[1:] for a in alts if a and a[0] == name]
    base = [a for a in alts if not a or a[0] != name]
    text = lambda alt: " ws ".join(alt) or '""'  # noqa: E731
    if not rec:
        return " | ".join(dict.fromkeys(text(a) for a in base))
    tail = " | ".join(dict.fromkeys("ws " + text(a) for a in rec))
    return "(" + " | ".join(dict.fromkeys(text(a) for a in base)) + f") ({tail})*"


def _name(kind: str, name: str) -> str:
    return kind + "-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@lru_cache(maxsize=1)
def gbnf() -> str:
    """The GBNF grammar of an agent reply whose query is valid CytoQL syntax.

    Examples
    --------
    >>> text = gbnf()
    >>> text.splitlines()[0].startswith("root ::=")
    True
    """
    from lark import Lark

    parser = Lark(lark_grammar(), parser="lalr", start="start")
    ignored = set(parser.ignore_tokens)
    rules: dict[str, list[list[str]]] = {}
    for rule in parser.rules:
        rules.setdefault(_name("r", rule.origin.name), []).append(
            [_name("t" if s.is_term else "r", s.name) for s in rule.expansion])
    lines = ['root ::= "```cytoql\\n" ws r-start ws "\\n"? "```" | '
             '"NOT EXPRESSIBLE: " [^\\n]+',
             'ws ::= [ \\t]*']
    lines += [f"{name} ::= {_no_left_recursion(name, alts)}" for name, alts in rules.items()]
    for term in parser.terminals:
        if term.name in ignored:
            continue
        pattern = term.pattern
        if pattern.type == "str":
            body = '"' + "".join(_char(ord(c)) for c in pattern.value) + '"'
        else:
            body = _regex(_P.parse(pattern.value))
        lines.append(f"{_name('t', term.name)} ::= {body}")
    return "\n".join(lines) + "\n"
