"""From images to AnnData: segmentation, outlines, morphology and cell typing.

``segment(image)`` reads a (OME-)TIFF or array, labels nuclei/cells with scikit-image
(default) or cellpose, measures each object and returns AnnData in CytoQL's layout;
``assign_cell_types`` types cells by gating rules. ``cytoql segment`` is the CLI.

Names load on first use (PEP 562), so that ``cytoql`` can register ``cytoql segment``
(:mod:`cytoql.segment.command` reads only :mod:`cytoql.segment.params`) without
importing scipy.ndimage, shapely and the image readers for every command.
"""

from importlib import import_module

_HOME = {
    "CellposeParams": "params", "SkimageParams": "params", "METHODS": "params",
    "GatingRules": "gating", "assign_cell_types": "gating", "load_gating": "gating",
    "types_from_column": "gating",
    "MultiplexImage": "io", "image_from_array": "io", "read_image": "io",
    "write_ome_tiff": "io",
    "labels_to_anndata": "measure",
    "segment": "pipeline", "segment_labels": "pipeline",
    "SyntheticImage": "synthetic_image", "synthetic_multiplex_image": "synthetic_image",
}

__all__ = sorted(_HOME, key=lambda name: (not name.isupper(), not name[0].isupper(), name))


def __getattr__(name):
    if name not in _HOME:
        raise AttributeError(f"module 'cytoql.segment' has no attribute {name!r}")
    value = getattr(import_module(f"cytoql.segment.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOME))
