"""Typed results: the value, its unit, the query, resolved defaults, conventions,
assumptions and warnings. Scalars come back per FOV; pooling over FOVs is explicit and
exact, by each built-in's declared combine rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cytoql.catalog.summaries import Summary
from cytoql.diagnostics.render import render_json, render_short
from cytoql.errors import CytoQLError
from cytoql.evaluate import top_summaries
from cytoql.types import CellSetT, PerCellT, ScalarT, TableT
from cytoql.units import report_unit

__all__ = ["CellSetResult", "PerCellResult", "Result", "ScalarResult", "TableResult",
           "build_result"]


class Result:
    """What every result carries besides its value.

    Attributes
    ----------
    query : str
        The canonical text of the query.
    unit : str
        Unit of the values (``µm``, ``cells/mm²``, ``cells``, ``""`` when dimensionless).
    defaults, conventions, assumptions : tuple of str
    warnings : tuple of Diagnostic
    fingerprint : str
        Hash of the data the query read (:func:`cytoql.api.fingerprint`).
    plan : Plan
    """

    kind = "result"

    def __init__(self, *, plan, unit, assumptions, warnings, source, fingerprint):
        self.plan = plan
        self.fingerprint = fingerprint
        self.query = plan.text
        self.unit = unit
        self.defaults = plan.defaults
        self.conventions = plan.conventions
        self.assumptions = tuple(assumptions)
        self.warnings = tuple(warnings)
        self._source = source

    def explain(self) -> str:
        """Plan, defaults, conventions, assumptions and warnings as text."""
        lines = [self.plan.explain(), f"data fingerprint: {self.fingerprint}",
                 "assumptions:" + ("" if self.assumptions else " none")]
        lines += [f"  - {a}" for a in self.assumptions]
        if self.warnings:
            lines.append("warnings:")
            lines += [f"  - {render_short(w, self._source)}" for w in self.warnings]
        return "\n".join(lines)

    def _meta(self) -> dict:
        return {"kind": self.kind, "query": self.query, "unit": self.unit,
                "fingerprint": self.fingerprint,
                "defaults": list(self.defaults), "conventions": list(self.conventions),
                "assumptions": list(self.assumptions),
                "warnings": [render_json(w, self._source) for w in self.warnings]}

    def _footer(self) -> str:
        lines = [f"query: {self.query}"]
        lines += [f"default: {d}" for d in self.defaults]
        lines += [f"assumption: {a}" for a in self.assumptions]
        lines += [render_short(w, self._source) for w in self.warnings]
        return "\n".join(lines)


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


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
        rows = [{k: _jsonable(v) if isinstance(v, float) else v for k, v in row.items()}
                for row in self.table().to_dict(orient="records")]
        return {**self._meta(), "pooling": self.pooling, "rows": rows}


def row_key(row) -> str:
    return " / ".join(str(v) for k, v in row.items() if k != "value")


def format_number(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


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
        values = [v if isinstance(v, str) else _jsonable(float(v)) for v in self.values]
        return {**self._meta(), "cells": list(self.values.index), "values": values}


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


class TableResult(Result):
    """Shares per category (columns) for each FOV (rows), and pooled over FOVs.

    Attributes
    ----------
    per_fov : pandas.DataFrame
        One row per FOV, one column per category; rows sum to 1 (NaN without data).
    counts : pandas.DataFrame
        The additive counts the shares come from.
    """

    kind = "table"

    def __init__(self, *, per_fov, counts, pooled, pooling, **kw):
        super().__init__(**kw)
        self.per_fov = per_fov
        self.counts = counts
        self._pooled = pooled
        self.pooling = pooling

    def pool(self) -> pd.Series:
        """Shares over all FOVs: pooled counts / their total (ratio of sums)."""
        return self._pooled

    def __repr__(self):
        table = self.per_fov.T.assign(**{"all (pooled)": self._pooled})
        table = table[table.fillna(0).any(axis=1)]
        return "\n".join([table.to_string(float_format=lambda v: f"{v:.4f}"),
                          f"pooling: {self.pooling}", self._footer()])

    def to_dict(self) -> dict:
        rows = {str(f): {k: _jsonable(float(v)) for k, v in row.items()}
                for f, row in self.per_fov.iterrows()}
        rows["all (pooled)"] = {k: _jsonable(float(v)) for k, v in self._pooled.items()}
        return {**self._meta(), "pooling": self.pooling, "rows": rows}


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, counts / np.where(total > 0, total, 1), np.nan)


class _Fold:
    """Evaluates the arithmetic over finished summary values."""

    def __init__(self, values: dict):
        self._memo = dict(values)

    def value(self, op):
        if op not in self._memo:
            self._memo[op] = op.evaluate(self)
        return self._memo[op]

    def truth(self, op):
        return np.asarray(self.value(op), dtype=bool)


def _pooling_rule(summaries: list[Summary]) -> str:
    rules = [f"{s.reducer}: {s.reduce().combine.name} ({s.reduce().combine.doc})"
             for s in summaries]
    if len(summaries) > 1:
        rules.append("then the arithmetic on the pooled values")
    return "; ".join(dict.fromkeys(rules)) or "a constant"


def build_result(plan, outputs, sample, *, assumptions, warnings, source, pool, fingerprint):
    """Combine per-FOV outputs into a :class:`Result`."""
    rtype = plan.type
    common = dict(plan=plan, assumptions=assumptions, warnings=warnings, source=source,
                  fingerprint=fingerprint)
    if isinstance(rtype, CellSetT):
        rows = np.sort(np.concatenate([o.rows for o in outputs])) if outputs else np.empty(0, int)
        per_fov = pd.Series({o.fov: len(o.rows) for o in outputs}, name="cells")
        return CellSetResult(obs_names=sample.obs_names[rows], per_fov=per_fov, unit="cells",
                             **common)
    if isinstance(rtype, PerCellT):
        rows = np.concatenate([o.rows for o in outputs]).astype(np.int64)
        values = np.concatenate([o.values for o in outputs])
        fovs = np.concatenate([np.full(len(o.rows), o.fov, dtype=object) for o in outputs])
        order = np.argsort(rows, kind="stable")
        rows, values, fovs = rows[order], values[order], fovs[order]
        index = pd.Index(sample.obs_names[rows], name="cell")
        if rtype.kind == "label":
            names = _categories(sample, rtype.column)
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
    if isinstance(rtype, TableT):
        names = _categories(sample, plan.root.column)
        fovs = pd.Index([o.fov for o in outputs], name="fov")
        counts = np.array([o.values for o in outputs], dtype=float).reshape(len(outputs), -1)
        frame = pd.DataFrame(counts, index=fovs, columns=names)
        pooled = pd.Series(_shares(counts.sum(axis=0)), index=names, name="share")
        return TableResult(per_fov=pd.DataFrame(_shares(counts), index=fovs, columns=names),
                           counts=frame, pooled=pooled,
                           pooling="composition: additive (pair counts per type are summed "
                                   "over FOVs, then divided by their total)",
                           unit="", **common)
    assert isinstance(rtype, ScalarT)
    factor, unit = report_unit(rtype.dim)
    if rtype.boolean:
        factor, unit = 1.0, ""
    summaries = top_summaries(plan.root)
    keys = list(outputs[0].partials[summaries[0]]) if summaries and outputs else [()]
    group_names = [c for c in plan.by if c != "fov"]

    def fold(values):
        return _Fold(values).value(plan.root)

    records, index = [], []
    for out in outputs:
        for key in keys:
            finished = {s: s.reduce().finish(out.partials[s][key]) for s in summaries}
            records.append(fold(finished))
            index.append((out.fov,) + key)
    pooled_values = []
    for key in keys:
        finished = {s: s.reduce().finish(s.reduce().merge([o.partials[s][key] for o in outputs]))
                    for s in summaries}
        pooled_values.append(fold(finished))
    scale = (lambda v: bool(v)) if rtype.boolean else (lambda v: float(v) / factor)
    mi = pd.MultiIndex.from_tuples(index, names=["fov"] + group_names) if group_names else \
        pd.Index([i[0] for i in index], name="fov")
    per_fov = pd.Series([scale(v) for v in records], index=mi, name="value")
    if group_names:
        gi = pd.MultiIndex.from_tuples(keys, names=group_names) if len(group_names) > 1 else \
            pd.Index([k[0] for k in keys], name=group_names[0])
        pooled = pd.Series([scale(v) for v in pooled_values], index=gi, name="value")
    else:
        pooled = scale(pooled_values[0])
    return ScalarResult(per_fov=per_fov, pooled=pooled, pooling=_pooling_rule(summaries),
                        pool=pool, unit=unit, **common)


def _categories(sample, column):
    return list(sample.cell_types) if column == sample.type_key else sample.codes(column)[1]
