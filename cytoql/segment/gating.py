"""Cell typing from marker intensities by ordered gating rules, or from a label column.

A rule file is JSON or TOML (``tomllib``, no YAML dependency)::

    unassigned = "unassigned"        # label of cells no rule matches (optional)

    [thresholds]                     # positivity threshold per marker (mean intensity)
    CD3 = 0.5
    CD20 = 0.5
    PanCK = 0.4

    [[rules]]                        # rules are tried in order; the first match wins
    type = "T cell"
    positive = ["CD3"]               # every listed marker  > its threshold
    negative = ["CD20", "PanCK"]     # every listed marker <= its threshold

    [[rules]]
    type = "Epithelial"
    all = [{ marker = "PanCK", op = ">=", value = 0.6 }]             # every condition
    any = [{ marker = "CD3", op = "<", value = "threshold" }, ...]   # at least one

    [[rules]]
    type = "Large PanCK+"
    where = 'expr("PanCK") > 0.4 and area > 40'   # a CytoQL cell predicate

A condition is ``{marker, op, value}`` with ``op`` one of ``> >= < <= == !=`` and
``value`` a number or ``"threshold"`` (the marker's entry in ``thresholds``). ``where``
is any CytoQL predicate (``cells where <predicate>``: markers through ``expr``, obs
columns such as the morphology by name), evaluated by :func:`cytoql.query`. A rule
matches when all its parts hold; a rule with no parts matches every remaining cell.
"""

from __future__ import annotations

import json
import operator
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cytoql.diagnostics.suggest import closest, quote_list
from cytoql.errors import DataError
from cytoql.interop import keys

__all__ = ["Condition", "GatingRules", "Rule", "assign_cell_types", "load_gating",
           "types_from_column"]

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
        "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class Condition:
    """``marker op value``; ``value`` None means the marker's threshold."""

    marker: str
    op: str
    value: float | None = None


@dataclass(frozen=True)
class Rule:
    """One cell type and the conditions its cells meet (all of them)."""

    type: str
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()
    where: str | None = None


@dataclass(frozen=True)
class GatingRules:
    """Ordered typing rules with per-marker thresholds."""

    rules: tuple[Rule, ...]
    thresholds: Mapping[str, float] = field(default_factory=dict)
    unassigned: str = "unassigned"

    @property
    def markers(self) -> list[str]:
        """Every marker the rules read, in first-use order."""
        seen: dict[str, None] = {}
        for rule in self.rules:
            for m in (*rule.positive, *rule.negative,
                      *(c.marker for c in (*rule.all, *rule.any))):
                seen.setdefault(m, None)
        return list(seen)

    def as_dict(self) -> dict:
        """The rules in the file format (JSON-serialisable)."""
        def cond(c: Condition) -> dict:
            return {"marker": c.marker, "op": c.op,
                    "value": "threshold" if c.value is None else c.value}
        def rule(r: Rule) -> dict:
            out = {"type": r.type, "positive": list(r.positive), "negative": list(r.negative),
                   "all": [cond(c) for c in r.all], "any": [cond(c) for c in r.any]}
            return out if r.where is None else {**out, "where": r.where}
        return {"unassigned": self.unassigned, "thresholds": dict(self.thresholds),
                "rules": [rule(r) for r in self.rules]}


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


def _condition(raw, where: str, thresholds: Mapping[str, float]) -> Condition:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: a condition is a table {{marker, op, value}}, got {raw!r}")
    extra = sorted(set(raw) - {"marker", "op", "value"})
    if extra or "marker" not in raw or "op" not in raw:
        raise ValueError(f"{where}: a condition needs exactly the keys marker, op and value "
                         f"(value optional), got {sorted(raw)}")
    op = raw["op"]
    if op not in _OPS:
        raise ValueError(f"{where}: unknown op {op!r}; use one of {' '.join(_OPS)}")
    marker = str(raw["marker"])
    value = raw.get("value", "threshold")
    if value == "threshold":
        if marker not in thresholds:
            raise ValueError(f"{where}: condition on {marker!r} uses its threshold, but "
                             f"thresholds has none (thresholds for: {sorted(thresholds)})")
        return Condition(marker, op, None)
    return Condition(marker, op, _number(value, f"{where}: value"))


