"""Value shapes the checker assigns to expressions; each has a shape and a unit.

Per-cell values remember the cell set they are for (their *context*), so that values
over different cells are never silently combined.
"""

from __future__ import annotations

from dataclasses import dataclass

from cytoql.units import DIMENSIONLESS, Dim

__all__ = ["CELLS", "CellSetT", "CurveT", "ErrorT", "GraphT", "NearestT", "PartitionT",
           "PerCellT", "RangeT", "ScalarT", "StringT", "TableT", "Type", "WithinT",
           "describe"]


@dataclass(frozen=True)
class Type:
    """Base class of value types."""


@dataclass(frozen=True)
class ErrorT(Type):
    """The type of an expression that already has an error; accepted everywhere so that
    one mistake is reported once."""


@dataclass(frozen=True)
class CellSetT(Type):
    """A set of cells."""


CELLS = CellSetT()


@dataclass(frozen=True)
class ScalarT(Type):
    """One number per field of view (and group) with a dimension.

    ``bare`` marks a literal written without a unit (usable as a count or a
    dimensionless number, never as a length); ``boolean`` a true/false value.
    """

    dim: Dim = DIMENSIONLESS
    bare: bool = False
    boolean: bool = False


@dataclass(frozen=True)
class PerCellT(Type):
    """A value for each cell of ``context`` (a plan node of a cell set).

    ``kind`` is ``"number"``, ``"bool"`` or ``"label"`` (codes of ``column``).
    """

    kind: str
    context: object
    dim: Dim = DIMENSIONLESS
    column: str | None = None


@dataclass(frozen=True)
class StringT(Type):
    """A string literal."""

    value: str


@dataclass(frozen=True)
class WithinT(Type):
    """``B within r of A``: for each cell of A, the cells of B within r."""


@dataclass(frozen=True)
class NearestT(Type):
    """``A -> nearest B``: for each cell of A, its nearest cells of B."""


@dataclass(frozen=True)
class RangeT(Type):
    """``start .. stop by step``: a sequence of values of one dimension."""

    dim: Dim


@dataclass(frozen=True)
class CurveT(Type):
    """A curve over radius (Ripley-family functions) per FOV: values of dimension
    ``dim`` at the radii of a range."""

    dim: Dim


@dataclass(frozen=True)
class GraphT(Type):
    """A graph over a cell set (later built-ins)."""


@dataclass(frozen=True)
class PartitionT(Type):
    """A partition of a cell set into clusters (later built-ins)."""


@dataclass(frozen=True)
class TableT(Type):
    """Per FOV, a value for each category of the label ``column`` (``square``: for each
    pair of categories, rows then columns), of dimension ``dim``; ``what`` names the
    values (``share``, ``z-score``)."""

    column: str
    square: bool = False
    dim: Dim = DIMENSIONLESS
    what: str = "value"


def describe(t: Type) -> str:
    """The type in words for messages: ``a cell set``, ``per-cell lengths``, ``a count``."""
    match t:
        case CellSetT():
            return "a cell set"
        case ScalarT(boolean=True):
            return "a true/false value"
        case ScalarT(bare=True):
            return "a bare number"
        case ScalarT(dim=dim):
            return dim.article()
        case PerCellT(kind="bool"):
            return "per-cell true/false values"
        case PerCellT(kind="label", column=column):
            return f"per-cell labels of obs[{column!r}]"
        case PerCellT(dim=dim):
            return f"per-cell values ({dim.name})"
        case StringT():
            return "a string"
        case WithinT():
            return "a neighbourhood (`B within r`)"
        case NearestT():
            return "a nearest-neighbour pairing (`A -> nearest B`)"
        case RangeT():
            return "a range"
        case CurveT(dim=dim):
            return f"a curve ({dim.name})"
        case GraphT():
            return "a graph"
        case PartitionT():
            return "a partition"
        case TableT():
            return "a table"
    return "a value with an error"
