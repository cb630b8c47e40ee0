"""From images to AnnData: segmentation, outlines, morphology and cell typing.

``segment(image)`` reads a (OME-)TIFF or array, labels nuclei/cells with scikit-image
(default) or cellpose, measures each object and returns AnnData in CytoQL's layout;
``assign_cell_types`` types cells by gating rules. ``cytoql segment`` is the CLI.
"""

from cytoql.segment.cellpose_method import CellposeParams
from cytoql.segment.gating import GatingRules, assign_cell_types, load_gating, types_from_column
from cytoql.segment.io import MultiplexImage, image_from_array, read_image, write_ome_tiff
from cytoql.segment.measure import labels_to_anndata
from cytoql.segment.pipeline import METHODS, segment, segment_labels
from cytoql.segment.skimage_method import SkimageParams
from cytoql.segment.synthetic_image import SyntheticImage, synthetic_multiplex_image

__all__ = [
    "METHODS",
    "CellposeParams",
    "GatingRules",
    "MultiplexImage",
    "SkimageParams",
    "SyntheticImage",
    "assign_cell_types",
    "image_from_array",
    "labels_to_anndata",
    "load_gating",
    "read_image",
    "segment",
    "segment_labels",
    "synthetic_multiplex_image",
    "types_from_column",
    "write_ome_tiff",
]
