"""Fixtures of the segmentation tests: synthetic images with known cells."""

from __future__ import annotations

import numpy as np
import pytest

from cytoql.segment import synthetic_multiplex_image


@pytest.fixture(scope="module")
def crowded():
    """384 × 384 px, 120 nuclei (20 in touching pairs), noise 0.15 (signal 1)."""
    return synthetic_multiplex_image((384, 384), n_cells=120, touching_pairs=10, noise=0.15,
                                     rng=np.random.default_rng(7))


@pytest.fixture(scope="module")
def small():
    """128 × 128 px, 12 nuclei (4 touching), the default noise."""
    return synthetic_multiplex_image((128, 128), n_cells=12, touching_pairs=2,
                                     rng=np.random.default_rng(3))
