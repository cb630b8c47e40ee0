"""Tests of cytoql.kernels.clusters: DBSCAN with scikit-learn's labels, cluster summaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import clusters as cl
from cytoql.kernels.reference import clusters as ref
from strategies import labelled_points, points, radii

# Two plus-shaped groups sharing a border point (index 8) at distance 1 from both
# centres; the right group has the smaller indices, so it is cluster 0.
PLUSES = np.array([
    [2.0, 0.0], [2.0, 1.0], [2.0, -1.0], [3.0, 0.0],     # cluster 0, centre is core
    [0.0, 0.0], [0.0, 1.0], [0.0, -1.0], [-1.0, 0.0],    # cluster 1, centre is core
    [1.0, 0.0],                                          # border of both
    [10.0, 10.0],                                        # noise
])


def test_dbscan_on_paper_gives_the_shared_border_to_the_first_cluster():
    labels, core = cl.dbscan(PLUSES, eps=1.0, min_samples=4)
    np.testing.assert_array_equal(labels, [0, 0, 0, 0, 1, 1, 1, 1, 0, -1])
    np.testing.assert_array_equal(np.flatnonzero(core), [0, 4])


def test_dbscan_min_samples_counts_the_point_itself():
    pair = np.array([[0.0, 0.0], [0.5, 0.0], [5.0, 0.0]])
    labels, core = cl.dbscan(pair, eps=0.5, min_samples=2)  # d == eps counts
    np.testing.assert_array_equal(labels, [0, 0, -1])
    labels, core = cl.dbscan(pair, eps=0.5, min_samples=1)  # every point is core
    np.testing.assert_array_equal(labels, [0, 0, 1])
    assert core.all()
    labels, _ = cl.dbscan(np.empty((0, 2)), eps=1.0)
    assert labels.shape == (0,)


def test_cluster_summaries_on_paper():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, -1])
    types = np.array([0, 1, 1, 2, 0, 0, 0, 0, 2, 1])
    np.testing.assert_array_equal(cl.cluster_sizes(labels), [5, 4])
    np.testing.assert_array_equal(cl.cluster_composition(labels, types, 3),
                                  [[1, 2, 2], [4, 0, 0]])
    # cluster 0 is the diamond (2, +-1), (1, 0), (3, 0): area 2; cluster 1 the
    # triangle (0, +-1), (-1, 0): area 1
    np.testing.assert_allclose(cl.cluster_hull_areas(PLUSES, labels), [2.0, 1.0])
    assert cl.largest_cluster(labels) == 0
    assert cl.largest_cluster([1, 1, 0, 0, -1]) == 0  # a tie goes to the smaller number
    assert cl.largest_cluster([-1, -1]) == -1
    np.testing.assert_array_equal(cl.cluster_sizes([-1, -1]), np.empty(0, np.int64))


def test_hull_area_is_zero_for_degenerate_clusters():
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [5.0, 5.0], [7.0, 7.0]])
    np.testing.assert_array_equal(cl.cluster_hull_areas(xy, [0, 0, 0, 1, 2]), [0, 0, 0])


@given(xy=points(max_size=60), eps=radii(4.0), min_samples=st.integers(1, 6))
def test_dbscan_matches_reference(xy, eps, min_samples):
    labels, core = cl.dbscan(xy, eps, min_samples)
    want_labels, want_core = ref.dbscan(xy, eps, min_samples)
    np.testing.assert_array_equal(core, want_core)
    np.testing.assert_array_equal(labels, want_labels)


@given(xy=points(min_size=1, max_size=60), ticks=st.integers(1, 32),
       min_samples=st.integers(1, 6))
def test_dbscan_matches_scikit_learn_exactly(xy, ticks, min_samples):
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    eps = ticks / 8.0  # on the coordinate grid: d <= eps and d^2 <= eps^2 agree exactly
    model = sklearn_cluster.DBSCAN(eps=eps, min_samples=min_samples,
                                   algorithm="kd_tree").fit(xy)
    labels, core = cl.dbscan(xy, eps, min_samples)
    np.testing.assert_array_equal(labels, model.labels_)
    np.testing.assert_array_equal(np.flatnonzero(core), model.core_sample_indices_)


@given(data=labelled_points(max_size=60), eps=radii(4.0), min_samples=st.integers(1, 5))
def test_cluster_summaries_match_reference(data, eps, min_samples):
    xy, types = data
    labels, _ = cl.dbscan(xy, eps, min_samples)
    np.testing.assert_array_equal(cl.cluster_sizes(labels), ref.cluster_sizes(labels))
    np.testing.assert_array_equal(cl.cluster_composition(labels, types, 3),
                                  ref.cluster_composition(labels, types, 3))
    np.testing.assert_allclose(cl.cluster_hull_areas(xy, labels),
                               ref.cluster_hull_areas(xy, labels), rtol=1e-12, atol=1e-12)
    assert cl.largest_cluster(labels) == ref.largest_cluster(labels)


def test_dbscan_finds_seeded_clusters_in_noise():
    rng = np.random.default_rng(2)
    centres = np.array([[20.0, 20.0], [80.0, 30.0], [50.0, 80.0]])
    blobs = np.repeat(centres, 60, axis=0) + rng.normal(0, 2.0, size=(180, 2))
    noise = rng.uniform(0, 100, size=(40, 2))
    labels, _ = cl.dbscan(np.vstack([blobs, noise]), eps=3.0, min_samples=5)
    assert cl.cluster_sizes(labels).size == 3
    for k in range(3):  # each blob is one cluster, numbered in index order
        blob = labels[60 * k: 60 * (k + 1)]
        assert np.mean(blob == k) > 0.95
    assert np.mean(labels[180:] == -1) > 0.8


def test_bad_inputs_raise_precise_errors():
    with pytest.raises(ValueError, match="eps must be a finite radius > 0, got 0"):
        cl.dbscan(PLUSES, 0)
    with pytest.raises(TypeError, match=r"eps must be a single number, got \[1.0, 2.0\]"):
        cl.dbscan(PLUSES, [1.0, 2.0])
    with pytest.raises(ValueError, match="eps must be a finite radius > 0, got inf"):
        cl.dbscan(PLUSES, np.inf)
    with pytest.raises(ValueError, match="min_samples must be >= 1, got 0"):
        cl.dbscan(PLUSES, 1.0, 0)
    with pytest.raises(TypeError, match="min_samples must be an integer"):
        cl.dbscan(PLUSES, 1.0, 2.5)
    with pytest.raises(ValueError, match=r"xy must have shape \(n, 2\)"):
        cl.dbscan(np.zeros((3, 3)), 1.0)
    with pytest.raises(ValueError, match=r"cluster_labels must be >= -1 \(-1 = noise\)"):
        cl.cluster_sizes([0, -2])
    with pytest.raises(TypeError, match="cluster_labels must be integer"):
        cl.cluster_sizes([0.0, 1.0])
    with pytest.raises(ValueError, match=r"cluster_labels must be of shape \(10,\) like xy"):
        cl.cluster_hull_areas(PLUSES, [0, 1])
    with pytest.raises(ValueError, match="labels must be < n_labels = 3, got 3"):
        cl.cluster_composition([0, 0], [0, 3], 3)
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        cl.cluster_composition([0, 0], [0], 3)
