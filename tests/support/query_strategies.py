"""Hypothesis strategies for CytoQL syntax trees and query texts."""

from __future__ import annotations

import re

from hypothesis import strategies as st

from cytoql import nodes as n
from cytoql.units import UNITS

KEYWORDS = {"let", "where", "or", "and", "not", "in", "within", "of", "nearest", "union",
            "intersect", "except", "by"}

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in KEYWORDS).map(n.Name)
numbers = st.one_of(st.integers(0, 10_000).map(float),
                    st.floats(0, 1e6, allow_nan=False, allow_infinity=False))
quantities = st.builds(n.Quantity, numbers,
                       st.one_of(st.none(), st.sampled_from(sorted(UNITS))))
strings = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8).map(n.String)
leaves = st.one_of(names, quantities, strings)


def _argument(children):
    """Call arguments: expressions, neighbourhoods (`B within r of A`), pairings."""
    return st.one_of(
        children,
        st.builds(n.Within, children, children, st.one_of(st.none(), children)),
        st.builds(n.Nearest, st.one_of(st.none(), children), children))


def _extend(children):
    ops = st.sampled_from
    return st.one_of(
        st.builds(n.BinaryOp, ops("+-*/^"), children, children),
        st.builds(n.Negate, children),
        st.builds(n.Compare, ops(["==", "!=", "<", "<=", ">", ">="]), children, children),
        st.builds(n.IsIn, children, st.lists(children, min_size=1, max_size=3).map(tuple)),
        st.builds(n.BoolOp, ops(["and", "or"]), children, children),
        st.builds(n.Not, children),
        st.builds(n.SetOp, ops(["union", "intersect", "except"]), children, children),
        st.builds(n.Where, children, children),
        st.builds(n.Call, names, st.lists(_argument(children), max_size=3).map(tuple),
                  st.lists(st.builds(n.Keyword, names, st.one_of(
                      _argument(children), st.builds(n.Range, children, children,
                                                     st.one_of(st.none(), children)))),
                           max_size=2).map(tuple)),
    )


expressions = st.recursive(leaves, _extend, max_leaves=12)
programs = st.builds(
    n.Program,
    st.lists(st.builds(n.Let, names, expressions), max_size=2).map(tuple),
    st.builds(n.Query, expressions, st.lists(names, max_size=2).map(tuple)))


# ---------------------------------------------------------------------- query texts
# Strategies for the fuzzer (tests/cytoql/test_fuzz.py): texts drawn from the grammar
# itself, cookbook queries with a few tokens changed, and with a few bytes changed.

#: Tokens inserted or substituted by the token mutator: CytoQL's own words plus the
#: edge values and habits from other languages that a user or a model might write.
MUTATION_TOKENS = [
    "let", "where", "or", "and", "not", "in", "within", "of", "nearest", "->", "by",
    "union", "intersect", "except", "..", "(", ")", ",", "=", "==", "!=", "<", ">=", "+",
    "-", "*", "/", "^", "**", ";", "\n", "cells", "type", "fov", "total_counts", "count", "mean",
    "distance", "fraction", "quantile", "k", "q", "r", '"PCT"', '"Podocyte"', '"nope"',
    "0", "1", "-1", "0.5", "1e309", "1e-320", "99999999999999999999", "um", "mm", "mm2",
    "cells/mm2", "deg", "microns", "&&", "||", "!", "$", "größe", "'x'", "#",
]

_PIECES = re.compile(r'\s+|"[^"\n]*"|\'[^\'\n]*\'|\w+|\.\.|->|[=!<>]=|\S')


@st.composite
def mutated_queries(draw, texts: list[str]) -> str:
    """A query of ``texts`` with 1-3 tokens deleted, doubled, swapped or replaced, or
    with a token of :data:`MUTATION_TOKENS` inserted (whitespace is kept)."""
    pieces = _PIECES.findall(draw(st.sampled_from(texts)))
    for _ in range(draw(st.integers(1, 3))):
        tokens = [i for i, p in enumerate(pieces) if not p.isspace()]
        i = draw(st.sampled_from(tokens)) if tokens else 0
        kind = draw(st.sampled_from(["delete", "double", "swap", "replace", "insert"]))
        new = draw(st.sampled_from(MUTATION_TOKENS))
        if not tokens or kind == "insert":
            pieces[i:i] = [new, " "]
        elif kind == "delete":
            del pieces[i]
        elif kind == "double":
            pieces[i:i] = [pieces[i], " "]
        elif kind == "swap":
            j = draw(st.sampled_from(tokens))
            pieces[i], pieces[j] = pieces[j], pieces[i]
        else:
            same = [t for t in MUTATION_TOKENS if _kind(t) == _kind(pieces[i])]
            pieces[i] = draw(st.sampled_from(same)) if same and draw(st.booleans()) else new
    return "".join(pieces)