def _rules_from_dict(raw: Mapping) -> GatingRules:
    extra = sorted(set(raw) - {"unassigned", "thresholds", "rules"})
    if extra:
        raise ValueError(f"unknown top-level key(s) {extra} in gating rules; "
                         "expected unassigned, thresholds, rules")
    thresholds = {str(k): _number(v, f"threshold of {k!r}")
                  for k, v in dict(raw.get("thresholds", {})).items()}
    raw_rules = raw.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise ValueError("gating rules need a non-empty list 'rules'")
    rules = []
    for i, r in enumerate(raw_rules, start=1):
        where = f"rule {i}"
        if not isinstance(r, Mapping) or "type" not in r:
            raise ValueError(f"{where}: a rule is a table with at least 'type', got {r!r}")
        extra = sorted(set(r) - {"type", "positive", "negative", "all", "any", "where"})
        if extra:
            raise ValueError(f"{where} ({r['type']!r}): unknown key(s) {extra}; expected "
                             "type, positive, negative, all, any, where")
        if "where" in r and not (isinstance(r["where"], str) and r["where"].strip()):
            raise ValueError(f"{where} ({r['type']!r}): 'where' must be a CytoQL predicate "
                             f"such as 'expr(\"CD3\") > 0.5', got {r['where']!r}")
        for part in ("positive", "negative"):
            missing = [m for m in r.get(part, []) if m not in thresholds]
            if missing:
                raise ValueError(f"{where} ({r['type']!r}): {part} marker(s) {missing} have "
                                 f"no threshold (thresholds for: {sorted(thresholds)})")
        rules.append(Rule(
            type=str(r["type"]),
            positive=tuple(map(str, r.get("positive", ()))),
            negative=tuple(map(str, r.get("negative", ()))),
            all=tuple(_condition(c, where, thresholds) for c in r.get("all", ())),
            any=tuple(_condition(c, where, thresholds) for c in r.get("any", ())),
            where=r.get("where"),
        ))
    unassigned = str(raw.get("unassigned", "unassigned"))
    if unassigned in {r.type for r in rules}:
        raise ValueError(f"the unassigned label {unassigned!r} is also a rule's type")
    return GatingRules(tuple(rules), thresholds, unassigned)


def load_gating(source) -> GatingRules:
    """Read gating rules from a JSON or TOML file, a dict, or pass rules through.

    Parameters
    ----------
    source : str, Path, mapping or GatingRules
        A ``.json`` or ``.toml`` file, or the same structure as a dict.

    Returns
    -------
    GatingRules

    Raises
    ------
    DataError
        The file is missing or not valid JSON/TOML.
    ValueError
        The structure is wrong: unknown keys or ops, markers without thresholds, no rules.
    """
    if isinstance(source, GatingRules):
        return source
    if isinstance(source, Mapping):
        return _rules_from_dict(source)
    path = Path(source)
    if not path.is_file():
        raise DataError(f"no gating rule file at {str(path)!r}")
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise DataError(f"cannot parse {str(path)!r} as {kind}: {exc}") from None
    return _rules_from_dict(raw)


def _marker_values(adata, marker: str, layer: str | None) -> np.ndarray:
    names = list(map(str, adata.var_names))
    if marker not in names:
        hint = closest(marker, names)
        raise DataError(f"gating rules use marker {marker!r}, which is not in var_names"
                        + (f"; did you mean {quote_list(hint)}?" if hint else "")
                        + f" markers here: {quote_list(names)}")
    column = adata[:, names.index(marker)]
    data = column.layers[layer] if layer is not None else column.X
    return np.asarray(data.todense() if hasattr(data, "todense") else data,
                      dtype=np.float64).reshape(-1)


def _predicate(adata, predicate: str) -> np.ndarray:
    """Boolean mask of the cells that satisfy a CytoQL predicate."""
    from cytoql.api import query

    selected = query(adata, f"cells where {predicate}", type_key=None)
    return np.asarray(adata.obs_names.isin(selected.obs_names))


