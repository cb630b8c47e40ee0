"""The work and memory estimate of a plan, checked before any FOV runs (docs/limits.md),
and memory errors as EvaluationError."""

from __future__ import annotations

import math
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import cytoql
from cytoql import work
from cytoql.cli import main
from cytoql.errors import EmptySelectionWarning, EvaluationError, InternalError

TYPES = ["a", "b", "c"]


def make_adata(n, side, seed=0, fovs=1):
    """``n`` uniform cells in a ``side`` × ``side`` µm square, labels a/b/c at random."""
    rng = np.random.default_rng(seed)
    obs = pd.DataFrame({
        "cell_type": pd.Categorical(rng.choice(TYPES, n), categories=TYPES),
        "fov": pd.Categorical([f"f{i % fovs}" for i in range(n)]),
    }, index=[f"c{i}" for i in range(n)])
    adata = ad.AnnData(obs=obs)
    adata.obsm["spatial"] = rng.uniform(0, side, (n, 2))
    adata.uns["spatial_unit"] = "um"
    return adata


@pytest.fixture(scope="module")
def large():
    """200,000 cells at 2,000 cells/mm² (the issue's size)."""
    return make_adata(200_000, 10_000.0)


@pytest.fixture(scope="module")
def small():
    return make_adata(2_000, 1_000.0, fovs=2)


def run(adata, text, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cytoql.query(adata, text, **kw)


def test_a_quadratic_radius_is_refused_before_running_with_the_estimate(large):
    # 200,000 cells, every one the neighbour of every other: 4e10 pairs (106 s before)
    text = "mean(shannon(cells within 1e6 um))"
    with pytest.raises(EvaluationError) as info:
        run(large, text)
    (diag,) = info.value.diagnostics
    assert diag.code == "E0601"
    assert "about 4.0e10 steps" in diag.message and "limit of 1.0e10" in diag.message
    assert text[diag.span.start:diag.span.end] == "shannon(cells within 1e6 um)"
    assert "smaller radius" in diag.help and "max_work=1e11" in diag.help
    assert "--max-work 1e11" in diag.help


def test_a_huge_k_is_refused_for_its_memory_not_an_internal_error(large):
    text = "mean(distance(cells -> nearest cells, k = 199999))"
    with pytest.raises(EvaluationError) as info:
        run(large, text)
    (diag,) = info.value.diagnostics
    assert diag.code == "E0602"
    # 200,000 × 199,999 neighbours × 40 bytes
    assert "about 1.46 TiB of memory" in diag.message
    assert "of this machine's" in diag.message
    assert "smaller k" in diag.help and "max_memory=" in diag.help


def test_the_limit_is_an_option_and_none_or_inf_disable_it(small):
    text = "mean(count(cells within 1e6 um))"
    with pytest.raises(EvaluationError, match="E0601"):
        run(small, text, max_work=1e5)
    expected = 999.0  # every other cell of its FOV
    assert run(small, text, max_work=None).pool() == expected
    assert run(small, text, max_work=math.inf).pool() == expected
    with pytest.raises(EvaluationError, match="E0602"):
        run(small, "mean(distance(cells -> nearest cells, k = 500))", max_memory=1e6)
    run(small, "mean(distance(cells -> nearest cells, k = 500))", max_memory=None)


def test_above_a_tenth_of_the_limit_it_warns_and_runs(small):
    # 2 FOVs of 1,000 cells, all pairs: 2 × 1,000 × 1,000 = 2e6 steps
    with pytest.warns(EmptySelectionWarning, match="W0508") as caught:
        result = cytoql.query(small, "mean(count(cells within 1e6 um))", max_work=1e7)
    assert result.pool() == 999.0
    assert any("about 2.0e6 steps" in str(w.message) for w in caught)
    assert any(w.code == "W0508" for w in result.warnings)


def test_the_estimate_counts_pairs_from_density_and_radius(small):
    from cytoql.api import _schema, compile
    from cytoql.data.cache import sample_of
    from cytoql.data.fov import fov_data
    from cytoql.evaluate import FovEvaluator
    from cytoql.source import Source

    sample = sample_of(small)
    text = 'mean(count(cells where type == "a" within 20 um of cells))'
    plan = compile(text, _schema(sample))
    fov = sample.fovs[0]
    data = fov_data(sample, fov, plan.needs())
    ev = FovEvaluator(plan, data, 0, Source(text))
    costs = work.estimate(plan, ev)
    (count_op,) = [op for op in costs if type(op).__name__ == "CountWithin"]
    n_a = int(np.sum(data.codes("cell_type") == 0))
    # cells × (density of a) × π r²: the set sizes are exact (a type filter is cheap)
    expected = data.n * n_a / data.window.area * math.pi * 20.0 ** 2
    assert costs[count_op].work == pytest.approx(expected)
    # and close to the pairs the query finds (fewer at the edges)
    found = run(small, text).per_fov.iloc[0] * data.n
    assert 0.8 * expected < found < 1.1 * expected


def test_a_set_behind_a_costly_filter_is_bounded_by_its_base(small):
    from cytoql.api import _schema, compile
    from cytoql.data.cache import sample_of
    from cytoql.data.fov import fov_data
    from cytoql.evaluate import FovEvaluator
    from cytoql.source import Source

    sample = sample_of(small)
    text = ('let B = cells where type == "b" where count(cells within 5 um) >= 1\n'
            'mean(distance(B -> nearest cells, k = 3))')
    plan = compile(text, _schema(sample))
    data = fov_data(sample, sample.fovs[0], plan.needs())
    w = work.FovWork(FovEvaluator(plan, data, 0, Source(text)))
    (b,) = [op for op in plan.ops() if type(op).__name__ == "Filter"
            and type(op.predicate).__name__ == "Comparison"
            and type(op.predicate.left).__name__ == "CountWithin"]
    assert w.costly(b) and not w.costly(b.base)
    assert w.size(b) == w.size(b.base) == np.sum(data.codes("cell_type") == 1)


def test_every_cookbook_query_runs_under_the_default_limits():
    from cookbook import cookbook
    from cytoql.datasets import cosmx_kidney

    kidney = cosmx_kidney()
    for text in cookbook().values():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cytoql.query(kidney, text)
        assert not [w for w in caught if "W0508" in str(w.message)], text


def test_the_cli_threads_the_limits_through(tmp_path, small, capsys):
    path = tmp_path / "small.h5ad"
    small.write_h5ad(path)
    text = "mean(count(cells within 1e6 um))"
    assert main(["query", str(path), text, "--max-work", "1e5"]) == 1
    assert "E0601" in capsys.readouterr().err
    assert main(["query", str(path), text, "--max-work", "none"]) == 0
    assert main(["query", str(path), "mean(distance(cells -> nearest cells, k = 500))",
                 "--max-memory", "1MiB"]) == 1
    assert "E0602" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["query", str(path), text, "--max-work", "lots"])
    assert "not a limit: 'lots'" in capsys.readouterr().err


