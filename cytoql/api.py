"""The pipeline: parse → resolve and check → plan → evaluate per FOV → result.

``query`` runs a query on an AnnData, ``compile`` checks one against a schema without
running it, ``explain`` shows the plan.
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings as _warnings
import weakref
from collections.abc import Sequence

import numpy as np

from cytoql import work
from cytoql.check import check
from cytoql.data import Sample
from cytoql.data.cache import sample_of
from cytoql.data.fov import fov_data
from cytoql.errors import (AssumptionWarning, CytoQLError, EmptySelectionWarning,
                           EvaluationError, InternalError)
from cytoql.evaluate import FovEvaluator, evaluate_fov
from cytoql.nodes import Name, Program
from cytoql.parse import parse
from cytoql.plan import Plan
from cytoql.resolve import Schema
from cytoql.results import Result, build_result
from cytoql.source import Source, Span

__all__ = ["compile", "fingerprint", "query", "schema_of"]


def _guard(fn, *args, **kwargs):
    """Let CytoQL's own errors through; anything else is a bug (InternalError)."""
    try:
        return fn(*args, **kwargs)
    except CytoQLError:
        raise
    except MemoryError as exc:
        raise EvaluationError(
            f"out of memory ({exc or 'an allocation failed'}): use a smaller radius or k, "
            "a subset of the cells (`A where ...`), or a machine with more memory; "
            "max_memory= refuses such queries before they run (docs/limits.md)") from exc
    except Exception as exc:
        raise InternalError(f"{type(exc).__name__}: {exc}") from exc


# A Sample is read-only, so its schema is too: build it once per Sample (listing the
# categories of every label column is most of a small query's run time).
_SCHEMAS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _schema(sample: Sample) -> Schema:
    if sample not in _SCHEMAS:
        _SCHEMAS[sample] = Schema.from_sample(sample)
    return _SCHEMAS[sample]


def fingerprint(sample: Sample) -> str:
    """A short hash of what a query reads: cell names, positions (µm), cell-type labels
    and FOV membership. Equal data gives an equal fingerprint on any machine.

    Computed once per sample, and only when a result's fingerprint is read."""
    if sample not in _FINGERPRINTS:
        _FINGERPRINTS[sample] = _fingerprint(sample)
    return _FINGERPRINTS[sample]


_FINGERPRINTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _fingerprint(sample: Sample) -> str:
    digest = hashlib.sha256()
    digest.update("\0".join(sample.obs_names).encode())
    digest.update(np.ascontiguousarray(sample.xy, dtype="<f8").tobytes())
    if sample.type_key is not None:
        digest.update("\0".join(sample.cell_types).encode())
        digest.update(np.ascontiguousarray(sample.type_codes, dtype="<i8").tobytes())
    for fov in sample.fovs:
        digest.update(fov.name.encode() + b"\0")
        digest.update(np.ascontiguousarray(fov.index, dtype="<i8").tobytes())
    return digest.hexdigest()[:16]


def schema_of(adata_or_sample, **options) -> Schema:
    """The :class:`~cytoql.resolve.Schema` of an AnnData (``options`` as in :func:`query`)
    or of a :class:`~cytoql.data.Sample`."""
    sample = adata_or_sample if isinstance(adata_or_sample, Sample) else \
        sample_of(adata_or_sample, **options)
    return _schema(sample)


def _grouped(program: Program, by, source: Source) -> Program:
    """``program`` with the ``by`` keys of the Python call appended (spans: the end)."""
    if not by:
        return program
    end = Span(len(source.text), len(source.text))
    keys = tuple(Name(key, end) for key in ([by] if isinstance(by, str) else by))
    query = dataclasses.replace(program.query, by=program.query.by + keys)
    return dataclasses.replace(program, query=query)


def compile(text: str, schema: Schema, *, name: str = "query") -> Plan:  # noqa: A001
    """Check a query against a dataset's schema without running it.

    Parameters
    ----------
    text : str
        CytoQL text: ``let`` bindings and one result expression.
    schema : Schema
        From :func:`schema_of` (or ``Schema.from_sample``).
    name : str, default "query"
        Name shown in diagnostics (``query:1:5``).

    Returns
    -------
    Plan
        The checked plan; ``plan.explain()`` shows its steps, defaults and conventions.

    Raises
    ------
    QueryError
        Only this (QuerySyntaxError, QueryNameError, QueryTypeError), with every
        independent diagnostic; anything else is an :class:`InternalError`.

    Examples
    --------
    >>> import cytoql
    >>> from cytoql.datasets import cosmx_kidney
    >>> schema = cytoql.schema_of(cosmx_kidney())
    >>> cytoql.compile('count(cells  where type=="PCT")', schema).text
    'count(cells where type == "PCT")'
    """
    if not isinstance(schema, Schema):
        raise TypeError(f"compile() checks against a Schema, got {type(schema).__name__}: "
                        "pass cytoql.schema_of(adata)")
    source = Source(text, name)
    return _guard(lambda: check(parse(source), schema, source))


