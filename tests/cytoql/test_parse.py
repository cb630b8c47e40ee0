"""Parser and printer: trees with spans, canonical printing, round trip, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql import nodes as n
from cytoql.errors import QuerySyntaxError
from cytoql.parse import parse
from cytoql.printer import format_query, to_text
from cytoql.source import Span
from query_strategies import programs

DOC_EXAMPLE = '''let T = cells where type == "T cell"   # comment
let E = cells where type == "Epithelial"
mean(distance(T -> nearest E))'''


def test_parse_builds_the_tree_of_the_brief_example():
    prog = parse(DOC_EXAMPLE)
    assert [let.name.id for let in prog.lets] == ["T", "E"]
    assert prog.lets[0].value == n.Where(n.Name("cells"),
                                         n.Compare("==", n.Name("type"), n.String("T cell")))
    assert prog.query.expr == n.Call(n.Name("mean"), (
        n.Call(n.Name("distance"), (n.Nearest(n.Name("T"), n.Name("E")),)),))


def test_spans_point_at_the_text_of_each_node():
    text = 'fraction(E where count(T within 30 um) >= 1)'
    prog = parse(text)
    where = prog.query.expr.args[0]
    within = where.predicate.left.args[0]
    assert text[where.span.start:where.span.end] == "E where count(T within 30 um) >= 1"
    assert text[within.span.start:within.span.end] == "T within 30 um"
    assert text[within.radius.span.start:within.radius.span.end] == "30 um"


@pytest.mark.parametrize("written, unit", [("30 um", "um"), ("30µm", "um"), ("30 μm", "um"),
                                          ("0.1 mm", "mm"), ("5 µm²", "um2"),
                                          ("500 cells/mm2", "cells/mm2"), ("3 microns", "microns")])
def test_units_are_stored_in_canonical_spelling(written, unit):
    assert parse(written).query.expr.unit == unit


def test_precedence_where_binds_tighter_than_union_and_looser_than_and():
    prog = parse('A where x == 1 and y == 2 union B where z')
    expr = prog.query.expr
    assert isinstance(expr, n.SetOp) and expr.op == "union"
    assert isinstance(expr.left, n.Where) and isinstance(expr.left.predicate, n.BoolOp)


def test_power_binds_tighter_than_unary_minus_and_associates_to_the_right():
    neg = parse("-x ^ 2").query.expr
    assert isinstance(neg, n.Negate) and neg.operand.op == "^"
    chain = parse("2 ^ 3 ^ 2").query.expr
    assert chain.left == n.Quantity(2.0, None) and chain.right.op == "^"
    product = parse("a * b ^ -1").query.expr
    assert product.op == "*" and product.right.op == "^"
    assert isinstance(product.right.right, n.Negate)
    assert format_query("(2^3)^2") == "(2 ^ 3) ^ 2"
    assert format_query("(-x)^2") == "(-x) ^ 2"
    assert format_query("2^(3^2)") == "2 ^ 3 ^ 2"


def test_python_power_has_a_confident_fix():
    with pytest.raises(QuerySyntaxError) as info:
        parse("x ** 2")
    (d,) = info.value.diagnostics
    assert d.code == "E0105" and "`**` is not a CytoQL operator" in d.message
    assert d.suggestions[0].replacement == "^" and d.suggestions[0].span == Span(2, 4)


def test_newlines_inside_parentheses_are_ignored():
    assert parse("mean(\n  distance(T ->\n nearest E)\n)") == parse("mean(distance(T -> nearest E))")


def test_group_by_keys_and_ranges():
    prog = parse("L(T, r = 0 um .. 100 um by 10 um) by fov, type")
    assert [k.id for k in prog.query.by] == ["fov", "type"]
    rng = prog.query.expr.keywords[0].value
    assert rng == n.Range(n.Quantity(0.0, "um"), n.Quantity(100.0, "um"), n.Quantity(10.0, "um"))


def test_format_is_canonical():
    assert format_query("mean(distance(T->nearest E,k=2))  by fov") == \
        "mean(distance(T -> nearest E, k = 2)) by fov"
    assert format_query("-(3um + 2)*4") == "-(3 um + 2) * 4"
    assert format_query("x where (a or b) and not c") == "x where (a or b) and not c"


@given(programs)
def test_print_then_parse_gives_the_same_tree(prog):
    assert parse(to_text(prog)) == prog


@pytest.mark.parametrize("text, code", [
    ('count(cells where type = "PCT")', "E0104"),
    ("count(a && b)", "E0105"),
    ("count(a || b)", "E0105"),
    ("count(!a)", "E0105"),
    ("mean(x", "E0103"),
    ("mean(x))", "E0101"),
    ('count("PCT)', "E0106"),
    ("count(x $)", "E0102"),
    ("let A = cells", "E0107"),
    ("x\ny", "E0107"),
    ("", "E0107"),
])
def test_syntax_errors_have_codes(text, code):
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    assert [d.code for d in info.value.diagnostics] == [code]


def test_equals_for_comparison_has_a_confident_fix():
    text = 'count(cells where type = "PCT")'
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    (fix,) = info.value.diagnostics[0].suggestions
    assert fix.confident and text[:fix.span.start] + fix.replacement + text[fix.span.end:] \
        == 'count(cells where type == "PCT")'


_ALPHABET = st.sampled_from(list('abcT()",.-><=!&|#$0123456789 \n\tumµ²/*+;\'\\') +
                            ["where", "within", "nearest", "let", " of ", "by", "in", ".."])


@given(st.lists(_ALPHABET, max_size=30).map("".join))
def test_random_text_raises_only_query_syntax_error(text):
    try:
        parse(text)
    except QuerySyntaxError:
        pass


@pytest.mark.parametrize("text, word", [("mean(größe)", "größe"),
                                        ("count(cells where Ölwert > 3)", "Ölwert"),
                                        ("mean(x_é2)", "x_é2")])
def test_a_non_ascii_letter_in_a_name_points_to_col(text, word):
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    (diag,) = info.value.diagnostics
    assert diag.code == "E0102" and text[diag.span.start:diag.span.end] == word
    assert f'`col("{word}")`' in diag.help
    (fix,) = diag.suggestions
    assert fix.replacement == f'col("{word}")' and not fix.confident
