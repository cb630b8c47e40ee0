"""Curves over radius per FOV (Ripley K, L, H, pcf, G, F, J …), with the CSR value and
simulation envelopes, and the exact pooled curve."""

from __future__ import annotations

import pandas as pd

from cytoql.catalog.spec import aggregates_of
from cytoql.errors import CytoQLError
from cytoql.results.aggregated import AggregatedShape, pooling_rule
from cytoql.results.base import Result, jsonable, register_shape
from cytoql.types import CurveT
from cytoql.units import report_unit

__all__ = ["CurveResult"]

_COLUMNS = ("value", "theo", "lo", "hi")


class CurveResult(Result):
    """A curve per FOV and pooled over FOVs.

    Attributes
    ----------
    r : ndarray
        Radii in µm.
    per_fov : pandas.DataFrame
        Tidy rows: ``fov``, ``r`` (µm), ``value``, ``theo`` (under CSR), ``lo``, ``hi``
        (pointwise envelope, NaN without simulations), in :attr:`unit`.
    p_values : pandas.Series
        The global envelope test p-value per FOV (and ``all (pooled)``), NaN without
        simulations.
    pooling : str
    """

    kind = "curve"

    def __init__(self, *, r, per_fov, pooled, p_values, pooling, pool, **kw):
        super().__init__(**kw)
        self.r = r
        self.per_fov = per_fov
        self._pooled = pooled
        self.p_values = p_values
        self.pooling = pooling
        self._pool = pool

    def pool(self) -> pd.DataFrame:
        """The pooled curve (index r in µm; value, theo, lo, hi)."""
        return self._pooled

    @property
    def value(self) -> pd.DataFrame:
        """The curve of the only FOV (or the pooled one with ``pool=True``)."""
        fovs = self.per_fov["fov"].unique()
        if self._pool or len(fovs) == 1:
            return self._pooled
        raise CytoQLError(f"this result has {len(fovs)} FOVs ({', '.join(map(str, fovs))}): "
                          "read .per_fov, or .pool() for the curve over all FOVs "
                          f"({self.pooling}); or pass pool=True")

    def table(self) -> pd.DataFrame:
        """Per-FOV rows and the pooled rows (fov = ``"all (pooled)"``)."""
        pooled = self._pooled.reset_index()
        pooled.insert(0, "fov", "all (pooled)")
        return pd.concat([self.per_fov, pooled], ignore_index=True)

    def __repr__(self):
        unit = f" ({self.unit})" if self.unit else ""
        text = self.table().to_string(index=False, float_format=lambda v: f"{v:.6g}")
        return "\n".join([f"curve{unit} over r (µm)", text, f"pooling: {self.pooling}",
                          self._footer()])

    def to_dict(self) -> dict:
        rows = [{k: jsonable(v) for k, v in row.items()}
                for row in self.table().to_dict(orient="records")]
        return {**self._meta(), "pooling": self.pooling, "rows": rows,
                "p_values": {str(k): jsonable(v) for k, v in self.p_values.items()}}


class _CurveShape(AggregatedShape):
    missing = None

    def assemble(self, plan, outputs, sample, common, pool):
        factor, unit = report_unit(plan.type.dim)
        records, pooled = self.values(plan, outputs)
        frames, p_values, r = [], {}, None

        def frame(curve):
            data = {"r": curve.r}
            for name in _COLUMNS:
                column = getattr(curve, name)
                data[name] = float("nan") if column is None else column / factor
            return pd.DataFrame(data)

        for (fov, *_), curve in records:
            r = curve.r
            frames.append(frame(curve).assign(fov=fov))
            p_values[fov] = float("nan") if curve.p_value is None else curve.p_value
        per_fov = pd.concat(frames, ignore_index=True)[["fov", "r", *_COLUMNS]] if frames \
            else pd.DataFrame(columns=["fov", "r", *_COLUMNS])
        total = pooled[()]
        if total is None:
            pooled_frame = pd.DataFrame({"r": r}).assign(**{c: float("nan") for c in _COLUMNS})
            p_values["all (pooled)"] = float("nan")
        else:
            pooled_frame = frame(total)
            p_values["all (pooled)"] = float("nan") if total.p_value is None else \
                total.p_value
        return CurveResult(r=r, per_fov=per_fov, pooled=pooled_frame.set_index("r"),
                           p_values=pd.Series(p_values, name="p_value"),
                           pooling=pooling_rule(aggregates_of(plan.root)), pool=pool,
                           unit=unit, **common)


register_shape(CurveT, _CurveShape())
