"""Tables per FOV: a value for each category of a label column (or each pair of them)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cytoql.catalog.spec import aggregates_of
from cytoql.results.aggregated import AggregatedShape, pooling_rule
from cytoql.results.base import Result, jsonable, register_shape
from cytoql.results.cells import category_names
from cytoql.types import TableT
from cytoql.units import report_unit

__all__ = ["TableResult"]


class TableResult(Result):
    """A value per category (columns) for each FOV, and pooled over FOVs.

    Attributes
    ----------
    per_fov : pandas.DataFrame
        One row per FOV (per (FOV, row category) for a square table), one column per
        category; NaN where undefined.
    what : str
        What the values are (``share``, ``z-score`` …).
    """

    kind = "table"

    def __init__(self, *, per_fov, pooled, pooling, what, **kw):
        super().__init__(**kw)
        self.per_fov = per_fov
        self._pooled = pooled
        self.pooling = pooling
        self.what = what

    def pool(self):
        """Values over all FOVs by the declared combine rule: a Series (a DataFrame for
        a square table)."""
        return self._pooled

    def __repr__(self):
        if isinstance(self._pooled, pd.DataFrame):
            parts = [f"{self.what} (pooled over FOVs):",
                     self._pooled.to_string(float_format=lambda v: f"{v:.4f}")]
        else:
            table = self.per_fov.T.assign(**{"all (pooled)": self._pooled})
            table = table[table.fillna(0).any(axis=1)]
            parts = [table.to_string(float_format=lambda v: f"{v:.4f}")]
        return "\n".join(parts + [f"pooling: {self.pooling}", self._footer()])

    def to_dict(self) -> dict:
        def rows_of(frame):
            return {" / ".join(map(str, f if isinstance(f, tuple) else (f,))):
                    {str(k): jsonable(float(v)) for k, v in row.items()}
                    for f, row in frame.iterrows()}

        rows = rows_of(self.per_fov)
        pooled = self._pooled
        if isinstance(pooled, pd.DataFrame):
            rows.update({f"all (pooled) / {k}": v for k, v in rows_of(pooled).items()})
        else:
            rows["all (pooled)"] = {str(k): jsonable(float(v)) for k, v in pooled.items()}
        return {**self._meta(), "what": self.what, "pooling": self.pooling, "rows": rows}


class _TableShape(AggregatedShape):
    def assemble(self, plan, outputs, sample, common, pool):
        rtype: TableT = plan.type
        names = category_names(sample, rtype.column)
        factor, unit = report_unit(rtype.dim)
        records, pooled = self.values(plan, outputs)

        def full(value):
            shape = (len(names), len(names)) if rtype.square else (len(names),)
            value = np.asarray(value, dtype=float)
            return np.full(shape, np.nan) if value.shape != shape else value / factor

        fovs = [key[0] for key, _ in records]
        if rtype.square:
            per_fov = pd.concat(
                {f: pd.DataFrame(full(v), index=names, columns=names) for f, (_, v) in
                 zip(fovs, records)}, names=["fov", rtype.column]) if records else \
                pd.DataFrame(columns=names)
            pooled_value = pd.DataFrame(full(pooled[()]), index=names, columns=names)
        else:
            per_fov = pd.DataFrame([full(v) for _, v in records],
                                   index=pd.Index(fovs, name="fov"), columns=names)
            pooled_value = pd.Series(full(pooled[()]), index=names, name=rtype.what)
        return TableResult(per_fov=per_fov, pooled=pooled_value,
                           pooling=pooling_rule(aggregates_of(plan.root)), what=rtype.what,
                           unit=unit, **common)


register_shape(TableT, _TableShape())
