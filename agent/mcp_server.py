"""CytoQL as MCP tools over stdio (``cytoql mcp``; needs the ``mcp`` extra).

Tools: ``info`` (the ``cytoql info`` text of an .h5ad file), ``compile`` (check a query:
canonical text and plan, or every diagnostic as JSON), ``query`` (run it: the result
record) and ``explain`` (a diagnostic code, or a query's plan). An MCP-capable assistant
then uses CytoQL as its action space on the user's own files; the files are only read.
"""

from __future__ import annotations

import json
import os
import re
import warnings

__all__ = ["build_server", "serve"]

_CODE = re.compile(r"^[EW]\d{4}$", re.I)
_CACHE: dict = {}


def _load(path: str):
    """The AnnData at ``path`` (cached while the file is unchanged)."""
    import anndata as ad

    file = os.path.abspath(os.path.expanduser(path))
    key = (file, os.stat(file).st_mtime_ns)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = ad.read_h5ad(file)
    return _CACHE[key]


def _sample(path: str, type_key: str):
    from cytoql.data import Sample

    adata = _load(path)
    return adata, Sample.from_anndata(adata, type_key=type_key if type_key in adata.obs else None)


def _diagnostics(exc) -> str:
    from cytoql.diagnostics.render import render_json

    return json.dumps({"ok": False, "error": type(exc).__name__,
                       "diagnostics": [render_json(d, exc.source) for d in exc.diagnostics]},
                      ensure_ascii=False)


def info(path: str, type_key: str = "cell_type") -> str:
    """Describe an .h5ad file: cells, genes, FOVs, windows, cell types with counts, unit."""
    return _sample(path, type_key)[1].summary()


def compile_query(path: str, query: str, type_key: str = "cell_type") -> str:
    """Check a CytoQL query against the file's schema without running it."""
    import cytoql
    from cytoql.errors import QueryError

    _, sample = _sample(path, type_key)
    try:
        plan = cytoql.compile(query, cytoql.schema_of(sample))
    except QueryError as exc:
        return _diagnostics(exc)
    return json.dumps({"ok": True, "query": plan.text, "plan": plan.explain()},
                      ensure_ascii=False)


def run_query(path: str, query: str, type_key: str = "cell_type", pool: bool = False) -> str:
    """Run a CytoQL query: values per FOV (and pooled), unit, defaults, assumptions."""
    import cytoql
    from cytoql.errors import CytoQLError, QueryError

    adata, sample = _sample(path, type_key)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = cytoql.query(sample, query, pool=pool)
    except QueryError as exc:
        return _diagnostics(exc)
    except CytoQLError as exc:
        return json.dumps({"ok": False, "error": type(exc).__name__, "message": str(exc)})
    return json.dumps({"ok": True, **result.to_dict()}, ensure_ascii=False, default=str)


def explain(what: str, path: str = "", type_key: str = "cell_type") -> str:
    """Explain a diagnostic code (``E0203``) or, with ``path``, the plan of a query."""
    if _CODE.match(what.strip()):
        from cytoql.diagnostics.codes import explain as explain_code

        try:
            return explain_code(what.strip())
        except KeyError as exc:
            return str(exc.args[0])
    if not path:
        return "give a diagnostic code (E0203) or a query together with path"
    result = json.loads(compile_query(path, what, type_key))
    return result["plan"] if result["ok"] else json.dumps(result, ensure_ascii=False)


def build_server():
    """The FastMCP server with the four tools."""
    try:
        from mcp.server.fastmcp import FastMCP
    except ImportError:
        raise SystemExit("cytoql mcp needs the mcp package: pip install 'cytoql[mcp]'") from None
    server = FastMCP("cytoql")
    server.tool(name="info")(info)
    server.tool(name="compile")(compile_query)
    server.tool(name="query")(run_query)
    server.tool(name="explain")(explain)
    return server


def serve() -> None:
    """Serve over stdio until the client closes."""
    build_server().run("stdio")
