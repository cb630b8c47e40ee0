"""`cytoql ask` end to end against a local fake OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest


class _FakeOpenAI(BaseHTTPRequestHandler):
    replies: list = []
    requests: list = []

    def do_POST(self):  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, body))
        text = type(self).replies.pop(0) if type(self).replies else "no more replies"
        payload = json.dumps({
            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 20, "total_tokens": 1020},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = HTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    _FakeOpenAI.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def kidney_path(tmp_path_factory, kidney):
    path = tmp_path_factory.mktemp("data") / "kidney.h5ad"
    kidney.write_h5ad(path)
    return path


def _cytoql(args, tmp_path, port, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CYTOQL_"))}
    env.update({"CYTOQL_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
                "CYTOQL_LLM_MODEL": "fake-model", "CYTOQL_LLM_API_KEY": "sk-test",
                "CYTOQL_AGENT_CONFIG": str(tmp_path / "absent.toml"), **extra})
    return subprocess.run([sys.executable, "-m", "cytoql.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cytoql_ask_against_a_fake_server(server, kidney_path, tmp_path, r):
    _FakeOpenAI.replies = [r.cq("cnt(cells)"), r.cq('count(cells where type == "Podocyte")')]
    record = tmp_path / "run.jsonl"
    done = _cytoql(["ask", str(kidney_path), "How many podocytes are there?", "--json",
                    "--record", str(record)], tmp_path, server.server_port)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["route"], answer["value"], answer["unit"]) == ("dsl-repaired(1)", 227.0, "cells")
    assert answer["tokens_in"] == 2000 and answer["model_calls"] == 2
    path, body = _FakeOpenAI.requests[0]
    assert path == "/v1/chat/completions" and body["model"] == "fake-model"
    assert "error[E0202]" in _FakeOpenAI.requests[1][1]["messages"][-1]["content"]
    # the recording replays the same answer with no server
    again = _cytoql(["ask", str(kidney_path), "How many podocytes are there?", "--backend",
                     "replay", "--replay", str(record), "--show"], tmp_path, 9)
    assert again.returncode == 0, again.stderr
    assert "answer: 227 cells" in again.stdout and "--- assistant ---" in again.stdout


def test_cytoql_ask_unreachable_server_is_a_clear_error(kidney_path, tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text("[llm]\nretries = 1\nbackoff_s = 0.01\n")
    done = _cytoql(["ask", str(kidney_path), "How many cells?", "--config", str(config)],
                   tmp_path, 9)
    assert done.returncode == 1
    assert "cytoql: error: model endpoint http://127.0.0.1:9/v1 unreachable after 2 attempts" \
        in done.stderr


def test_plugin_hook_registers_the_agent_commands_and_skips_a_broken_one(monkeypatch, capsys):
    import importlib.metadata as metadata

    from cytoql import cli

    real = metadata.entry_points(group="cytoql.commands")
    assert {e.name for e in real} == {"ask", "mcp", "agent-bench"}
    broken = metadata.EntryPoint("broken", "no_such_module:register", "cytoql.commands")
    monkeypatch.setattr(metadata, "entry_points", lambda group: [*real, broken])
    parser = cli.build_parser()
    assert "cytoql: note: command 'broken' unavailable: No module named 'no_such_module'" \
        in capsys.readouterr().err
    assert parser.parse_args(["ask", "x.h5ad", "q"]).question == "q"
    assert parser.parse_args(["agent-bench", "--runs", "3"]).runs == 3
