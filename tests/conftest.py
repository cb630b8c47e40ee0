"""Shared test setup: hypothesis profiles and the bundled data sets."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# `ci` (default): no deadline because the first call of a kernel compiles it.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    print_blob=True,
)
settings.register_profile(
    "thorough",
    deadline=None,
    max_examples=1000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    """Refuse to run against the source tree shadowing the installed package."""
    try:
        import cytoql.kernels  # noqa: F401  (lives in kernels/, only importable when installed)
    except ImportError:
        raise pytest.UsageError(
            "cytoql.kernels is not importable: the source directory ./cytoql shadows the "
            "installed package. Install it (pip install '.[dev]') and run `pytest`, not "
            "`python -m pytest` (which puts the repository root on sys.path)."
        ) from None


@pytest.fixture
def kidney():
    """The bundled CosMx kidney AnnData (a fresh copy for each test)."""
    from cytoql.datasets import cosmx_kidney

    return cosmx_kidney()
