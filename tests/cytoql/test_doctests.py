"""The Examples sections of the language's public modules run as doctests."""

from __future__ import annotations

import doctest
import warnings

import pytest

import cytoql.api


@pytest.mark.parametrize("module", [cytoql.api])
def test_examples_run(module):
    with warnings.catch_warnings():
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
