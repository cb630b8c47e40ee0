"""CytoQL: a typed spatial query language for spatial single-cell data."""

from cytoql.errors import (
    CytoQLError,
    CytoQLWarning,
    DataError,
    AssumptionWarning,
    EmptySelectionWarning,
    EvaluationError,
    InternalError,
)

__version__ = "0.1.0"

_API = ("compile", "query", "schema_of")


def __getattr__(name):
    # The query pipeline imports numba kernels: load it on first use, not on import.
    if name in _API:
        from cytoql import api

        return getattr(api, name)
    raise AttributeError(f"module 'cytoql' has no attribute {name!r}")

__all__ = [
    "AssumptionWarning",
    "CytoQLError",
    "CytoQLWarning",
    "DataError",
    "EmptySelectionWarning",
    "EvaluationError",
    "InternalError",
    "__version__",
    "compile",
    "query",
    "schema_of",
]
