"""Per-FOV results (numbers, curves, tables): the machinery their shapes share.

Each FOV contributes a *partial* per aggregate operation (and group); a FOV's value is
the aggregate's ``finish`` of its own partial, the pooled value the ``finish`` of the
partials merged by the aggregate's declared :class:`~cytoql.catalog.spec.Combine` — so
a pooled answer is exact, never a mean of per-FOV values. Arithmetic and logic over
aggregates (``folds``) then run on the finished values.
"""

from __future__ import annotations

import numpy as np

from cytoql.catalog.spec import AGGREGATES, EVALUATORS, aggregates_of
from cytoql.plan import postorder
from cytoql.results.base import FovOutput, Shape

__all__ = ["AggregatedShape", "group_masks", "pooling_rule"]


def group_masks(ev, by: tuple[str, ...]) -> dict:
    """{group key tuple: mask} over the label columns of ``by`` (``fov`` excluded).

    Cells without a label in a column are in no group (warning W0507).
    """
    columns = [c for c in by if c != "fov"]
    if not columns:
        return {(): None}
    groups = {(): np.ones(ev.n, dtype=bool)}
    for column in columns:
        codes = ev.labels(column)
        missing = int(np.count_nonzero(codes < 0))
        if missing:
            ev.warn(ev.plan.root, "W0507", f"{missing} of {ev.n} cells have no `{column}` "
                    "label: they are in no group, and the pooled values of the groups "
                    "leave them out")
        groups = {key + (name,): mask & (codes == i)
                  for key, mask in groups.items()
                  for i, name in enumerate(ev.categories(column))}
    return groups


class _Fold:
    """Evaluates the core arithmetic and logic over finished aggregate values."""

    def __init__(self, values: dict):
        self._memo = dict(values)

    def value(self, op):
        if op not in self._memo:
            for inner in postorder(op, self._memo)[:-1]:
                self.value(inner)
            self._memo[op] = EVALUATORS[type(op)](op, self)
        return self._memo[op]

    def truth(self, op):
        return np.asarray(self.value(op), dtype=bool)


def _label(op) -> str:
    return getattr(op, "reducer", None) or getattr(op, "function", None) or type(op).__name__


def pooling_rule(aggregates: list) -> str:
    """The combine rules that pool a result, in words."""
    rules = []
    for op in aggregates:
        combine = AGGREGATES[type(op)].combine(op)
        rules.append(f"{_label(op)}: {combine.name} ({combine.doc})")
    if len(aggregates) > 1:
        rules.append("then the arithmetic on the pooled values")
    return "; ".join(dict.fromkeys(rules)) or "a constant"


class AggregatedShape(Shape):
    """Collects per-group partials per FOV; :meth:`values` finishes and pools them."""

    #: The finished value of an aggregate that does not pool (Combine "not pooled").
    missing = float("nan")

    def fov_output(self, ev):
        out = FovOutput(ev.data.name)
        groups = group_masks(ev, ev.plan.by)
        for op in aggregates_of(ev.plan.root):
            out.partials[op] = {key: ev.partial(op, mask) for key, mask in groups.items()}
        return out

    def _finish(self, op, partial):
        return self.missing if partial is None else AGGREGATES[type(op)].finish(op, partial)

    def values(self, plan, outputs: list[FovOutput]):
        """(per-FOV records [((fov, *group key), value)], {group key: pooled value})."""
        aggregates = aggregates_of(plan.root)
        keys = list(outputs[0].partials[aggregates[0]]) if aggregates and outputs else [()]

        def fold(finished):
            return _Fold(finished).value(plan.root)

        records = []
        for out in outputs:
            for key in keys:
                records.append(((out.fov,) + key, fold(
                    {op: self._finish(op, out.partials[op][key]) for op in aggregates})))
        pooled = {}
        for key in keys:
            merged = {op: AGGREGATES[type(op)].combine(op).merge(
                [o.partials[op][key] for o in outputs]) for op in aggregates}
            pooled[key] = fold({op: self._finish(op, m) for op, m in merged.items()})
        return records, pooled
