"""Work and memory estimates of a plan, checked on the data before any FOV runs.

Each operation class declares its cost beside its evaluator (:func:`cytoql.catalog.spec.cost`):
the steps of its inner loops (neighbour pairs visited, k-nearest candidates, permuted edges)
and the bytes it allocates on one FOV, from what :class:`FovWork` knows cheaply — the
number of cells of each cell set, the FOV's window area and the expected number of
neighbours within a radius. An operation without a declared cost is linear: one step and
8 bytes per cell.

:func:`check` adds the work over FOVs (they run one after the other) and takes the largest
FOV's memory, refuses a query above ``max_work`` steps (E0601) or ``max_memory`` bytes
(E0602) and warns above a tenth of either (W0508). docs/limits.md gives the numbers.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from cytoql import plan as p
from cytoql.catalog.spec import COSTS
from cytoql.diagnostics.diagnostic import Diagnostic, Label
from cytoql.errors import EvaluationError

__all__ = ["AUTO", "MAX_WORK", "MEMORY_FRACTION", "WARN_FRACTION", "Cost", "FovWork",
           "check", "estimate", "limits", "parse_limit"]

#: The default ``max_work``: steps (mostly neighbour pairs) of one query, all FOVs together.
#: The neighbour kernels visit 1–4 × 10⁸ pairs a second on one core of the reference
#: machine, so this is about a minute of kernel time.
MAX_WORK = 1e10
#: ``max_memory = AUTO``: this fraction of the machine's physical memory.
MEMORY_FRACTION = 0.5
AUTO = "auto"
#: A query above this fraction of either limit runs with warning W0508.
WARN_FRACTION = 0.1

_CELL_BYTES = 8


@dataclass(frozen=True)
class Cost:
    """Estimated ``work`` (inner-loop steps) and ``memory`` (bytes) of one operation."""

    work: float = 0.0
    memory: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.work + other.work, self.memory + other.memory)


class FovWork:
    """What a cost function reads of one FOV: ``n`` (cells), ``window``, ``area`` (µm²),
    cell-set sizes, expected neighbours.

    A cell set's size is exact when it is cheap to know (no operation under it declares a
    cost: types, columns, genes, and their logic), else an upper bound from its structure
    (a filter keeps at most its base). Exact sizes are evaluated through ``ev``, whose
    memo the evaluation then reuses.
    """

    def __init__(self, ev):
        self._ev = ev
        self.n = ev.n
        self.window = ev.window
        self.area = ev.window.area
        self._sizes: dict = {}
        self._costly: dict = {}

    def costly(self, op) -> bool:
        """Whether ``op`` or an operation under it declares a cost."""
        if op not in self._costly:
            for inner in p.postorder(op, self._costly):
                self._costly[inner] = type(inner) in COSTS or any(
                    self._costly[i] for i in inner.inputs())
        return self._costly[op]

    def size(self, op) -> float:
        """The (estimated) number of cells of the cell set ``op``."""
        if op not in self._sizes:
            for inner in p.postorder(op, self._sizes):
                self._sizes[inner] = self._size(inner)
        return self._sizes[op]

    def _size(self, op) -> float:
        if isinstance(op, (p.AllCells, p.Filter, p.SetCombine)) and not self.costly(op):
            return float(np.count_nonzero(self._ev.mask(op)))
        if isinstance(op, p.Filter):
            return self._sizes[op.base]
        if isinstance(op, p.SetCombine):
            a, b = self._sizes[op.left], self._sizes[op.right]
            return {"union": min(self.n, a + b), "intersect": min(a, b)}.get(op.op, a)
        return float(self.n)

    def neighbours(self, target, radius: float) -> float:
        """Expected number of ``target`` cells within ``radius`` of a cell: the set's
        density times the disc's area, at most the set."""
        size = self.size(target)
        if self.area <= 0:
            return size
        return min(size, size / self.area * math.pi * radius * radius)

    def pairs(self, around, target, radius: float) -> float:
        """Expected (cell of ``around``, ``target`` neighbour within ``radius``) pairs."""
        return self.size(around) * self.neighbours(target, radius)

    def labels(self, column: str) -> int:
        """The number of labels of a label column."""
        return len(self._ev.categories(column))


def linear(op, w: FovWork) -> Cost:
    """The cost of an operation that declares none."""
    return Cost(w.n, _CELL_BYTES * w.n)


def estimate(plan: p.Plan, ev) -> dict:
    """{op: Cost} of every operation of ``plan`` on the FOV of the evaluator ``ev``."""
    w = FovWork(ev)
    return {op: COSTS.get(type(op), linear)(op, w) for op in plan.ops()}


def limits(max_work, max_memory) -> tuple[float | None, float | None]:
    """(steps, bytes) of ``max_work`` and ``max_memory`` (``AUTO``: ``MEMORY_FRACTION`` of
    physical memory, no limit where the OS does not say); None for no limit.

    Raises
    ------
    ValueError
        A limit that is not a positive number, None or inf.
    """
    if isinstance(max_memory, str) and max_memory == AUTO:
        physical = physical_memory()
        memory = None if physical is None else MEMORY_FRACTION * physical
    else:
        memory = _limit(max_memory, "max_memory")
    return _limit(max_work, "max_work"), memory


