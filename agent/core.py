"""``ask``: question -> CytoQL (compile, repair, run) -> answer, with CodeAct as fallback."""

from __future__ import annotations

import json
import time
import warnings

import cytoql
from cytoql.data import Sample
from cytoql.errors import EvaluationError, QueryError

from cytoql.agent.answer import UNS_KEY, Answer, jsonable
from cytoql.agent.backends import Backend, BackendError, OpenAIBackend
from cytoql.agent.codeact import codeact_system, run_codeact
from cytoql.agent.prompt import dsl_system, parse_reply, repair_message
from cytoql.agent.sandbox import Limits, Sandbox

__all__ = ["MODES", "answer_value", "ask", "auto_fix"]

MODES = ("dsl-first", "codeact-only", "single-shot")
_MAX_AUTO_FIXES = 5


def auto_fix(text: str, error: QueryError):
    """Apply every diagnostic's fix that is a single confident suggestion.

    Returns ``(new_text, fixes)``; ``fixes`` is empty when nothing could be applied (an
    error without a confident fix, or overlapping fixes, needs the model).
    """
    fixes = []
    for diag in error.diagnostics:
        if diag.severity != "error":
            continue
        confident = [s for s in diag.suggestions if s.confident]
        if len(confident) != 1:
            return text, []
        fixes.append((diag, confident[0]))
    spans = sorted((s.span.start, s.span.end) for _, s in fixes)
    if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
        return text, []
    for _, s in sorted(fixes, key=lambda f: -f[1].span.start):
        text = text[:s.span.start] + s.replacement + text[s.span.end:]
    return text, [f"{d.code}: {error.source.text[s.span.start:s.span.end]!r} -> "
                  f"{s.replacement!r} (applied without a model call)" for d, s in fixes]


def answer_value(result):
    """The answer value of a Result: pooled scalar, groups, shares, or a count of cells."""
    kind = result.kind
    if kind == "scalar":
        pooled = result.pool()
        return pooled.to_dict() if hasattr(pooled, "to_dict") else pooled
    if kind == "table":
        return result.pool().to_dict()
    if kind == "cell set":
        return len(result)
    return {"n_values": len(result)}


class _Session:
    """One ask: the backend calls, their accounting and the transcript."""

    def __init__(self, backend: Backend, opts: dict):
        self.backend, self.opts = backend, opts
        self.transcript: list = []
        self.tokens_in = self.tokens_out = self.calls = 0

    def call(self, messages: list[dict]) -> str:
        reply = self.backend.complete(messages, **self.opts)
        self.calls += 1
        self.tokens_in += reply.tokens_in
        self.tokens_out += reply.tokens_out
        messages.append({"role": "assistant", "content": reply.text})
        self.transcript.append(messages[-1])
        return reply.text


def _run_query(sample, text, schema):
    """Compile and run on the validated Sample; the Result, or the CytoQL error."""
    cytoql.compile(text, schema)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cytoql.query(sample, text)


def _dsl(sample, question, session, answer, schema, schema_text, *,
         max_repairs, k_examples, single_shot):
    """The DSL route; returns the reason to fall back (None when answered)."""
    messages = [{"role": "system", "content": dsl_system(schema_text, question, k_examples)},
                {"role": "user", "content": question}]
    session.transcript.extend(messages)
    repairs = 0
    while True:
        reply = session.call(messages)
        kind, text, readings = parse_reply(reply)
        answer.assumptions.extend(readings)
        if kind == "not expressible":
            session.transcript.append({"event": "not expressible", "reason": text})
            return f"the model found the question not expressible in CytoQL: {text}"
        feedback = None
        if kind == "none":
            feedback = ("No ```cytoql block found. Reply with the query in one ```cytoql "
                        "block, or `NOT EXPRESSIBLE: <reason>`.")
        else:
            for _ in range(_MAX_AUTO_FIXES + 1):
                try:
                    result = _run_query(sample, text, schema)
                except QueryError as exc:
                    fixed, fixes = auto_fix(text, exc)
                    if fixes:
                        session.transcript.append({"event": "auto-fix", "before": text,
                                                   "after": fixed, "fixes": fixes})
                        answer.assumptions.extend(fixes)
                        text = fixed
                        continue
                    session.transcript.append({"event": "compile error", "query": text,
                                               "codes": [d.code for d in exc.diagnostics]})
                    feedback = repair_message(str(exc))
                except EvaluationError as exc:
                    session.transcript.append({"event": "evaluation error", "query": text,
                                               "error": str(exc)})
                    feedback = repair_message(str(exc), what="query (at run time)")
                else:
                    answer.value, answer.unit = answer_value(result), result.unit
                    answer.query, answer.result = result.query, result.to_dict()
                    answer.assumptions.extend(result.assumptions)
                    answer.route = "dsl" if repairs == 0 else f"dsl-repaired({repairs})"
                    session.transcript.append({"event": "answer", "query": result.query,
                                               "value": jsonable(answer.value),
                                               "unit": result.unit})
                    return None
                break
            else:
                feedback = repair_message("(automatic fixes did not converge)")
        if single_shot or repairs >= max_repairs:
            return ("single-shot: the first reply did not give a working query" if single_shot
                    else f"no working query after {max_repairs} repair rounds")
        repairs += 1
        messages.append({"role": "user", "content": feedback})
        session.transcript.append(messages[-1])


