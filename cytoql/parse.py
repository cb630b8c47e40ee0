"""Stage 1: query text → syntax tree (:mod:`cytoql.nodes`), or QuerySyntaxError.

The grammar is ``grammar/cytoql.lark`` (package data of ``cytoql.grammar``), parsed
LALR with positions; every lark exception becomes an E01xx diagnostic whose message
says in words what was expected.

Nothing here recurses over the input: the LALR parser keeps its own stack, the tree is
turned into nodes by lark's non-recursive transformer, and the depth check walks the
nodes with an explicit stack. The limits (docs/limits.md) make the later stages, which
do recurse, safe by construction: a query has at most :data:`MAX_QUERY_CHARS`
characters (E0108), brackets nest at most :data:`MAX_DEPTH` deep and so do the nodes,
counting through ``let`` names (E0109). A long flat chain (``a or b or c ...``,
``x + y + z ...``, ``A where p where q ...``) is a left-deep tree whose left spine does
not count as nesting: it is accepted at any length up to the size limit.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from cytoql import nodes as n
from cytoql.diagnostics.diagnostic import Diagnostic, Label, Suggestion
from cytoql.errors import QuerySyntaxError
from cytoql.source import Source, Span
from cytoql.units import canonical_unit

__all__ = ["MAX_DEPTH", "MAX_QUERY_CHARS", "grammar_text", "parse"]

#: Longest query text accepted, in characters (E0108). Real queries are well under a
#: thousand characters; every text under the limit parses and checks in well under a
#: second (docs/limits.md).
MAX_QUERY_CHARS = 10_000

#: Deepest nesting accepted (E0109), in brackets and in expression levels. Later stages
#: recurse over the tree with a few frames a level, so 64 levels stay far inside
#: Python's recursion limit wherever the caller is.
MAX_DEPTH = 64


def grammar_text() -> str:
    """The text of ``cytoql.lark``, read from the installed package."""
    return files("cytoql.grammar").joinpath("cytoql.lark").read_text(encoding="utf-8")


class _Newlines:
    """Drop newlines inside parentheses so that calls can span lines."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        for tok in stream:
            if tok.type == "LPAR":
                depth += 1
            elif tok.type == "RPAR":
                depth = max(0, depth - 1)
            elif tok.type == "_NL" and depth:
                continue
            yield tok


@functools.cache
def _parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", propagate_positions=True,
                maybe_placeholders=True, postlex=_Newlines())


def _span(meta) -> Span:
    return Span(meta.start_pos, meta.end_pos)


def _tok_span(tok: Token) -> Span:
    return Span(tok.start_pos, tok.end_pos)


def _unquote(text: str) -> str:
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            i += 1
        out.append(body[i])
        i += 1
    return "".join(out)


@v_args(meta=True, inline=True)
class _ToNodes(Transformer_NonRecursive):
    """lark tree → frozen nodes with spans."""

    def start(self, meta, *statements):
        return list(statements)

    def let_stmt(self, meta, name, value):
        return n.Let(n.Name(str(name), _tok_span(name)), value, _span(meta))

    def query_stmt(self, meta, expr, *by):
        keys = tuple(n.Name(str(t), _tok_span(t)) for t in by if t is not None)
        return n.Query(expr, keys, _span(meta))

    def set_op(self, meta, left, op, right):
        return n.SetOp(str(op), left, right, _span(meta))

    def where(self, meta, base, predicate):
        return n.Where(base, predicate, _span(meta))

    def or_op(self, meta, left, right):
        return n.BoolOp("or", left, right, _span(meta))

    def and_op(self, meta, left, right):
        return n.BoolOp("and", left, right, _span(meta))

    def not_op(self, meta, operand):
        return n.Not(operand, _span(meta))

    def compare(self, meta, left, op, right):
        return n.Compare(str(op), left, right, _span(meta), _tok_span(op))

    def is_in(self, meta, value, *options):
        return n.IsIn(value, tuple(options), _span(meta))

    def within(self, meta, target, radius, around):
        return n.Within(target, radius, around, _span(meta))

    def nearest(self, meta, source, target):
        return n.Nearest(source, target, _span(meta))

    def binary(self, meta, left, op, right):
        return n.BinaryOp(str(op), left, right, _span(meta), _tok_span(op))

    def negate(self, meta, operand):
        return n.Negate(operand, _span(meta))

    def call(self, meta, func, *arguments):
        args, keywords = [], []
        for arg in arguments:
            if arg is None:
                continue
            (keywords if isinstance(arg, n.Keyword) else args).append(arg)
        return n.Call(n.Name(str(func), _tok_span(func)), tuple(args), tuple(keywords),
                      _span(meta))

    def keyword(self, meta, name, value):
        return n.Keyword(n.Name(str(name), _tok_span(name)), value, _span(meta))

    def range(self, meta, start, stop, step):
        return n.Range(start, stop, step, _span(meta))

    def quantity(self, meta, number, unit):
        value = float(number)
        if unit is None:
            return n.Quantity(value, None, _span(meta))
        text = str(unit)
        return n.Quantity(value, canonical_unit(text) or text, _span(meta), _tok_span(unit))

    def string(self, meta, tok):
        return n.String(_unquote(str(tok)), _span(meta))

    def name(self, meta, tok):
        return n.Name(str(tok), _span(meta))


