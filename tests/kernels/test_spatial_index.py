"""Tests of the KD-tree kernels against paper cases, lattice counts and brute force."""

from __future__ import annotations

import doctest
import pickle

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import (
    _chunks,
    _kdtree_build,
    _kdtree_knn,
    _kdtree_pairs,
    _kdtree_radius,
    _point_index,
)
from cytoql.kernels import spatial_index as si
from cytoql.kernels.reference import spatial_index as ref
from strategies import labelled_points, points, radii

# Lattice point counts N(r) = #{(a, b) integer : a^2 + b^2 <= r^2} (Gauss circle
# problem, OEIS A000328) for r = 1..5.
GAUSS_CIRCLE = [5, 13, 29, 49, 81]


def grid3():
    """A 3x3 unit grid; index = 3 * row + column, so the centre is index 4."""
    return np.array([(c, r) for r in range(3) for c in range(3)], dtype=np.float64)


# --------------------------------------------------------------------------- paper cases


def test_knn_on_grid_breaks_distance_ties_by_index():
    tree = si.build_kdtree(grid3(), leaf_size=1)
    d, i = si.knn(tree, [[0.0, 0.0]], 4, skip=[0])
    np.testing.assert_array_equal(i, [[1, 3, 4, 2]])
    np.testing.assert_array_equal(d, [[1.0, 1.0, np.sqrt(2.0), 2.0]])


def test_count_within_on_grid_includes_ties_at_r():
    tree = si.build_kdtree(grid3(), leaf_size=2)
    centre = [[1.0, 1.0]]
    assert si.count_within(tree, centre, 1.0, skip=[4]).tolist() == [4]
    assert si.count_within(tree, centre, np.sqrt(2.0), skip=[4]).tolist() == [8]
    assert si.count_within(tree, centre, 0.999, skip=[4]).tolist() == [0]
    assert si.count_within(tree, centre, 1.0).tolist() == [5]


def test_query_radius_on_grid_lists_sorted_by_distance_then_index():
    tree = si.build_kdtree(grid3(), leaf_size=1)
    indptr, idx, dist = si.query_radius(tree, [[1.0, 1.0], [0.0, 0.0]], 1.0, skip=[4, -1])
    np.testing.assert_array_equal(indptr, [0, 4, 7])
    np.testing.assert_array_equal(idx, [1, 3, 5, 7, 0, 1, 3])
    np.testing.assert_array_equal(dist, [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0])


def test_count_within_by_label_on_grid_counts_rows():
    tree = si.build_kdtree(grid3(), leaf_size=1)
    row = np.repeat(np.arange(3), 3)
    out = si.count_within_by_label(tree, row, 4, [[1.0, 1.0], [0.0, 0.0]], 1.0,
                                   skip=[4, 0])
    np.testing.assert_array_equal(out, [[1, 2, 1, 0], [1, 1, 0, 0]])


def test_cumulative_counts_on_grid():
    tree = si.build_kdtree(grid3(), leaf_size=1)
    out = si.cumulative_counts(tree, [[1.0, 1.0]], [0.5, 1.0, 1.5, 3.0], skip=[4])
    np.testing.assert_array_equal(out, [[0, 4, 8, 8]])


def test_label_pair_counts_on_grid_counts_ordered_neighbour_pairs():
    tree = si.build_kdtree(grid3(), leaf_size=1)
    row = np.repeat(np.arange(3), 3)
    out = si.label_pair_counts(tree, row, 3, [1.0])[:, :, 0]
    # Within a row: 2 horizontal edges, both orders; between adjacent rows: 3 edges.
    np.testing.assert_array_equal(out, [[4, 3, 0], [3, 4, 3], [0, 3, 4]])


