"""Limits of the front end: long flat chains work, deep nesting and huge texts get a
diagnostic (E0108, E0109), and nothing in parse / nodes / printer recurses over a chain."""

from __future__ import annotations

import pickle
import warnings

import pytest

from cytoql import nodes as n
from cytoql.api import compile, query, schema_of
from cytoql.diagnostics.render import render_text
from cytoql.errors import QuerySyntaxError
from cytoql.parse import MAX_DEPTH, MAX_QUERY_CHARS, parse
from cytoql.printer import to_text
from cytoql.source import Source, Span

# Flat chains far past Python's recursion limit (1000 frames), inside MAX_QUERY_CHARS.
FLAT = {
    "or": "count(cells where " + " or ".join(["x"] * 1900) + ")",
    "and not": "count(cells where " + " and ".join(["not x"] * 950) + ")",
    "plus": "mean(" + "+".join(["x"] * 2400) + ")",  # printed with spaces: 9,600 chars
    "times and minus": "mean(" + " - ".join(["2 * x / 3"] * 800) + ")",
    "where": "count(cells" + " where x" * 1200 + ")",
    "union": "count(cells" + " union c" * 1200 + ")",
    "lets": "let A0 = cells\n" + "\n".join(f"let A{i} = A{i - 1} where x"
                                           for i in range(1, 400)) + "\ncount(A399)",
}


@pytest.mark.parametrize("name", sorted(FLAT))
def test_a_flat_chain_of_any_length_parses_prints_hashes_and_compares(name):
    text = FLAT[name]
    tree = parse(text)
    again = parse(to_text(tree))
    assert again == tree and hash(again) == hash(tree)
    assert parse(text[:-2] + "q)") != tree
    assert pickle.loads(pickle.dumps(tree.query.by)) == tree.query.by


def test_a_left_spine_with_brackets_prints_its_brackets():
    text = "mean(" + "(" * 40 + "x" + "".join(f" + {i}) * {i}" for i in range(40)) + ")"
    tree = parse(text)
    assert parse(to_text(tree)) == tree
    assert to_text(parse("((a + b) * c + d) * e - (f - g)")) == "((a + b) * c + d) * e - (f - g)"


def test_equality_ignores_spans_and_tells_node_types_apart():
    assert n.Name("x", Span(0, 1)) == n.Name("x", Span(5, 6))
    assert hash(n.Name("x", Span(0, 1))) == hash(n.Name("x"))
    assert n.Name("x") != n.String("x")
    assert n.Call(n.Name("f"), (n.Name("x"),)) != n.Call(n.Name("f"), (n.Name("x"), n.Name("x")))
    assert n.Quantity(1.0, "um") != n.Quantity(1.0, None)


def test_pickled_nodes_rebuild_their_hash():
    tree = parse('mean(distance(cells where type == "PCT" -> nearest cells, k = 2)) by fov')
    copy = pickle.loads(pickle.dumps(tree))
    assert copy == tree and hash(copy) == hash(tree) and {copy: 1}[tree] == 1


def _diagnostic(text):
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    (diag,) = info.value.diagnostics
    return diag


# Texts at exactly MAX_DEPTH levels (accepted) and one level more (E0109), with the text
# the caret must cover in the deeper one.
NESTED = {
    "not": (lambda k: "count(cells where " + "not " * k + "x)", MAX_DEPTH - 3, "not"),
    "minus": (lambda k: "mean(" + "-" * k + "total_counts)", MAX_DEPTH - 2, "-"),
    "bracketed right operand": (lambda k: "mean(" + "x + (" * k + "x" + ")" * k + ")",
                                MAX_DEPTH - 2, "("),
    "calls": (lambda k: "mean(" + "count(cells where " * k + "x" + ")" * k + ")",
              (MAX_DEPTH - 2) // 2, "("),
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_nesting_is_accepted_up_to_the_limit_and_refused_past_it(name):
    make, deepest, opening = NESTED[name]
    parse(make(deepest))
    text = make(deepest + 1)
    diag = _diagnostic(text)
    assert diag.code == "E0109"
    assert diag.message == f"expression nested deeper than {MAX_DEPTH} levels"
    assert text[diag.span.start:diag.span.end] == opening
    assert diag.label.message == f"level {MAX_DEPTH + 1} opens here"
    assert "may be any length" in diag.help


def test_the_caret_is_on_the_first_opening_past_the_limit():
    text = "count(cells where " + "not " * 70 + "x)"
    diag = _diagnostic(text)
    start = len("count(cells where ") + 4 * (MAX_DEPTH - 3)
    assert diag.span == Span(start, start + 3)


def test_brackets_are_counted_before_the_parser_runs():
    text = "mean(" + "(" * 4_000 + "x" + ")" * 4_000 + ")"
    diag = _diagnostic(text)
    assert diag.code == "E0109" and diag.span == Span(MAX_DEPTH + 4, MAX_DEPTH + 5)
    assert diag.label.message == f"bracket {MAX_DEPTH + 1} opens here"


def test_brackets_in_strings_and_comments_do_not_count():
    parse('count(cells where type == "' + "(" * 100 + '")  # ' + "(" * 100)


def test_let_names_count_with_the_depth_of_their_expression():
    lets = ["let A0 = total_counts"] + [f"let A{i} = -A{i - 1}" for i in range(1, MAX_DEPTH + 1)]
    parse("\n".join(lets[:MAX_DEPTH - 1]) + f"\nmean(A{MAX_DEPTH - 2})")
    text = "\n".join(lets) + "\nmean(x)"
    diag = _diagnostic(text)
    assert diag.code == "E0109" and text[diag.span.start:diag.span.end] == f"A{MAX_DEPTH - 1}"
    assert diag.label.message == (f"`A{MAX_DEPTH - 1}` stands for an expression "
                                  f"{MAX_DEPTH} levels deep")
    assert diag.notes == ("a `let` name counts with the depth of the expression it names",)


def test_a_query_at_the_depth_limit_compiles_and_runs(kidney):
    """Everything after the parser recurses over the tree: MAX_DEPTH keeps it safe."""
    warnings.simplefilter("ignore")
    text = "count(cells where " + "not " * (MAX_DEPTH - 4) + "total_counts > 1)"
    plain = query(kidney, "count(cells where total_counts > 1)").per_fov
    assert query(kidney, text).per_fov.to_dict() == plain.to_dict()
    minus = "mean(" + "-" * (MAX_DEPTH - 2) + "total_counts)"
    assert compile(minus, schema_of(kidney)).text == "mean(" + "-" * (MAX_DEPTH - 2) + \
        "total_counts)"


def test_a_text_at_the_size_limit_parses_and_one_past_it_is_refused():
    padded = "count(cells)  #"
    parse(padded + "x" * (MAX_QUERY_CHARS - len(padded)))
    text = padded + "x" * (MAX_QUERY_CHARS + 1 - len(padded))
    diag = _diagnostic(text)
    assert diag.code == "E0108" and diag.span == Span(MAX_QUERY_CHARS, MAX_QUERY_CHARS)
    assert diag.message == (f"query is too long: {MAX_QUERY_CHARS + 1:,} characters, the "
                            f"limit is {MAX_QUERY_CHARS:,}")


def test_a_long_line_is_shown_as_an_excerpt_around_the_caret():
    text = "mean(" + "x + " * 500 + "x $)"
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    rendered = render_text(info.value.diagnostics[0], Source(text))
    source_line, caret_line = rendered.splitlines()[3:5]
    assert len(source_line) < 140 and source_line.startswith("1 | …x + x")
    assert source_line.endswith("x $)")
    assert source_line[caret_line.index("^")] == "$"
