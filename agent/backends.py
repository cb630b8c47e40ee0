"""Model backends behind one interface: ``complete(messages, **opts) -> Reply``.

- :class:`OpenAIBackend`: any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang,
  Ollama, llama.cpp server) through the ``openai`` client.
- :class:`RecordingBackend` / :class:`ReplayBackend`: JSONL record of a run, replayed
  exactly (a different prompt is an error, not a silent answer).
- :class:`ScriptedBackend`: a list of replies, for tests.
- :class:`ManualBackend`: shows each prompt and reads the reply from stdin or from an
  exchange directory (``NNN.prompt.md`` written, ``NNN.reply.md`` awaited).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Backend", "BackendError", "ManualBackend", "OpenAIBackend", "RecordingBackend",
           "ReplayBackend", "Reply", "ScriptedBackend", "load_config"]


class BackendError(RuntimeError):
    """No model is configured or reachable, or a replay does not match the run."""


@dataclass(frozen=True)
class Reply:
    """A model's reply and what it cost."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0


class Backend:
    """The interface: ``complete(messages, **opts)`` with OpenAI-style chat messages."""

    name = "backend"

    def complete(self, messages: list[dict], **opts) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError


def _approx_tokens(text: str) -> int:
    """A deterministic stand-in where a backend reports no usage (about 4 chars a token)."""
    return (len(text) + 3) // 4


def _prompt_tokens(messages: list[dict]) -> int:
    return sum(_approx_tokens(m["content"]) for m in messages)


class ScriptedBackend(Backend):
    """Returns the given replies in order; running out is a :class:`BackendError`.

    ``calls`` keeps every message list it was sent (tests read the prompts).
    """

    name = "scripted"

    def __init__(self, replies: list[str]):
        self._replies = list(replies)
        self.calls: list[list[dict]] = []

    def complete(self, messages, **opts) -> Reply:
        self.calls.append([dict(m) for m in messages])
        if len(self.calls) > len(self._replies):
            raise BackendError(f"scripted backend ran out of replies after {len(self._replies)}")
        text = self._replies[len(self.calls) - 1]
        return Reply(text, _prompt_tokens(messages), _approx_tokens(text))


# ---------------------------------------------------------------------- record / replay
def _digest(messages: list[dict]) -> str:
    blob = json.dumps(messages, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class RecordingBackend(Backend):
    """Wraps a backend and appends each exchange to a JSONL file (one line a call)."""

    def __init__(self, inner: Backend, path: str | os.PathLike):
        self.inner = inner
        self.path = Path(path)
        self.name = f"recording({inner.name})"
        self.path.write_text("", encoding="utf-8")

    def complete(self, messages, **opts) -> Reply:
        reply = self.inner.complete(messages, **opts)
        line = {"messages": messages, "digest": _digest(messages), "text": reply.text,
                "tokens_in": reply.tokens_in, "tokens_out": reply.tokens_out}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        return reply


class ReplayBackend(Backend):
    """Replays a recording; a prompt that differs from the recorded one is an error."""

    name = "replay"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise BackendError(f"cannot read the recording {path}: {exc}") from None
        self._records = [json.loads(line) for line in lines if line.strip()]
        self._next = 0

    def complete(self, messages, **opts) -> Reply:
        if self._next >= len(self._records):
            raise BackendError(f"replay of {self.path} exhausted: the run asked for call "
                               f"{self._next + 1}, the recording has {len(self._records)}")
        record = self._records[self._next]
        if record["digest"] != _digest(messages):
            got, want = messages, record["messages"]
            where = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                         min(len(got), len(want)))
            raise BackendError(f"replay mismatch at call {self._next + 1} of {self.path}: "
                               f"message {where} differs from the recording (the prompt, "
                               "data or catalog changed since it was recorded)")
        self._next += 1
        return Reply(record["text"], record["tokens_in"], record["tokens_out"])


# ---------------------------------------------------------------------- manual
class ManualBackend(Backend):
    """A person is the model: each prompt is shown, the reply typed or dropped in a file.

    Parameters
    ----------
    exchange : path, optional
        Directory: prompt ``n`` is written to ``NNN.prompt.md`` and the reply read from
        ``NNN.reply.md`` once it exists. Without it the prompt goes to ``output`` and the
        reply is read from ``input`` up to a line holding only ``.``, or end of input.
    timeout_s : float
        How long to wait for a reply file.
    """

    name = "manual"

    def __init__(self, exchange=None, *, input=None, output=None, timeout_s: float = 3600.0,
                 poll_s: float = 0.2):
        self.exchange = Path(exchange) if exchange is not None else None
        self.input, self.output = input, output
        self.timeout_s, self.poll_s = timeout_s, poll_s
        self._n = 0
        if self.exchange is not None:
            self.exchange.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def format_prompt(messages: list[dict]) -> str:
        return "\n\n".join(f"## {m['role']}\n\n{m['content']}" for m in messages) + "\n"

    def complete(self, messages, **opts) -> Reply:
        self._n += 1
        prompt = self.format_prompt(messages)
        if self.exchange is None:
            out = self.output or sys.stdout
            out.write(prompt + "\n--- type the reply; end with a line holding only '.' ---\n")
            out.flush()
            lines = []
            for line in (self.input or sys.stdin):
                if line.rstrip("\n") == ".":
                    break
                lines.append(line)
            text = "".join(lines).strip()
        else:
            stem = self.exchange / f"{self._n:03d}"
            Path(f"{stem}.prompt.md").write_text(prompt, encoding="utf-8")
            reply = Path(f"{stem}.reply.md")
            deadline = time.monotonic() + self.timeout_s
            while not reply.exists():
                if time.monotonic() > deadline:
                    raise BackendError(f"no reply in {reply} after {self.timeout_s:g} s")
                time.sleep(self.poll_s)
            text = reply.read_text(encoding="utf-8").strip()
        if not text:
            raise BackendError(f"empty manual reply to prompt {self._n}")
        return Reply(text, _prompt_tokens(messages), _approx_tokens(text))


