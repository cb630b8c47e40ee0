"""Input checks shared by the kernel wrappers: validate in Python, never inside numba.

Each function returns a C-contiguous array of the dtype the numba cores expect, or
raises ``ValueError`` / ``TypeError`` with a message that names the argument.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_codes", "as_ids", "as_int", "as_labels", "as_option", "as_points", "as_radii",
           "as_window"]


def as_points(xy, name: str = "xy") -> np.ndarray:
    """(n, 2) finite float64 coordinates; n may be 0."""
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {arr.shape}")
    if not np.isfinite(arr).all():  # the row-wise search below is 10x slower
        bad = ~np.isfinite(arr).all(axis=1)
        rows = np.flatnonzero(bad)
        raise ValueError(
            f"{name} has {rows.size} non-finite row(s) (NaN or inf), first at index "
            f"{rows[:5].tolist()}"
        )
    return np.ascontiguousarray(arr)


def as_labels(labels, n: int, name: str = "labels") -> tuple[np.ndarray, int]:
    """int64 label codes ``0 .. n_labels-1`` of length ``n``, and ``n_labels``."""
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer codes, got dtype {arr.dtype}")
    if n and arr.min() < 0:
        raise ValueError(f"{name} must be >= 0, got {arr.min()}")
    n_labels = int(arr.max()) + 1 if n else 0
    return np.ascontiguousarray(arr, dtype=np.int64), n_labels


def as_ids(ids, n: int, name: str = "ids") -> np.ndarray:
    """int64 indices into an array of length ``n`` (a boolean mask is accepted)."""
    arr = np.asarray(ids)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"boolean {name} must have shape ({n},), got {arr.shape}")
        return np.flatnonzero(arr).astype(np.int64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} must lie in [0, {n}), got range [{arr.min()}, {arr.max()}]")
    return np.ascontiguousarray(arr)


def as_radii(r, name: str = "r", allow_zero: bool = False) -> np.ndarray:
    """A 1-D, strictly increasing, finite float64 array of radii (> 0, or >= 0)."""
    arr = np.atleast_1d(np.asarray(r, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of radii")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    low_ok = arr >= 0 if allow_zero else arr > 0
    if not low_ok.all():
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {arr[~low_ok][0]!r}")
    if arr.size > 1 and not (np.diff(arr) > 0).all():
        raise ValueError(f"{name} must be strictly increasing")
    return np.ascontiguousarray(arr)


def as_window(window, name: str = "window") -> tuple[float, float, float, float]:
    """A rectangle ``(xmin, ymin, xmax, ymax)`` with positive width and height."""
    try:
        xmin, ymin, xmax, ymax = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (xmin, ymin, xmax, ymax), got {window!r}") from None
    if not all(np.isfinite([xmin, ymin, xmax, ymax])):
        raise ValueError(f"{name} must be finite, got {window!r}")
    if not (xmax > xmin and ymax > ymin):
        raise ValueError(f"{name} must have positive width and height, got {window!r}")
    return xmin, ymin, xmax, ymax


def as_int(value, name: str, minimum: int) -> int:
    """A Python int ``>= minimum``; bools and floats are refused (TypeError)."""
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