def query(adata, text: str, *, type_key: str | None = "cell_type", fov_key: str | None = "fov",
          spatial_key: str = "spatial", unit: str | None = None,
          um_per_unit: float | None = None, windows=None, seed: int | None = 0,
          by: str | Sequence[str] | None = None, pool: bool = False,
          max_work: float | None = work.MAX_WORK, max_memory=work.AUTO) -> Result:
    """Run a CytoQL query on spatial single-cell data.

    Parameters
    ----------
    adata : AnnData or cytoql.data.Sample
        Read only, never modified.
    text : str
        The query, e.g. ``'mean(distance(cells where type == "PCT" -> nearest cells))'``.
    type_key, fov_key, spatial_key : str
        obs/obsm keys of the cell type, the field of view and the positions.
    unit, um_per_unit : optional
        Override ``uns["spatial_unit"]``; otherwise an unknown scale is assumed to be µm
        and recorded in the result's assumptions.
    windows : optional
        Window(s) in µm overriding metadata (see ``Sample.from_anndata``).
    seed : int, default 0
        Seed of random streams (derived per FOV and feature).
    by : str or sequence of str, optional
        Grouping keys added to the query's own ``by`` (``"fov"``, ``"type"`` or a
        categorical obs column), e.g. ``by="type"``.
    pool : bool, default False
        Make ``result.value`` the pooled value over FOVs (by the catalog's exact combine
        rule) instead of refusing when there are several FOVs.
    max_work : float or None, default 1e10
        Refuse (E0601) a query whose estimated work, over all FOVs, exceeds this many
        steps (mostly neighbour pairs visited); it warns (W0508) above a tenth of it.
        None or inf: no limit. See docs/limits.md.
    max_memory : float, "auto" or None, default "auto"
        Refuse (E0602) a query whose estimated memory on one FOV exceeds this many
        bytes; "auto" is half of the machine's physical memory. None or inf: no limit.

    Returns
    -------
    ScalarResult, PerCellResult, CellSetResult, TableResult or CurveResult
        Knows its unit, query, defaults, conventions, assumptions, warnings and the
        fingerprint of the data.

    Raises
    ------
    QueryError
        The query is wrong (with every diagnostic).
    DataError
        The AnnData cannot be used as given.
    EvaluationError
        The query cannot run on this data (E04xx, with the span), would exceed
        ``max_work`` or ``max_memory`` (E06xx), or ran out of memory.

    Warns
    -----
    EmptySelectionWarning
        A selection is empty in a FOV (W0501) or values were undefined (W0502).
    AssumptionWarning
        A scale or window was assumed.

    Notes
    -----
    Each FOV is evaluated on its own: cells in different FOVs are never neighbours.

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> import cytoql
    >>> from cytoql.datasets import cosmx_kidney
    >>> result = cytoql.query(cosmx_kidney(), 'count(cells where type == "Podocyte")')
    >>> result.per_fov.to_dict(), result.pool(), result.unit
    ({'18': 108.0, '23': 119.0}, 227.0, 'cells')
    """
    sample = adata if isinstance(adata, Sample) else sample_of(
        adata, type_key=type_key, fov_key=fov_key, spatial_key=spatial_key, unit=unit,
        um_per_unit=um_per_unit, windows=windows)
    work.limits(max_work, max_memory)  # a bad limit is the caller's ValueError, now
    source = Source(text)
    schema = _schema(sample)
    plan = _guard(lambda: check(_grouped(parse(source), by, source), schema, source))

    def run():
        needs = plan.needs()
        datas = [fov_data(sample, fov, needs) for fov in sample.fovs]
        found = work.check(plan, [FovEvaluator(plan, d, seed, source) for d in datas], source,
                           max_work=max_work, max_memory=max_memory)
        outputs = [evaluate_fov(plan, data, seed, source) for data in datas]
        found += [w for o in outputs for w in o.warnings]
        return build_result(plan, outputs, sample, assumptions=sample.assumptions,
                            warnings=found, source=source, pool=pool,
                            fingerprint=lambda: fingerprint(sample))

    result = _guard(run)
    for warning in result.warnings:
        _warnings.warn(f"{warning.code}: {warning.message}", EmptySelectionWarning,
                       stacklevel=2)
    for assumption in sample.assumptions:
        _warnings.warn(assumption, AssumptionWarning, stacklevel=2)
    return result
