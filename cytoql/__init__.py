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

__all__ = [
    "AssumptionWarning",
    "CytoQLError",
    "CytoQLWarning",
    "DataError",
    "EmptySelectionWarning",
    "EvaluationError",
    "InternalError",
    "__version__",
]
