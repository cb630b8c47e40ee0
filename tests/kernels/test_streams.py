"""The per-permutation streams of cytoql.kernels._streams against the plain-Python ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import _streams
from cytoql.kernels._jit import jit
from cytoql.kernels.reference import _streams as ref


@jit
def _draws(state, bounds):
    out = np.empty(bounds.shape[0], np.int64)
    for i in range(bounds.shape[0]):
        state, out[i] = _streams.bounded(state, bounds[i])
    return out


@given(seed=st.integers(0, 2**64 - 1),
       bounds=st.lists(st.one_of(st.integers(1, 50), st.integers(2**31, 2**32)),
                       min_size=1, max_size=40))
def test_bounded_draws_match_reference(seed, bounds):
    # bounds near 2**32 reject often (up to half the draws): both must redraw alike
    got = _draws(np.uint64(seed), np.array(bounds, dtype=np.int64))
    stream = ref.Stream(seed)
    np.testing.assert_array_equal(got, [stream.below(s) for s in bounds])


def test_splitmix64_known_values():
    # the first outputs of SplitMix64 from state 0 (Vigna's splitmix64.c)
    stream = ref.Stream(0)
    assert [stream.next64() for _ in range(3)] == [
        0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_draws_are_uniform():
    # 60,000 draws on [0, 6): chi-square with 5 degrees of freedom, 99.99% quantile 25.7
    got = _draws(np.uint64(12345), np.full(60_000, 6, dtype=np.int64))
    counts = np.bincount(got, minlength=6)
    assert counts.size == 6
    chi2 = ((counts - 10_000) ** 2 / 10_000).sum()
    assert chi2 < 25.7


def test_seeds_need_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        _streams.seeds(np.random.RandomState(0), 3)
    a = _streams.seeds(np.random.default_rng(1), 4)
    assert a.dtype == np.uint64 and a.shape == (4,)
    np.testing.assert_array_equal(a, ref.seeds(np.random.default_rng(1), 4))
