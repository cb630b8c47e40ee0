"""The catalog entry is the executable contract: every operation has its evaluation,
the combine rule that runs is the declared one, and checking loads nothing that runs."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import pytest

import cytoql
from cytoql import plan as p
from cytoql.catalog.kinds import CELLS
from cytoql.catalog.spec import AGGREGATES, EVALUATORS, Builtin, Param, register
from cytoql.datasets import cosmx_kidney


def _op_classes():
    import importlib
    import pkgutil

    import cytoql.catalog as catalog

    modules = [p] + [importlib.import_module(f"cytoql.catalog.{m.name}")
                     for m in pkgutil.iter_modules(catalog.__path__)]
    return {cls for module in modules for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, p.Op) and cls is not p.Op}


def test_every_operation_has_an_evaluation():
    import cytoql.evaluate  # noqa: F401  (registers the core operations)

    missing = [c.__name__ for c in _op_classes() if c not in EVALUATORS and c not in AGGREGATES]
    assert not missing


def test_operations_are_pure_data():
    for cls in _op_classes():
        assert not hasattr(cls, "evaluate"), cls.__name__


@pytest.fixture(scope="module")
def schema():
    return cytoql.schema_of(cosmx_kidney())


def test_a_builtin_whose_operation_pools_otherwise_than_declared_is_a_catalog_bug(schema):
    from cytoql.catalog.composition import _count
    from cytoql.catalog.spec import CATALOG, RATIO_OF_SUMS
    from cytoql.errors import InternalError

    entry = register(Builtin(
        name="miscounted", category="composition", params=(Param("cells", CELLS, "cells"),),
        returns="a count", doc="test only", conventions=(), examples=(),
        combine=RATIO_OF_SUMS, build=_count))
    try:
        with pytest.raises(InternalError, match="declares combine 'ratio of sums' but its "
                                                "operation pools by 'additive'"):
            cytoql.compile("miscounted(cells)", schema)
    finally:
        CATALOG.pop(entry.name)


def test_checking_a_query_imports_nothing_that_runs(tmp_path):
    code = textwrap.dedent("""
        import sys
        from cytoql.check import check
        from cytoql.parse import parse
        from cytoql.resolve import Schema
        from cytoql.source import Source
        schema = Schema(type_key="cell_type", categories={"cell_type": ["A", "B"]},
                        category_counts={"cell_type": [1, 1]}, numeric=(), genes=(),
                        fovs=("1",))
        text = 'mean(distance(cells where type == "A" -> nearest cells))'
        check(parse(Source(text)), schema, Source(text))
        loaded = [m for m in ("numba", "cytoql.kernels", "cytoql.evaluate", "cytoql.results",
                              "anndata", "scipy") if m in sys.modules]
        print(",".join(loaded))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, check=True)
    assert out.stdout.strip() == ""
