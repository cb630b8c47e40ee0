"""The exception and warning hierarchy of CytoQL.

::

    CytoQLError
    ├── QueryError              the query is wrong (cytoql.diagnostics)
    ├── DataError(ValueError)   the AnnData cannot be used as given
    ├── EvaluationError         a checked query cannot run on this data
    └── InternalError           a CytoQL bug
    CytoQLWarning(UserWarning)
    ├── AssumptionWarning       a default was assumed (unit, window)
    └── EmptySelectionWarning   a selection has no cells; the result is NaN
"""

from __future__ import annotations

__all__ = [
    "AssumptionWarning",
    "CytoQLError",
    "CytoQLWarning",
    "DataError",
    "EmptySelectionWarning",
    "EvaluationError",
    "InternalError",
]


class CytoQLError(Exception):
    """Base class of every error CytoQL raises on purpose."""


class DataError(CytoQLError, ValueError):
    """The AnnData cannot be used as given; the message lists what exists.

    Examples
    --------
    ``Sample.from_anndata(adata, type_key="celltype")`` on data whose label column is
    ``cell_type`` raises ``DataError: obs has no column 'celltype' ...``.
    """


class EvaluationError(CytoQLError):
    """A checked query cannot run on this data (codes E04xx, carries a span)."""


class InternalError(CytoQLError):
    """A bug in CytoQL itself: please report it with the query and the data schema."""

    def __init__(self, message: str):
        super().__init__(
            f"internal error: {message} (this is a CytoQL bug; please report it "
            "with the query and `cytoql info` of the data)"
        )


class CytoQLWarning(UserWarning):
    """Base class of CytoQL's warnings."""


class AssumptionWarning(CytoQLWarning):
    """A default was assumed where the data said nothing (unit scale, window)."""


class EmptySelectionWarning(CytoQLWarning):
    """A selection has no cells; the affected value is NaN (documented)."""