# ---------------------------------------------------------------------- OpenAI-compatible
_ENV = {"base_url": ("CYTOQL_LLM_BASE_URL", "OPENAI_BASE_URL"),
        "model": ("CYTOQL_LLM_MODEL", "OPENAI_MODEL"),
        "api_key": ("CYTOQL_LLM_API_KEY", "OPENAI_API_KEY")}
DEFAULT_CONFIG = Path("~/.config/cytoql/agent.toml")


def load_config(path: str | os.PathLike | None = None, env=None) -> dict:
    """Endpoint settings: environment first (``CYTOQL_LLM_*``, then ``OPENAI_*``), then the
    ``[llm]`` table of a TOML file (``path``, ``$CYTOQL_AGENT_CONFIG`` or
    ``~/.config/cytoql/agent.toml``). Keys: base_url, model, api_key, temperature,
    max_tokens, retries, backoff_s, grammar_field (``guided_grammar`` or ``grammar``)."""
    env = os.environ if env is None else env
    file = Path(path or env.get("CYTOQL_AGENT_CONFIG") or DEFAULT_CONFIG).expanduser()
    config = {}
    if file.exists():
        try:
            config = dict(tomllib.loads(file.read_text(encoding="utf-8")).get("llm", {}))
        except tomllib.TOMLDecodeError as exc:
            raise BackendError(f"cannot read {file}: {exc}") from None
    elif path is not None:
        raise BackendError(f"no such config file: {file}")
    for key, names in _ENV.items():
        value = next((env[n] for n in names if env.get(n)), None)
        if value:
            config[key] = value
    return config


class OpenAIBackend(Backend):
    """An OpenAI-compatible chat endpoint.

    Parameters
    ----------
    base_url, model, api_key : str, optional
        Default from :func:`load_config`. A local server needs no real key (any string).
    retries : int
        Attempts on transient errors (connection, timeout, 429, 5xx), with exponential
        backoff from ``backoff_s``.
    grammar : str, optional
        A grammar for constrained decoding (:func:`cytoql.agent.grammar.gbnf`), sent in
        ``extra_body[grammar_field]`` (vLLM: ``guided_grammar``; llama.cpp: ``grammar``).
    """

    name = "openai"

    def __init__(self, *, base_url=None, model=None, api_key=None, config=None,
                 temperature: float = 0.0, max_tokens: int | None = 2048, retries: int = 3,
                 backoff_s: float = 1.0, timeout_s: float = 120.0, grammar: str | None = None,
                 grammar_field: str | None = None):
        settings = load_config(config)
        self.base_url = base_url or settings.get("base_url")
        self.model = model or settings.get("model")
        api_key = api_key or settings.get("api_key")
        if not self.model:
            raise BackendError(
                "no model configured: set CYTOQL_LLM_MODEL (and CYTOQL_LLM_BASE_URL for a "
                "non-OpenAI endpoint, CYTOQL_LLM_API_KEY if it needs one) or write an [llm] "
                f"table in {DEFAULT_CONFIG} (see docs/agent.md)")
        if not api_key and not self.base_url:
            raise BackendError("no API key: set CYTOQL_LLM_API_KEY (or OPENAI_API_KEY), or "
                               "CYTOQL_LLM_BASE_URL for a local server")
        try:
            import openai
        except ImportError:
            raise BackendError("the openai package is missing: pip install 'cytoql[agent]'") \
                from None
        self._openai = openai
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key or "none",
                                     max_retries=0, timeout=timeout_s)
        self.temperature = float(settings.get("temperature", temperature))
        self.max_tokens = settings.get("max_tokens", max_tokens)
        self.retries = int(settings.get("retries", retries))
        self.backoff_s = float(settings.get("backoff_s", backoff_s))
        self.grammar = grammar
        self.grammar_field = grammar_field or settings.get("grammar_field", "guided_grammar")

    def request(self, messages: list[dict], **opts) -> dict:
        """The keyword arguments of the chat-completions call (tests read them)."""
        kwargs = {"model": self.model, "messages": messages, "temperature": self.temperature}
        if self.max_tokens:
            kwargs["max_tokens"] = int(self.max_tokens)
        grammar = opts.get("grammar", self.grammar)
        if grammar:
            kwargs["extra_body"] = {self.grammar_field: grammar}
        return kwargs

    def complete(self, messages, **opts) -> Reply:
        o = self._openai
        transient = (o.APIConnectionError, o.APITimeoutError, o.RateLimitError,
                     o.InternalServerError)
        for attempt in range(self.retries + 1):
            try:
                response = self._client.chat.completions.create(**self.request(messages, **opts))
                break
            except transient as exc:
                if attempt == self.retries:
                    raise BackendError(f"model endpoint {self.base_url or 'api.openai.com'} "
                                       f"unreachable after {attempt + 1} attempts: "
                                       f"{type(exc).__name__}: {exc}") from None
                time.sleep(self.backoff_s * 2 ** attempt)
            except o.APIError as exc:
                raise BackendError(f"model endpoint refused the request: {exc}") from None
        text = response.choices[0].message.content or ""
        usage = response.usage
        return Reply(text, getattr(usage, "prompt_tokens", 0) or _prompt_tokens(messages),
                     getattr(usage, "completion_tokens", 0) or _approx_tokens(text))
