"""Tests of the uniform-grid kernels: identical to the KD-tree's brute-force reference."""

from __future__ import annotations

import doctest
import pickle

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import _chunks, grid_index
from cytoql.kernels import grid_index as gi
from cytoql.kernels import spatial_index as si
from cytoql.kernels.reference import spatial_index as ref
from strategies import labelled_points, points, radii


@st.composite
def scenes(draw):
    """Labelled points, queries (the points with self-skip, or others, some far outside
    the points' box) and a cell-size radius for the grid (None: the kNN grid).

    Sometimes shifted by a large offset with off-grid jitter, so that cell bounds and
    point coordinates round differently.
    """
    xy, labels = draw(labelled_points(max_size=60))
    n = len(xy)
    if n and draw(st.booleans()):
        query = xy
        skip = np.arange(n, dtype=np.int64)
    else:
        query = draw(points(max_size=30, extent=40.0)) - 10.0
        skip = np.array(draw(st.lists(st.integers(-1, n - 1), min_size=len(query),
                                      max_size=len(query))), dtype=np.int64)
    if draw(st.booleans()):
        seed = draw(st.integers(0, 2**16))
        rng = np.random.default_rng(seed)
        offset = draw(st.sampled_from([0.0, 1e6 + 0.1, -3.3e4]))
        xy = xy + offset + rng.uniform(-0.01, 0.01, xy.shape)
        jitter = rng.uniform(-0.01, 0.01, query.shape)
        query = xy if query.shape == xy.shape and skip.tolist() == list(range(n)) \
            else query + offset + jitter
    cell_r = draw(st.one_of(st.none(), radii(max_r=30.0)))
    return xy, labels, query, skip, cell_r


@given(scenes(), st.integers(1, 8))
def test_grid_knn_matches_reference(scene, k):
    xy, _, query, skip, cell_r = scene
    got = gi.grid_knn(gi.build_grid(xy, cell_r), query, k, skip=skip)
    want = ref.knn(ref.build_kdtree(xy), query, k, skip=skip)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[0], want[0])


@given(scenes(), st.one_of(radii(), st.sampled_from([1e9])))
def test_grid_count_within_matches_reference(scene, r):
    xy, _, query, skip, cell_r = scene
    got = gi.grid_count_within(gi.build_grid(xy, cell_r), query, r, skip=skip)
    np.testing.assert_array_equal(got, ref.count_within(ref.build_kdtree(xy), query, r,
                                                        skip=skip))


@given(scenes(), st.one_of(radii(), st.sampled_from([1e9])))
def test_grid_count_within_by_label_matches_reference(scene, r):
    xy, labels, query, skip, cell_r = scene
    got = gi.grid_count_within_by_label(gi.build_grid(xy, cell_r), labels, 3, query, r,
                                        skip=skip)
    want = ref.count_within_by_label(ref.build_kdtree(xy), labels, 3, query, r, skip=skip)
    np.testing.assert_array_equal(got, want)


@given(scenes(), st.integers(1, 4), radii())
def test_point_index_matches_the_kdtree(scene, k, r):
    xy, labels, query, skip, _ = scene
    index, tree = si.PointIndex(xy), si.build_kdtree(xy)
    for got, want in [(index.knn(query, k, skip=skip), si.knn(tree, query, k, skip=skip)),
                      (index.count_within(query, r, skip=skip),
                       si.count_within(tree, query, r, skip=skip)),
                      (index.count_within_by_label(labels, 3, query, 4 * r, skip=skip),
                       si.count_within_by_label(tree, labels, 3, query, 4 * r, skip=skip))]:
        np.testing.assert_equal(got, want)


def test_grid_sort_is_stable_and_covers_every_point():
    xy = np.array([[0.5, 0.5], [2.5, 0.5], [0.1, 0.2], [9.0, 9.0], [-5.0, 0.0]])
    order, start = gi.grid_sort(xy, 0.0, 0.0, 1.0, 3, 1)
    assert start.tolist() == [0, 3, 3, 5]
    assert order.tolist() == [0, 2, 4, 1, 3]  # out-of-grid points clamp to the border


