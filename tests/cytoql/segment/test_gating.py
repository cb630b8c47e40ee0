"""Cell typing by ordered gating rules and from an existing label column."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from cytoql.errors import DataError
from cytoql.segment import assign_cell_types, load_gating, segment, types_from_column

RULES = {
    "unassigned": "other",
    "thresholds": {"CD3": 0.5, "CD20": 0.5, "PanCK": 0.4},
    "rules": [
        {"type": "T cell", "positive": ["CD3"], "negative": ["CD20"]},
        {"type": "B cell", "positive": ["CD20"]},
        {"type": "Epithelial", "all": [{"marker": "PanCK", "op": ">=", "value": 0.6}],
         "any": [{"marker": "CD3", "op": "<=", "value": "threshold"},
                 {"marker": "CD20", "op": "<", "value": 0.1}]},
    ],
}

TOML = '''
unassigned = "other"
[thresholds]
CD3 = 0.5
CD20 = 0.5
PanCK = 0.4
[[rules]]
type = "T cell"
positive = ["CD3"]
negative = ["CD20"]
[[rules]]
type = "B cell"
positive = ["CD20"]
[[rules]]
type = "Epithelial"
all = [{ marker = "PanCK", op = ">=", value = 0.6 }]
any = [{ marker = "CD3", op = "<=", value = "threshold" },
       { marker = "CD20", op = "<", value = 0.1 }]
'''


@pytest.fixture
def cells():
    #              CD3   CD20  PanCK
    x = np.array([[0.9, 0.1, 0.0],    # T cell
                  [0.9, 0.7, 0.0],    # CD3+CD20+: not T (negative fails) -> B cell
                  [0.1, 0.8, 0.9],    # B cell: first match wins over Epithelial
                  [0.2, 0.3, 0.6],    # Epithelial: PanCK >= 0.6 and CD3 <= 0.5
                  [0.5, 0.3, 0.59],   # PanCK below 0.6 -> other; CD3 == threshold is not +
                  [0.5, 0.5, 0.0]])   # exactly at thresholds: negative everywhere -> other
    return ad.AnnData(X=x, var=pd.DataFrame(index=["CD3", "CD20", "PanCK"]))


EXPECTED = ["T cell", "B cell", "B cell", "Epithelial", "other", "other"]


def test_rules_by_hand(cells):
    typed = assign_cell_types(cells, RULES)
    assert list(typed.obs["cell_type"]) == EXPECTED
    assert list(typed.obs["cell_type"].cat.categories) == ["T cell", "B cell", "Epithelial",
                                                           "other"]
    assert typed.uns["cell_typing"]["counts"] == {"T cell": 1, "B cell": 2, "Epithelial": 1,
                                                  "other": 2}
    assert "cell_type" not in cells.obs  # copy=True leaves the input alone


def test_toml_and_json_files_give_the_same_rules(cells, tmp_path):
    (tmp_path / "g.toml").write_text(TOML)
    (tmp_path / "g.json").write_text(json.dumps(RULES))
    from_toml = load_gating(tmp_path / "g.toml")
    assert from_toml == load_gating(tmp_path / "g.json") == load_gating(RULES)
    assert list(assign_cell_types(cells, from_toml, key="gate").obs["gate"]) == EXPECTED


def test_rules_survive_the_record_in_uns(cells):
    typed = assign_cell_types(cells, RULES)
    again = load_gating(json.loads(typed.uns["cell_typing"]["rules"]))
    assert again == load_gating(RULES)


def test_layer_and_in_place(cells):
    cells.layers["raw"] = cells.X * 0          # all negative in the layer
    out = assign_cell_types(cells, RULES, layer="raw", copy=False)
    assert out is cells and set(cells.obs["cell_type"]) == {"other"}
    with pytest.raises(DataError, match="no layer 'norm'"):
        assign_cell_types(cells, RULES, layer="norm")


def test_unknown_marker_suggests_the_close_one(cells):
    rules = {"thresholds": {"CD-3": 0.5}, "rules": [{"type": "T", "positive": ["CD-3"]}]}
    with pytest.raises(DataError, match="marker 'CD-3', which is not in var_names; "
                                        "did you mean \"CD3\""):
        assign_cell_types(cells, rules)


@pytest.mark.parametrize("rules, message", [
    ({"rules": []}, "non-empty list 'rules'"),
    ({"rules": [{"type": "T", "positive": ["CD3"]}]}, r"positive marker\(s\) \['CD3'\] have no threshold"),
    ({"rules": [{"type": "T", "all": [{"marker": "CD3", "op": "=>", "value": 1}]}]}, "unknown op '=>'"),
    ({"rules": [{"type": "T", "when": "CD3+"}]}, r"unknown key\(s\) \['when'\]"),
    ({"rules": [{"type": "T", "all": [{"marker": "CD3", "op": ">", "value": "high"}]}]}, "value must be a number"),
    ({"thresholds": {"CD3": 1}, "rule": []}, r"unknown top-level key\(s\) \['rule'\]"),
    ({"unassigned": "T", "rules": [{"type": "T"}]}, "also a rule's type"),
])
def test_malformed_rules_say_what_is_wrong(rules, message):
    with pytest.raises(ValueError, match=message):
        load_gating(rules)


def test_bad_rule_files(tmp_path):
    with pytest.raises(DataError, match="no gating rule file"):
        load_gating(tmp_path / "absent.toml")
    (tmp_path / "bad.toml").write_text("[[rules]\n")
    with pytest.raises(DataError, match="cannot parse .* as TOML"):
        load_gating(tmp_path / "bad.toml")


def test_gating_types_synthetic_cells_by_their_marker(small):
    rules = {"thresholds": {"CD3": 0.5, "CD20": 0.5, "PanCK": 0.5},
             "rules": [{"type": t, "positive": [m]} for t, m in
                       [("T cell", "CD3"), ("B cell", "CD20"), ("Epithelial", "PanCK")]]}
    adata = segment(small.pixels, channel_names=small.channel_names, gating=rules)
    # each nucleus is matched to the truth by the true label under its centroid
    cols, rows = np.floor(adata.obsm["spatial"]).astype(int).T
    truth = small.labels[rows, cols]
    assert (truth > 0).all()
    assert list(adata.obs["cell_type"]) == list(small.cell_types[truth - 1])


def test_types_from_an_existing_column():
    adata = ad.AnnData(obs=pd.DataFrame({"leiden": pd.Categorical(["0", "1", "2", None])},
                                        index=list("abcd")))
    mapped = types_from_column(adata, "leiden", mapping={"0": "T cell", "1": "B cell"})
    assert list(mapped.obs["cell_type"]) == ["T cell", "B cell", "unassigned", "unassigned"]
    as_is = types_from_column(adata, "leiden", key="cluster")
    assert list(as_is.obs["cluster"]) == ["0", "1", "2", "unassigned"]
    with pytest.raises(DataError, match="obs has no column 'leidn'; did you mean \"leiden\""):
        types_from_column(adata, "leidn")


def _queryable(cells):
    """Predicates run through cytoql.query, which reads positions and their unit."""
    cells.obsm["spatial"] = np.arange(12, dtype=np.float64).reshape(6, 2)
    cells.uns["spatial_unit"] = "um"
    cells.uns["fov_windows"] = {"all": [0.0, 0.0, 12.0, 12.0]}
    return cells


def test_cytoql_predicates_as_rules(cells):
    cells = _queryable(cells)
    cells.obs["area"] = [10.0, 50.0, 50.0, 50.0, 50.0, 50.0]
    rules = {"rules": [
        {"type": "big CD3+", "where": 'expr("CD3") > 0.5 and area > 20'},
        {"type": "CD3+", "where": 'expr("CD3") > 0.5'},
        {"type": "PanCK", "all": [{"marker": "PanCK", "op": ">", "value": 0.55}],
         "where": 'expr("CD20") < 0.5'},
    ]}
    typed = assign_cell_types(cells, rules)
    assert list(typed.obs["cell_type"]) == ["CD3+", "big CD3+", "unassigned", "PanCK",
                                            "PanCK", "unassigned"]
    assert json.loads(typed.uns["cell_typing"]["rules"])["rules"][0]["where"] == \
        'expr("CD3") > 0.5 and area > 20'


def test_a_wrong_predicate_reports_the_cytoql_diagnostic(cells):
    from cytoql.errors import QueryError

    with pytest.raises(QueryError, match=r'unknown gene "CD33"[\s\S]*did you mean "CD3"'):
        assign_cell_types(_queryable(cells),
                          {"rules": [{"type": "T", "where": 'expr("CD33") > 1'}]})
    with pytest.raises(ValueError, match="'where' must be a CytoQL predicate"):
        load_gating({"rules": [{"type": "T", "where": 3}]})
