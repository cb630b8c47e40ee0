"""The CodeAct route: Thought -> Code -> Observation in the sandbox, until
``final_answer(value, unit)`` or the step limit.

All steps of a run share one confined sandbox session (:meth:`Sandbox.session`), so
variables carry over and each step runs once. A step that ends the sandbox process
restarts the session: the earlier successful steps are re-run quietly to restore their
variables, and that step's observation says so. The few-shot exemplars are
domain-agnostic coding–reasoning, as CodeCytos found they help open models most.
"""

from __future__ import annotations

from cytoql.agent.prompt import parse_reply
from cytoql.agent.sandbox import Sandbox

__all__ = ["codeact_system", "run_codeact"]

_RULES = """\
You answer a question about a spatial single-cell dataset by writing Python, one step at a
time. Each reply: a short `Thought:` line, then one ```python block. The block runs and you
see its output (the Observation). Variables persist between steps.

Available in every step (no network, files only in the working directory):
- `adata`: the AnnData (read-only copy); `xy` (n x 2 positions in µm), `cell_type`,
  `fov`, `obs_names` (numpy arrays, one entry per cell)
- numpy (`np`), scipy, shapely, networkx, pandas, and `cytoql` itself
  (`cytoql.query(adata, "...")`)
- `final_answer(value, unit)`: call it with the final number (or a small dict) and its
  unit to finish. Cells in different fields of view (`fov`) are never neighbours.

Print only what you need to see; outputs are cut past a limit.
"""

_EXEMPLARS = """\
# Example (another task)
Question: What is the median gap between consecutive sorted event times, in seconds?
Thought: Load, sort, take differences; check the data first.
```python
import numpy as np
times = np.array([3.0, 1.0, 7.5, 4.0])
print(times.shape, times.min(), times.max())
```
Observation: (4,) 1.0 7.5
Thought: Sorted differences are 2, 1, 3.5; their median is 2.
```python
final_answer(float(np.median(np.diff(np.sort(times)))), "s")
```

# Example (recovering from an error)
Question: What fraction of rows have a positive score?
Thought: Count rows where score > 0.
```python
frac = (table["score"] > 0).mean()
```
Observation: NameError: name 'table' is not defined
Thought: The data is in `rows`, not `table`; inspect before retrying.
```python
print(type(rows), len(rows))
final_answer(float(np.mean([r > 0 for r in rows])), "")
```
"""


def codeact_system(schema_text: str) -> str:
    """The system prompt of the CodeAct route."""
    return "\n\n".join([_RULES, _EXEMPLARS, "# The dataset (`cytoql info`)\n\n" + schema_text])


def run_codeact(call, messages: list[dict], sandbox: Sandbox, steps: int, transcript: list):
    """Run the loop; returns ``(final, cells, n_steps, error)``.

    ``call(messages)`` asks the model and appends to ``transcript``; ``final`` is
    ``{"value", "unit"}`` or None.
    """
    cells: list[str] = []
    with sandbox.session(steps) as session:
        for step in range(1, steps + 1):
            reply = call(messages)
            kind, code, _ = parse_reply(reply, language="python")
            if kind != "code":
                observation = ("No ```python block found. Reply with `Thought:` and one "
                               "```python block; finish with final_answer(value, unit).")
                transcript.append({"event": "observation", "step": step, "status": "no code"})
            else:
                run = session.step(code)
                transcript.append({"event": "observation", "step": step, "status": run.status,
                                   "wall_s": round(run.wall_s, 3)})
                if run.final is not None:
                    return run.final, cells + [code], step, None
                if run.ok:
                    cells.append(code)
                observation = run.observation()
            messages.append({"role": "user", "content": f"Observation:\n{observation}"})
            transcript.append(messages[-1])
    return None, cells, steps, f"no final_answer after {steps} CodeAct steps"
