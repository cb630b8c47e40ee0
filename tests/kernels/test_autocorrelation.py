"""Moran's I and Geary's C with grid, kNN and distance-band weights."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import autocorrelation as ac
from cytoql.kernels._autocorr_sums import _permutation_sums
from cytoql.kernels.reference import autocorrelation as ref
from strategies import points


def _dense(weights):
    n = weights.indptr.size - 1
    return scipy.sparse.csr_matrix(
        (weights.weights, weights.indices, weights.indptr), shape=(n, n)).toarray()


def _assert_result(got, want, rtol=1e-9):
    for field in ac.AutocorrelationResult._fields:
        g, w = getattr(got, field), getattr(want, field)
        tol = rtol if field in ("statistic", "expected", "p_sim") else 1e-6
        np.testing.assert_allclose(g, w, rtol=tol, atol=1e-9, equal_nan=True, err_msg=field)


# ------------------------------------------------------------------- by hand


def test_line_of_four_by_hand():
    w = ac.grid_weights((1, 4))
    y = [1.0, 2.0, 3.0, 4.0]
    # binary: z = (-1.5, -0.5, 0.5, 1.5), sum z^2 = 5, S0 = 6, sum w z z = 2.5
    assert ac.morans_i(y, w, transform="binary").statistic == pytest.approx(4 / 6 * 2.5 / 5)
    # sum w (y_i - y_j)^2 = 6: C = 3 * 6 / (2 * 6 * 5)
    assert ac.gearys_c(y, w, transform="binary").statistic == pytest.approx(0.3)
    assert ac.morans_i(y, w).expected == pytest.approx(-1 / 3)


def test_checkerboard_is_perfectly_negative():
    board = np.indices((4, 4)).sum(axis=0) % 2
    res = ac.morans_i(board, ac.grid_weights(board.shape, "rook"))
    assert res.statistic == pytest.approx(-1.0)
    assert res.p_norm < 1e-4
    assert ac.gearys_c(board, ac.grid_weights(board.shape, "rook")).statistic > 1.5


def test_undefined_statistics_are_nan():
    w = ac.grid_weights((2, 2))
    assert np.isnan(ac.morans_i([3, 3, 3, 3], w).statistic)  # constant values
    lonely = ac.distance_band_weights(np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]), 1.0)
    assert np.isnan(ac.gearys_c([1.0, 2.0, 3.0], lonely).statistic)  # S0 = 0
    res = ac.morans_i([1.0, 2.0, 4.0], ac.grid_weights((1, 3)))  # n < 4: no rand moments
    assert np.isfinite(res.z_norm) and np.isnan(res.z_rand)
    # complete graph, row-standardised: I = -1/(n-1) for every arrangement, variance 0
    complete = ac.knn_weights(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), 3)
    res = ac.morans_i([0.0, 0.0, 0.0, 1.0], complete)
    assert res.statistic == pytest.approx(-1 / 3)
    assert np.isnan([res.z_norm, res.p_norm, res.z_rand, res.p_rand]).all()


# ------------------------------------------------------------------- weights


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (3, 4), (5, 2)])
@pytest.mark.parametrize("contiguity", ["rook", "queen"])
def test_grid_weights_match_reference(shape, contiguity):
    np.testing.assert_array_equal(_dense(ac.grid_weights(shape, contiguity)),
                                  ref.grid_weights(shape, contiguity))


@given(xy=points(min_size=2, max_size=40), data=st.data())
def test_knn_weights_match_reference(xy, data):
    k = data.draw(st.integers(1, min(6, len(xy) - 1)))
    np.testing.assert_array_equal(_dense(ac.knn_weights(xy, k)), ref.knn_weights(xy, k))


@given(xy=points(max_size=40), r=st.sampled_from([0.125, 1.0, 2.5, 30.0]))
def test_distance_band_weights_match_reference(xy, r):
    np.testing.assert_array_equal(_dense(ac.distance_band_weights(xy, r)),
                                  ref.distance_band_weights(xy, r))


# ---------------------------------------------------------- against references


@given(
    values=st.lists(st.integers(0, 6), min_size=4, max_size=30),
    kind=st.sampled_from(["rook", "queen", "knn", "band"]),
    transform=st.sampled_from(ac.TRANSFORMS),
    nperm=st.sampled_from([0, 19]),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_statistics_match_reference(values, kind, transform, nperm, seed, data):
    y = np.array(values, dtype=np.float64)
    n = y.size
    if kind in ("rook", "queen"):
        w = ac.grid_weights((1, n) if data.draw(st.booleans()) else (n, 1), kind)
    else:
        xy = data.draw(points(min_size=n, max_size=n))
        w = ac.knn_weights(xy, 3) if kind == "knn" else ac.distance_band_weights(xy, 4.0)
    for name in ("morans_i", "gearys_c"):
        got = getattr(ac, name)(y, w, transform=transform, nperm=nperm,
                                rng=np.random.default_rng(seed))
        want = getattr(ref, name)(y, _dense(w), transform=transform, nperm=nperm,
                                  rng=np.random.default_rng(seed))
        _assert_result(got, want)


def test_matches_esda():
    esda = pytest.importorskip("esda")
    from libpysal.weights import W

    rng = np.random.default_rng(31)
    xy = rng.uniform(0, 100, (120, 2))
    y = xy[:, 0] / 20 + rng.normal(0, 1, 120)  # a trend: positive autocorrelation
    for weights in (ac.knn_weights(xy, 5), ac.grid_weights((10, 12), "queen")):
        pysal_w = W.from_sparse(scipy.sparse.csr_matrix(
            (weights.weights, weights.indices, weights.indptr), shape=(120, 120)))
        for transform, code in (("row", "r"), ("binary", "b")):
            mine = ac.morans_i(y, weights, transform=transform)
            theirs = esda.Moran(y, pysal_w, transformation=code, permutations=0)
            np.testing.assert_allclose(
                [mine.statistic, mine.expected, mine.z_norm, mine.z_rand, mine.p_norm,
                 mine.p_rand],
                [theirs.I, theirs.EI, theirs.z_norm, theirs.z_rand, theirs.p_norm,
                 theirs.p_rand], rtol=1e-9)
            mine = ac.gearys_c(y, weights, transform=transform)
            theirs = esda.Geary(y, pysal_w, transformation=code, permutations=0)
            np.testing.assert_allclose(
                [mine.statistic, mine.z_norm, mine.z_rand, mine.p_norm, mine.p_rand],
                [theirs.C, theirs.z_norm, theirs.z_rand, 2 * theirs.p_norm,
                 2 * theirs.p_rand], rtol=1e-9)


# ------------------------------------------------------------ analytic checks


def test_independent_values_give_expected_i_within_four_sd():
    rng = np.random.default_rng(37)
    w = ac.grid_weights((30, 30), "rook")
    for _ in range(3):
        res = ac.morans_i(rng.normal(size=900), w)
        assert abs(res.z_norm) < 4 and abs(res.z_rand) < 4
        assert abs(res.statistic - res.expected) < 4 * 0.025  # sd(I) = 0.024 on this grid


def test_smooth_field_is_strongly_autocorrelated():
    yy, xx = np.mgrid[0:20, 0:20]
    field = np.sin(xx / 4.0) + np.cos(yy / 5.0)
    w = ac.grid_weights(field.shape, "queen")
    moran = ac.morans_i(field, w, nperm=99, rng=np.random.default_rng(0))
    geary = ac.gearys_c(field, w, nperm=99, rng=np.random.default_rng(0))
    assert moran.statistic > 0.8 and moran.p_rand < 1e-10
    assert moran.p_sim == pytest.approx(1 / 100)  # no permutation comes close
    assert geary.statistic < 0.2 and geary.p_sim == pytest.approx(1 / 100)


def test_permutations_are_seeded_and_thread_count_free():
    rng = np.random.default_rng(41)
    xy = rng.uniform(0, 1, (500, 2))
    y = xy[:, 0] + rng.normal(0, 0.5, 500)
    w = ac.knn_weights(xy, 6)
    z = y - y.mean()
    runs = []
    before = numba.get_num_threads()
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            runs.append([
                ac.morans_i(y, w, nperm=199, rng=np.random.default_rng(5)),
                ac.gearys_c(y, w, nperm=199, rng=np.random.default_rng(5)),
                # the permuted statistics themselves, bit for bit (p_sim is only a count)
                *(_permutation_sums(w.indptr, w.indices, w.weights, z, 199,
                                    np.random.default_rng(5), geary) for geary in (False, True)),
            ])
    finally:
        numba.set_num_threads(before)
    one, many = runs
    assert one[:2] == many[:2]
    for a, b in zip(one[2:], many[2:]):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments_are_rejected():
    w = ac.grid_weights((2, 3))
    with pytest.raises(ValueError, match="'row', 'binary'"):
        ac.morans_i(np.arange(6.0), w, transform="r")
    with pytest.raises(ValueError, match="cover 6 cells but values has 5"):
        ac.gearys_c(np.arange(5.0), w)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        ac.morans_i(np.arange(6.0), w, nperm=9)
    with pytest.raises(ValueError, match="'rook', 'queen'"):
        ac.grid_weights((2, 2), "bishop")
    with pytest.raises(ValueError, match=r"k must be in \[1, n - 1\]"):
        ac.knn_weights(np.zeros((3, 2)), 3)
    with pytest.raises(TypeError, match="SpatialWeights"):
        ac.morans_i(np.arange(4.0), np.ones((4, 4)))


@given(n=st.integers(4, 15), data=st.data(), transform=st.sampled_from(ac.TRANSFORMS))
def test_moments_add_repeated_entries_and_self_loops(n, data, transform):
    # hand-made CSR: unsorted rows, the same (i, j) more than once, i == j allowed
    cell = st.integers(0, n - 1)
    entries = data.draw(st.lists(st.tuples(cell, cell, st.integers(1, 4)), min_size=1,
                                 max_size=5 * n))
    entries.sort(key=lambda e: e[0])
    rows = np.array([e[0] for e in entries])
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    weights = ac.SpatialWeights(indptr, np.array([e[1] for e in entries]),
                                np.array([e[2] / 2 for e in entries], dtype=np.float64))
    y = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), float)
    for name in ("morans_i", "gearys_c"):
        got = getattr(ac, name)(y, weights, transform=transform)
        want = getattr(ref, name)(y, _dense(weights), transform=transform)
        _assert_result(got, want)