def _codeact(adata, question, session, answer, schema_text, data_options, *, steps, limits,
             reason):
    messages = [{"role": "system", "content": codeact_system(schema_text)},
                {"role": "user", "content": question + (f"\n\n(CytoQL was tried first: "
                                                        f"{reason})" if reason else "")}]
    session.transcript.extend(messages)
    with Sandbox(adata, limits=limits, data_options=data_options) as box:
        final, cells, n, error = run_codeact(session.call, messages, box, steps,
                                             session.transcript)
    answer.steps = n
    answer.code = "\n\n".join(cells) if cells else None
    if final is None:
        answer.error = error
        return
    answer.route = "codeact"
    answer.value, answer.unit = final["value"], final["unit"]
    session.transcript.append({"event": "answer", "value": jsonable(answer.value),
                               "unit": answer.unit})


def ask(adata, question: str, *, backend: Backend | None = None, mode: str = "dsl-first",
        max_repairs: int = 3, codeact_steps: int = 10, examples: int = 4,
        limits: Limits | None = None, write_uns: bool = False, grammar: bool = False,
        **data_options) -> Answer:
    """Answer a question about spatial single-cell data.

    Parameters
    ----------
    adata : AnnData
        Read only; with ``write_uns=True`` the answer is appended to
        ``adata.uns["cytoql_agent_answers"]`` (a list of JSON strings), nothing else.
    question : str
    backend : Backend, optional
        Default: :class:`~cytoql.agent.backends.OpenAIBackend` from the environment.
    mode : {"dsl-first", "codeact-only", "single-shot"}
        ``dsl-first``: CytoQL with diagnostic repair, CodeAct when the model says it is not
        expressible or repairs run out. ``codeact-only``: Python only. ``single-shot``: one
        model call, one query, no repair and no fallback (the baseline).
    max_repairs : int, default 3
        Rounds of diagnostics sent back to the model.
    codeact_steps : int, default 10
    examples : int, default 4
        Cookbook examples in the prompt.
    limits : Limits, optional
        Sandbox limits for CodeAct.
    grammar : bool
        Send the GBNF grammar for constrained decoding (DSL route; server must support it).
    **data_options
        ``type_key``, ``fov_key``, ``spatial_key``, ``unit``, ``um_per_unit``: as in
        :func:`cytoql.query`.

    Returns
    -------
    Answer
        Never raises for a wrong model reply: a failed route is ``route="failed"`` with
        ``error``. Raises :class:`~cytoql.errors.DataError` when the data cannot be used
        and :class:`~cytoql.agent.backends.BackendError` when no model is reachable.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    start = time.perf_counter()
    backend = backend if backend is not None else OpenAIBackend()
    opts = {}
    if grammar:
        from cytoql.agent.grammar import gbnf

        opts["grammar"] = gbnf()
    sample = Sample.from_anndata(adata, **data_options)
    schema = cytoql.schema_of(sample)
    schema_text = sample.summary()
    session = _Session(backend, opts)
    answer = Answer(question=question)
    try:
        reason = None
        if mode != "codeact-only":
            reason = _dsl(sample, question, session, answer, schema, schema_text,
                          max_repairs=max_repairs, k_examples=examples,
                          single_shot=mode == "single-shot")
            if reason and mode == "single-shot":
                answer.error = reason
        if mode == "codeact-only" or (reason and mode == "dsl-first"):
            session.opts = {}  # the grammar constrains CytoQL replies only
            _codeact(adata, question, session, answer, schema_text, data_options,
                     steps=codeact_steps, limits=limits or Limits(), reason=reason)
    except BackendError as exc:
        if session.calls == 0:
            raise
        answer.error = f"model backend failed: {exc}"
    answer.transcript = session.transcript
    answer.tokens_in, answer.tokens_out = session.tokens_in, session.tokens_out
    answer.model_calls = session.calls
    answer.assumptions = list(dict.fromkeys(answer.assumptions))
    answer.wall_s = time.perf_counter() - start
    if write_uns:
        previous = list(adata.uns.get(UNS_KEY, []))
        adata.uns[UNS_KEY] = previous + [json.dumps(answer.to_dict(), ensure_ascii=False)]
    return answer
