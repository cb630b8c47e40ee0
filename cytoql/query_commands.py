"""The language's subcommands of ``cytoql``: ``query``, ``fmt`` and ``explain``.

``cytoql query data.h5ad 'TEXT'`` prints the result (``--json`` for machines,
``--explain`` for the plan, defaults and assumptions); query errors go to stderr as
rustc-style text (``--errors short`` for one line each, or JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from cytoql.work import AUTO, MAX_WORK

__all__ = ["DEMO_QUERIES", "add_query_parsers", "run_demo_queries"]

#: What ``cytoql demo`` asks of the bundled kidney data.
DEMO_QUERIES = [
    ("How many podocytes are there?", 'count(cells where type == "Podocyte")'),
    ("Mean distance from podocytes to the nearest mesangial cell?",
     'mean(distance(cells where type == "Podocyte" -> nearest cells where type == "Mesangial.cell"))'),
    ("Fraction of PCT cells with a macrophage within 30 µm?",
     'let PCT = cells where type == "PCT"\nlet M = cells where type == "macrophage"\n'
     'fraction(PCT where count(M within 30 um) >= 1)'),
    ("Macrophage density (cells/mm²)?", 'density(cells where type == "macrophage")'),
    ("Shannon diversity within 50 µm of podocytes?",
     'mean(shannon(cells within 50 um of cells where type == "Podocyte"))'),
]


def _text(args) -> str:
    if args.file:
        return Path(args.file).read_text(encoding="utf-8")
    if args.text is None or args.text == "-":
        return sys.stdin.read()
    return args.text


def _print_query_error(exc, args) -> None:
    from cytoql.diagnostics.render import render_json, render_short

    diagnostics = getattr(exc, "diagnostics", ())
    if args.json and diagnostics:
        print(json.dumps({"error": [render_json(d, exc.source) for d in diagnostics]}
                         if hasattr(exc, "source") else {"error": str(exc)},
                         ensure_ascii=False, indent=2))
    elif args.errors == "short" and hasattr(exc, "source"):
        print("\n".join(render_short(d, exc.source) for d in diagnostics), file=sys.stderr)
    else:
        print(str(exc), file=sys.stderr)


def cmd_query(args) -> int:
    from cytoql.api import query
    from cytoql.cli import EXIT_DATA, EXIT_OK, UsageError, read_h5ad, sample_from_args
    from cytoql.errors import EvaluationError, QueryError

    try:
        text = _text(args)
    except OSError as exc:
        raise UsageError(f"cannot read the query: {exc}") from None
    sample = sample_from_args(read_h5ad(args.path), args)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the result lists them; printed below
            result = query(sample, text, seed=args.seed, pool=args.pool,
                           max_work=args.max_work, max_memory=args.max_memory)
    except (QueryError, EvaluationError) as exc:
        _print_query_error(exc, args)
        return EXIT_DATA
    if args.json:
        data = result.to_dict()
        if args.explain:
            data["plan"] = result.plan.explain()
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        if args.explain:
            print(result.explain() + "\n")
        print(repr(result))
    return EXIT_OK


def cmd_fmt(args) -> int:
    from cytoql.cli import EXIT_DATA, EXIT_OK
    from cytoql.errors import QueryError
    from cytoql.printer import format_query

    try:
        print(format_query(_text(args)))
    except QueryError as exc:
        _print_query_error(exc, args)
        return EXIT_DATA
    return EXIT_OK


def cmd_explain(args) -> int:
    from cytoql.cli import EXIT_OK, UsageError
    from cytoql.diagnostics.codes import explain

    try:
        print(explain(args.code))
    except KeyError as exc:
        raise UsageError(exc.args[0]) from None
    return EXIT_OK


def _query_source(parser, positional: bool = True) -> None:
    if positional:
        parser.add_argument("text", nargs="?", help="the query text ('-' or absent: stdin)")
    parser.add_argument("-f", "--file", help="read the query from a file instead")
    parser.add_argument("--json", action="store_true", help="JSON output (results and errors)")
    parser.add_argument("--errors", choices=["full", "short"], default="full",
                        help="error format: rustc-style (full) or one line each (short)")


def _limit(text: str):
    from cytoql.work import parse_limit

    try:
        return parse_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_query_parsers(commands, add_data_options) -> None:
    """Add ``query``, ``fmt`` and ``explain`` to the ``cytoql`` subcommands."""
    q = commands.add_parser("query", help="run a CytoQL query on an .h5ad file")
    q.add_argument("path", help="an .h5ad file")
    _query_source(q)
    q.add_argument("--explain", action="store_true",
                   help="also print the plan, defaults, conventions and assumptions")
    q.add_argument("--pool", action="store_true",
                   help="report the pooled value over FOVs as the value")
    q.add_argument("--seed", type=int, default=0, help="seed of random streams (default 0)")
    q.add_argument("--max-work", type=_limit, default=MAX_WORK, metavar="STEPS",
                   help=f"refuse a query estimated above this many steps, mostly neighbour "
                        f"pairs (default {MAX_WORK:g}; none: no limit)")
    q.add_argument("--max-memory", type=_limit, default=AUTO, metavar="BYTES",
                   help="refuse a query estimated to need more memory on one FOV, e.g. "
                        "8GiB (default auto: half of physical memory; none: no limit)")
    add_data_options(q)
    q.set_defaults(run=cmd_query)

    f = commands.add_parser("fmt", help="print a query in canonical form")
    _query_source(f)
    f.set_defaults(run=cmd_fmt)

    e = commands.add_parser("explain", help="explain a diagnostic code, e.g. E0203")
    e.add_argument("code")
    e.set_defaults(run=cmd_explain)


def run_demo_queries(adata) -> None:
    """Print each demo question, its query and its result."""
    from cytoql.api import query

    for question, text in DEMO_QUERIES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = query(adata, text)
        print(f"\n# {question}\n{text}\n{result!r}")