def test_lattice_counts_match_the_gauss_circle_problem():
    side = np.arange(40, dtype=np.float64)
    xy = np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 2)
    tree = si.build_kdtree(xy)
    interior = np.flatnonzero(((xy >= 5) & (xy <= 34)).all(axis=1))
    out = si.cumulative_counts(tree, xy[interior], [1.0, 2.0, 3.0, 4.0, 5.0], skip=interior)
    np.testing.assert_array_equal(out, np.tile(np.subtract(GAUSS_CIRCLE, 1), (len(interior), 1)))
    d, _ = si.knn(tree, xy[interior], 4, skip=interior)
    np.testing.assert_array_equal(d, 1.0)


def test_csr_interior_counts_average_lambda_pi_r_squared():
    # Uniform points at density 1: an interior point's count within r = 3 has mean
    # pi r^2 = 28.27. Over ~32k interior points the sampling error of the mean is
    # ~0.1% (Poisson count variance ~28 per point, pair-level correlation at most
    # doubling it), so 2% is a > 10-sigma band that still catches a wrong radius.
    xy = np.random.default_rng(20261123).uniform(0, 200, (40_000, 2))
    tree = si.build_kdtree(xy)
    interior = np.flatnonzero(((xy >= 10) & (xy <= 190)).all(axis=1))
    counts = si.cumulative_counts(tree, xy[interior], [2.0, 3.0], skip=interior)
    np.testing.assert_allclose(counts.mean(axis=0), np.pi * np.array([4.0, 9.0]),
                               rtol=0.02)
    np.testing.assert_array_equal(counts[:, 1], si.count_within(tree, xy[interior], 3.0,
                                                                skip=interior))


# --------------------------------------------------------------------------- skip, k, empty


def test_skip_excludes_the_index_but_keeps_a_coincident_point():
    xy = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 0.0]])
    tree = si.build_kdtree(xy)
    d, i = si.knn(tree, xy[:2], 1, skip=[0, 1])
    np.testing.assert_array_equal(i, [[1], [0]])
    np.testing.assert_array_equal(d, [[0.0], [0.0]])
    assert si.count_within(tree, xy[:2], 1.0, skip=[0, 1]).tolist() == [1, 1]
    assert si.label_pair_counts(tree, [0, 0, 0], 1, [1.0]).tolist() == [[[2]]]


def test_nearest_of_label_skips_by_index_and_reports_absent_labels():
    xy = np.array([[0.0, 0.0], [0.0, 0.0], [2.0, 0.0], [9.0, 0.0]])
    labels = np.array([1, 1, 0, 1])
    tree = si.build_kdtree(xy, leaf_size=1)
    d, i = si.nearest_of_label(tree, labels, 1, xy[:3], skip=[0, 1, 2])
    np.testing.assert_array_equal(i, [1, 0, 0])
    np.testing.assert_array_equal(d, [0.0, 0.0, 2.0])
    d, i = si.nearest_of_label(tree, labels, 0, xy[2:3], skip=[2])
    assert d.tolist() == [np.inf] and i.tolist() == [-1]
    d, i = si.nearest_of_label(tree, labels, 5, xy)
    assert np.isinf(d).all() and (i == -1).all()


def test_knn_among_many_coincident_points_returns_the_smallest_indices():
    # All distances tie at 0, so only the index order decides (and prunes).
    xy = np.zeros((5000, 2))
    tree = si.build_kdtree(xy, leaf_size=4)
    ids = np.array([0, 2, 4999])
    d, i = si.knn(tree, xy[ids], 3, skip=ids)
    np.testing.assert_array_equal(i, [[1, 2, 3], [0, 1, 3], [0, 1, 2]])
    np.testing.assert_array_equal(d, 0.0)
    labels = np.arange(5000) % 7
    _, i = si.nearest_of_label(tree, labels, 6, xy[ids], skip=[6, 2, 4999])
    np.testing.assert_array_equal(i, [13, 6, 6])


