"""The MCP server, driven by the SDK's own stdio client."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402


async def _session_calls(path, tmp_path):
    params = StdioServerParameters(command=sys.executable, args=["-m", "cytoql.cli", "mcp"],
                                   cwd=str(tmp_path), env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = sorted(t.name for t in (await session.list_tools()).tools)

            async def call(name, **args):
                result = await session.call_tool(name, args)
                return result.content[0].text

            return tools, {
                "info": await call("info", path=path),
                "compile_bad": await call("compile", path=path,
                                          query='count(cells where type == "Podocyt")'),
                "compile": await call("compile", path=path, query="count(cells)"),
                "query": await call("query", path=path,
                                    query='count(cells where type == "Podocyte")'),
                "explain": await call("explain", what="E0203"),
            }


def test_mcp_tools_over_stdio(kidney, tmp_path):
    path = str(tmp_path / "kidney.h5ad")
    kidney.write_h5ad(path)
    tools, out = asyncio.run(asyncio.wait_for(_session_calls(path, tmp_path), 120))
    assert tools == ["compile", "explain", "info", "query"]
    assert "cell types: 26 in obs['cell_type']" in out["info"]
    bad = json.loads(out["compile_bad"])
    assert not bad["ok"] and bad["diagnostics"][0]["code"] == "E0203"
    assert json.loads(out["compile"])["query"] == "count(cells)"
    rows = json.loads(out["query"])["rows"]
    assert rows[-1] == {"fov": "all (pooled)", "value": 227.0}
    assert out["explain"].startswith("E0203: ")
