"""Quadrat counts, VMR, maximum tile count and Morisita's index."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import quadrats
from cytoql.kernels.reference import quadrats as ref
from strategies import points, window_for


def test_counts_by_hand_with_edges_and_partial_tiles():
    window = (0.0, 0.0, 2.5, 2.0)
    xy = np.array([
        [0.0, 0.0],   # lower-left corner -> tile (0, 0)
        [1.0, 0.5],   # on the internal edge x = 1 -> upper tile, column 1
        [2.5, 2.0],   # on the max corner -> last column, last row
        [2.2, 0.9],   # in the partial column [2, 2.5)
        [0.5, 1.0],   # on the internal edge y = 1 -> row 1
    ])
    counts, xe, ye = quadrats.quadrat_counts(xy, window, size=1.0)
    np.testing.assert_array_equal(xe, [0.0, 1.0, 2.0, 2.5])
    np.testing.assert_array_equal(ye, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(counts, [[1, 1, 1],
                                           [1, 0, 1]])


def test_nx_ny_split_the_window_equally():
    xy = np.array([[0.0, 0.0], [3.0, 1.0], [5.9, 1.9], [6.0, 2.0]])
    counts, xe, ye = quadrats.quadrat_counts(xy, (0, 0, 6, 2), nx=3, ny=2)
    np.testing.assert_array_equal(xe, [0, 2, 4, 6])
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 2]])


def test_size_dividing_the_window_up_to_rounding_adds_no_sliver():
    counts, xe, _ = quadrats.quadrat_counts(np.empty((0, 2)), (0.0, 0.0, 0.3, 0.3), size=0.1)
    assert counts.shape == (3, 3) and xe[-1] == 0.3


def test_indices_by_hand():
    counts = np.array([[0, 2], [4, 2]])  # Q = 4, N = 8, mean 2, s^2 = 8/3
    assert quadrats.vmr(counts) == pytest.approx(4 / 3)
    assert quadrats.max_tile_count(counts) == 4
    # 4 * (0 + 2 + 12 + 2) / (8 * 7)
    assert quadrats.morisita_index(counts) == pytest.approx(64 / 56)


def test_indices_are_nan_when_undefined():
    assert np.isnan(quadrats.vmr([3]))
    assert np.isnan(quadrats.vmr([0, 0, 0]))
    assert np.isnan(quadrats.morisita_index([1, 0, 0]))
    assert quadrats.max_tile_count(np.zeros((0, 3), dtype=int)) == 0


@given(data=st.data())
def test_counts_match_reference(data):
    xy = data.draw(points(max_size=50))
    window = window_for(xy, pad=data.draw(st.sampled_from([0.0, 0.25])))
    if data.draw(st.booleans()):
        kwargs = {"size": data.draw(st.sampled_from([0.125, 0.5, 1.0, 1.3, 2.5, 7.0, 50.0]))}
    else:
        kwargs = {"nx": data.draw(st.integers(1, 6)), "ny": data.draw(st.integers(1, 6))}
    got, gx, gy = quadrats.quadrat_counts(xy, window, **kwargs)
    want, wx, wy = ref.quadrat_counts(xy, window, **kwargs)
    np.testing.assert_array_equal(gx, wx)
    np.testing.assert_array_equal(gy, wy)
    np.testing.assert_array_equal(got, want)
    assert got.sum() == len(xy)
    assert quadrats.max_tile_count(got) == ref.max_tile_count(want)
    np.testing.assert_allclose(quadrats.vmr(got), ref.vmr(want), rtol=1e-12)
    np.testing.assert_allclose(quadrats.morisita_index(got), ref.morisita_index(want),
                               rtol=1e-12)


@given(st.lists(st.integers(0, 30), min_size=2, max_size=40))
def test_morisita_is_a_function_of_vmr(counts):
    # sum n^2 = (Q - 1) s^2 + N^2 / Q  =>  I_M = (Q s^2 + N^2 - Q N) / (N (N-1))
    c = np.array(counts)
    q, n = c.size, c.sum()
    if n < 2:
        return
    s2 = quadrats.vmr(c) * n / q
    assert quadrats.morisita_index(c) == pytest.approx(
        (q * (q - 1) * s2 + n * n - q * n) / (n * (n - 1)), rel=1e-9)


def test_csr_vmr_and_morisita_are_near_one():
    rng = np.random.default_rng(23)
    xy = rng.uniform(0, 1, (10_000, 2))
    counts, _, _ = quadrats.quadrat_counts(xy, (0, 0, 1, 1), size=0.05)
    assert counts.shape == (20, 20)
    # multinomial counts: E[VMR] = 1 exactly, sd ~ sqrt(2 / (Q - 1)) = 0.071; 4 sd
    assert abs(quadrats.vmr(counts) - 1) < 0.28
    # I_M - 1 = (Q (VMR - 1)) / (N - 1) (mean fixed): 4 sd -> 400 * 0.28 / 9999
    assert abs(quadrats.morisita_index(counts) - 1) < 0.012


def test_clustered_pattern_is_overdispersed():
    rng = np.random.default_rng(29)
    parents = rng.uniform(0, 1, (25, 2))
    xy = np.clip(np.repeat(parents, 40, axis=0) + rng.normal(0, 0.01, (1000, 2)), 0, 1)
    counts, _, _ = quadrats.quadrat_counts(xy, (0, 0, 1, 1), nx=10, ny=10)
    assert quadrats.vmr(counts) > 5
    assert quadrats.morisita_index(counts) > 2
    assert quadrats.max_tile_count(counts) >= 40


def test_bad_arguments_are_rejected():
    xy = np.array([[0.5, 0.5]])
    with pytest.raises(ValueError, match="either size or both nx and ny"):
        quadrats.quadrat_counts(xy, (0, 0, 1, 1))
    with pytest.raises(ValueError, match="either size or both nx and ny"):
        quadrats.quadrat_counts(xy, (0, 0, 1, 1), size=0.5, nx=2, ny=2)
    with pytest.raises(ValueError, match="give both nx and ny"):
        quadrats.quadrat_counts(xy, (0, 0, 1, 1), nx=2)
    with pytest.raises(ValueError, match="size must be"):
        quadrats.quadrat_counts(xy, (0, 0, 1, 1), size=-1)
    with pytest.raises(ValueError, match="nx must be an integer >= 1"):
        quadrats.quadrat_counts(xy, (0, 0, 1, 1), nx=0, ny=2)
    with pytest.raises(ValueError, match="exceed the limit"):
        quadrats.quadrat_counts(xy, (0, 0, 1000, 1000), size=0.01)
    with pytest.raises(ValueError, match="outside window"):
        quadrats.quadrat_counts(xy, (0, 0, 0.4, 1), size=0.1)
    with pytest.raises(TypeError, match="counts must be integers"):
        quadrats.vmr([0.5, 1.5])