def test_knn_pads_with_inf_and_minus_one_when_k_exceeds_available():
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])
    d, i = si.knn(si.build_kdtree(xy), [[0.0, 0.0]], 5, skip=[1])
    np.testing.assert_array_equal(i, [[0, 2, -1, -1, -1]])
    np.testing.assert_array_equal(d, [[0.0, 5.0, np.inf, np.inf, np.inf]])


def test_empty_tree_gives_shaped_empty_results():
    tree = si.build_kdtree(np.empty((0, 2)))
    q = [[0.0, 0.0], [1.0, 1.0]]
    d, i = si.knn(tree, q, 3)
    assert d.shape == i.shape == (2, 3)
    assert np.isinf(d).all() and (i == -1).all()
    indptr, idx, dist = si.query_radius(tree, q, 1.0)
    assert indptr.tolist() == [0, 0, 0] and idx.size == dist.size == 0
    assert si.count_within(tree, q, 1.0).tolist() == [0, 0]
    assert si.count_within_by_label(tree, np.empty(0, np.int64), 2, q, 1.0).tolist() == [[0, 0]] * 2
    assert si.cumulative_counts(tree, q, [1.0, 2.0]).tolist() == [[0, 0]] * 2
    assert si.label_pair_counts(tree, np.empty(0, np.int64), 2, [1.0]).shape == (2, 2, 1)
    d, i = si.nearest_of_label(tree, np.empty(0, np.int64), 0, q)
    assert np.isinf(d).all() and i.tolist() == [-1, -1]


def test_empty_queries_give_shaped_empty_results():
    tree = si.build_kdtree(grid3())
    q = np.empty((0, 2))
    d, i = si.knn(tree, q, 2, skip=np.empty(0, np.int64))
    assert d.shape == i.shape == (0, 2) and d.dtype == np.float64 and i.dtype == np.int64
    indptr, idx, dist = si.query_radius(tree, q, 1.0)
    assert indptr.tolist() == [0] and idx.dtype == np.int64 and dist.dtype == np.float64
    assert si.count_within(tree, q, 1.0).shape == (0,)
    assert si.count_within_by_label(tree, np.zeros(9, np.int64), 3, q, 1.0).shape == (0, 3)
    assert si.cumulative_counts(tree, q, [1.0, 2.0]).shape == (0, 2)
    assert si.nearest_of_label(tree, np.zeros(9, np.int64), 0, q)[0].shape == (0,)


# --------------------------------------------------------------------------- tree


@given(points(max_size=80), st.sampled_from([1, 2, 3, 16]))
def test_build_kdtree_orders_points_into_median_split_nodes(xy, leaf_size):
    tree = si.build_kdtree(xy, leaf_size)
    n = len(xy)
    np.testing.assert_array_equal(tree.xy, xy[tree.perm])
    np.testing.assert_array_equal(np.sort(tree.perm), np.arange(n))
    np.testing.assert_array_equal(tree.perm[tree.inverse], np.arange(n))
    first_leaf = (1 << tree.depth) - 1
    assert len(tree.node_range) == 2 * first_leaf + 1
    for node, (start, end) in enumerate(tree.node_range):
        pts = tree.xy[start:end]
        if len(pts):
            np.testing.assert_array_equal(tree.bbox[node], [*pts.min(0), *pts.max(0)])
            assert tree.min_index[node] == tree.perm[start:end].min()
        if node >= first_leaf:
            assert end - start <= leaf_size
            continue
        left, right = tree.node_range[2 * node + 1], tree.node_range[2 * node + 2]
        assert (left[0], left[1], right[1]) == (start, right[0], end)
        assert right[0] == (start + end) // 2
        if len(pts) > 1:
            ext = tree.bbox[node, 2:] - tree.bbox[node, :2]
            dim = int(ext[1] > ext[0])
            assert tree.xy[start:right[0], dim].max() <= tree.xy[right[0]:end, dim].min()


