"""Physical scale of ``obsm["spatial"]``: which unit it is in and how many µm that is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cytoql.errors import DataError
from cytoql.interop import keys

__all__ = ["LENGTH_UNITS", "Scale", "resolve_scale"]

#: Micrometres per unit for every spelling accepted in ``uns["spatial_unit"]``.
LENGTH_UNITS: dict[str, float] = {
    "um": 1.0, "µm": 1.0, "μm": 1.0, "micron": 1.0, "microns": 1.0,
    "micrometer": 1.0, "micrometre": 1.0, "micrometers": 1.0, "micrometres": 1.0,
    "nm": 1e-3, "nanometer": 1e-3, "nanometre": 1e-3,
    "mm": 1e3, "millimeter": 1e3, "millimetre": 1e3,
}
_CANONICAL = {1.0: "um", 1e-3: "nm", 1e3: "mm"}
_PIXEL = {"px", "pixel", "pixels"}


@dataclass(frozen=True)
class Scale:
    """How coordinates convert to micrometres.

    Attributes
    ----------
    unit : str
        The unit of the stored coordinates ("um", "mm", "px", ...).
    um_per_unit : float
        Micrometres per stored unit; positions in µm are ``xy * um_per_unit``.
    assumed : bool
        True when nothing said what the unit is and 1 unit = 1 µm was assumed.
    """

    unit: str
    um_per_unit: float
    assumed: bool = False

    def describe(self) -> str:
        """One line such as ``px (0.12 µm/px)`` or ``um``."""
        if self.assumed:
            return f"{self.unit} (assumed 1 {self.unit} = 1 µm)"
        if self.um_per_unit == 1.0 and self.unit in LENGTH_UNITS:
            return "µm"
        return f"{self.unit} ({self.um_per_unit:g} µm/{self.unit})"


def _factor(value, what: str) -> float:
    try:
        factor = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be a number of µm per unit, got {value!r}") from None
    if not (factor > 0 and factor < float("inf")):
        raise DataError(f"{what} must be a positive finite number, got {value!r}")
    return factor


def resolve_scale(uns: Mapping, unit: str | None = None,
                  um_per_unit: float | None = None) -> tuple[Scale, list[str]]:
    """Work out the coordinate scale from arguments, then ``uns``, then assume µm.

    Parameters
    ----------
    uns : mapping
        ``adata.uns``; read only.
    unit : str, optional
        Overrides ``uns["spatial_unit"]``.
    um_per_unit : float, optional
        Micrometres per coordinate unit; overrides everything else (required for "px"
        when ``uns["um_per_px"]`` is absent, unless 1 px = 1 µm may be assumed).

    Returns
    -------
    scale : Scale
    assumptions : list of str
        Human-readable assumptions, empty when the scale was fully specified.

    Raises
    ------
    DataError
        An unknown unit name, or a scale factor that is not a positive number.
    """
    source = "the unit argument" if unit is not None else f"uns['{keys.SPATIAL_UNIT}']"
    if unit is None:
        unit = uns.get(keys.SPATIAL_UNIT)
    if unit is not None and not isinstance(unit, str):
        raise DataError(f"{source} must be a string such as 'um', got {unit!r}")
    name = unit.strip() if unit is not None else None
    low = name.lower() if name is not None else None

    if um_per_unit is not None:
        factor = _factor(um_per_unit, "um_per_unit")
        return Scale(name or "unit", factor), []
    if low is None:
        return Scale("unit", 1.0, assumed=True), [
            f"no spatial unit in uns['{keys.SPATIAL_UNIT}'] and none given; "
            "assumed 1 unit = 1 µm"
        ]
    if low in LENGTH_UNITS:
        factor = LENGTH_UNITS[low]
        return Scale(_CANONICAL[factor], factor), []
    if low in _PIXEL:
        if keys.UM_PER_PX in uns:
            return Scale("px", _factor(uns[keys.UM_PER_PX], f"uns['{keys.UM_PER_PX}']")), []
        return Scale("px", 1.0, assumed=True), [
            f"coordinates are in pixels but no µm per pixel was given (uns['{keys.UM_PER_PX}'] "
            "or um_per_unit); assumed 1 px = 1 µm"
        ]
    known = ", ".join(sorted({"um", "µm", "micron", "nm", "mm", "px"}))
    raise DataError(f"unknown spatial unit {name!r} in {source}; use one of: {known}")
