"""Shared fixtures of the agent tests: the bundled kidney data and reply helpers."""

from __future__ import annotations

import pytest

from cytoql.datasets import cosmx_kidney


@pytest.fixture(scope="session")
def kidney():
    return cosmx_kidney()


class Replies:
    """Model replies in the forms the agent reads."""

    @staticmethod
    def cq(query: str, before: str = "") -> str:
        """A reply holding ``query`` in a cytoql block."""
        return f"{before}\n```cytoql\n{query}\n```"


    @staticmethod
    def py(code: str) -> str:
        return f"Thought: next step.\n```python\n{code}\n```"


@pytest.fixture(scope="session")
def r():
    return Replies
