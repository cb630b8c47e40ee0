"""Stage 3a: what names mean in a dataset — the schema, and diagnostics for unknown,
misspelt or ambiguous cell types, columns, genes, functions and units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cytoql.diagnostics.diagnostic import Diagnostic, Label, Suggestion
from cytoql.diagnostics.suggest import closest, normalise, quote_list, shorten
from cytoql.source import Span
from cytoql.units import HABITS, UNITS

__all__ = ["FUNCTION_HABITS", "RESERVED", "Schema", "unknown_category", "unknown_column",
           "unknown_function", "unknown_gene", "unknown_name", "unknown_unit"]

#: Names with a fixed meaning: all cells, and the cell-type label of a cell.
RESERVED = ("cells", "type", "pi")

#: Function names from spatstat, SQL, pandas and R, mapped to the CytoQL built-in.
FUNCTION_HABITS = {
    "avg": "mean", "average": "mean", "n": "count", "len": "count", "length": "count",
    "nrow": "count", "size": "count", "sd": "std", "stdev": "std", "stddev": "std",
    "skew": "skewness", "percentile": "quantile", "quantiles": "quantile",
    "minimum": "min", "maximum": "max", "proportion": "fraction", "prop": "fraction",
    "entropy": "shannon", "nndist": "distance", "nnd": "distance",
    "nearest_distance": "distance", "dist": "distance", "gini_simpson": "simpson",
    "intensity": "density", "npoints": "count", "bdist": "distance_to_edge",
    "bdist_points": "distance_to_edge", "nnwhich": "nearest_type", "marks": "col",
    "expression": "expr", "gene": "expr", "column": "col", "nearest_dist": "distance",
    "nn_dist": "distance", "nearest_neighbour_distance": "distance",
    "nearest_neighbor_distance": "distance", "neighbour_count": "count",
    "neighbor_count": "count", "diversity": "shannon", "edge_distance": "distance_to_edge",
}

#: spatstat / squidpy functions of later issues: named in the note of E0202.
_LATER = {"Kest": "Ripley's K", "Lest": "Ripley's L", "Hest": "Ripley's H",
          "Gest": "the G function", "Fest": "the F function", "Jest": "the J function",
          "pcf": "the pair correlation function", "clarkevans": "Clark–Evans R",
          "clark_evans": "Clark–Evans R", "ripley_k": "Ripley's K", "ripley_l": "Ripley's L",
          "nhood_enrichment": "neighbourhood enrichment", "co_occurrence": "co-occurrence",
          "mst": "graphs", "delaunay": "graphs", "dbscan": "clusters", "voronoi": "Voronoi"}


@dataclass(frozen=True)
class Schema:
    """What a query can name in one dataset.

    Build it with :meth:`from_sample`; ``cytoql.compile`` checks against it without
    touching the data.

    Attributes
    ----------
    type_key : str or None
        The label column that ``type`` refers to.
    categories : dict of str to list of str
        Label-like obs columns and their values (the type column included).
    category_counts : dict of str to list of int
        Cells per value, same order (used to show the most common ones).
    numeric : tuple of str
        Numeric obs columns.
    genes : tuple of str
    fovs : tuple of str
    """

    type_key: str | None
    categories: dict
    category_counts: dict
    numeric: tuple[str, ...]
    genes: tuple[str, ...]
    fovs: tuple[str, ...]

    @classmethod
    def from_sample(cls, sample) -> Schema:
        """The schema of a :class:`cytoql.data.Sample`."""
        categories, counts = {}, {}
        for column in sample.categorical_columns:
            if column == sample.type_key:
                codes, names = sample.type_codes, list(sample.cell_types)
            else:
                codes, names = sample.codes(column)
            categories[column] = names
            counts[column] = np.bincount(codes[codes >= 0], minlength=len(names)).tolist()
        return cls(type_key=sample.type_key, categories=categories, category_counts=counts,
                   numeric=tuple(sample.numeric_columns), genes=tuple(sample.genes),
                   fovs=tuple(f.name for f in sample.fovs))

    @property
    def columns(self) -> list[str]:
        return list(self.categories) + [c for c in self.numeric if c not in self.categories]

    def common_values(self, column: str, limit: int = 3) -> list[str]:
        names, counts = self.categories[column], self.category_counts[column]
        order = sorted(range(len(names)), key=lambda i: -counts[i])
        return [names[i] for i in order[:limit]]


def _did_you_mean(hints: list[str], quote: str = '"') -> str:
    return "did you mean " + " or ".join(f"{quote}{h}{quote}" for h in hints) + "?"


def _confident(query: str, hints: list[str]) -> bool:
    return len(hints) >= 1 and normalise(hints[0]) == normalise(query) and (
        len(hints) == 1 or normalise(hints[1]) != normalise(query))


def unknown_category(schema: Schema, column: str, value: str, span: Span,
                     is_type: bool) -> Diagnostic:
    """E0203: ``value`` is not a category of ``column``."""
    names = schema.categories[column]
    hints = closest(value, names)
    what = "cell type" if is_type else f"value of obs[{column!r}]"
    common = schema.common_values(column)
    note = (f"{len(names)} {'cell types' if is_type else 'values'} here, e.g. "
            f"{quote_list(common)} (`cytoql info` lists all)" if names else
            f'obs["{column}"] has no values here: every cell is unlabelled')
    suggestions = tuple(Suggestion(span, f'"{h}"', _confident(value, hints) and i == 0)
                        for i, h in enumerate(hints))
    return Diagnostic("E0203", f'unknown {what} "{shorten(value)}"',
                      Label(span, f'not a value of obs["{column}"]'),
                      notes=(note,), help=_did_you_mean(hints) if hints else None,
                      suggestions=suggestions)


def unknown_column(schema: Schema, name: str, span: Span) -> Diagnostic:
    """E0204: no obs column ``name``."""
    hints = closest(name, schema.columns)
    return Diagnostic("E0204", f'unknown column "{shorten(name)}"',
                      Label(span, "not an obs column"),
                      notes=(f"obs columns: {quote_list(schema.columns)}",),
                      help=_did_you_mean(hints) if hints else None,
                      suggestions=tuple(Suggestion(span, f'"{h}"', _confident(name, hints))
                                        for h in hints[:1]))


def unknown_gene(schema: Schema, gene: str, span: Span) -> Diagnostic:
    """E0205: ``gene`` is not in var_names."""
    hints = closest(gene, schema.genes)
    return Diagnostic("E0205", f'unknown gene "{shorten(gene)}"', Label(span, "not in var_names"),
                      notes=(f"{len(schema.genes)} genes, e.g. "
                             f"{quote_list(schema.genes, 6)}",),
                      help=_did_you_mean(hints) if hints else None,
                      suggestions=tuple(Suggestion(span, f'"{h}"', _confident(gene, hints))
                                        for h in hints[:1]))


def unknown_name(schema: Schema, name: str, span: Span, lets: list[str],
                 functions: list[str]) -> Diagnostic:
    """E0201: a bare name that is no let binding, reserved name or obs column."""
    known = lets + list(RESERVED) + [c for c in schema.columns if c.isidentifier()]
    hints = closest(name, known)
    help_text = _did_you_mean(hints, "`") if hints else None
    suggestions = tuple(Suggestion(span, h, _confident(name, hints)) for h in hints[:1])
    if schema.type_key is not None:
        types = closest(name, schema.categories[schema.type_key], limit=1)
        if types and normalise(types[0]) == normalise(name):
            help_text = (f'cell types are strings: write `cells where type == "{types[0]}"` '
                         f'(or `let {name} = cells where type == "{types[0]}"`)')
            suggestions = (Suggestion(span, f'(cells where type == "{types[0]}")', True),)
    genes = closest(name, schema.genes, limit=1)
    if genes and normalise(genes[0]) == normalise(name):
        help_text = f'genes are read with expr: `expr("{genes[0]}")`'
        suggestions = (Suggestion(span, f'expr("{genes[0]}")', True),)
    if name in functions:
        help_text = f"`{name}` is a function: call it as `{name}(...)`"
        suggestions = ()
    notes = (f"names here: {', '.join(lets + list(RESERVED))}; obs columns: "
             f"{quote_list(schema.columns)}",)
    return Diagnostic("E0201", f"unknown name `{shorten(name)}`", Label(span, "not defined"),
                      notes=notes, help=help_text, suggestions=suggestions)


def unknown_function(name: str, span: Span, functions: list[str]) -> Diagnostic:
    """E0202: not a built-in; habits from spatstat/SQL get a confident fix."""
    if name in FUNCTION_HABITS:
        target = FUNCTION_HABITS[name]
        return Diagnostic("E0202", f"unknown function `{name}`", Label(span, "not a built-in"),
                          help=f"CytoQL calls this `{target}`",
                          suggestions=(Suggestion(span, target, True),))
    hints = [h for h in closest(name, functions) if 2 * len(normalise(h)) >= len(normalise(name))]
    notes = [f"built-ins: {', '.join(sorted(functions))} (docs/reference.md)"]
    if name in _LATER:
        notes.insert(0, f"{_LATER[name]} is not in this version of the catalog yet")
    return Diagnostic("E0202", f"unknown function `{shorten(name)}`",
                      Label(span, "not a built-in"), notes=tuple(notes),
                      help=_did_you_mean(hints, "`") if hints else None,
                      suggestions=tuple(Suggestion(span, h, _confident(name, hints))
                                        for h in hints[:1]))


def unknown_unit(unit: str, span: Span) -> Diagnostic:
    """E0208: a unit CytoQL does not know (``microns`` → ``um``)."""
    known = ", ".join(UNITS)
    if unit in HABITS:
        target = HABITS[unit]
        return Diagnostic("E0208", f"unknown unit `{unit}`", Label(span, f"write `{target}`"),
                          help=f"CytoQL writes this unit `{target}`", notes=(f"units: {known}",),
                          suggestions=(Suggestion(span, target, True),))
    if unit in ("px", "pixel", "pixels"):
        return Diagnostic("E0208", f"unknown unit `{unit}`",
                          Label(span, "queries are in physical units"),
                          help="positions are converted to µm when the data is read; "
                               "give lengths in `um` (set the scale with um_per_unit)",
                          notes=(f"units: {known}",))
    hints = closest(unit, list(UNITS))
    return Diagnostic("E0208", f"unknown unit `{shorten(unit)}`", Label(span, "not a unit"),
                      help=_did_you_mean(hints, "`") if hints else None,
                      notes=(f"units: {known}",),
                      suggestions=tuple(Suggestion(span, h, _confident(unit, hints))
                                        for h in hints[:1]))
