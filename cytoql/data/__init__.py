"""Reading spatial samples out of AnnData: positions, units, FOVs, windows, outlines."""

from cytoql.data.sample import FieldOfView, Sample
from cytoql.data.scale import Scale
from cytoql.data.window import Window

__all__ = ["FieldOfView", "Sample", "Scale", "Window"]
