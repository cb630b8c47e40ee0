"""The data of one field of view: all an evaluation reads (brief §10).

:class:`FovData` holds plain arrays only (positions, window, the label and numeric
columns, genes and outlines a plan needs), so one FOV can be evaluated in another
process or on another machine from a pickle of it; it never refers back to the AnnData.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cytoql.data.window import Window
from cytoql.errors import DataError

__all__ = ["FovData", "fov_data"]


@dataclass(frozen=True, eq=False)
class FovData:
    """The cells of one FOV and the columns a plan reads, FOV-local (cell ``i`` is row
    ``rows[i]`` of the sample).

    Attributes
    ----------
    name : str
        FOV name (``"sample/fov"`` with a sample column).
    sample : str or None
    rows : ndarray of shape (m,), int64
        Sample rows of the cells, in obs order.
    xy : ndarray of shape (m, 2), float64
        Positions in µm.
    window : Window
    type_key : str or None
        The cell-type column.
    labels : dict
        Column -> (codes (m,) int64 with -1 = missing, category names).
    numbers : dict
        Numeric column -> (m,) float64, NaN where missing.
    genes : dict
        (gene, layer) -> (m,) float64.
    outlines : ndarray or None
        NaN-padded (m, k, 2) outline vertices in µm, when the plan needs them.
    """

    name: str
    sample: str | None
    rows: np.ndarray
    xy: np.ndarray
    window: Window
    type_key: str | None
    labels: dict = field(default_factory=dict)
    numbers: dict = field(default_factory=dict)
    genes: dict = field(default_factory=dict)
    outlines: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.rows)

    def codes(self, column: str) -> np.ndarray:
        """Label codes of ``column`` (-1 = missing)."""
        return self._get(self.labels, column, "label column")[0]

    def categories(self, column: str) -> list[str]:
        """Category names of ``column`` (codes index into them), shared by all FOVs."""
        return self._get(self.labels, column, "label column")[1]

    def numeric(self, column: str) -> np.ndarray:
        return self._get(self.numbers, column, "numeric column")

    def expression(self, gene: str, layer: str | None = None) -> np.ndarray:
        return self._get(self.genes, (gene, layer), "gene")

    def _get(self, table: dict, key, what: str):
        if key not in table:
            # A planner bug: the plan's needs() did not list what an operation reads.
            raise KeyError(f"FOV data of {self.name} was built without {what} {key!r}")
        return table[key]


def fov_data(sample, fov, needs: tuple) -> FovData:
    """Slice what a plan needs (:meth:`cytoql.plan.Plan.needs`) out of a sample for one FOV.

    Parameters
    ----------
    sample : cytoql.data.Sample
    fov : cytoql.data.FieldOfView
    needs : (columns, genes, outlines)

    Raises
    ------
    DataError
        A needed column, gene or the outlines are missing.
    """
    columns, genes, outlines = needs
    rows = fov.index
    labels, numbers = {}, {}
    label_columns = set(columns) | ({sample.type_key} if sample.type_key else set())
    categorical = set(sample.categorical_columns)
    for column in sorted(label_columns):
        if column == sample.type_key:
            labels[column] = (sample.type_codes[rows], list(sample.cell_types))
        elif column in categorical:
            codes, names = sample.codes(column)
            labels[column] = (codes[rows], names)
        if column in sample.numeric_columns:
            numbers[column] = sample.numeric(column)[rows]
    gene_values = {(g, layer): sample.expression(g, layer)[rows] for g, layer in sorted(
        genes, key=lambda k: (k[0], k[1] or ""))}
    outline = None
    if outlines:
        if not sample.has_polygons:
            raise DataError("this query needs cell outlines, and the data has none; attach "
                            "them with cytoql.data.polygons.attach_polygons")
        outline = sample.polygon_array[rows]
    return FovData(name=fov.name, sample=fov.sample, rows=rows, xy=fov.xy, window=fov.window,
                   type_key=sample.type_key, labels=labels, numbers=numbers,
                   genes=gene_values, outlines=outline)