@pytest.mark.parametrize("value", [0, -1.0, "1e9", float("nan"), True])
def test_a_bad_limit_is_a_value_error(small, value):
    with pytest.raises(ValueError, match="max_work"):
        cytoql.query(small, "count(cells)", max_work=value)


@pytest.mark.parametrize("text, expected", [
    ("1e11", 1e11), ("8GiB", 8 * 2 ** 30), ("512m", 512 * 2 ** 20), ("none", None),
    ("inf", None), ("auto", work.AUTO)])
def test_command_line_limits_parse(text, expected):
    assert work.parse_limit(text) == expected


def test_a_memory_error_in_a_kernel_is_an_evaluation_error_with_advice(small, monkeypatch):
    from cytoql.kernels import spatial_index

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 298. GiB for an array")

    monkeypatch.setattr(spatial_index.PointIndex, "knn", exhausted)
    text = "mean(distance(cells -> nearest cells))"
    with pytest.raises(EvaluationError) as info:
        run(small, text)
    assert not isinstance(info.value, InternalError)
    (diag,) = info.value.diagnostics
    assert diag.code == "E0603"
    assert "ran out of memory computing this (1,000 cells)" in diag.message
    assert text[diag.span.start:diag.span.end] == "distance(cells -> nearest cells)"
    assert "smaller k or radius" in diag.help


def test_a_memory_error_in_an_aggregate_is_an_evaluation_error(small, monkeypatch):
    from cytoql.kernels import ripley

    def exhausted(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(ripley, "ripley_k", exhausted)
    with pytest.raises(EvaluationError, match="E0603"):
        run(small, "ripley_k(cells, r = 10 um)")


def test_a_memory_error_outside_an_operation_is_an_evaluation_error(small, monkeypatch):
    import cytoql.api

    def exhausted(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(cytoql.api, "build_result", exhausted)
    with pytest.raises(EvaluationError, match="out of memory"):
        run(small, "count(cells)")


def test_the_cli_reports_a_memory_error_as_a_data_error_not_a_bug(tmp_path, small,
                                                                     monkeypatch, capsys):
    from cytoql.kernels import spatial_index

    def exhausted(*args, **kwargs):
        raise MemoryError()

    path = tmp_path / "small.h5ad"
    small.write_h5ad(path)
    monkeypatch.setattr(spatial_index.PointIndex, "knn", exhausted)
    assert main(["query", str(path), "mean(distance(cells -> nearest cells))"]) == 1
    assert "E0603" in capsys.readouterr().err


def test_human_units():
    assert work.human_bytes(298 * 2 ** 30) == "298 GiB"
    assert work.human_bytes(1.5 * 2 ** 20) == "1.5 MiB"
    assert work.human_count(4.0e10) == "4.0e10"
    assert work.human_count(12_345) == "12,345"


def test_costs_are_declared_for_operations_that_run():
    from cytoql.catalog.spec import AGGREGATES, COSTS, EVALUATORS, builtins

    builtins()  # every catalog module registered
    assert COSTS and set(COSTS) <= set(EVALUATORS) | set(AGGREGATES)
    for op_class, fn in COSTS.items():
        assert fn.__module__ == op_class.__module__, (op_class, fn.__module__)


@pytest.mark.parametrize("text, code", [
    # 200,000 cells, a radius graph of every pair: 4e10 edges × 1001 counts
    ("nhood_enrichment(cells, graph = radius, radius = 1e6 um)", "E0602"),
    ("co_occurrence(cells where type == \"a\", cells where type == \"b\", "
     "r = 0 um .. 1e6 um by 1e5 um)", "E0601"),
    ("mixing_score(cells, cells where type == \"b\", r = 1e6 um)", "E0601"),
    ("morans_i(count(cells within 10 um), weights = distance, radius = 1e6 um)", "E0602"),
])
def test_interaction_and_autocorrelation_statistics_declare_their_cost(large, text, code):
    with pytest.raises(EvaluationError) as info:
        run(large, text)
    assert info.value.diagnostics[0].code == code
