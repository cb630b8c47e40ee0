"""Backends: record/replay exactly, the manual file exchange, configuration, grammar."""

from __future__ import annotations

import json
import threading

import pytest

from cytoql.agent import (BackendError, ManualBackend, OpenAIBackend, RecordingBackend,
                          ReplayBackend, ScriptedBackend, ask)
from cytoql.agent.backends import load_config
from cytoql.agent.grammar import gbnf


def test_replay_reproduces_a_run_exactly(kidney, r, tmp_path):
    log = tmp_path / "run.jsonl"
    replies = [r.cq("cnt(cells)"), r.cq('count(cells where type == "Podocyte")')]
    recorder = RecordingBackend(ScriptedBackend(replies), log)
    first = ask(kidney, "How many podocytes?", backend=recorder)
    again = ask(kidney, "How many podocytes?", backend=ReplayBackend(log))
    strip = lambda a: {k: v for k, v in a.to_dict().items() if k != "wall_s"}  # noqa: E731
    assert strip(first) == strip(again) and again.route == "dsl-repaired(1)"
    assert len(log.read_text().splitlines()) == 2


def test_replay_mismatch_is_a_clear_error(kidney, r, tmp_path):
    log = tmp_path / "run.jsonl"
    recorder = RecordingBackend(ScriptedBackend([r.cq("count(cells)")]), log)
    ask(kidney, "How many podocytes?", backend=recorder)
    with pytest.raises(BackendError, match="replay mismatch at call 1 .* message 0 differs"):
        ask(kidney, "How many PCT cells?", backend=ReplayBackend(log))
    with pytest.raises(BackendError, match="cannot read the recording"):
        ReplayBackend(tmp_path / "missing.jsonl")


def test_replay_exhausted(tmp_path):
    log = tmp_path / "run.jsonl"
    log.write_text("")
    with pytest.raises(BackendError, match="exhausted"):
        ReplayBackend(log).complete([{"role": "user", "content": "x"}])


def test_manual_backend_through_a_file_exchange(kidney, r, tmp_path):
    exchange = tmp_path / "exchange"

    def person():  # answers prompt 001 once it appears
        import time

        prompt = exchange / "001.prompt.md"
        for _ in range(18000):  # up to 180 s on a loaded machine
            if prompt.exists():
                break
            time.sleep(0.01)
        assert "How many podocytes?" in prompt.read_text()
        (exchange / "001.reply.md").write_text(r.cq('count(cells where type == "Podocyte")'))

    helper = threading.Thread(target=person)
    helper.start()
    # bounded: if the person thread fails, the test fails instead of waiting an hour
    answer = ask(kidney, "How many podocytes?",
                 backend=ManualBackend(exchange, poll_s=0.01, timeout_s=240.0))
    helper.join()
    assert answer.value == 227.0
    assert (exchange / "001.prompt.md").read_text().startswith("## system")


def test_manual_backend_through_stdin():
    import io

    out = io.StringIO()
    backend = ManualBackend(input=io.StringIO("line one\nline two\n.\nignored\n"), output=out)
    reply = backend.complete([{"role": "user", "content": "hello"}])
    assert reply.text == "line one\nline two" and "## user\n\nhello" in out.getvalue()


def test_manual_backend_times_out_without_a_reply(tmp_path):
    backend = ManualBackend(tmp_path, timeout_s=0.05, poll_s=0.01)
    with pytest.raises(BackendError, match="no reply in .*001.reply.md after 0.05 s"):
        backend.complete([{"role": "user", "content": "x"}])


def test_no_model_configured_is_a_clear_error(monkeypatch, tmp_path):
    for name in ("CYTOQL_LLM_BASE_URL", "CYTOQL_LLM_MODEL", "CYTOQL_LLM_API_KEY",
                 "OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CYTOQL_AGENT_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(BackendError, match="no model configured: set CYTOQL_LLM_MODEL"):
        OpenAIBackend()


def test_config_file_and_environment(tmp_path):
    file = tmp_path / "agent.toml"
    file.write_text('[llm]\nbase_url = "http://localhost:8000/v1"\nmodel = "small"\n'
                    'grammar_field = "grammar"\n')
    assert load_config(file, env={}) == {"base_url": "http://localhost:8000/v1",
                                         "model": "small", "grammar_field": "grammar"}
    env = {"CYTOQL_LLM_MODEL": "big", "OPENAI_API_KEY": "k"}
    assert load_config(file, env=env)["model"] == "big"
    assert load_config(file, env=env)["api_key"] == "k"
    with pytest.raises(BackendError, match="no such config file"):
        load_config(tmp_path / "missing.toml", env={})


def test_unreachable_endpoint_is_a_backend_error():
    backend = OpenAIBackend(base_url="http://127.0.0.1:9/v1", model="m", retries=1,
                            backoff_s=0.01, timeout_s=2)
    with pytest.raises(BackendError, match="unreachable after 2 attempts"):
        backend.complete([{"role": "user", "content": "x"}])


def test_grammar_export_shape_and_pass_through():
    text = gbnf()
    lines = text.splitlines()
    assert lines[0].startswith('root ::= "```cytoql\\n"') and "NOT EXPRESSIBLE" in lines[0]
    names = {line.split(" ::= ")[0] for line in lines}
    used = {tok for line in lines for tok in line.split(" ::= ")[1].replace("(", " ")
            .replace(")", " ").replace("*", " ").split() if tok.startswith(("r-", "t-"))}
    assert used <= names  # every referenced rule is defined
    assert all(" ::= " in line for line in lines)
    for line in lines:  # no left recursion left
        name, body = line.split(" ::= ")
        assert not any(alt.strip().startswith(name + " ") for alt in body.split("|"))
    backend = OpenAIBackend(base_url="http://127.0.0.1:9/v1", model="m", grammar=text)
    assert backend.request([])["extra_body"] == {"guided_grammar": text}
    llama = OpenAIBackend(base_url="http://127.0.0.1:9/v1", model="m", grammar_field="grammar")
    assert llama.request([], grammar="g")["extra_body"] == {"grammar": "g"}
    assert "extra_body" not in llama.request([])


def test_ask_passes_the_grammar_when_asked(kidney, r):
    seen = []

    class Spy(ScriptedBackend):
        def complete(self, messages, **opts):
            seen.append(opts)
            return super().complete(messages, **opts)

    ask(kidney, "q", backend=Spy([r.cq("count(cells)")]), grammar=True)
    assert seen[0]["grammar"] == gbnf()
    assert json.dumps(seen[0])  # plain data
