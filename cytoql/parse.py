"""Stage 1: query text → syntax tree (:mod:`cytoql.nodes`), or QuerySyntaxError.

The grammar is ``grammar/cytoql.lark`` (package data of ``cytoql.grammar``), parsed
LALR with positions; every lark exception becomes an E01xx diagnostic whose message
says in words what was expected.
"""

from __future__ import annotations

import functools
from importlib.resources import files

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from cytoql import nodes as n
from cytoql.diagnostics.diagnostic import Diagnostic, Label, Suggestion
from cytoql.errors import QuerySyntaxError
from cytoql.source import Source, Span
from cytoql.units import canonical_unit

__all__ = ["grammar_text", "parse"]


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
class _ToNodes(Transformer):
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
        languages (``=`` for ``==``, ``&&``, ``||``, ``!``).
    """
    source = text if isinstance(text, Source) else Source(text)
    try:
        tree = _parser().parse(source.text)
        statements = _ToNodes().transform(tree)
    except UnexpectedInput as exc:
        raise QuerySyntaxError([_syntax_diagnostic(exc, source)], source) from None
    except VisitError as exc:  # a bug in the transformer, not in the query
        raise exc.orig_exc from None
    return _program(statements, source)


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
