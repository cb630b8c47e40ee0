"""Unit algebra: dimensions (length, cells, angle), literal units and report units.

Values are computed in canonical units (µm, cells, radians); a literal such as
``0.1 mm`` is converted when checked, and a result is reported in the report unit of
its dimension (µm, µm², cells/mm², count, dimensionless, degrees).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ANGLE", "AREA", "COUNT", "DENSITY", "DIMENSIONLESS", "Dim", "LENGTH", "UNITS",
           "Unit", "canonical_unit", "report_unit"]


@dataclass(frozen=True)
class Dim:
    """Exponents of length (µm), cells and angle (rad)."""

    length: int = 0
    cells: int = 0
    angle: int = 0

    def __mul__(self, other: Dim) -> Dim:
        return Dim(self.length + other.length, self.cells + other.cells,
                   self.angle + other.angle)

    def __truediv__(self, other: Dim) -> Dim:
        return Dim(self.length - other.length, self.cells - other.cells,
                   self.angle - other.angle)

    @property
    def name(self) -> str:
        """In words: ``length``, ``area``, ``count``, ``density``, or the unit symbol."""
        return _DIM_NAMES.get(self) or self.symbol

    @property
    def symbol(self) -> str:
        """The canonical unit: ``µm²/cell``, ``cells²``, ``1/µm``; ``""`` if dimensionless.

        Positive powers are the numerator, negative ones the denominator; a cell in the
        denominator is singular (``µm² per cell``).
        """
        powers = (("µm", "µm", self.length), ("cells", "cell", self.cells),
                  ("rad", "rad", self.angle))
        top = "·".join(_power(symbol, e) for symbol, _, e in powers if e > 0)
        bottom = [_power(single, -e) for _, single, e in powers if e < 0]
        if not bottom:
            return top
        under = bottom[0] if len(bottom) == 1 else "(" + "·".join(bottom) + ")"
        return f"{top or '1'}/{under}"

    def article(self) -> str:
        """``a length``, ``an area``, ``a dimensionless number``."""
        name = self.name
        if self == DIMENSIONLESS:
            return "a dimensionless number"
        return ("an " if name[0] in "aeiou" else "a ") + name


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power(symbol: str, exponent: int) -> str:
    return symbol if exponent == 1 else symbol + str(exponent).translate(_SUPERSCRIPT)


LENGTH = Dim(length=1)
AREA = Dim(length=2)
COUNT = Dim(cells=1)
DENSITY = Dim(length=-2, cells=1)
DIMENSIONLESS = Dim()
ANGLE = Dim(angle=1)

_DIM_NAMES = {LENGTH: "length", AREA: "area", COUNT: "count", DENSITY: "density",
              DIMENSIONLESS: "dimensionless", ANGLE: "angle", Dim(length=-1): "inverse length"}


@dataclass(frozen=True)
class Unit:
    """A unit: its dimension and the factor to the canonical unit of that dimension."""

    name: str
    dim: Dim
    scale: float
    symbol: str

    def to_canonical(self, value: float) -> float:
        return value * self.scale

    def from_canonical(self, value):
        return value / self.scale


#: Literal units by canonical spelling (what the printer writes).
UNITS: dict[str, Unit] = {u.name: u for u in [
    Unit("um", LENGTH, 1.0, "µm"),
    Unit("mm", LENGTH, 1e3, "mm"),
    Unit("nm", LENGTH, 1e-3, "nm"),
    Unit("um2", AREA, 1.0, "µm²"),
    Unit("mm2", AREA, 1e6, "mm²"),
    Unit("cells/mm2", DENSITY, 1e-6, "cells/mm²"),
    Unit("cells/um2", DENSITY, 1.0, "cells/µm²"),
    Unit("deg", ANGLE, math.pi / 180, "°"),
    Unit("rad", ANGLE, 1.0, "rad"),
]}

_SPELLINGS = {"µm": "um", "μm": "um", "µm2": "um2", "μm2": "um2", "µm²": "um2",
              "μm²": "um2", "um²": "um2", "mm²": "mm2", "cells/mm²": "cells/mm2",
              "cells/µm2": "cells/um2", "cells/μm2": "cells/um2", "cells/µm²": "cells/um2",
              "cells/um²": "cells/um2"}

#: Habits from other tools mapped to the CytoQL unit (used for confident suggestions).
HABITS = {"micron": "um", "microns": "um", "micrometer": "um", "micrometers": "um",
          "micrometre": "um", "micrometres": "um", "u": "um", "mu": "um", "millimeter": "mm",
          "millimeters": "mm", "millimetre": "mm", "millimetres": "mm",
          "degree": "deg", "degrees": "deg", "radian": "rad", "radians": "rad",
          "sqmm": "mm2", "mm^2": "mm2", "um^2": "um2"}

_REPORT = {LENGTH: UNITS["um"], AREA: UNITS["um2"], DENSITY: UNITS["cells/mm2"],
           ANGLE: UNITS["deg"]}


def canonical_unit(text: str) -> str | None:
    """The canonical spelling of a known unit (``µm`` → ``um``), else None."""
    if text in UNITS:
        return text
    return _SPELLINGS.get(text)


def report_unit(dim: Dim) -> tuple[float, str]:
    """(factor, symbol): a canonical value divided by factor is in the report unit."""
    if dim in _REPORT:
        unit = _REPORT[dim]
        return unit.scale, unit.symbol
    if dim == COUNT:
        return 1.0, "cells"
    return 1.0, dim.symbol
