"""The ``cytoql segment`` command and the image part of ``cytoql demo --image``.

``cytoql/cli.py`` registers these; the options of each method are generated from its
parameter class, so the CLI and the Python API cannot drift apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from cytoql.interop import keys
from cytoql.segment.params import METHODS

__all__ = ["add_segment_parser", "run_image_demo", "run_segment"]

# Parameters whose default is None need their type spelled out.
_OPTION_TYPES = {"model_path": str, "diameter": float}

DEMO_GATING = """\
# Gating rules of the image demo: one positivity threshold per marker (mean intensity),
# rules tried in order, the first match wins.
unassigned = "unassigned"

[thresholds]
CD3 = 0.4
CD20 = 0.4
PanCK = 0.4

[[rules]]
type = "T cell"
positive = ["CD3"]
negative = ["CD20", "PanCK"]

[[rules]]
type = "B cell"
positive = ["CD20"]
negative = ["CD3", "PanCK"]

[[rules]]
type = "Epithelial"
positive = ["PanCK"]
"""


def _method_options() -> dict[str, tuple[type, list[str]]]:
    """Option name → (type, methods that accept it), over every method's parameters."""
    options: dict[str, tuple[type, list[str]]] = {}
    for method, cls in METHODS.items():
        for field in dataclasses.fields(cls):
            kind = _OPTION_TYPES.get(field.name, type(field.default))
            options.setdefault(field.name, (kind, []))[1].append(method)
    return options


def add_segment_parser(commands) -> argparse.ArgumentParser:
    """Add ``segment`` to the ``cytoql`` sub-command parsers; returns its parser."""
    parser = commands.add_parser(
        "segment", help="segment a multiplex (OME-)TIFF into cells and write an .h5ad",
        description="Segment nuclei/cells in a multiplex image and write AnnData: "
                    "centroids in obsm['spatial'], outlines in obsm['polygons'], "
                    "morphology in obs, mean channel intensities in X.")
    parser.add_argument("image", help="a TIFF or OME-TIFF file (channels, Y, X)")
    parser.add_argument("-o", "--output", required=True, help="the .h5ad file to write")
    parser.add_argument("--nuclear", default="0",
                        help="nuclear channel: index or name (default: 0)")
    parser.add_argument("--membrane", default=None,
                        help="membrane channel: index or name (optional)")
    parser.add_argument("--method", choices=list(METHODS), default="skimage",
                        help="segmentation method (default: skimage)")
    parser.add_argument("--um-per-px", type=float, default=None,
                        help="pixel size in µm (default: from the file's metadata; if absent "
                             "positions stay in pixels)")
    parser.add_argument("--channel-names", default=None,
                        help="comma-separated channel names (override the file's)")
    parser.add_argument("--fov", default=None, help="FOV name (default: the file name)")
    parser.add_argument("--tile-size", type=int, default=None,
                        help="process in square tiles of this many pixels")
    parser.add_argument("--tile-overlap", type=int, default=64,
                        help="context around each tile in pixels (default: 64; must exceed "
                             "the largest cell diameter)")
    parser.add_argument("--gating", default=None,
                        help="cell-typing rules (.toml or .json) applied to the intensities")
    parser.add_argument("--type-key", default="cell_type",
                        help="obs column for the cell types (default: cell_type)")
    group = parser.add_argument_group(
        "method options", "parameters of the methods (see cytoql.segment.SkimageParams and "
                          "CellposeParams; default: the method's own)")
    for name, (kind, methods) in _method_options().items():
        flag = "--" + name.replace("_", "-")
        where = "/".join(methods)
        if kind is bool:
            group.add_argument(flag, dest=f"opt_{name}", action="store_true",
                               default=argparse.SUPPRESS, help=f"({where})")
        else:
            group.add_argument(flag, dest=f"opt_{name}", type=kind, default=argparse.SUPPRESS,
                               metavar=name.upper(), help=f"({where})")
    parser.set_defaults(run=run_segment)
    return parser