def _kind(token: str) -> str:
    """number, string, word or symbol: a replacement of the same kind keeps the syntax."""
    if token[0].isdigit():
        return "number"
    if token[0] in "\"'":
        return "string"
    return "word" if token[0].isalpha() or token[0] == "_" else "symbol"


@st.composite
def byte_mutated_queries(draw, texts: list[str]) -> str:
    """A query of ``texts`` with 1-4 bytes of its UTF-8 inserted, replaced or deleted
    (invalid UTF-8 decoded with U+FFFD, as a file read with errors="replace")."""
    data = bytearray(draw(st.sampled_from(texts)).encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "replace", "delete"]))
        if kind == "insert" or pos == len(data):
            data[pos:pos] = bytes([draw(st.integers(0, 255))])
        elif kind == "replace":
            data[pos] = draw(st.integers(0, 255))
        else:
            del data[pos]
    return data.decode("utf-8", errors="replace")


def grammar_queries(names: list[str], strings: list[str], max_depth: int = 12
                    ) -> st.SearchStrategy[str]:
    """Texts drawn from ``grammar/cytoql.lark`` (hypothesis.extra.lark), with names and
    strings mostly from the dataset so that many of them also check and run.

    Keywords and names are padded with spaces so that most draws are well-formed; the
    ignored-token rule of ``from_lark`` still glues some together (near-well-formed).
    Past ``max_depth`` nested rules every rule takes its shortest expansion: drawn
    uniformly, the expression rules recurse more often than not and most draws would
    overrun hypothesis's buffer.
    """
    from hypothesis.extra.lark import LarkStrategy, from_lark
    from lark import Lark
    from lark.grammar import NonTerminal

    from cytoql.parse import grammar_text

    class Bounded(LarkStrategy):
        depth = 0

        def draw_symbol(self, data, symbol, draw_state):
            if not isinstance(symbol, NonTerminal):
                return super().draw_symbol(data, symbol, draw_state)
            if self.depth >= max_depth:
                for part in self.nonterminal_strategies[symbol.name].elements[0]:
                    self.draw_symbol(data, part, draw_state)
                return None
            self.depth += 1
            try:
                return super().draw_symbol(data, symbol, draw_state)
            finally:
                self.depth -= 1

    # From the whole-program rule, most draws would be empty or hold several result
    # expressions (E0107) and say little about the rest: draw up to two lets, one query.
    fuzz_rule = "\nfuzz: (let_stmt _NL)~0..2 query_stmt\n"
    lark = Lark(grammar_text() + fuzz_rule, parser="lalr")
    explicit = {t.name: st.just(f" {t.pattern.value} ") for t in lark.terminals
                if t.pattern.type == "str" and t.pattern.value.isalpha()}
    explicit.update({
        "_BY": st.just(" by "),
        "COMMENT": st.just(" "),  # a comment mid-statement would cut it; mutations add them
        "__IGNORE_1": st.just(" "),
        "__IGNORE_2": st.just(" \\\n"),
        "NAME": st.one_of(st.sampled_from(names),
                          st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True)
                          ).map(lambda s: f" {s} "),
        "UNIT": st.sampled_from(sorted(UNITS) + ["microns", "px", "µm", "cells/mm2"]
                                ).map(lambda s: f" {s} "),
        "NUMBER": st.sampled_from(["0", "1", "2", "3", "0.5", "10", "30", "1e3", "1e309",
                                   "99999999999999999999", ".5"]).map(lambda s: f" {s}"),
        "STRING": st.one_of(st.sampled_from(strings), st.text(max_size=5)).map(
            lambda s: '"' + s.replace("\\", "").replace('"', "").replace("\n", "") + '"'),
    })
    from_lark(lark, start="fuzz", explicit=explicit)  # validates the arguments
    return Bounded(lark, "fuzz", explicit, st.characters(codec="ascii"))