def parse(text: str | Source) -> n.Program:
    """Parse a query text into a :class:`cytoql.nodes.Program`.

    Parameters
    ----------
    text : str or Source

    Returns
    -------
    Program
        Every node carries the span of its text.

    Raises
    ------
    QuerySyntaxError
        E0101–E0107, with the expected tokens in words and fixes for habits from other
        languages (``=`` for ``==``, ``&&``, ``||``, ``!``); E0108 for a text longer
        than :data:`MAX_QUERY_CHARS`, E0109 for nesting deeper than :data:`MAX_DEPTH`.
    """
    source = text if isinstance(text, Source) else Source(text)
    too_long = _size_diagnostic(source)
    if too_long is not None:
        raise QuerySyntaxError([too_long], source)
    too_deep = _bracket_depth_diagnostic(source)
    if too_deep is not None:
        raise QuerySyntaxError([too_deep], source)
    try:
        tree = _parser().parse(source.text)
        statements = _ToNodes().transform(tree)
    except UnexpectedInput as exc:
        raise QuerySyntaxError([_syntax_diagnostic(exc, source)], source) from None
    except VisitError as exc:  # a bug in the transformer, not in the query
        raise exc.orig_exc from None
    program = _program(statements, source)
    too_deep = _depth_diagnostic(program, source)
    if too_deep is not None:
        raise QuerySyntaxError([too_deep], source)
    return program


def _program(statements, source: Source) -> n.Program:
    lets = [s for s in statements if isinstance(s, n.Let)]
    queries = [s for s in statements if isinstance(s, n.Query)]
    end = Span(len(source.text), len(source.text))
    if not queries:
        where = lets[-1].span if lets else end
        raise QuerySyntaxError([Diagnostic(
            "E0107", "the query has no result expression", Label(where, "nothing follows"),
            help="end with an expression to compute, e.g. `count(cells)`")], source)
    if len(queries) > 1 or not isinstance(statements[-1], n.Query):
        extra = queries[1] if len(queries) > 1 else [s for s in statements
                                                     if isinstance(s, n.Let)][-1]
        raise QuerySyntaxError([Diagnostic(
            "E0107", "a query has one result expression, and it comes last",
            Label(extra.span, "after the result expression"),
            help="put `let` bindings first and ask one question per query")], source)
    query = queries[0]
    span = Span(statements[0].span.start, query.span.end)
    return n.Program(tuple(lets), query, span)


# ---------------------------------------------------------------------- limits
_LIMITS_HELP = ("flatten it: chains such as `a or b or c`, `x + y + z` and `A where p where q` "
                "may be any length, but each call, `not`, unary `-` and bracketed right-hand "
                "operand opens a level (docs/limits.md)")
# Strings and comments are skipped when counting brackets (an unclosed string runs to
# the end of its line, as for the lexer).
_BRACKETS = re.compile(r""""(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|#[^\n]*|[()]""")


def _size_diagnostic(source: Source) -> Diagnostic | None:
    size = len(source.text)
    if size <= MAX_QUERY_CHARS:
        return None
    return Diagnostic(
        "E0108", f"query is too long: {size:,} characters, the limit is {MAX_QUERY_CHARS:,}",
        Label(Span(MAX_QUERY_CHARS, MAX_QUERY_CHARS), "the limit is reached here"),
        help="split it into several queries, or put a long list of values into an obs "
             "column and filter on that column")


def _bracket_depth_diagnostic(source: Source) -> Diagnostic | None:
    """E0109 for brackets nested deeper than MAX_DEPTH, before the parser sees them."""
    depth = 0
    for match in _BRACKETS.finditer(source.text):
        bracket = match.group()
        if bracket == "(":
            depth += 1
            if depth > MAX_DEPTH:
                return _too_deep(Span(match.start(), match.end()),
                                 f"bracket {depth} opens here")
        elif bracket == ")":
            depth = max(0, depth - 1)
    return None


