"""Numbers per FOV (and group), with their exact pooled value."""

from __future__ import annotations

import pandas as pd

from cytoql.catalog.spec import aggregates_of
from cytoql.errors import CytoQLError
from cytoql.results.aggregated import AggregatedShape, pooling_rule
from cytoql.results.base import Result, format_number, jsonable, register_shape
from cytoql.types import ScalarT
from cytoql.units import report_unit

__all__ = ["ScalarResult"]


class ScalarResult(Result):
    """A number per FOV (and group), with its exact pooled value on request.

    Attributes
    ----------
    per_fov : pandas.Series
        Indexed by ``fov`` (and the ``by`` keys), in :attr:`unit`.
    pooling : str
        The rule :meth:`pool` applies, from the catalog (e.g. ``mean: ratio of sums``).

    Notes
    -----
    :attr:`value` is the single number when the data has one FOV (or ``pool=True`` was
    asked); with several FOVs it refuses, because a mean of per-FOV values is not the
    pooled value — use :attr:`per_fov` or :meth:`pool`.
    """

    kind = "scalar"

    def __init__(self, *, per_fov, pooled, pooling, pool, **kw):
        super().__init__(**kw)
        self.per_fov = per_fov
        self._pooled = pooled
        self.pooling = pooling
        self._pool = pool

    def pool(self):
        """The value over all FOVs by the declared combine rule (exact, never a mean of
        per-FOV values): a float, or a Series by group for a grouped query."""
        return self._pooled

    @property
    def value(self):
        fovs = self.per_fov.index.get_level_values("fov").unique()
        if self._pool or len(fovs) == 1:
            return self._pooled
        raise CytoQLError(f"this result has {len(fovs)} FOVs ({', '.join(map(str, fovs))}): "
                          "read .per_fov, or .pool() for the value over all FOVs "
                          f"({self.pooling}); or pass pool=True")

    def __float__(self):
        value = self.value
        if isinstance(value, pd.Series):
            raise TypeError("a grouped result has one value per group; read .value")
        return float(value)

    def table(self) -> pd.DataFrame:
        """Per-FOV rows and pooled rows (fov = ``"all (pooled)"``)."""
        per = self.per_fov.rename("value").reset_index()
        pooled = self._pooled
        if isinstance(pooled, pd.Series):
            pooled = pooled.rename("value").reset_index()
        else:
            pooled = pd.DataFrame({"value": [pooled]})
        pooled.insert(0, "fov", "all (pooled)")
        return pd.concat([per, pooled], ignore_index=True)

    def __repr__(self):
        unit = f" {self.unit}" if self.unit else ""
        lines = [f"{row_key(row)}  {format_number(row['value'])}{unit}"
                 for _, row in self.table().iterrows()]
        return "\n".join(lines + [f"pooling: {self.pooling}", self._footer()])

    def to_dict(self) -> dict:
        rows = [{k: jsonable(v) for k, v in row.items()}
                for row in self.table().to_dict(orient="records")]
        return {**self._meta(), "pooling": self.pooling, "rows": rows}


def row_key(row) -> str:
    return " / ".join(str(v) for k, v in row.items() if k != "value")


class _ScalarShape(AggregatedShape):
    def assemble(self, plan, outputs, sample, common, pool):
        rtype = plan.type
        factor, unit = report_unit(rtype.dim)
        if rtype.boolean:
            factor, unit = 1.0, ""
        records, pooled_values = self.values(plan, outputs)
        group_names = [c for c in plan.by if c != "fov"]
        scale = (lambda v: bool(v)) if rtype.boolean else (lambda v: float(v) / factor)
        index = [key for key, _ in records]
        mi = pd.MultiIndex.from_tuples(index, names=["fov"] + group_names) if group_names \
            else pd.Index([i[0] for i in index], name="fov")
        per_fov = pd.Series([scale(v) for _, v in records], index=mi, name="value")
        keys = list(pooled_values)
        if group_names:
            gi = pd.MultiIndex.from_tuples(keys, names=group_names) if len(group_names) > 1 \
                else pd.Index([k[0] for k in keys], name=group_names[0])
            pooled = pd.Series([scale(pooled_values[k]) for k in keys], index=gi, name="value")
        else:
            pooled = scale(pooled_values[()])
        return ScalarResult(per_fov=per_fov, pooled=pooled,
                            pooling=pooling_rule(aggregates_of(plan.root)), pool=pool,
                            unit=unit, **common)


register_shape(ScalarT, _ScalarShape())