def test_crowded_cells_send_queries_to_the_kdtree():
    rng = np.random.default_rng(1)
    spread = rng.uniform(0, 100, (2000, 2))
    piled = np.vstack([np.zeros((2000, 2)), [[1e6, 1e6]]])  # one far outlier
    assert gi.grid_suits(gi.build_grid(spread))
    assert not gi.grid_suits(gi.build_grid(piled))
    index = si.PointIndex(piled)
    ids = np.arange(len(piled))
    np.testing.assert_equal(index.knn(piled, 2, skip=ids),
                            si.knn(si.build_kdtree(piled), piled, 2, skip=ids))
    assert index._grid() is None  # the tree answered


def test_a_huge_radius_gets_a_coarse_grid():
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 100, (500, 2))
    index = si.PointIndex(xy)
    ids = np.arange(len(xy))
    assert (index.count_within(xy, 1e9, skip=ids) == len(xy) - 1).all()
    assert index._grid(1e9).nx == 1


def test_grid_results_do_not_depend_on_thread_count_or_slicing(monkeypatch):
    rng = np.random.default_rng(7)
    xy = np.round(rng.uniform(0, 60, (3000, 2)) * 8) / 8
    labels = rng.integers(0, 3, len(xy))
    ids = np.arange(len(xy))

    def run():
        grid = gi.build_grid(xy)
        return [*gi.grid_knn(grid, xy, 5, skip=ids),
                gi.grid_count_within(grid, xy, 2.0, skip=ids),
                gi.grid_count_within_by_label(grid, labels, 3, xy, 3.0, skip=ids)]

    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        serial = run()
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        parallel = run()
    finally:
        numba.set_num_threads(before)
    monkeypatch.setattr(_chunks, "_TARGET_S", 0.0)
    sliced = run()
    for a, b, c in zip(serial, parallel, sliced):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_empty_grid_and_empty_queries():
    empty = gi.build_grid(np.empty((0, 2)))
    d, i = gi.grid_knn(empty, [[0.0, 0.0]], 2)
    assert d.tolist() == [[np.inf, np.inf]] and i.tolist() == [[-1, -1]]
    assert gi.grid_count_within(empty, [[0.0, 0.0]], 1.0).tolist() == [0]
    grid = gi.build_grid([[1.0, 1.0]])
    assert gi.grid_count_within_by_label(grid, [0], 2, np.empty((0, 2)), 1.0).shape == (0, 2)


def test_grid_survives_pickle():
    grid = gi.build_grid(np.random.default_rng(0).uniform(0, 10, (50, 2)))
    again = pickle.loads(pickle.dumps(grid))
    np.testing.assert_array_equal(again.xy, grid.xy)
    assert again.cell == grid.cell


def test_docstring_examples_run():
    result = doctest.testmod(grid_index, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 4 and result.failed == 0


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: gi.build_grid([[0.0, np.nan]]), ValueError, "xy has 1 non-finite"),
    (lambda: gi.build_grid([[0.0, 0.0]], r=0.0), ValueError, "r must be > 0"),
    (lambda: gi.grid_knn(si.build_kdtree([[0.0, 0.0]]), [[0.0, 0.0]], 1), TypeError,
     "grid must be a GridIndex"),
    (lambda: gi.grid_knn(gi.build_grid([[0.0, 0.0]]), [[0.0, 0.0]], 0), ValueError,
     "k must be >= 1"),
    (lambda: gi.grid_count_within(gi.build_grid([[0.0, 0.0]]), [[0.0, 0.0]], -1.0),
     ValueError, "r must be > 0"),
    (lambda: gi.grid_count_within_by_label(gi.build_grid([[0.0, 0.0]]), [3], 2,
                                           [[0.0, 0.0]], 1.0),
     ValueError, "labels must be < n_labels = 2"),
    (lambda: gi.grid_knn(gi.build_grid([[0.0, 0.0]]), [[0.0, 0.0]], 1, skip=[1]),
     ValueError, r"skip must lie in \[-1, 1\)"),
])
def test_bad_input_is_rejected_with_a_precise_message(call, error, match):
    with pytest.raises(error, match=match):
        call()
