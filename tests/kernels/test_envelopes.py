"""CSR simulation envelopes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import envelopes
from cytoql.kernels.reference import envelopes as ref
from cytoql.kernels.ripley import ripley_l

WINDOW = (0.0, 0.0, 2.0, 1.0)


class _Counter:
    """A statistic that ignores the pattern and returns (s, -s) for call s."""

    def __init__(self):
        self.calls = 0

    def __call__(self, xy):
        s = self.calls
        self.calls += 1
        return np.array([s, -s], dtype=np.float64)


def _cheap_curve(xy):
    """A pattern-dependent curve with a NaN where it is undefined (n < 3)."""
    x = np.sort(xy[:, 0])
    third = x[2] if len(x) >= 3 else np.nan
    return np.array([len(xy), x.sum(), np.count_nonzero(xy[:, 1] < 0.5), third])


def test_pointwise_envelope_by_hand():
    env = envelopes.csr_envelope(_Counter(), 5, WINDOW, nsim=9, rng=np.random.default_rng(0),
                                 nrank=2)
    np.testing.assert_array_equal(env.lo, [1, -7])
    np.testing.assert_array_equal(env.hi, [7, -1])
    np.testing.assert_array_equal(env.mean, [4, -4])
    assert env.alpha == pytest.approx(2 * 2 / 10)
    assert env.p_value is None


def test_global_envelope_and_mad_p_value_by_hand():
    # simulated curves (s, -s), s = 0..9, mean (4.5, -4.5): deviations |s - 4.5|
    # = 4.5, 3.5, ..., 0.5, 0.5, ..., 4.5; the 2nd largest is 4.5
    env = envelopes.csr_envelope(_Counter(), 5, WINDOW, nsim=10,
                                 rng=np.random.default_rng(0), nrank=2, kind="global",
                                 observed=[8.5, -4.5])
    np.testing.assert_array_equal(env.lo, [0.0, -9.0])
    np.testing.assert_array_equal(env.hi, [9.0, 0.0])
    assert env.alpha == pytest.approx(2 / 11)
    # observed deviation 4.0: only simulations 0 and 9 (4.5) reach it
    assert env.p_value == pytest.approx((1 + 2) / 11)


def test_same_seed_same_envelope_and_different_seed_differs():
    def stat(xy):
        return ripley_l(xy, np.linspace(0.05, 0.25, 5), WINDOW)[0]

    a = envelopes.csr_envelope(stat, 200, WINDOW, 20, np.random.default_rng(42))
    b = envelopes.csr_envelope(stat, 200, WINDOW, 20, np.random.default_rng(42))
    c = envelopes.csr_envelope(stat, 200, WINDOW, 20, np.random.default_rng(43))
    np.testing.assert_array_equal(a.sims, b.sims)
    np.testing.assert_array_equal(a.lo, b.lo)
    assert not np.array_equal(a.sims, c.sims)


def test_simulate_csr_draws_exactly_n_points_in_the_window():
    xy = envelopes.simulate_csr(5000, (10.0, -2.0, 12.0, 3.0), np.random.default_rng(1))
    assert xy.shape == (5000, 2)
    assert (xy[:, 0] >= 10).all() and (xy[:, 0] <= 12).all()
    assert (xy[:, 1] >= -2).all() and (xy[:, 1] <= 3).all()
    # uniform mean within 4 sd: sd(x) = 2 / sqrt(12 * 5000)
    assert abs(xy[:, 0].mean() - 11) < 4 * 2 / np.sqrt(12 * 5000)
    assert envelopes.simulate_csr(0, WINDOW, np.random.default_rng(1)).shape == (0, 2)


@given(
    n=st.integers(0, 8),
    nsim=st.integers(2, 12),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(["pointwise", "global"]),
    with_observed=st.booleans(),
    with_reference=st.booleans(),
    data=st.data(),
)
def test_matches_reference(n, nsim, seed, kind, with_observed, with_reference, data):
    limit = nsim // 2 if kind == "pointwise" else nsim
    nrank = data.draw(st.integers(1, limit))
    observed = np.array([n, 0.9 * n, n / 2, 0.3]) if with_observed else None
    reference = np.array([n, n, n / 2, 0.5]) if with_reference else None
    got = envelopes.csr_envelope(_cheap_curve, n, WINDOW, nsim, np.random.default_rng(seed),
                                 nrank=nrank, kind=kind, observed=observed,
                                 reference=reference)
    want = ref.csr_envelope(_cheap_curve, n, WINDOW, nsim, np.random.default_rng(seed),
                            nrank=nrank, kind=kind, observed=observed, reference=reference)
    np.testing.assert_array_equal(got.sims, want.sims)
    for name in ("lo", "hi", "mean"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-12,
                                   equal_nan=True, err_msg=name)
    assert got.alpha == pytest.approx(want.alpha)
    assert got.p_value == pytest.approx(want.p_value)


def test_clustered_pattern_leaves_the_global_envelope():
    rng = np.random.default_rng(3)
    parents = rng.uniform((0, 0), (2, 1), (20, 2))
    xy = np.repeat(parents, 15, axis=0) + rng.normal(0, 0.02, (300, 2))
    xy = xy[((xy >= 0) & (xy <= (2, 1))).all(axis=1)]
    r = np.linspace(0.02, 0.2, 10)

    def stat(pattern):
        return ripley_l(pattern, r, WINDOW)[0]

    observed = stat(xy)
    env = envelopes.csr_envelope(stat, len(xy), WINDOW, 39, np.random.default_rng(4),
                                 kind="global", observed=observed, reference=r)
    assert env.p_value == pytest.approx(1 / 40)  # more extreme than every simulation
    assert (observed > env.hi).any()
    # the CSR simulations themselves stay near L(r) = r
    np.testing.assert_allclose(env.mean, r, atol=0.01)


def test_nan_in_any_simulation_makes_the_envelope_nan_there():
    env = envelopes.csr_envelope(_cheap_curve, 2, WINDOW, 4, np.random.default_rng(0))
    assert np.isnan(env.lo[3]) and np.isnan(env.hi[3]) and np.isnan(env.mean[3])
    assert np.isfinite(env.lo[:3]).all()


def test_bad_arguments_are_rejected():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        envelopes.csr_envelope(_cheap_curve, 5, WINDOW, 5, 0)
    with pytest.raises(ValueError, match="nrank must be <= 2"):
        envelopes.csr_envelope(_cheap_curve, 5, WINDOW, 5, rng, nrank=3)
    with pytest.raises(ValueError, match="'pointwise', 'global'"):
        envelopes.csr_envelope(_cheap_curve, 5, WINDOW, 5, rng, kind="rank")
    with pytest.raises(ValueError, match="nsim must be >= 1"):
        envelopes.csr_envelope(_cheap_curve, 5, WINDOW, 0, rng)
    with pytest.raises(ValueError, match=r"observed must have shape \(4,\)"):
        envelopes.csr_envelope(_cheap_curve, 5, WINDOW, 5, rng, observed=[1.0])


def test_dclf_test_by_hand():
    # centre = mean = (1, 1); squared deviations: sims 0, 2, 8; observed (3, 3): 8
    sims = np.array([[1.0, 1.0], [0.0, 2.0], [3.0, -1.0]])
    sims[2] = [3.0, 1.0]  # deviation 4; mean becomes (4/3, 4/3)
    env = envelopes.envelope(sims, observed=np.array([1.0, 1.0]), reference=np.ones(2),
                             test="dclf")
    # deviations from the reference (1, 1): 0, 2, 4; observed 0 -> all three >= 0
    assert env.p_value == pytest.approx((1 + 3) / 4)
    env = envelopes.envelope(sims, observed=np.array([3.0, 3.0]), reference=np.ones(2),
                             test="dclf")
    assert env.p_value == pytest.approx(1 / 4)


@given(nsim=st.integers(1, 12), m=st.integers(1, 5), seed=st.integers(0, 2**16),
       kind=st.sampled_from(["pointwise", "global"]), test=st.sampled_from(["mad", "dclf"]),
       with_nan=st.booleans(), data=st.data())
def test_envelope_of_given_simulations_matches_reference(nsim, m, seed, kind, test,
                                                         with_nan, data):
    rng = np.random.default_rng(seed)
    sims = rng.normal(size=(nsim, m))
    if with_nan:
        sims[0, 0] = np.nan
    observed = rng.normal(size=m)
    limit = max(nsim // 2 if kind == "pointwise" else nsim, 1)
    nrank = data.draw(st.integers(1, limit))
    if kind == "pointwise" and nsim // 2 < 1:
        with pytest.raises(ValueError, match="nrank must be <= 0"):
            envelopes.envelope(sims, nrank=nrank, kind=kind)
        return
    got = envelopes.envelope(sims, nrank=nrank, kind=kind, observed=observed, test=test)
    want = ref.envelope(sims, nrank=nrank, kind=kind, observed=observed, test=test)
    for name in ("lo", "hi", "mean"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-12,
                                   equal_nan=True, err_msg=name)
    assert got.p_value == pytest.approx(want.p_value)
