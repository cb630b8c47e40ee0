"""Brute-force references for the ``clusters`` kernels.

DBSCAN from the full distance matrix with a breadth-first expansion in index order
(scikit-learn's loop); hulls from shapely. For small point sets in tests only.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import shapely

__all__ = [
    "cluster_composition",
    "cluster_hull_areas",
    "cluster_sizes",
    "dbscan",
    "largest_cluster",
]


def dbscan(xy, eps, min_samples=5):
    """DBSCAN labels (-1 = noise) and the core mask, brute force."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    n = len(xy)
    dx = xy[:, None, 0] - xy[None, :, 0]
    dy = xy[:, None, 1] - xy[None, :, 1]
    close = np.sqrt(dx * dx + dy * dy) <= eps  # the diagonal: a point counts itself
    core = close.sum(axis=1) >= min_samples
    labels = np.full(n, -1, dtype=np.int64)
    current = 0
    for seed in range(n):
        if labels[seed] != -1 or not core[seed]:
            continue
        labels[seed] = current
        queue = deque([seed])
        while queue:
            i = queue.popleft()
            if not core[i]:
                continue  # border points join but do not expand
            for j in np.flatnonzero(close[i]):
                if labels[j] == -1:
                    labels[j] = current
                    queue.append(j)
        current += 1
    return labels, core


def cluster_sizes(cluster_labels):
    """Number of points in each cluster ``0 .. max``, brute force."""
    cluster_labels = np.asarray(cluster_labels, dtype=np.int64)
    n_clusters = int(cluster_labels.max()) + 1 if cluster_labels.size else 0
    return np.array([np.sum(cluster_labels == c) for c in range(n_clusters)],
                    dtype=np.int64)


def cluster_composition(cluster_labels, labels, n_labels):
    """(clusters x labels) counts, brute force."""
    cluster_labels = np.asarray(cluster_labels, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    n_clusters = int(cluster_labels.max()) + 1 if cluster_labels.size else 0
    out = np.zeros((max(n_clusters, 0), n_labels), dtype=np.int64)
    for c, lab in zip(cluster_labels, labels):
        if c >= 0:
            out[c, lab] += 1
    return out


def cluster_hull_areas(xy, cluster_labels):
    """Area of each cluster's convex hull (shapely); 0 for fewer than 3 distinct points."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    cluster_labels = np.asarray(cluster_labels, dtype=np.int64)
    n_clusters = int(cluster_labels.max()) + 1 if cluster_labels.size else 0
    return np.array([shapely.MultiPoint(xy[cluster_labels == c]).convex_hull.area
                     for c in range(n_clusters)], dtype=np.float64)


def largest_cluster(cluster_labels):
    """Label of the largest cluster (smallest label on ties); -1 when there is none."""
    sizes = cluster_sizes(cluster_labels)
    best, best_size = -1, 0
    for c, size in enumerate(sizes):
        if size > best_size:
            best, best_size = c, size
    return best
