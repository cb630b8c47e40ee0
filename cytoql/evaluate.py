"""Stage 5: run a plan on one field of view.

:func:`evaluate_fov` is a pure function of (plan, sample, FOV, seed): it reads the
FOV's cells, memoises every operation of the plan (so shared steps run once), builds one
spatial index per cell set used as a neighbour target, and returns plain arrays. Cells
of other FOVs are never seen, so they are never neighbours.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from cytoql import plan as p
from cytoql.catalog.summaries import Summary
from cytoql.diagnostics.diagnostic import Diagnostic, Label
from cytoql.errors import EvaluationError
from cytoql.kernels import spatial_index as si
from cytoql.source import Source
from cytoql.types import CellSetT, PerCellT, ScalarT, TableT

__all__ = ["FovEvaluator", "FovOutput", "NeighbourIndex", "evaluate_fov", "top_summaries"]


class NeighbourIndex:
    """A KD-tree over one cell set of a FOV, queried by FOV-local cell ids.

    ``skip`` is derived here: a query cell that is itself in the set is never its own
    neighbour.
    """

    def __init__(self, xy: np.ndarray, ids: np.ndarray):
        self.ids = ids
        self.size = len(ids)
        self._xy = xy
        self.pos = np.full(len(xy), -1, dtype=np.int64)
        self.pos[ids] = np.arange(self.size)
        self.tree = si.build_kdtree(xy[ids]) if self.size else None

    def count_within(self, query: np.ndarray, r: float) -> np.ndarray:
        if self.tree is None or not len(query):
            return np.zeros(len(query), dtype=np.int64)
        return si.count_within(self.tree, self._xy[query], r, skip=self.pos[query])

    def count_by_label(self, query: np.ndarray, codes: np.ndarray, r: float) -> np.ndarray:
        """(m, L) counts per label; cells without a label (code -1) are left out."""
        n_labels = int(codes.max()) + 1 if len(codes) else 0
        if self.tree is None or not len(query) or n_labels == 0:
            return np.zeros((len(query), n_labels), dtype=np.int64)
        member = codes[self.ids]
        member = np.where(member < 0, n_labels, member)
        counts = si.count_within_by_label(self.tree, member, n_labels + 1, self._xy[query], r,
                                          skip=self.pos[query])
        return counts[:, :n_labels]

    def knn(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, FOV-local ids) of the k nearest set cells; inf / -1 where none."""
        if self.tree is None or not len(query):
            return (np.full((len(query), k), np.inf), np.full((len(query), k), -1, np.int64))
        dist, idx = si.knn(self.tree, self._xy[query], k, skip=self.pos[query])
        return dist, np.where(idx >= 0, self.ids[np.maximum(idx, 0)], -1)


@dataclass
class FovOutput:
    """What one FOV contributes to a result.

    ``rows``: sample rows of the cells (cell sets, per-cell values); ``values``: their
    values (for a table, its additive per-FOV counts); ``partials``: {summary op: {group: partial}} for scalar queries;
    ``warnings``: W05xx diagnostics.
    """

    fov: str
    rows: np.ndarray | None = None
    values: np.ndarray | None = None
    partials: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


