"""The answer record: what was answered, how, under which assumptions and at what cost."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

__all__ = ["UNS_KEY", "Answer", "jsonable"]

# adata.uns key that ``ask(..., write_uns=True)`` appends answers to (JSON strings)
UNS_KEY = "cytoql_agent_answers"


def jsonable(value):
    """JSON-safe: NaN -> None, ±inf -> "inf"/"-inf", numpy scalars -> Python."""
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


@dataclass
class Answer:
    """One answered (or failed) question.

    Attributes
    ----------
    question : str
    value : object
        The number (pooled over FOVs for a scalar), a mapping by group, a count of cells,
        or what ``final_answer`` gave; None when the route failed.
    unit : str
    route : str
        ``"dsl"``, ``"dsl-repaired(n)"`` (n model repair rounds), ``"codeact"`` or
        ``"failed"``.
    query : str or None
        The final CytoQL query (canonical text) on the DSL route.
    code : str or None
        The Python cells that produced the answer on the CodeAct route.
    assumptions : list of str
        The result's assumptions, the model's readings of the question and the fixes
        applied without a model call.
    result : dict or None
        ``Result.to_dict()`` (per-FOV values, defaults, conventions) on the DSL route.
    transcript : list of dict
        Messages (``role``, ``content``) and events (``event``, ...), in order.
    tokens_in, tokens_out, model_calls : int
    steps : int
        CodeAct steps run.
    wall_s : float
    error : str or None
        Why the route failed.
    """

    question: str
    value: object = None
    unit: str = ""
    route: str = "failed"
    query: str | None = None
    code: str | None = None
    assumptions: list = field(default_factory=list)
    result: dict | None = None
    transcript: list = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    model_calls: int = 0
    steps: int = 0
    wall_s: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.route != "failed"

    def to_dict(self) -> dict:
        """JSON-ready (NaN as null)."""
        return jsonable(asdict(self))

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)

    def show(self) -> str:
        """The transcript and the answer, for a person to read."""
        out = []
        for item in self.transcript:
            if "role" in item:
                out.append(f"--- {item['role']} ---\n{item['content']}")
            else:
                details = {k: v for k, v in item.items() if k != "event"}
                text = json.dumps(jsonable(details), ensure_ascii=False)
                out.append(f"[{item['event']}] {text}")
        out.append(self.summary())
        return "\n\n".join(out)

    def summary(self) -> str:
        """The answer in a few lines."""
        if not self.ok:
            lines = [f"no answer: {self.error}"]
        else:
            unit = f" {self.unit}" if self.unit else ""
            value = f"{self.value:.6g}" if isinstance(self.value, float) else self.value
            lines = [f"answer: {value}{unit}", f"route: {self.route}"]
            lines += [f"query: {self.query}"] if self.query else []
            lines += [f"code:\n{self.code}"] if self.code else []
        lines += [f"assumption: {a}" for a in self.assumptions]
        lines.append(f"model calls: {self.model_calls}, tokens: {self.tokens_in} in / "
                     f"{self.tokens_out} out, steps: {self.steps}, wall: {self.wall_s:.2f} s")
        return "\n".join(lines)
