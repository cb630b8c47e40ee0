"""How a built-in is declared: parameters, result, unit rule, conventions, combine rule.

One :class:`Builtin` entry per signature feeds the checker, the generated
``docs/reference.md`` and the agent's prompt. ``build`` turns checked arguments into a
plan operation and its type; the operation's ``evaluate`` is the evaluator glue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ADDITIVE", "CATALOG", "GATHER", "PER_CELL", "RATIO_OF_SUMS", "REQUIRED",
           "BuildError", "Builtin", "Combine", "Param", "builtins", "lookup", "register"]


@dataclass(frozen=True)
class Combine:
    """How per-FOV results of a built-in combine into a pooled answer (brief §10)."""

    name: str
    doc: str


ADDITIVE = Combine("additive", "per-FOV results are summed")
RATIO_OF_SUMS = Combine(
    "ratio of sums", "numerators and denominators are summed over FOVs, then divided "
    "(never a mean of per-FOV ratios)")
GATHER = Combine("gather", "the per-cell values of all FOVs are gathered, then summarised "
                 "(exact for medians and quantiles)")
PER_CELL = Combine("per cell", "one value per cell; FOVs concatenate (cells in different "
                   "FOVs are never neighbours)")


class BuildError(Exception):
    """Raised by a builder for an error the generic checks cannot see (e.g. two
    arguments about different cells); the checker reports it at ``param``'s span."""

    def __init__(self, code: str, message: str, param: str, label: str = "",
                 help: str | None = None):
        super().__init__(message)
        self.code, self.message, self.param, self.label, self.help = (
            code, message, param, label, help)


class _Required:
    def __repr__(self):
        return "REQUIRED"


REQUIRED = _Required()

#: Parameter kinds and what the checker accepts for them.
KINDS = {
    "cells": "a cell set",
    "length": "a constant length (e.g. `30 um`)",
    "integer": "a whole number >= 1 without unit",
    "probability": "a number in [0, 1] without unit",
    "number": "per-cell numbers",
    "bool": "per-cell true/false values (a condition)",
    "within": "a neighbourhood `B within r` (optionally `of A`)",
    "nearest": "a pairing `A -> nearest B` (or `nearest B` for the cells in context)",
    "string": "a string",
}


@dataclass(frozen=True)
class Param:
    """One parameter.

    ``default`` is a literal value, ``REQUIRED``, ``"context"`` for a cell set that
    defaults to the cells in context (the filtered set inside ``where``, else all
    cells), or ``"cells"`` for all cells. ``minimum`` is a lower bound (exclusive when ``strict``).
    """

    name: str
    kind: str
    doc: str
    default: object = REQUIRED
    minimum: float | None = None
    strict: bool = False
    maximum: float | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r}")

    def signature(self) -> str:
        if self.default is REQUIRED:
            return f"{self.name}: {self.kind}"
        default = {"context": "cells in context", "cells": "cells"}.get(
            self.default, repr(self.default)) if isinstance(self.default, str) else repr(
            self.default)
        return f"{self.name}: {self.kind} = {default}"


@dataclass(frozen=True)
class Builtin:
    """One signature of a built-in function.

    Attributes
    ----------
    name : str
    category : str
        Taxonomy category (the catalog module): ``cell data``, ``distances``,
        ``neighbourhoods``, ``composition``, ``summaries``.
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
    if any(o.params[:1] and entry.params[:1] and o.params[0].kind == entry.params[0].kind
           for o in overloads):
        raise ValueError(f"built-in {entry.name} already has a signature taking "
                         f"{entry.params[0].kind}")
    overloads.append(entry)
    return entry


def lookup(name: str) -> list[Builtin]:
    """The signatures of ``name`` (empty when unknown), in category order whatever the
    order the category modules were imported in."""
    _load()
    return sorted(CATALOG.get(name, []), key=lambda b: _CATEGORIES.index(b.category))


def builtins() -> list[Builtin]:
    """Every signature, by category then name."""
    _load()
    return sorted((b for group in CATALOG.values() for b in group),
                  key=lambda b: (_CATEGORIES.index(b.category), b.name))


_CATEGORIES = ["cell data", "distances", "neighbourhoods", "composition", "summaries"]


def _load() -> None:
    # The category modules register on import; importing here keeps spec importable alone.
    from cytoql.catalog import (cells, composition, distances,  # noqa: F401
                                neighbourhoods, summaries)
