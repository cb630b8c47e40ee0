"""Flat chains of any length under the size cap check, plan and run without recursion
(issue 13: these raised RecursionError as internal errors)."""

from __future__ import annotations

import warnings

import pytest

import cytoql
from cytoql.datasets import cosmx_kidney

CHAINS = {
    "or": ("count(cells where " + " or ".join(["total_counts > 1"] * 400) + ")", 6555.0),
    "plus": ("mean(" + " + ".join(["total_counts"] * 600) + ")", None),
    "where": ("count(cells" + " where total_counts > 1" * 400 + ")", 6555.0),
    "union": ("count(cells" + " union cells" * 700 + ")", 6555.0),
    "and_not": ("count(cells where " + " and ".join(["not total_counts > 1"] * 300) + ")",
                0.0),
    "summaries": ("count(cells)" + " + count(cells)" * 500, 501 * 6555.0),
    "lets": ("\n".join(["let A0 = cells"] + [f"let A{i} = A{i - 1} where total_counts > 1"
                                              for i in range(1, 250)]) + "\ncount(A249)",
             6555.0),
}


@pytest.fixture(scope="module")
def kidney():
    return cosmx_kidney()


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_a_long_flat_chain_compiles_and_runs(kidney, name):
    text, expected = CHAINS[name]
    assert len(text) <= 10_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cytoql.query(kidney, text)
    if expected is not None:
        assert result.pool() == expected
    else:
        mean = cytoql.query(kidney, "mean(total_counts)").pool()
        assert result.pool() == pytest.approx(600 * mean, rel=1e-12)
