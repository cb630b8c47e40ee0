"""Stage 5: run a plan on one field of view.

:func:`evaluate_fov` is a pure function of (plan, FOV data, seed): it memoises every
operation of the plan (so shared steps run once), builds one spatial index per cell set
used as a neighbour target, and returns what the result shape of the plan collects from
one FOV. Cells of other FOVs are never seen, so they are never neighbours.

Each operation runs by the function registered for its class: the core operations of
:mod:`cytoql.plan` below, built-ins beside their catalog entries.
"""

from __future__ import annotations

import zlib

import numpy as np

from cytoql import plan as p
from cytoql.catalog.spec import AGGREGATES, EVALUATORS, aggregates_of, evaluator
from cytoql.diagnostics.diagnostic import Diagnostic, Label
from cytoql.errors import EvaluationError
from cytoql.kernels import spatial_index as si
from cytoql.source import Source

__all__ = ["FovEvaluator", "NeighbourIndex", "aggregates_of", "evaluate_fov"]


class NeighbourIndex:
    """A spatial index over one cell set of a FOV, queried by FOV-local cell ids.

    ``skip`` is derived here: a query cell that is itself in the set is never its own
    neighbour.
    """

    def __init__(self, xy: np.ndarray, ids: np.ndarray):
        self.ids = ids
        self.size = len(ids)
        self._xy = xy
        self.pos = np.full(len(xy), -1, dtype=np.int64)
        self.pos[ids] = np.arange(self.size)
        self.index = si.PointIndex(xy[ids]) if self.size else None

    def count_within(self, query: np.ndarray, r: float) -> np.ndarray:
        if self.index is None or not len(query):
            return np.zeros(len(query), dtype=np.int64)
        return self.index.count_within(self._xy[query], r, skip=self.pos[query])

    def count_by_label(self, query: np.ndarray, codes: np.ndarray, r: float) -> np.ndarray:
        """(m, L) counts per label; cells without a label (code -1) are left out."""
        n_labels = int(codes.max()) + 1 if len(codes) else 0
        if self.index is None or not len(query) or n_labels == 0:
            return np.zeros((len(query), n_labels), dtype=np.int64)
        member = codes[self.ids]
        member = np.where(member < 0, n_labels, member)
        counts = self.index.count_within_by_label(member, n_labels + 1, self._xy[query], r,
                                                  skip=self.pos[query])
        return counts[:, :n_labels]

    def knn(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, FOV-local ids) of the k nearest set cells; inf / -1 where none."""
        if self.index is None or not len(query):
            return (np.full((len(query), k), np.inf), np.full((len(query), k), -1, np.int64))
        dist, idx = self.index.knn(self._xy[query], k, skip=self.pos[query])
        return dist, np.where(idx >= 0, self.ids[np.maximum(idx, 0)], -1)


class FovEvaluator:
    """Evaluates ops on one FOV with memoisation; what ops see of the data.

    Attributes
    ----------
    data : cytoql.data.fov.FovData
    xy : ndarray (n, 2), µm
    n : int
    window : Window
    """

    def __init__(self, plan: p.Plan, data, seed: int | None, source: Source):
        self.plan = plan
        self.data = data
        self.seed = seed
        self.source = source
        self.xy = data.xy
        self.n = data.n
        self.window = data.window
        self.warnings: list[Diagnostic] = []
        self._memo: dict = {}
        self._indexes: dict = {}

    # ------------------------------------------------------------------ values
    def value(self, op):
        if op not in self._memo:
            # inputs first, bottom-up without recursion (flat chains of any length)
            for inner in p.postorder(op, self._memo)[:-1]:
                self.value(inner)
            try:
                if type(op) in AGGREGATES:  # a per-FOV value used inside per-cell values
                    rule = AGGREGATES[type(op)]
                    self._memo[op] = rule.finish(op, rule.partial(op, self, None))
                else:
                    self._memo[op] = EVALUATORS[type(op)](op, self)
            except (ValueError, TypeError, ZeroDivisionError) as exc:
                self.fail("E0402", f"cannot compute this on FOV {self.data.name}: {exc}", op)
            except MemoryError:
                self.out_of_memory(op)
        return self._memo[op]

    def mask(self, op) -> np.ndarray:
        return self.value(op)

    def ids(self, op) -> np.ndarray:
        return np.flatnonzero(self.mask(op))

    def truth(self, op) -> np.ndarray:
        """A condition as a per-cell boolean array (scalars broadcast)."""
        value = np.asarray(self.value(op), dtype=bool)
        return np.broadcast_to(value, (self.n,)) if value.ndim == 0 else value

    def numbers(self, op) -> np.ndarray:
        """Per-cell values as float64 for every cell of the FOV (scalars broadcast)."""
        return np.broadcast_to(np.asarray(self.value(op), dtype=float), (self.n,))

    def index(self, op) -> NeighbourIndex:
        """The spatial index of a cell set, built once per FOV."""
        if op not in self._indexes:
            self._indexes[op] = NeighbourIndex(self.xy, self.ids(op))
        return self._indexes[op]

    def categories(self, column: str) -> list[str]:
        """The label names of a label column (codes index into them)."""
        return self.data.categories(column)

    def labels(self, column: str) -> np.ndarray:
        return self.data.codes(column)

    def rng(self, op) -> np.random.Generator:
        """The random stream of one operation on this FOV, derived from (seed, sample,
        FOV, the operation's canonical form): independent of run order and workers."""
        parts = [self.seed or 0, zlib.crc32((self.data.sample or "").encode()),
                 zlib.crc32(self.data.name.encode()), zlib.crc32(repr(op).encode())]
        return np.random.default_rng(parts)

    # ------------------------------------------------------------------ aggregates
    def partial(self, op, group: np.ndarray | None):
        """One FOV's partial of an aggregate operation (restricted to ``group``)."""
        try:
            return AGGREGATES[type(op)].partial(op, self, group)
        except (ValueError, TypeError, ZeroDivisionError) as exc:
            self.fail("E0402", f"cannot compute this on FOV {self.data.name}: {exc}", op)
        except MemoryError:
            self.out_of_memory(op)

    # ------------------------------------------------------------------ diagnostics
    def warn(self, op, code: str, message: str):
        self.warnings.append(Diagnostic(code, f"FOV {self.data.name}: {message}",
                                        Label(self.plan.span_of(op))))

    def warn_empty(self, op, message: str):
        self.warn(op, "W0501", message)

    def out_of_memory(self, op):
        self.fail("E0603", f"ran out of memory computing this ({self.n:,} cells)", op,
                  help="use a smaller k or radius, or a subset of the cells (`A where "
                       "...`), or a machine with more memory; the estimate that "
                       "`max_memory` checks before running missed it (docs/limits.md)")

    def fail(self, code: str, message: str, op, help: str | None = None):
        diag = Diagnostic(code, f"FOV {self.data.name}: {message}",
                          Label(self.plan.span_of(op)), help=help)
        from cytoql.diagnostics.render import render_text

        error = EvaluationError(render_text(diag, self.source))
        error.diagnostics = (diag,)
        raise error


def evaluate_fov(plan: p.Plan, data, seed: int | None, source: Source):
    """Evaluate ``plan`` on one FOV.

    Parameters
    ----------
    plan : Plan
    data : cytoql.data.fov.FovData
        The FOV's cells and the columns the plan needs.
    seed : int or None
        Random streams derive from (seed, sample, FOV, operation).
    source : Source
        For runtime diagnostics.

    Returns
    -------
    FovOutput
        What the plan's result shape collects (:mod:`cytoql.results`).

    Raises
    ------
    EvaluationError
        E0401/E0402 with the span of the failing call; E0603 when memory runs out.
    """
    from cytoql.results import shape_of

    ev = FovEvaluator(plan, data, seed, source)
    out = shape_of(plan.type).fov_output(ev)
    out.warnings = ev.warnings
    return out


# ---------------------------------------------------------------------- core operations
@evaluator(p.AllCells)
def _all_cells(op, ev):
    return np.ones(ev.n, dtype=bool)


@evaluator(p.Filter)
def _filter(op, ev):
    return ev.mask(op.base) & ev.truth(op.predicate)


@evaluator(p.SetCombine)
def _set_combine(op, ev):
    a, b = ev.mask(op.left), ev.mask(op.right)
    if op.op == "union":
        return a | b
    if op.op == "intersect":
        return a & b
    return a & ~b


@evaluator(p.NumericColumn)
def _numeric_column(op, ev):
    return ev.data.numeric(op.column)


@evaluator(p.LabelCodes)
def _label_codes(op, ev):
    return ev.data.codes(op.column)


@evaluator(p.GeneValues)
def _gene_values(op, ev):
    return ev.data.expression(op.gene, op.layer)


@evaluator(p.InLabels)
def _in_labels(op, ev):
    values = ev.value(op.values)
    if len(op.codes) == 1:
        return values == op.codes[0]
    table = np.zeros(max(op.codes) + 2, dtype=bool)  # the last slot: missing (-1)
    table[list(op.codes)] = True
    return table[np.where((values >= 0) & (values < len(table) - 1), values, -1)]


@evaluator(p.SameLabel)
def _same_label(op, ev):
    a, b = ev.value(op.left), ev.value(op.right)
    return (a == b) & (a >= 0)


# Arithmetic and logic run on per-cell arrays here and on finished per-FOV values when a
# result is assembled (``Op.folds``): one evaluation for both.
@evaluator(p.Const)
def _const(op, ev):
    return op.value


_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide,
          "^": np.power}


@evaluator(p.Arith)
def _arith(op, ev):
    a = np.asarray(ev.value(op.left), dtype=np.float64)
    b = np.asarray(ev.value(op.right), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = _ARITH[op.op](a, b)
    return out[()] if out.ndim == 0 else out


@evaluator(p.Negative)
def _negative(op, ev):
    return -np.asarray(ev.value(op.operand), dtype=np.float64)


_COMPARE = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
            ">": np.greater, ">=": np.greater_equal}


@evaluator(p.Comparison)
def _comparison(op, ev):
    a, b = np.asarray(ev.value(op.left)), np.asarray(ev.value(op.right))
    with np.errstate(invalid="ignore"):
        out = _COMPARE[op.op](a, b)
    if op.op == "!=" and (a.dtype.kind == "f" or b.dtype.kind == "f"):
        out = out & ~(np.isnan(a.astype(float)) | np.isnan(b.astype(float)))
    return out[()] if out.ndim == 0 else out


@evaluator(p.Logic)
def _logic(op, ev):
    a, b = ev.truth(op.left), ev.truth(op.right)
    return (a & b) if op.op == "and" else (a | b)


@evaluator(p.Negation)
def _negation(op, ev):
    return ~ev.truth(op.operand)