# The left operand of a left-associative chain sits at its operator's level, so that
# `a or b or c ...` and `x + y + z ...` do not nest however long they are.
_SPINE = {n.BinaryOp: "left", n.BoolOp: "left", n.SetOp: "left", n.Where: "base"}
# Name fields that name a function, keyword, binding or key rather than a value.
_NOT_VALUES = {(n.Call, "func"), (n.Keyword, "name"), (n.Let, "name"), (n.Query, "by")}


def _levels(expr: n.Expr, lets: dict[str, int]):
    """Yield ``(node, level, parent)`` for every node of ``expr`` in text order, ``expr``
    at level 1; a reference to a ``let`` name stands for its value (``lets``: the depth
    of each earlier binding), as the checker substitutes it."""
    stack = [(expr, 1, None)]
    while stack:
        node, level, parent = stack.pop()
        if isinstance(node, n.Name) and node.id in lets:
            yield node, level + lets[node.id] - 1, parent
            continue
        yield node, level, parent
        children = []
        for name in node._compared:
            if (type(node), name) in _NOT_VALUES:
                continue
            step = 0 if _SPINE.get(type(node)) == name or isinstance(node, n.Keyword) else 1
            value = getattr(node, name)
            children.extend((child, level + step, node)
                            for child in (value if isinstance(value, tuple) else (value,))
                            if isinstance(child, n.Node))
        stack.extend(reversed(children))


def _depth_diagnostic(program: n.Program, source: Source) -> Diagnostic | None:
    """E0109 at the first node deeper than MAX_DEPTH levels, counting through lets."""
    lets: dict[str, int] = {}
    for statement in (*program.lets, program.query):
        expr = statement.value if isinstance(statement, n.Let) else statement.expr
        deepest = 0
        for node, level, parent in _levels(expr, lets):
            if level > MAX_DEPTH:
                if isinstance(node, n.Name) and node.id in lets:
                    return _too_deep(node.span, f"`{node.id}` stands for an expression "
                                                f"{lets[node.id]} levels deep",
                                     note="a `let` name counts with the depth of the "
                                          "expression it names")
                return _too_deep(_opening(node, parent, source.text),
                                 f"level {MAX_DEPTH + 1} opens here")
            deepest = max(deepest, level)
        if isinstance(statement, n.Let):
            lets[statement.name.id] = deepest
    return None


def _opening(node: n.Node, parent: n.Node | None, text: str) -> Span:
    """The smallest span that shows where ``node``'s level opens: a bracket, the
    `not` or `-` before it, or the name of the call it is an argument of."""
    before = node.span.start
    while before > 0 and text[before - 1] in " \t\r\n":
        before -= 1
    if before > 0 and text[before - 1] == "(" and not isinstance(parent, n.Negate):
        return Span(before - 1, before)
    if isinstance(parent, n.Not):
        return Span(parent.span.start, parent.span.start + 3)
    if isinstance(parent, n.Negate):
        return Span(parent.span.start, parent.span.start + 1)
    if isinstance(parent, (n.Call, n.Keyword)) and before > 0:
        return Span(before - 1, before)  # the `,` or `=` before an argument
    return Span(node.span.start, node.span.start + 1)


def _too_deep(span: Span, label: str, note: str | None = None) -> Diagnostic:
    return Diagnostic("E0109", f"expression nested deeper than {MAX_DEPTH} levels",
                      Label(span, label), help=_LIMITS_HELP,
                      notes=(note,) if note else ())


# Terminal names in words, for "expected ..." messages.
_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "UNIT": "a unit",
    "COMPARE": "a comparison (==, !=, <, <=, >, >=)", "ADD": "+ or -", "MUL": "* or /",
    "LPAR": "(", "RPAR": ")", "COMMA": ",", "EQUAL": "=", "SEMICOLON": ";", "MINUS": "-",
    "_NL": "a new line", "$END": "the end of the query", "__ANON_0": "->",
    "__ANON_1": "..", "_BY": "by",
}


# Most telling first: closing brackets, then operands, then operators and keywords.
_ORDER = ["RPAR", "COMMA", "$END", "_NL", "NAME", "NUMBER", "STRING", "LPAR", "UNIT",
          "COMPARE", "ADD", "MUL"]