def assign_cell_types(adata, rules, *, key: str = keys.CELL_TYPE, layer: str | None = None,
                      copy: bool = True):
    """Type cells by ordered gating rules on their marker intensities.

    Parameters
    ----------
    adata : AnnData
        Marker intensities in ``X`` (or ``layers[layer]``), markers as ``var_names``.
    rules : GatingRules, mapping, str or Path
        See :func:`load_gating`.
    key : str, default "cell_type"
        obs column to write (categorical: the rule types in rule order, then the
        unassigned label).
    layer : str, optional
        Read intensities from this layer instead of ``X``.
    copy : bool, default True
        Return a typed copy and leave ``adata`` untouched; with False, write into it.

    Returns
    -------
    AnnData
        With ``obs[key]`` and ``uns["cell_typing"]`` (the rules as JSON and the counts).

    Raises
    ------
    DataError
        A marker of the rules is not a var name (with did-you-mean), or the layer is absent.
    QueryError
        A ``where`` predicate is not valid CytoQL for this data (with its diagnostics).

    Examples
    --------
    >>> import anndata as ad, numpy as np, pandas as pd
    >>> cells = ad.AnnData(np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.1]]),
    ...                    var=pd.DataFrame(index=["CD3", "CD20"]))
    >>> rules = {"thresholds": {"CD3": 0.5, "CD20": 0.5},
    ...          "rules": [{"type": "T cell", "positive": ["CD3"]},
    ...                    {"type": "B cell", "positive": ["CD20"]}]}
    >>> list(assign_cell_types(cells, rules).obs["cell_type"])
    ['T cell', 'B cell', 'unassigned']

    Notes
    -----
    Comparisons are on float64 values; NaN intensities fail every comparison except
    ``!=``. The first matching rule wins; cells no rule matches get the unassigned label.
    ``where`` predicates run through :func:`cytoql.query`, so ``adata`` must be usable
    by CytoQL (positions in ``obsm["spatial"]``, as segmentation output is); they read
    ``X`` (not ``layer``) through ``expr``.
    """
    rules = load_gating(rules)
    if layer is not None and layer not in adata.layers:
        raise DataError(f"no layer {layer!r}; layers: {quote_list(list(adata.layers))}")
    values = {m: _marker_values(adata, m, layer) for m in rules.markers}
    n = adata.n_obs
    codes = np.full(n, len(rules.rules), dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    for code, rule in enumerate(rules.rules):
        match = open_.copy()
        for m in rule.positive:
            match &= values[m] > rules.thresholds[m]
        for m in rule.negative:
            match &= values[m] <= rules.thresholds[m]
        for c in rule.all:
            match &= _OPS[c.op](values[c.marker],
                                rules.thresholds[c.marker] if c.value is None else c.value)
        if rule.where is not None:
            match &= _predicate(adata, rule.where)
        if rule.any:
            hit = np.zeros(n, dtype=bool)
            for c in rule.any:
                hit |= _OPS[c.op](values[c.marker],
                                  rules.thresholds[c.marker] if c.value is None else c.value)
            match &= hit
        codes[match] = code
        open_ &= ~match
    categories = list(dict.fromkeys([*(r.type for r in rules.rules), rules.unassigned]))
    lookup = np.array([categories.index(r.type) for r in rules.rules]
                      + [categories.index(rules.unassigned)], dtype=np.int64)
    target = adata.copy() if copy else adata
    target.obs[key] = pd.Categorical.from_codes(lookup[codes], categories=categories)
    counts = target.obs[key].value_counts(sort=False)
    target.uns[keys.CELL_TYPING] = {"key": key, "method": "gating",
                              "rules": json.dumps(rules.as_dict()),
                              "counts": {str(k): int(v) for k, v in counts.items()}}
    return target


def types_from_column(adata, column: str, *, mapping: Mapping[str, str] | None = None,
                      key: str = keys.CELL_TYPE, unassigned: str = "unassigned",
                      copy: bool = True):
    """Take cell types from an existing obs column, optionally renaming labels.

    Parameters
    ----------
    adata : AnnData
    column : str
        An obs column of labels (e.g. clusters).
    mapping : mapping, optional
        Label → cell type; labels not in it (and missing labels) become ``unassigned``.
        Without a mapping the labels are used as they are (missing ones unassigned).
    key : str, default "cell_type"
    unassigned : str, default "unassigned"
    copy : bool, default True

    Returns
    -------
    AnnData

    Raises
    ------
    DataError
        ``column`` is not an obs column (with did-you-mean).
    """
    columns = list(map(str, adata.obs.columns))
    if column not in columns:
        hint = closest(column, columns)
        raise DataError(f"obs has no column {column!r}"
                        + (f"; did you mean {quote_list(hint)}?" if hint else "")
                        + f" columns: {quote_list(columns)}")
    source = adata.obs[column]
    labels = source.astype(object).where(source.notna(), None)
    if mapping is not None:
        labels = labels.map(lambda v: mapping.get(str(v)) if v is not None else None)
    labels = labels.map(lambda v: unassigned if v is None or pd.isna(v) else str(v))
    target = adata.copy() if copy else adata
    target.obs[key] = pd.Categorical(labels.to_numpy())
    target.uns[keys.CELL_TYPING] = {"key": key, "method": "column", "column": column,
                              "mapping": json.dumps(dict(mapping or {}))}
    return target
