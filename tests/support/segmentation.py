"""Matching segmented objects to known ones."""

from __future__ import annotations

import numpy as np


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