def _words(expected) -> str:
    ranked = sorted((t for t in expected if t != "SEMICOLON"),
                    key=lambda t: (_ORDER.index(t) if t in _ORDER else len(_ORDER), t))
    names = list(dict.fromkeys(_WORDS.get(t, t.lower()) for t in ranked))
    names = [w if w.startswith(("a ", "an ", "the ", "+", "*")) else f"`{w}`"
             for w in names]
    if len(names) > 8:
        names = names[:8] + ["…"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _describe(tok: Token) -> str:
    if tok.type == "$END":
        return "end of query"
    if tok.type == "_NL":
        return "new line"
    if tok.type in ("NAME", "UNIT"):
        return f"name `{tok}`"
    if tok.type == "NUMBER":
        return f"number `{tok}`"
    if tok.type == "STRING":
        return f"string {tok}"
    return f"`{tok}`"


def _syntax_diagnostic(exc: UnexpectedInput, source: Source) -> Diagnostic:
    text = source.text
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        char = text[pos]
        two = text[pos:pos + 2]
        habits = {"&&": "and", "||": "or", "&": "and", "|": "or", "!": "not"}
        op = two if two in habits else char if char in habits and two != "!=" else None
        if op is not None:
            span = Span(pos, pos + len(op))
            return Diagnostic("E0105", f"`{op}` is not a CytoQL operator",
                              Label(span, f"write `{habits[op]}`"),
                              help=f"boolean operators are words: use `{habits[op]}`",
                              suggestions=(Suggestion(span, habits[op], True),))
        if char in "\"'":
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            return Diagnostic("E0106", "unterminated string", Label(Span(pos, end),
                              "this string is not closed"),
                              help=f"close it with {char} on the same line",
                              suggestions=(Suggestion(Span(end, end), char, True),))
        if char.isalnum() and not char.isascii():
            return _non_ascii_name(text, pos)
        return Diagnostic("E0102", f"unexpected character `{char}`",
                          Label(Span(pos, pos + 1), "not part of CytoQL's syntax"),
                          help="expected " + _words(exc.allowed) if exc.allowed else None)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    expected = exc.accepts or exc.expected
    if tok.type == "$END":
        pos = len(text.rstrip())
        return Diagnostic("E0103", "unexpected end of query",
                          Label(Span(pos, pos), "the query stops here"),
                          help="expected " + _words(expected))
    span = _tok_span(tok)
    if tok.type == "MUL" and str(tok) == "*" and text[tok.start_pos - 1:tok.start_pos] == "*":
        span = Span(tok.start_pos - 1, tok.end_pos)
        return Diagnostic("E0105", "`**` is not a CytoQL operator", Label(span, "write `^`"),
                          help="raise to a power with `^`, e.g. `x ^ 2`",
                          suggestions=(Suggestion(span, "^", True),))
    if tok.type == "EQUAL" and "COMPARE" in expected:
        return Diagnostic("E0104", "`=` is not a comparison", Label(span, "write `==`"),
                          help="compare with `==`; `=` only binds `let` names and "
                               "keyword arguments",
                          suggestions=(Suggestion(span, "==", True),))
    if tok.type == "_NL":
        span = Span(tok.start_pos, tok.start_pos + 1)
        if "RPAR" not in expected:
            return Diagnostic("E0103", "unexpected end of line", Label(span, "the line stops here"),
                              help="expected " + _words(expected))
    return Diagnostic("E0101", f"unexpected {_describe(tok)}",
                      Label(span, "expected " + _words(expected)),
                      help=_token_help(tok, expected))


def _token_help(tok: Token, expected) -> str | None:
    if tok.type == "NAME" and "LPAR" not in expected and str(tok) in ("is", "equals"):
        return "compare with `==`"
    if tok.type == "NUMBER" and "RPAR" in expected:
        return "separate arguments with `,`"
    return None


def _non_ascii_name(text: str, pos: int) -> Diagnostic:
    """E0102 for a name with a non-ASCII letter (`größe`): point to ``col("...")``."""
    start, end = pos, pos + 1
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    word, span = text[start:end], Span(start, end)
    quoted = '"' + word + '"'
    return Diagnostic(
        "E0102", f"unexpected character `{text[pos]}` in the name `{word}`",
        Label(span, "names are ASCII letters, digits and `_`"),
        help=f"read an obs column of this name as `col({quoted})`; a cell type or other "
             f"category is a string: `{quoted}`",
        suggestions=(Suggestion(span, f"col({quoted})", False),))
