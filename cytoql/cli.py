"""The ``cytoql`` command line.

Exit codes: 0 success; 1 the data or the query cannot be used (the message says why);
2 bad command-line usage or an input file that is missing or unreadable; 3 an internal
error (a CytoQL bug).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cytoql.errors import CytoQLError, InternalError

__all__ = ["main"]

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
#: Ctrl-C, as shells report a process ended by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A bad argument or an input file that cannot be read (exit code 2)."""


def read_h5ad(path: str):
    """Read an ``.h5ad`` file, turning I/O failures into a :class:`UsageError`."""
    import anndata as ad

    file = Path(path)
    if not file.exists():
        raise UsageError(f"no such file: {path}")
    if file.is_dir():
        raise UsageError(f"{path} is a directory, not an .h5ad file")
    try:
        return ad.read_h5ad(file)
    except Exception as exc:  # h5py/anndata raise many types for a bad file
        raise UsageError(f"cannot read {path} as AnnData (.h5ad): {exc}") from None


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type-key", default="cell_type",
                        help="obs column of cell types (default: cell_type)")
    parser.add_argument("--fov-key", default="fov", help="obs column of fields of view (default: fov)")
    parser.add_argument("--sample-key", default=None, help="obs column of samples (optional)")
    parser.add_argument("--unit", default=None, help="unit of obsm['spatial'] (um, mm, nm, px)")
    parser.add_argument("--um-per-unit", type=float, default=None,
                        help="micrometres per coordinate unit (e.g. the pixel size)")


def sample_from_args(adata, args):
    """Build a :class:`~cytoql.data.Sample` from the common data options."""
    from cytoql.data import Sample

    type_key = args.type_key
    if type_key == "cell_type" and type_key not in adata.obs.columns:
        type_key = None  # data without labels can still be described and queried by position
    return Sample.from_anndata(adata, type_key=type_key, fov_key=args.fov_key,
                               sample_key=args.sample_key, unit=args.unit,
                               um_per_unit=args.um_per_unit)


def cmd_info(args) -> int:
    sample = sample_from_args(read_h5ad(args.path), args)
    print(f"{args.path}")
    print(sample.summary())
    return EXIT_OK


def cmd_demo(args) -> int:
    from cytoql.data import Sample
    from cytoql.datasets import cosmx_kidney

    if args.image:
        from cytoql.segment.command import run_image_demo

        return run_image_demo()

    from cytoql.query_commands import run_demo_queries

    adata = cosmx_kidney()
    sample = Sample.from_anndata(adata)
    print("CytoQL demo: CosMx kidney biopsy, 2 fields of view "
          "(data: Bruker Spatial Biology, MIT license)\n")
    print(sample.summary())
    run_demo_queries(adata)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cytoql", description="Typed spatial queries over spatial single-cell data (AnnData).",
        epilog="exit codes: 0 ok, 1 data or query error, 2 usage or unreadable file, 3 internal error")
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = commands.add_parser("info", help="summarise an .h5ad file: FOVs, windows, cell types, unit")
    info.add_argument("path", help="an .h5ad file")
    _add_data_options(info)
    info.set_defaults(run=cmd_info)

    demo = commands.add_parser("demo", help="run CytoQL on the bundled CosMx kidney data")
    demo.add_argument("--image", action="store_true",
                      help="instead: image -> segmentation -> typing -> spatial facts on a "
                           "synthetic multiplex image")
    demo.set_defaults(run=cmd_demo)

    from cytoql.query_commands import add_query_parsers

    add_query_parsers(commands, _add_data_options)

    from cytoql.segment.command import add_segment_parser

    add_segment_parser(commands)
    _add_plugin_parsers(commands)
    return parser


def _add_plugin_parsers(commands) -> None:
    """Subcommands of other packages (the agent's ``ask``, ``mcp``, ``agent-bench``):
    each ``cytoql.commands`` entry point is ``register(commands, add_data_options)``. The
    language never imports them by name; one that fails to load is skipped with a note."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="cytoql.commands"):
        try:
            entry.load()(commands, _add_data_options)
        except Exception as exc:  # a broken plugin must not break `cytoql info`
            print(f"cytoql: note: command {entry.name!r} unavailable: {exc}", file=sys.stderr)


def _version() -> str:
    from cytoql import __version__

    return f"cytoql {__version__}"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # the reader closed the pipe (`cytoql demo | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("cytoql: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        print(f"cytoql: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InternalError as exc:
        print(f"cytoql: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except CytoQLError as exc:
        print(f"cytoql: error: {exc}", file=sys.stderr)
        return EXIT_DATA


if __name__ == "__main__":
    sys.exit(main())
