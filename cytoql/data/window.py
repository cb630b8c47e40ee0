"""Observation windows: the rectangle a field of view was imaged in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cytoql.errors import DataError

__all__ = ["Window", "window_from_bounds", "window_of_cells"]

WindowSource = Literal["metadata", "cells", "user"]


@dataclass(frozen=True)
class Window:
    """An axis-aligned rectangle in µm.

    Attributes
    ----------
    xmin, ymin, xmax, ymax : float
        Bounds in µm.
    source : {"metadata", "cells", "user"}
        Where it came from: ``uns["fov_windows"]``, the bounding box of the FOV's cells
        (an assumption, recorded as such), or an explicit argument.
    """

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    source: WindowSource = "user"

    @property
    def width(self) -> float:
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        return self.ymax - self.ymin

    @property
    def area(self) -> float:
        """Area in µm² (0 for the degenerate box of one cell or of collinear cells)."""
        return self.width * self.height

    def as_tuple(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)``, the form the kernels take."""
        return (self.xmin, self.ymin, self.xmax, self.ymax)

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """Boolean mask of the rows of ``xy`` (µm) inside or on the rectangle."""
        xy = np.asarray(xy, dtype=np.float64)
        return ((xy[:, 0] >= self.xmin) & (xy[:, 0] <= self.xmax)
                & (xy[:, 1] >= self.ymin) & (xy[:, 1] <= self.ymax))

    def describe(self) -> str:
        """``x 0–940, y 0–600 µm (940 × 600 µm)`` with the source."""
        how = {"metadata": "from metadata", "cells": "bounding box of its cells",
               "user": "given"}[self.source]
        return (f"x {self.xmin:.6g}–{self.xmax:.6g}, y {self.ymin:.6g}–{self.ymax:.6g} µm "
                f"({self.width:.4g} × {self.height:.4g} µm, {how})")


def window_from_bounds(bounds, source: WindowSource, what: str) -> Window:
    """A :class:`Window` from ``(xmin, ymin, xmax, ymax)``, validated.

    Raises
    ------
    DataError
        Not four finite numbers, or no positive width and height; ``what`` names the
        origin of ``bounds`` in the message.
    """
    try:
        values = np.asarray(bounds, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be [xmin, ymin, xmax, ymax], got {bounds!r}") from None
    if values.shape != (4,) or not np.isfinite(values).all():
        raise DataError(f"{what} must be four finite numbers [xmin, ymin, xmax, ymax], "
                        f"got {bounds!r}")
    xmin, ymin, xmax, ymax = (float(v) for v in values)
    if not (xmax > xmin and ymax > ymin):
        raise DataError(f"{what} must have xmax > xmin and ymax > ymin, got {bounds!r}")
    return Window(xmin, ymin, xmax, ymax, source)


def window_of_cells(xy: np.ndarray) -> Window:
    """The bounding box of ``xy`` (µm); zero-area when all cells are collinear."""
    # column by column: a reduction over axis 0 of an (n, 2) array is 30x slower
    x, y = xy[:, 0], xy[:, 1]
    return Window(float(x.min()), float(y.min()), float(x.max()), float(y.max()), "cells")
