"""The exception and warning hierarchy of CytoQL.

::

    CytoQLError
    ├── QueryError              the query is wrong (cytoql.diagnostics)
    │   ├── QuerySyntaxError    E01xx
    │   ├── QueryNameError      E02xx
    │   └── QueryTypeError      E03xx
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
    "QueryError",
    "QueryNameError",
    "QuerySyntaxError",
    "QueryTypeError",
]


class CytoQLError(Exception):
    """Base class of every error CytoQL raises on purpose."""


class QueryError(CytoQLError):
    """The query is wrong; ``.diagnostics`` holds every error found, ``str()`` renders them.

    Parameters
    ----------
    diagnostics : sequence of cytoql.diagnostics.diagnostic.Diagnostic
    source : cytoql.source.Source
        The query text the spans point into.

    Examples
    --------
    ``cytoql.compile('mean(distance(T -> nearest E)', schema)`` raises a
    ``QuerySyntaxError`` (E0103, unexpected end of query).
    """

    def __init__(self, diagnostics, source):
        from cytoql.diagnostics.render import render_text

        self.diagnostics = tuple(diagnostics)
        self.source = source
        super().__init__("\n\n".join(render_text(d, source) for d in self.diagnostics))


class QuerySyntaxError(QueryError):
    """The text is not CytoQL (E01xx): ``count(cells where type = "PCT")``."""


class QueryNameError(QueryError):
    """An unknown or ambiguous name (E02xx): ``count(cells where type == "Tcell")``."""


class QueryTypeError(QueryError):
    """Wrong types, units, arity or option values (E03xx): ``count(cells within 30)``."""


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
