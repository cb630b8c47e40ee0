"""Fixtures of the segmentation tests: synthetic images with known cells."""

from __future__ import annotations

import numpy as np
import pytest

from cytoql.segment import synthetic_multiplex_image


def match_by_iou(truth: np.ndarray, labels: np.ndarray, min_iou: float = 0.5):
    """Pairs (truth index, label index), 0-based, of objects with IoU >= ``min_iou``.

    With IoU >= 0.5 a truth object can match at most one label and vice versa.
    """
    inter = np.zeros((truth.max() + 1, labels.max() + 1), dtype=np.int64)
    np.add.at(inter, (truth.ravel(), labels.ravel()), 1)
    sizes_t, sizes_l = inter.sum(axis=1), inter.sum(axis=0)
    iou = inter / (sizes_t[:, None] + sizes_l[None, :] - inter)
    t, lab = np.nonzero(iou[1:, 1:] >= min_iou)
    return t, lab


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