def _channel(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.lstrip("-").isdigit() else value


def run_segment(args) -> int:
    """Run ``cytoql segment``: image in, .h5ad out, a short summary on stdout."""
    from cytoql.cli import EXIT_OK, UsageError
    from cytoql.errors import DataError
    from cytoql.segment.pipeline import segment

    options = {k[4:]: v for k, v in vars(args).items() if k.startswith("opt_")}
    method_fields = {f.name for f in dataclasses.fields(METHODS[args.method])}
    foreign = sorted(set(options) - method_fields)
    if foreign:
        raise UsageError(f"option(s) {', '.join('--' + f.replace('_', '-') for f in foreign)} "
                         f"do not apply to --method {args.method}")
    if not Path(args.image).is_file():
        raise UsageError(f"no such file: {args.image}")
    import tifffile

    try:  # an unreadable input file is a usage error (exit 2), as for .h5ad inputs
        with tifffile.TiffFile(args.image):
            pass
    except Exception as exc:  # tifffile raises many types for a non-TIFF
        raise UsageError(f"cannot read {args.image} as a TIFF image: {exc}") from None
    names = args.channel_names.split(",") if args.channel_names else None
    try:
        adata = segment(args.image, nuclear=_channel(args.nuclear),
                        membrane=_channel(args.membrane), method=args.method, options=options,
                        um_per_px=args.um_per_px, channel_names=names, fov=args.fov,
                        tile_size=args.tile_size, tile_overlap=args.tile_overlap,
                        gating=args.gating, type_key=args.type_key)
    except DataError:
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    adata.write_h5ad(args.output)
    print(_describe(adata, args.type_key))
    print(f"wrote {args.output}")
    return EXIT_OK


def _describe(adata, type_key: str) -> str:
    record = adata.uns[keys.SEGMENTATION]
    unit = adata.uns["spatial_unit"]
    size = (f"{record['um_per_px']:g} µm/px from {record['pixel_size_source']}"
            if "um_per_px" in record else "unknown pixel size: positions in px")
    lines = [f"{adata.n_obs} cells segmented by {record['method']} in "
             f"{record['image_shape'][1]} × {record['image_shape'][0]} px ({size}); "
             f"unit {unit}; channels: {', '.join(record['channels'])}"]
    if type_key in adata.obs:
        counts = adata.obs[type_key].value_counts(sort=False)
        lines.append("cell types: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return "\n".join(lines)


#: The spatial questions the image demo asks of the segmented, typed cells.
DEMO_QUERIES = (
    ("density of T cells", 'density(cells where type == "T cell")'),
    ("mean distance from a T cell to the nearest epithelial cell",
     'mean(distance(cells where type == "T cell" -> nearest cells where type == "Epithelial"))'),
    ("fraction of epithelial cells with a T cell within 30 µm",
     'let T = cells where type == "T cell"\n'
     'fraction(cells where type == "Epithelial" where count(T within 30 um) >= 1)'),
    ("mean cell area by type (µm²: pixel count × pixel area)", "mean(area) by type"),
)


def _answer(adata, text: str) -> str:
    """One CytoQL query on the demo data, its value formatted with its unit."""
    from cytoql.api import query

    result = query(adata, text)
    value = result.value
    unit = f" {result.unit}" if result.unit else ""
    if isinstance(value, pd.Series):
        return "; ".join(f"{k}: {v:.4g}{unit}" for k, v in value.dropna().items())
    return f"{value:.4g}{unit}"


def run_image_demo(seed: int = 0) -> int:
    """Synthetic OME-TIFF → segmentation → gating → spatial facts, printed."""
    from cytoql.cli import EXIT_OK
    from cytoql.segment.pipeline import segment
    from cytoql.segment.synthetic_image import synthetic_multiplex_image

    truth = synthetic_multiplex_image((512, 512), n_cells=220, touching_pairs=15, noise=0.08,
                                      rng=np.random.default_rng(seed))
    print("CytoQL image demo: a synthetic 5-channel multiplex image (512 × 512 px, "
          f"{truth.um_per_px} µm/px, {truth.n_cells} nuclei of which "
          f"{int(truth.touching.sum())} touch), generated with seed {seed}\n")
    with tempfile.TemporaryDirectory() as tmp:
        from cytoql.segment.io import write_ome_tiff

        path = write_ome_tiff(Path(tmp) / "demo.ome.tif", truth.pixels, truth.channel_names,
                              truth.um_per_px)
        rules = Path(tmp) / "gating.toml"
        rules.write_text(DEMO_GATING)
        adata = segment(path, nuclear="DAPI", membrane="Membrane", gating=rules,
                        options={"expand_px": 3.0}, tile_size=256, tile_overlap=48)
    print(_describe(adata, "cell_type"))
    cols, rows = np.floor(adata.obsm["spatial"] / truth.um_per_px).astype(int).T
    under = truth.labels[rows, cols]
    found = np.unique(under[under > 0])
    typed = np.mean(adata.obs["cell_type"].to_numpy()[under > 0]
                    == truth.cell_types[under[under > 0] - 1])
    print(f"against the truth: {len(found)} of {truth.n_cells} nuclei found, "
          f"{int((under == 0).sum())} detections on background, "
          f"{typed:.0%} of found cells typed correctly\n")
    print("spatial questions, each one CytoQL query:")
    for question, text in DEMO_QUERIES:
        print(f"  {question}:\n    {text.replace(chr(10), chr(10) + '    ')}\n"
              f"    = {_answer(adata, text)}")
    return EXIT_OK