def test_kdtree_survives_pickle():
    xy = np.random.default_rng(0).uniform(0, 10, (200, 2))
    tree = si.build_kdtree(xy)
    clone = pickle.loads(pickle.dumps(tree))
    assert isinstance(clone, si.KDTree)
    np.testing.assert_array_equal(si.knn(clone, xy, 3)[1], si.knn(tree, xy, 3)[1])


def test_build_does_not_modify_its_input():
    xy = np.random.default_rng(1).uniform(0, 10, (100, 2))
    before = xy.copy()
    si.build_kdtree(xy, leaf_size=1)
    np.testing.assert_array_equal(xy, before)


# --------------------------------------------------------------------------- vs reference


@st.composite
def scenes(draw, max_size=60):
    """A labelled tree, its queries (its own points with self-skip, or others) and skip."""
    xy, labels = draw(labelled_points(max_size=max_size))
    leaf_size = draw(st.sampled_from([1, 2, 5, 16]))
    n = len(xy)
    if n and draw(st.booleans()):
        query = xy
        skip = np.arange(n, dtype=np.int64)
    else:
        query = draw(points(max_size=30))
        skip = np.array(draw(st.lists(st.integers(-1, n - 1), min_size=len(query),
                                      max_size=len(query))), dtype=np.int64)
    return xy, labels, leaf_size, query, skip


@given(scenes(), st.integers(1, 8))
def test_knn_matches_reference(scene, k):
    xy, _, leaf_size, query, skip = scene
    got = si.knn(si.build_kdtree(xy, leaf_size), query, k, skip=skip)
    want = ref.knn(ref.build_kdtree(xy), query, k, skip=skip)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])  # same formula: bit-identical


@given(scenes(), st.integers(0, 3))
def test_nearest_of_label_matches_reference(scene, target):
    xy, labels, leaf_size, query, skip = scene
    got = si.nearest_of_label(si.build_kdtree(xy, leaf_size), labels, target, query,
                              skip=skip)
    want = ref.nearest_of_label(ref.build_kdtree(xy), labels, target, query, skip=skip)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])


@given(scenes(), radii())
def test_query_radius_matches_reference(scene, r):
    xy, _, leaf_size, query, skip = scene
    got = si.query_radius(si.build_kdtree(xy, leaf_size), query, r, skip=skip)
    want = ref.query_radius(ref.build_kdtree(xy), query, r, skip=skip)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_query_radius_sorts_long_lists_with_many_ties():
    # 12x12 grid plus each point twice: every list is longer than the 32 that the
    # insertion sort handles, and full of equal distances.
    side = np.arange(12, dtype=np.float64)
    xy = np.stack(np.meshgrid(side, side), axis=-1).reshape(-1, 2)
    xy = np.concatenate([xy, xy[::-1]])
    query = xy[::7]
    skip = np.arange(0, len(xy), 7)
    got = si.query_radius(si.build_kdtree(xy), query, 4.0, skip=skip)
    want = ref.query_radius(ref.build_kdtree(xy), query, 4.0, skip=skip)
    assert np.diff(got[0]).min() > 32
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@given(scenes(), radii())
def test_count_within_matches_reference(scene, r):
    xy, _, leaf_size, query, skip = scene
    got = si.count_within(si.build_kdtree(xy, leaf_size), query, r, skip=skip)
    np.testing.assert_array_equal(got, ref.count_within(ref.build_kdtree(xy), query, r,
                                                        skip=skip))


@given(scenes(), radii())
def test_count_within_by_label_matches_reference(scene, r):
    xy, labels, leaf_size, query, skip = scene
    got = si.count_within_by_label(si.build_kdtree(xy, leaf_size), labels, 4, query, r,
                                   skip=skip)
    want = ref.count_within_by_label(ref.build_kdtree(xy), labels, 4, query, r, skip=skip)
    np.testing.assert_array_equal(got, want)


