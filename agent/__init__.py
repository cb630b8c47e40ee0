"""cytoql.agent: natural language to CytoQL, with a sandboxed CodeAct fallback.

>>> from cytoql.agent import ask  # doctest: +SKIP
>>> ask(adata, "How many podocytes are there?").value  # doctest: +SKIP
227.0
"""

from cytoql.agent.answer import UNS_KEY, Answer
from cytoql.agent.backends import (BackendError, ManualBackend, OpenAIBackend,
                                   RecordingBackend, ReplayBackend, Reply, ScriptedBackend)
from cytoql.agent.core import MODES, ask
from cytoql.agent.sandbox import Limits, Sandbox

__all__ = ["MODES", "UNS_KEY", "Answer", "BackendError", "Limits", "ManualBackend",
           "OpenAIBackend", "RecordingBackend", "ReplayBackend", "Reply", "Sandbox",
           "ScriptedBackend", "ask"]
