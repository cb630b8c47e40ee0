"""The Examples sections of the agent's modules run as doctests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["cytoql.agent", "cytoql.agent.examples", "cytoql.agent.grammar"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