@given(scenes(), st.lists(radii(), min_size=1, max_size=6, unique=True).map(sorted))
def test_cumulative_counts_matches_reference(scene, rs):
    xy, _, leaf_size, query, skip = scene
    got = si.cumulative_counts(si.build_kdtree(xy, leaf_size), query, rs, skip=skip)
    np.testing.assert_array_equal(got, ref.cumulative_counts(ref.build_kdtree(xy), query,
                                                             rs, skip=skip))


@given(scenes(), st.sampled_from([np.arange(1, 81) / 8, np.linspace(0.05, 9.0, 50)]))
def test_cumulative_counts_over_many_radii_matches_reference(scene, rs):
    # 50-80 radii, the first set on the coordinate grid: every bin-table cell and many
    # d == r ties are hit.
    xy, _, leaf_size, query, skip = scene
    got = si.cumulative_counts(si.build_kdtree(xy, leaf_size), query, rs, skip=skip)
    np.testing.assert_array_equal(got, ref.cumulative_counts(ref.build_kdtree(xy), query,
                                                             rs, skip=skip))


@given(labelled_points(max_size=50), st.sampled_from([1, 4, 16]),
       st.lists(radii(), min_size=1, max_size=5, unique=True).map(sorted))
def test_label_pair_counts_matches_reference(data, leaf_size, rs):
    xy, labels = data
    got = si.label_pair_counts(si.build_kdtree(xy, leaf_size), labels, 3, rs)
    np.testing.assert_array_equal(got, ref.label_pair_counts(ref.build_kdtree(xy), labels,
                                                             3, rs))


# --------------------------------------------------------------------------- determinism


def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(7)
    xy = np.round(rng.uniform(0, 60, (3000, 2)) * 8) / 8
    labels = rng.integers(0, 3, len(xy))
    ids = np.arange(len(xy))

    def run():
        tree = si.build_kdtree(xy, 4)
        return [tree.perm, *si.knn(tree, xy, 5, skip=ids),
                *si.nearest_of_label(tree, labels, 2, xy, skip=ids),
                *si.query_radius(tree, xy, 2.0, skip=ids),
                si.count_within_by_label(tree, labels, 3, xy, 3.0, skip=ids),
                si.cumulative_counts(tree, xy, [1.0, 2.5, 4.0], skip=ids),
                si.label_pair_counts(tree, labels, 3, [1.0, 2.5, 4.0])]

    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        serial = run()
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        parallel = run()
    finally:
        numba.set_num_threads(before)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- docs


@pytest.mark.parametrize("module", [_kdtree_build, _kdtree_knn, _kdtree_radius,
                                    _kdtree_pairs, _point_index])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 1 and result.failed == 0


def test_slicing_the_queries_changes_no_result(monkeypatch):
    """Slices of 16 queries (a zero time target) give what one slice gives."""
    rng = np.random.default_rng(3)
    xy = np.round(rng.uniform(0, 40, (1500, 2)) * 4) / 4
    labels = rng.integers(0, 3, len(xy))
    ids = np.arange(len(xy))

    def run():
        tree = si.build_kdtree(xy, 4)
        return [*si.knn(tree, xy, 3, skip=ids),
                *si.nearest_of_label(tree, labels, 1, xy, skip=ids),
                *si.query_radius(tree, xy, 2.0, skip=ids),
                si.count_within(tree, xy, 2.5, skip=ids),
                si.count_within_by_label(tree, labels, 3, xy, 3.0, skip=ids),
                si.cumulative_counts(tree, xy, [1.0, 2.5, 4.0], skip=ids),
                si.label_pair_counts(tree, labels, 3, [1.0, 2.5, 4.0])]

    whole = run()
    monkeypatch.setattr(_chunks, "_TARGET_S", 0.0)
    sliced = run()
    for a, b in zip(whole, sliced):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- bad input


