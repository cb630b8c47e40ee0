"""Finished values that are more than one number: curves over radius.

Built-ins return these from their ``finish`` functions; result shapes turn them into
tables. Values are in canonical units (µm for r and lengths).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Curve"]


@dataclass(frozen=True, eq=False)
class Curve:
    """A function of r: its value, the value under the null model, an envelope.

    Attributes
    ----------
    r : ndarray of shape (m,)
        Radii in µm.
    value : ndarray of shape (m,)
        NaN where the estimator is undefined (never extrapolated).
    theo : ndarray of shape (m,) or None
        The value under complete spatial randomness (the theoretical curve).
    lo, hi : ndarray of shape (m,) or None
        Pointwise simulation envelope, when simulations were asked for.
    p_value : float or None
        Global test p-value (MAD / DCLF) over the simulations, when asked for.
    """

    r: np.ndarray
    value: np.ndarray
    theo: np.ndarray | None = None
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    p_value: float | None = None
