"""The Examples sections of cytoql.segment's public functions run as doctests."""

from __future__ import annotations

import doctest

import pytest

from cytoql.segment import gating, pipeline


@pytest.mark.parametrize("module", [pipeline, gating])
def test_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