@pytest.fixture
def tree():
    return si.build_kdtree(grid3())


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda t: si.build_kdtree([[0.0, np.nan]]), ValueError, r"xy has 1 non-finite"),
    (lambda t: si.build_kdtree(np.zeros((3, 3))), ValueError, r"xy must have shape \(n, 2\)"),
    (lambda t: si.build_kdtree(grid3(), leaf_size=0), ValueError, "leaf_size must be >= 1"),
    (lambda t: si.build_kdtree(grid3(), leaf_size=2.5), TypeError, "leaf_size must be an integer"),
    (lambda t: si.knn(grid3(), [[0.0, 0.0]], 1), TypeError, "tree must be a KDTree"),
    (lambda t: si.knn(t, [[np.inf, 0.0]], 1), ValueError, "query_xy has 1 non-finite"),
    (lambda t: si.knn(t, [0.0, 0.0], 1), ValueError, r"query_xy must have shape \(n, 2\)"),
    (lambda t: si.knn(t, [[0.0, 0.0]], 0), ValueError, "k must be >= 1"),
    (lambda t: si.knn(t, [[0.0, 0.0]], 1.0), TypeError, "k must be an integer"),
    (lambda t: si.knn(t, [[0.0, 0.0]], 1, skip=[9]), ValueError, r"skip must lie in \[-1, 9\)"),
    (lambda t: si.knn(t, [[0.0, 0.0]], 1, skip=[-2]), ValueError, r"skip must lie in \[-1, 9\)"),
    (lambda t: si.knn(t, [[0.0, 0.0]], 1, skip=[0, 1]), ValueError, r"skip must have shape \(1,\)"),
    (lambda t: si.knn(t, [[0.0, 0.0]], 1, skip=[0.5]), TypeError, "skip must be integer"),
    (lambda t: si.count_within(t, [[0.0, 0.0]], 0.0), ValueError, "r must be > 0"),
    (lambda t: si.count_within(t, [[0.0, 0.0]], -1.0), ValueError, "r must be > 0"),
    (lambda t: si.query_radius(t, [[0.0, 0.0]], np.nan), ValueError, "r must be finite"),
    (lambda t: si.query_radius(t, [[0.0, 0.0]], [1.0, 2.0]), ValueError, "r must be a single"),
    (lambda t: si.count_within_by_label(t, np.arange(9), 3, [[0.0, 0.0]], 1.0), ValueError,
     "labels must be < n_labels = 3, got 8"),
    (lambda t: si.count_within_by_label(t, np.full(9, -1), 3, [[0.0, 0.0]], 1.0), ValueError,
     "labels must be >= 0"),
    (lambda t: si.count_within_by_label(t, np.zeros(8, np.int64), 3, [[0.0, 0.0]], 1.0),
     ValueError, r"labels must have shape \(9,\)"),
    (lambda t: si.count_within_by_label(t, np.zeros(9), 3, [[0.0, 0.0]], 1.0), TypeError,
     "labels must be integer codes"),
    (lambda t: si.nearest_of_label(t, np.zeros(9, np.int64), -1, [[0.0, 0.0]]), ValueError,
     "target must be >= 0"),
    (lambda t: si.nearest_of_label(t, np.zeros(9, np.int64), 1.5, [[0.0, 0.0]]), TypeError,
     "target must be an integer"),
    (lambda t: si.cumulative_counts(t, [[0.0, 0.0]], [2.0, 1.0]), ValueError,
     "radii must be strictly increasing"),
    (lambda t: si.cumulative_counts(t, [[0.0, 0.0]], []), ValueError, "radii must be a non-empty"),
    (lambda t: si.label_pair_counts(t, np.zeros(9, np.int64), 1, [0.0, 1.0]), ValueError,
     "radii must be > 0"),
    (lambda t: si.label_pair_counts(t, np.zeros(9, np.int64), -1, [1.0]), ValueError,
     "n_labels must be >= 0"),
])
def test_bad_input_is_rejected_with_a_precise_message(tree, call, error, match):
    with pytest.raises(error, match=match):
        call(tree)