class FovEvaluator:
    """Evaluates ops on one FOV with memoisation; what ops see of the data."""

    def __init__(self, plan: p.Plan, sample, fov, seed: int | None, source: Source):
        self.plan = plan
        self.sample = sample
        self.fov = fov
        self.seed = seed
        self.source = source
        self.xy = fov.xy
        self.n = fov.n_cells
        self.warnings: list[Diagnostic] = []
        self._memo: dict = {}
        self._indexes: dict = {}
        self._labels: dict = {}

    # ------------------------------------------------------------------ values
    def value(self, op):
        if op not in self._memo:
            try:
                self._memo[op] = op.evaluate(self)
            except (ValueError, TypeError) as exc:
                self.fail("E0402", f"cannot compute this on FOV {self.fov.name}: {exc}", op)
        return self._memo[op]

    def mask(self, op) -> np.ndarray:
        return self.value(op)

    def ids(self, op) -> np.ndarray:
        return np.flatnonzero(self.mask(op))

    def truth(self, op) -> np.ndarray:
        """A condition as a per-cell boolean array (scalars broadcast)."""
        value = np.asarray(self.value(op), dtype=bool)
        return np.broadcast_to(value, (self.n,)) if value.ndim == 0 else value

    def index(self, op) -> NeighbourIndex:
        """The spatial index of a cell set, built once per FOV."""
        if op not in self._indexes:
            self._indexes[op] = NeighbourIndex(self.xy, self.ids(op))
        return self._indexes[op]

    def categories(self, column: str) -> list[str]:
        """The label names of a label column (codes index into them)."""
        if column == self.sample.type_key:
            return list(self.sample.cell_types)
        return self.sample.codes(column)[1]

    def labels(self, column: str) -> np.ndarray:
        if column not in self._labels:
            self._labels[column] = self.value(p.LabelCodes(column))
        return self._labels[column]

    def rng(self, feature: str) -> np.random.Generator:
        """A random stream derived from (seed, FOV, feature), independent of run order."""
        return np.random.default_rng([self.seed or 0, zlib.crc32(self.fov.name.encode()),
                                      zlib.crc32(feature.encode())])

    # ------------------------------------------------------------------ summaries
    def partial(self, summary: Summary, group: np.ndarray | None):
        reducer = summary.reduce()
        mask = self.mask(summary.domain)
        if group is None and not mask.any():
            self.warn_empty(summary, "no cells to summarise: the value is NaN (a count is 0)")
        if group is not None:
            mask = mask & group
        if summary.values:
            cols = [np.broadcast_to(np.asarray(self.value(v), dtype=float), (self.n,))[mask]
                    for v in summary.values]
            values = cols[0] if len(cols) == 1 else np.column_stack(cols)
            bad = np.isnan(values) if values.ndim == 1 else np.isnan(values).any(axis=1)
            if bad.any():
                if group is None:
                    self.warn(summary, "W0502", f"{int(bad.sum())} of {len(values)} cells have "
                              "no value (NaN) and are skipped")
                values = values[~bad]
        else:
            values = np.ones(int(mask.sum()))
        return reducer.partial(values, self.fov.window.area)

    # ------------------------------------------------------------------ diagnostics
    def warn(self, op, code: str, message: str):
        self.warnings.append(Diagnostic(code, f"FOV {self.fov.name}: {message}",
                                        Label(self.plan.span_of(op))))

    def warn_empty(self, op, message: str):
        self.warn(op, "W0501", message)

    def fail(self, code: str, message: str, op, help: str | None = None):
        diag = Diagnostic(code, f"FOV {self.fov.name}: {message}",
                          Label(self.plan.span_of(op)), help=help)
        from cytoql.diagnostics.render import render_text

        error = EvaluationError(render_text(diag, self.source))
        error.diagnostics = (diag,)
        raise error


def top_summaries(op) -> list[Summary]:
    """The summaries a scalar result is arithmetic of (not those nested in per-cell values)."""
    if isinstance(op, Summary):
        return [op]
    if isinstance(op, (p.Arith, p.Negative, p.Comparison, p.Logic, p.Negation)):
        return [s for child in op.inputs() for s in top_summaries(child)]
    return []


def group_masks(ev: FovEvaluator, by: tuple[str, ...], categories: dict) -> dict:
    """{group key tuple: mask} over the label columns of ``by`` (``fov`` excluded)."""
    columns = [c for c in by if c != "fov"]
    if not columns:
        return {(): None}
    groups = {(): np.ones(ev.n, dtype=bool)}
    for column in columns:
        codes = ev.labels(column)
        groups = {key + (name,): mask & (codes == i)
                  for key, mask in groups.items()
                  for i, name in enumerate(categories[column])}
    return groups


def evaluate_fov(plan: p.Plan, sample, fov, seed: int | None, source: Source,
                 categories: dict) -> FovOutput:
    """Evaluate ``plan`` on one FOV.

    Parameters
    ----------
    plan : Plan
    sample : cytoql.data.Sample
    fov : cytoql.data.FieldOfView
    seed : int or None
        Random streams derive from (seed, FOV, feature).
    source : Source
        For runtime diagnostics.
    categories : dict
        Label column → category names (group keys for ``by``).

    Returns
    -------
    FovOutput

    Raises
    ------
    EvaluationError
        E0401/E0402 with the span of the failing call.
    """
    ev = FovEvaluator(plan, sample, fov, seed, source)
    out = FovOutput(fov.name)
    root, rtype = plan.root, plan.type
    if isinstance(rtype, CellSetT):
        out.rows = fov.index[ev.mask(root)]
    elif isinstance(rtype, PerCellT):
        ids = ev.ids(rtype.context)
        out.rows = fov.index[ids]
        out.values = np.broadcast_to(ev.value(root), (ev.n,))[ids]
    elif isinstance(rtype, TableT):
        out.values = ev.value(root)
    elif isinstance(rtype, ScalarT):
        groups = group_masks(ev, plan.by, categories)
        for summary in top_summaries(root):
            out.partials[summary] = {key: ev.partial(summary, mask)
                                     for key, mask in groups.items()}
    out.warnings = ev.warnings
    return out