def physical_memory() -> float | None:
    """Bytes of physical memory (None where the OS does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def _limit(value, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, str)):
        raise ValueError(f"{name} must be a number, None or inf, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, None or inf, got {value!r}") from None
    if math.isnan(value) or value <= 0:
        raise ValueError(f"{name} must be positive (None or inf: no limit), got {value!r}")
    return None if math.isinf(value) else value


_SUFFIXES = {"k": 2 ** 10, "kib": 2 ** 10, "m": 2 ** 20, "mib": 2 ** 20, "g": 2 ** 30,
             "gib": 2 ** 30, "t": 2 ** 40, "tib": 2 ** 40}


def parse_limit(text: str):
    """A limit given on the command line: a number (``1e11``), bytes with a binary suffix
    (``8GiB``, ``512M``), ``none``/``inf`` for no limit, or ``auto``."""
    word = text.strip().lower()
    if word in ("none", "inf", "off"):
        return None
    if word == AUTO:
        return AUTO
    number = word.rstrip("kmgtib")
    scale = _SUFFIXES.get(word[len(number):], 1 if number == word else 0)
    try:
        value = float(number) * scale
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ValueError(f"not a limit: {text!r} (a number such as 1e11, bytes such as "
                         "8GiB, auto, or none)")
    return value


def human_bytes(n: float) -> str:
    """``n`` bytes in binary units, e.g. ``298 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" or n >= 100 else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def human_count(n: float) -> str:
    """``n`` as ``4.0e10`` (or plainly below a million)."""
    if n < 1e6:
        return f"{n:,.0f}"
    exponent = int(math.floor(math.log10(n)))
    return f"{n / 10 ** exponent:.1f}e{exponent}"


def check(plan: p.Plan, evaluators: list, source, *, max_work=MAX_WORK,
          max_memory=AUTO) -> list[Diagnostic]:
    """Estimate ``plan`` on every FOV (``evaluators``, one per FOV) and enforce the limits.

    Returns
    -------
    list of Diagnostic
        W0508 when the estimate is above ``WARN_FRACTION`` of a limit, else empty.

    Raises
    ------
    EvaluationError
        E0601 (work) or E0602 (memory) above a limit, at the costliest operation.
    """
    work_limit, bytes_limit = limits(max_work, max_memory)
    if work_limit is None and bytes_limit is None:
        return []
    work: dict = {}
    peak, peak_fov, peak_costs = 0.0, None, {}
    for ev in evaluators:
        costs = estimate(plan, ev)
        for op, c in costs.items():
            work[op] = work.get(op, 0.0) + c.work
        memory = sum(c.memory for c in costs.values())
        if memory >= peak:
            peak, peak_fov, peak_costs = memory, ev.data.name, costs
    total = sum(work.values())
    notes = []
    if bytes_limit is not None and peak_costs:
        notes.append(_memory_note(plan, peak_costs, peak, peak_fov, bytes_limit,
                                  max_memory == AUTO))
    if work_limit is not None:
        notes.append(_work_note(plan, work, total, work_limit))
    for diag, over in notes:
        if over:
            from cytoql.diagnostics.render import render_text

            error = EvaluationError(render_text(diag, source))
            error.diagnostics = (diag,)
            raise error
    return [diag for diag, over in notes if diag is not None]


def _costliest(costs: dict, key) -> p.Op:
    return max(costs, key=lambda op: key(costs[op]))


def _work_note(plan, work: dict, total: float, limit: float):
    if total <= WARN_FRACTION * limit:
        return None, False
    op = _costliest(work, float)
    span = plan.span_of(op)
    what = f"about {human_count(total)} steps (neighbour pairs and similar)"
    if total > limit:
        return Diagnostic(
            "E0601", f"this query would take {what} over all FOVs, more than the limit of "
            f"{human_count(limit)}", Label(span, f"about {human_count(work[op])} here"),
            help="use a smaller radius (or k, nsim, nperm), or a subset of the cells "
                 "(`A where ...`); or raise the limit: cytoql.query(..., max_work="
                 f"{_suggest(total)}) or `--max-work {_suggest(total)}` "
                 "(None or inf: no limit; docs/limits.md)"), True
    return Diagnostic(
        "W0508", f"this query takes {what} over all FOVs: it may run for a while (the "
        f"limit is {human_count(limit)})", Label(span, f"about {human_count(work[op])} here")
    ), False


def _memory_note(plan, costs: dict, peak: float, fov, limit: float, auto: bool):
    if peak <= WARN_FRACTION * limit:
        return None, False
    op = _costliest(costs, lambda c: c.memory)
    span = plan.span_of(op)
    of = (f" ({MEMORY_FRACTION:.0%} of this machine's {human_bytes(physical_memory())})"
          if auto else "")
    if peak > limit:
        return Diagnostic(
            "E0602", f"FOV {fov}: this query would need about {human_bytes(peak)} of "
            f"memory, more than the limit of {human_bytes(limit)}{of}",
            Label(span, f"about {human_bytes(costs[op].memory)} here"),
            help="use a smaller k or radius, or a subset of the cells (`A where ...`); or, "
                 "on a machine with the memory, raise the limit: cytoql.query(..., "
                 f"max_memory={_suggest(peak)}) or `--max-memory {_suggest(peak)}` (bytes; "
                 "None: no limit; docs/limits.md)"), True
    return Diagnostic(
        "W0508", f"FOV {fov}: this query needs about {human_bytes(peak)} of memory (the "
        f"limit is {human_bytes(limit)}{of})",
        Label(span, f"about {human_bytes(costs[op].memory)} here")), False


def _suggest(value: float) -> str:
    """A round limit above ``value``, as Python and shell text (``1e11``)."""
    return f"1e{int(math.floor(math.log10(value))) + 1}"
