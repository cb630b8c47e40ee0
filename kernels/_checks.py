"""Argument checks shared by the statistics kernels (nearest neighbour, clusters,
neighbourhood), complementing :mod:`cytoql.kernels._validate`: validate in Python and
raise ``ValueError`` / ``TypeError`` with a message that names the argument.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_labels

__all__ = ["as_codes", "as_int", "as_option"]


def as_int(value, name: str, minimum: int) -> int:
    """A Python int ``>= minimum``; bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_option(value, allowed: tuple[str, ...], name: str) -> str:
    """``value`` if it is one of ``allowed``; the error lists the valid values."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; "
                         f"got {value!r}")
    return value


def as_codes(labels, n: int, n_labels) -> tuple[np.ndarray, int]:
    """int64 label codes of length ``n`` in ``[0, n_labels)``, and ``n_labels`` (>= 1)."""
    codes, found = as_labels(labels, n, "labels")
    n_labels = as_int(n_labels, "n_labels", 1)
    if found > n_labels:
        raise ValueError(f"labels must be < n_labels = {n_labels}, got {found - 1}")
    return codes, n_labels
