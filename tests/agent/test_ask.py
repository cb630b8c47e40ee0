"""ask(): the DSL route with repair and automatic fixes, CodeAct fallback, the record."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cytoql.agent import UNS_KEY, Answer, ScriptedBackend, ask
from cytoql.agent.sandbox import Limits

PODOCYTES = 227.0  # cytoql info of the bundled data


def _ask(kidney, replies, **kw):
    backend = ScriptedBackend(replies)
    return ask(kidney, kw.pop("question", "How many podocytes are there?"), backend=backend,
               **kw), backend


def test_first_try_query(kidney, r):
    answer, backend = _ask(kidney, [r.cq('count(cells where type == "Podocyte")')])
    assert (answer.route, answer.value, answer.unit) == ("dsl", PODOCYTES, "cells")
    assert answer.query == 'count(cells where type == "Podocyte")'
    assert answer.model_calls == 1 and answer.tokens_in > 0 and answer.tokens_out > 0
    assert answer.result["rows"][0] == {"fov": "18", "value": 108.0}
    system = backend.calls[0][0]["content"]
    # the prompt: cytoql info, the catalog reference, ranked cookbook examples
    assert "'Podocyte'" in system and "fields of view: 2" in system
    assert "### `count(" in system and "### `density(" in system
    assert "Worked examples" in system and 'type == "Podocyte"' in system


def test_prompt_reference_comes_from_the_catalog_at_run_time(kidney, r, monkeypatch):
    import cytoql.agent.prompt as prompt

    monkeypatch.setattr(prompt, "reference_page", lambda: "<!-- x -->\n### `ripley_k(new)`")
    _, backend = _ask(kidney, [r.cq('count(cells)')])
    assert "### `ripley_k(new)`" in backend.calls[0][0]["content"]


@pytest.mark.parametrize("bad, code", [
    ('count(cells where type == "PCT"', "E0103"),          # syntax
    ('cnt(cells where type == "Podocyte")', "E0202"),     # name
    ('mean(cells where type == "Podocyte")', "E0301"),    # type
    ('count(cells where total_counts > 5 um)', "E0304"),  # unit
])
def test_repair_from_each_diagnostic_family(kidney, r, bad, code):
    answer, backend = _ask(kidney, [r.cq(bad), r.cq('count(cells where type == "Podocyte")')])
    assert (answer.route, answer.value) == ("dsl-repaired(1)", PODOCYTES)
    feedback = backend.calls[1][-1]["content"]
    assert f"error[{code}]" in feedback and " --> query:1:" in feedback  # verbatim rendering
    assert any(e.get("event") == "compile error" and e["codes"] == [code]
               for e in answer.transcript)


def test_all_diagnostics_go_back_at_once(kidney, r):
    bad = 'count(cells where type == "Podocyt") + mean(cells where type == "Nope")'
    _, backend = _ask(kidney, [r.cq(bad), r.cq('count(cells)')])
    feedback = backend.calls[1][-1]["content"]
    assert feedback.count("error[E0203]") == 2


def test_automatic_fix_without_a_model_call(kidney, r):
    answer, backend = _ask(kidney, [r.cq('count(cells where type = "podocyte" within 30)')])
    assert len(backend.calls) == 1 and answer.model_calls == 1
    assert answer.route == "dsl" and answer.query.startswith('count(cells where type == "Podocyte"')
    fixes = [a for a in answer.assumptions if "applied without a model call" in a]
    assert any("E0104" in f for f in fixes) and any("E0203" in f for f in fixes)
    assert any(e.get("event") == "auto-fix" for e in answer.transcript)


def test_model_readings_become_assumptions(kidney, r):
    answer, _ = _ask(kidney, [r.cq('count(cells where type == "Podocyte")',
                                 "Assumption: 'podocytes' read as the type 'Podocyte'")])
    assert answer.assumptions[0] == "'podocytes' read as the type 'Podocyte'"
    assert any("window of FOV '18'" in a for a in answer.assumptions)  # from the Result


def test_repairs_are_bounded_then_codeact(kidney, r):
    replies = [r.cq("cnt(cells)")] * 3 + [r.py('final_answer(227, "cells")')]
    answer, backend = _ask(kidney, replies, max_repairs=2)
    assert answer.route == "codeact" and answer.value == 227 and len(backend.calls) == 4
    assert "no working query after 2 repair rounds" in backend.calls[3][1]["content"]


def test_runtime_error_goes_back_for_repair(kidney, r):
    too_many = 'mean(distance(cells -> nearest cells where type == "NK", k = 5))'
    answer, backend = _ask(kidney, [r.cq(too_many), r.cq('count(cells where type == "NK")')])
    assert answer.route == "dsl-repaired(1)" and answer.value == 1.0
    assert "at run time" in backend.calls[1][-1]["content"]
    assert "E04" in backend.calls[1][-1]["content"]


def test_not_expressible_then_codeact_success(kidney, r):
    replies = ["NOT EXPRESSIBLE: needs the convex hull of the podocytes",
               r.py("n = int((cell_type == 'Podocyte').sum())\nprint(n, xy.shape)"),
               r.py('final_answer(n, "cells")')]
    answer, backend = _ask(kidney, replies, limits=Limits(wall_s=60, cpu_s=60))
    assert (answer.route, answer.value, answer.unit, answer.steps) == ("codeact", 227, "cells", 2)
    assert "convex hull" in backend.calls[1][1]["content"]
    assert "227 (6555, 2)" in backend.calls[2][-1]["content"]  # the observation
    assert answer.code.startswith("n = int(")


def test_codeact_recovers_from_an_exception(kidney, r):
    replies = [r.py("print(undefined_name)"), r.py("print(len(obs_names))"),
               r.py('final_answer(len(obs_names), "cells")')]
    answer, backend = _ask(kidney, replies, mode="codeact-only")
    assert answer.route == "codeact" and answer.value == 6555
    assert "NameError: name 'undefined_name' is not defined" in backend.calls[1][-1]["content"]
    assert "print(undefined_name)" not in answer.code  # failed steps are not kept


def test_codeact_steps_share_one_session(kidney, r):
    replies = [r.py("import time\nt0 = time.monotonic()\nprint(repr(t0))"),
               r.py("n = int((cell_type == 'Podocyte').sum())"),
               r.py('final_answer(t0, "s")')]
    answer, backend = _ask(kidney, replies, mode="codeact-only")
    printed = backend.calls[1][-1]["content"].removeprefix("Observation:\n")
    assert answer.route == "codeact" and answer.value == float(printed)  # step 1 ran once


def test_codeact_survives_a_crash(kidney, r):
    replies = [r.py("n = int((cell_type == 'Podocyte').sum())"), r.py("import os\nos._exit(3)"),
               r.py('final_answer(n, "cells")')]
    answer, backend = _ask(kidney, replies, mode="codeact-only")
    crash = backend.calls[2][-1]["content"]
    assert "exited with status 3" in crash and "restarted in a new process" in crash
    assert "variables from the 1 earlier successful step were restored" in crash
    assert answer.value == PODOCYTES and "_exit" not in answer.code
    assert [e["status"] for e in answer.transcript if e.get("event") == "observation"] == [
        "ok", "exit", "ok"]


def test_codeact_leaves_no_process_when_the_model_fails(kidney, r):
    answer, backend = _ask(kidney, [r.py("import os\nprint(os.getpid())")], mode="codeact-only")
    assert answer.route == "failed" and "ran out of replies" in answer.error
    pid = int(backend.calls[1][-1]["content"].removeprefix("Observation:\n"))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_codeact_step_limit(kidney, r):
    answer, backend = _ask(kidney, [r.py("print(1)")] * 2, mode="codeact-only", codeact_steps=2)
    assert answer.route == "failed" and answer.value is None and answer.steps == 2
    assert answer.error == "no final_answer after 2 CodeAct steps" and len(backend.calls) == 2


def test_single_shot_has_no_repair(kidney, r):
    answer, backend = _ask(kidney, [r.cq("cnt(cells)")], mode="single-shot")
    assert answer.route == "failed" and len(backend.calls) == 1
    assert "single-shot" in answer.error


def test_answer_record_is_json_and_adata_untouched(kidney, r):
    before = (kidney.obs.copy(), kidney.obsm["spatial"].copy(), dict(kidney.uns))
    answer, _ = _ask(kidney, [r.cq('mean(distance(cells where type == "PCT" -> nearest '
                                  'cells where type == "Podocyte"))')])
    record = json.loads(json.dumps(answer.to_dict()))
    assert set(record) >= {"value", "unit", "route", "query", "code", "assumptions",
                           "transcript", "tokens_in", "tokens_out", "model_calls", "wall_s"}
    assert record["unit"] == "µm" and record["value"] == pytest.approx(133.648, abs=1e-3)
    assert kidney.obs.equals(before[0]) and np.array_equal(kidney.obsm["spatial"], before[1])
    assert dict(kidney.uns).keys() == before[2].keys() and UNS_KEY not in kidney.uns
    assert "answer: 133.6" in answer.show() and "--- assistant ---" in answer.show()


def test_write_uns_only_when_asked(kidney, r):
    adata = kidney.copy()
    _ask(adata, [r.cq("count(cells)")], write_uns=True)
    _ask(adata, [r.cq("count(cells)")], write_uns=True)
    stored = [json.loads(s) for s in adata.uns[UNS_KEY]]
    assert [s["value"] for s in stored] == [6555.0, 6555.0]
    assert isinstance(Answer(**{k: v for k, v in stored[0].items()}), Answer)


def test_reply_without_a_block_is_asked_again(kidney, r):
    answer, backend = _ask(kidney, ["I think about 200.",
                                    r.cq('count(cells where type == "Podocyte")')])
    assert answer.route == "dsl-repaired(1)"
    assert "No ```cytoql block found" in backend.calls[1][-1]["content"]


def test_unknown_mode_is_refused(kidney, r):
    with pytest.raises(ValueError, match="mode must be one of"):
        ask(kidney, "q", backend=ScriptedBackend([]), mode="fast")
