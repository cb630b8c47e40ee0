"""Cell-set and per-cell results: the cells (and their values) of every FOV, in obs order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cytoql.results.base import FovOutput, Result, Shape, jsonable, register_shape
from cytoql.types import CellSetT, PerCellT
from cytoql.units import report_unit

__all__ = ["CellSetResult", "PerCellResult"]


class CellSetResult(Result):
    """A set of cells: their obs names (obs order) and a count per FOV."""

    kind = "cell set"

    def __init__(self, *, obs_names, per_fov, **kw):
        super().__init__(**kw)
        self.obs_names = obs_names
        self.per_fov = per_fov

    def __len__(self):
        return len(self.obs_names)

    def __repr__(self):
        counts = ", ".join(f"{k}: {v}" for k, v in self.per_fov.items())
        return f"{len(self)} cells ({counts})\n" + self._footer()

    def to_dict(self) -> dict:
        return {**self._meta(), "cells": list(self.obs_names),
                "per_fov": {str(k): int(v) for k, v in self.per_fov.items()}}


class PerCellResult(Result):
    """A value for each cell of a set, aligned to obs names.

    Attributes
    ----------
    values : pandas.Series
        Indexed by obs name, in obs order; float in :attr:`unit`, or categorical labels.
    fov : pandas.Series
        The FOV of each cell, same index.
    """

    kind = "per-cell"

    def __init__(self, *, values, fov, **kw):
        super().__init__(**kw)
        self.values = values
        self.fov = fov

    def __len__(self):
        return len(self.values)

    def __repr__(self):
        head = (f"{len(self.values)} values" + (f" in {self.unit}" if self.unit else ""))
        return "\n".join([head, self.values.head(10).to_string(), self._footer()])

    def to_dict(self) -> dict:
        values = [v if isinstance(v, str) or v is None else jsonable(float(v))
                  for v in self.values]
        return {**self._meta(), "cells": list(self.values.index), "values": values}


class _CellSetShape(Shape):
    def fov_output(self, ev):
        return FovOutput(ev.data.name, rows=ev.data.rows[ev.mask(ev.plan.root)])

    def assemble(self, plan, outputs, sample, common, pool):
        rows = np.sort(np.concatenate([o.rows for o in outputs])) if outputs else \
            np.empty(0, int)
        per_fov = pd.Series({o.fov: len(o.rows) for o in outputs}, name="cells")
        return CellSetResult(obs_names=sample.obs_names[rows], per_fov=per_fov, unit="cells",
                             **common)


class _PerCellShape(Shape):
    def fov_output(self, ev):
        ids = ev.ids(ev.plan.type.context)
        values = np.broadcast_to(ev.value(ev.plan.root), (ev.n,))[ids]
        return FovOutput(ev.data.name, rows=ev.data.rows[ids], values=values)

    def assemble(self, plan, outputs, sample, common, pool):
        rtype = plan.type
        rows = np.concatenate([o.rows for o in outputs]).astype(np.int64)
        values = np.concatenate([o.values for o in outputs])
        fovs = np.concatenate([np.full(len(o.rows), o.fov, dtype=object) for o in outputs])
        order = np.argsort(rows, kind="stable")
        rows, values, fovs = rows[order], values[order], fovs[order]
        index = pd.Index(sample.obs_names[rows], name="cell")
        if rtype.kind == "label":
            names = category_names(sample, rtype.column)
            labels = [names[c] if c >= 0 else None for c in values.astype(np.int64)]
            series = pd.Series(pd.Categorical(labels, categories=names), index=index)
            unit = ""
        elif rtype.kind == "bool":
            series, unit = pd.Series(values.astype(bool), index=index), ""
        else:
            factor, unit = report_unit(rtype.dim)
            series = pd.Series(values.astype(float) / factor, index=index)
        return PerCellResult(values=series, fov=pd.Series(fovs, index=index, name="fov"),
                             unit=unit, **common)


def category_names(sample, column) -> list[str]:
    """The category names of a label column of the sample."""
    return list(sample.cell_types) if column == sample.type_key else sample.codes(column)[1]


register_shape(CellSetT, _CellSetShape())
register_shape(PerCellT, _PerCellShape())
