"""Hypothesis strategies for CytoQL syntax trees and query texts."""

from __future__ import annotations

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
        st.builds(n.BinaryOp, ops("+-*/"), children, children),
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
