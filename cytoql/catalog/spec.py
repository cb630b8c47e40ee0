"""How a built-in is declared: parameters, result, unit rule, conventions, combine rule,
and how it is evaluated.

One :class:`Builtin` entry per signature feeds the checker, the generated
``docs/reference.md`` and the agent's prompt. ``build`` turns checked arguments into a
plan operation (pure data) and its type. How an operation runs on one FOV is registered
beside the entry, by operation class: :func:`evaluator` for values over the FOV's cells,
:func:`aggregate` for per-FOV partials that combine over FOVs by the entry's
:class:`Combine` rule, which is the code that runs when results are pooled; :func:`cost`
for the work and memory an operation needs, estimated before a query runs
(:mod:`cytoql.work`).

Nothing here, nor in the catalog modules at import time, loads the kernels: checking a
query never imports anything that runs (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cytoql.catalog.kinds import Kind

__all__ = ["ADDITIVE", "AGGREGATES", "CATALOG", "COSTS", "ELEMENTWISE", "EVALUATORS", "GATHER",
           "NOT_POOLED", "PER_CELL", "RATIO_OF_SUMS", "REQUIRED", "Aggregate", "BuildError",
           "Builtin", "Combine", "Param", "aggregate", "aggregates_of", "builtins", "categories",
           "cost", "evaluator", "lookup", "register"]


@dataclass(frozen=True)
class Combine:
    """How per-FOV partials of a built-in combine into a pooled answer (brief §10).

    ``merge`` is what runs: ``sum`` adds the partials (counts, weighted pair sums,
    numerators and denominators), ``concatenate`` gathers per-cell values, ``none``
    refuses to pool.
    """

    name: str
    doc: str
    how: str = "sum"

    def merge(self, partials: list):
        """The pooled partial of per-FOV partials (None when this rule does not pool)."""
        if self.how == "none":
            return None
        if self.how == "concatenate":
            return np.concatenate(partials) if partials else np.empty(0)
        return np.sum(np.asarray(partials, dtype=float), axis=0)


ADDITIVE = Combine("additive", "per-FOV results are summed")
RATIO_OF_SUMS = Combine(
    "ratio of sums", "numerators and denominators are summed over FOVs, then divided "
    "(never a mean of per-FOV ratios)")
GATHER = Combine("gather", "the per-cell (or per-tile) values of all FOVs are gathered, "
                 "then summarised (exact for medians and quantiles)", how="concatenate")
PER_CELL = Combine("per cell", "one value per cell; FOVs concatenate (cells in different "
                   "FOVs are never neighbours)", how="concatenate")
ELEMENTWISE = Combine("elementwise", "applied to each per-cell value, and to per-FOV "
                      "values after their own pooling (the pooled argument, transformed)",
                      how="none")
NOT_POOLED = Combine("not pooled", "a per-FOV statistic with no exact pooled value: the "
                     "pooled value is NaN (compare FOVs, or pool its inputs)", how="none")


class BuildError(Exception):
    """Raised by a builder for an error the generic checks cannot see (e.g. two
    arguments about different cells); the checker reports it at ``param``'s span, or
    reports ``diagnostic`` as it is when the builder made the whole diagnostic."""

    def __init__(self, code: str, message: str, param: str, label: str = "",
                 help: str | None = None, diagnostic=None):
        super().__init__(message)
        self.code, self.message, self.param, self.label, self.help = (
            code, message, param, label, help)
        self.diagnostic = diagnostic

    @classmethod
    def of(cls, diagnostic, param: str) -> BuildError:
        """The error that reports ``diagnostic`` unchanged."""
        return cls(diagnostic.code, diagnostic.message, param, diagnostic=diagnostic)


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()


@dataclass(frozen=True)
class Param:
    """One parameter.

    ``kind`` is a :class:`~cytoql.catalog.kinds.Kind` (it checks the argument).
    ``default`` is a literal value, ``REQUIRED``, ``"context"`` for a cell set that
    defaults to the cells in context (the filtered set inside ``where``, else all
    cells), or ``"cells"`` for all cells. ``minimum`` is a lower bound (exclusive when
    ``strict``), ``maximum`` an upper one. ``used_when = (other, values)``: the parameter
    only matters when parameter ``other`` is one of ``values`` (``nsim`` with a null
    model); otherwise its default is not reported among the query's defaults.
    """

    name: str
    kind: Kind
    doc: str
    default: object = REQUIRED
    minimum: float | None = None
    strict: bool = False
    maximum: float | None = None
    used_when: tuple[str, tuple] | None = None

    def __post_init__(self):
        if not isinstance(self.kind, Kind):
            raise TypeError(f"parameter {self.name}: kind must be a Kind, got {self.kind!r}")

    def signature(self) -> str:
        if self.default is REQUIRED:
            return f"{self.name}: {self.kind.name}"
        return f"{self.name}: {self.kind.name} = {self.kind.show_default(self.default)}"


@dataclass(frozen=True)
class Builtin:
    """One signature of a built-in function.

    Attributes
    ----------
    name : str
    category : str
        Taxonomy category: the ``CATEGORY`` name of the catalog module declaring it.
    params : tuple of Param
    returns : str
        The result in words, with its unit rule.
    doc : str
    conventions : tuple of str
    examples : tuple of str
        Queries on the bundled kidney data; each is run in the tests.
    combine : Combine
    build : callable
        ``build(args, ctx) -> (Op, Type)`` from checked arguments (by parameter name).
    aliases : tuple of str
        Other names that resolve here with a confident suggestion (spatstat, SQL).
    """

    name: str
    category: str
    params: tuple[Param, ...]
    returns: str
    doc: str
    conventions: tuple[str, ...]
    examples: tuple[str, ...]
    combine: Combine
    build: Callable = field(repr=False)
    aliases: tuple[str, ...] = ()

    def signature(self) -> str:
        return f"{self.name}({', '.join(p.signature() for p in self.params)})"


CATALOG: dict[str, list[Builtin]] = {}


def register(entry: Builtin) -> Builtin:
    """Add one signature to the catalog (overloads differ by their first parameter)."""
    overloads = CATALOG.setdefault(entry.name, [])
    if any(o.params[:1] and entry.params[:1] and o.params[0].kind is entry.params[0].kind
           for o in overloads):
        raise ValueError(f"built-in {entry.name} already has a signature taking "
                         f"{entry.params[0].kind.name}")
    overloads.append(entry)
    return entry


def lookup(name: str) -> list[Builtin]:
    """The signatures of ``name`` (empty when unknown), in category order whatever the
    order the category modules were imported in."""
    order = _load()
    return sorted(CATALOG.get(name, []), key=lambda b: order[b.category])


def builtins() -> list[Builtin]:
    """Every signature, by category then name."""
    order = _load()
    return sorted((b for group in CATALOG.values() for b in group),
                  key=lambda b: (order[b.category], b.name))


def categories() -> list[str]:
    """The categories, in reference order."""
    order = _load()
    return sorted(order, key=order.get)


_ORDER: dict[str, int] = {}


def _load() -> dict[str, int]:
    """Import every catalog module once (each registers its entries on import) and
    return category -> order, from each module's ``CATEGORY = (name, order)``.

    A new family is a new module in ``cytoql/catalog/``: nothing here lists them.
    """
    if not _ORDER:
        import importlib
        import pkgutil

        import cytoql.catalog as package

        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if info.name in ("spec", "kinds") or info.name.startswith("_"):
                continue
            module = importlib.import_module(f"cytoql.catalog.{info.name}")
            name, order = module.CATEGORY
            _ORDER[name] = order
        unknown = {b.category for g in CATALOG.values() for b in g} - set(_ORDER)
        if unknown:
            raise ValueError(f"built-ins of undeclared categories: {sorted(unknown)}")
    return _ORDER


# ---------------------------------------------------------------------- evaluation
#: Operation class -> ``fn(op, ev)``: its value over the cells of one FOV.
EVALUATORS: dict[type, Callable] = {}


@dataclass(frozen=True)
class Aggregate:
    """How an operation whose result is per FOV (a number, a curve, a table) runs.

    ``partial(op, ev, group)`` computes one FOV's partial (restricted to the cells of
    the boolean mask ``group`` when the query is grouped and ``groupable``);
    ``combine(op)`` gives the :class:`Combine` whose ``merge`` pools partials;
    ``finish(op, partial)`` turns a (merged) partial into the value.
    """

    partial: Callable
    finish: Callable
    combine: Callable
    groupable: bool = False


#: Operation class -> its :class:`Aggregate` rule.
AGGREGATES: dict[type, Aggregate] = {}


def evaluator(op_class: type):
    """Register ``fn(op, ev)`` as the evaluation of ``op_class`` (a decorator)."""
    def register_fn(fn):
        if op_class in EVALUATORS:
            raise ValueError(f"{op_class.__name__} already has an evaluator")
        EVALUATORS[op_class] = fn
        return fn
    return register_fn


def aggregate(op_class: type, *, partial: Callable, finish: Callable, combine,
              groupable: bool = False) -> None:
    """Register how ``op_class`` computes per-FOV partials and pools them.

    ``combine`` is a :class:`Combine` or ``fn(op) -> Combine``.
    """
    if op_class in AGGREGATES:
        raise ValueError(f"{op_class.__name__} already has an aggregate rule")
    rule = combine if callable(combine) and not isinstance(combine, Combine) else (
        lambda op, _c=combine: _c)
    AGGREGATES[op_class] = Aggregate(partial, finish, rule, groupable)


#: Operation class -> ``fn(op, w) -> cytoql.work.Cost``: its estimated work and memory on
#: one FOV, from the estimated sizes ``w`` gives (:class:`cytoql.work.FovWork`). An
#: operation without one costs one step and 8 bytes per cell of the FOV.
COSTS: dict[type, Callable] = {}


def cost(op_class: type):
    """Register ``fn(op, w)`` as the cost estimate of ``op_class`` (a decorator)."""
    def register_fn(fn):
        if op_class in COSTS:
            raise ValueError(f"{op_class.__name__} already has a cost")
        COSTS[op_class] = fn
        return fn
    return register_fn


def aggregates_of(op) -> list:
    """The aggregate operations a per-FOV result is computed from: the root itself, or
    the aggregates under the core arithmetic and logic over them (``Op.folds``; not
    those nested in per-cell values)."""
    if type(op) in AGGREGATES:
        return [op]
    if not getattr(type(op), "folds", False):
        return []
    found = []
    for child in op.inputs():
        found.extend(a for a in aggregates_of(child) if a not in found)
    return found
