"""The prompts, generated at run time: the dataset schema (the ``cytoql info`` text), the
catalog reference (:func:`cytoql.docgen.reference_page`, so every built-in added to the
catalog reaches the model without an edit here) and cookbook examples ranked by
similarity to the question."""

from __future__ import annotations

import re

from cytoql.docgen import reference_page

from cytoql.agent.examples import rank

__all__ = ["NOT_EXPRESSIBLE", "dsl_system", "parse_reply", "repair_message"]

NOT_EXPRESSIBLE = "NOT EXPRESSIBLE"

_DSL_RULES = """\
You answer questions about one spatial single-cell dataset by writing a CytoQL query.
CytoQL is a typed query language: lengths carry units (`30 um`), cell types are written
exactly as the data spells them, and the compiler checks every name, type and unit.

Reply with exactly one fenced block holding the query, and nothing else that matters:

```cytoql
<the query>
```

Before the block you may write lines `Assumption: <how you read the question>`, e.g.
`Assumption: 'PSC' read as the type 'stellate'`; they are shown to the user with the answer.
If CytoQL cannot express the question, reply with one line
`NOT EXPRESSIBLE: <reason>` and a Python fallback will be used instead.
"""


def _examples_text(question: str, k: int) -> str:
    shots = rank(question, k=k)
    return "\n\n".join(f"Question: {e.question}\n```cytoql\n{e.query}\n```" for e in shots)


def dsl_system(schema_text: str, question: str, k_examples: int = 4) -> str:
    """The system prompt of the DSL route."""
    reference = reference_page().split("\n", 1)[1]  # drop the "generated" comment
    parts = [_DSL_RULES, "# The dataset (`cytoql info`)\n\n" + schema_text, reference]
    if k_examples:
        parts.append("# Worked examples (from the cookbook, on another dataset: use the "
                     "names of this one)\n\n" + _examples_text(question, k_examples))
    return "\n\n".join(parts)


_FENCE = re.compile(r"```[ \t]*(\w*)[^\n]*\n(.*?)```", re.S)
_ASSUMPTION = re.compile(r"^\s*(?:[-*]\s*)?assumption:\s*(.+?)\s*$", re.I | re.M)
_NOT = re.compile(r"NOT[ _]EXPRESSIBLE\s*:?\s*(.*)", re.I)


def parse_reply(text: str, language: str = "cytoql"):
    """Read a model reply: ``(kind, payload, assumptions)``.

    ``kind`` is ``"code"`` (payload: the last block in ``language``, or the last unlabelled
    block), ``"not expressible"`` (payload: the reason) or ``"none"``.
    """
    assumptions = _ASSUMPTION.findall(text)
    blocks = [(lang.lower(), body.strip()) for lang, body in _FENCE.findall(text)]
    mine = [b for lang, b in blocks if lang == language] or \
        [b for lang, b in blocks if lang == ""]
    if mine:
        return "code", mine[-1], assumptions
    m = _NOT.search(text)
    if m:
        return "not expressible", m.group(1).strip() or "no reason given", assumptions
    return "none", "", assumptions


def repair_message(errors: str, what: str = "query") -> str:
    """The user turn that sends diagnostics (or a runtime error) back to the model."""
    return (f"The {what} did not work. The compiler's diagnostics, verbatim:\n\n{errors}\n\n"
            "Fix every error and reply with the corrected query in one ```cytoql block "
            f"(or `{NOT_EXPRESSIBLE}: <reason>`).")
