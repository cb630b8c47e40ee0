"""Ripley K/L/H, cross-type K and the pair correlation function."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import ripley
from cytoql.kernels.reference import ripley as ref
from strategies import labelled_points, points, radii, window_for

RTOL = 1e-9  # kernel and reference sum the same float terms in a different order

# Four points on a unit square centred in the window (0, 0, 2, 2): per ordered pair,
# 8 at distance 1 (dx or dy = 1) and 4 at distance sqrt(2).
SQUARE = np.array([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5]])
SQUARE_W = (0.0, 0.0, 2.0, 2.0)


def _assert_same(got, want):
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-12, equal_nan=True)


def _radii_list(draw, max_r):
    rs = draw(st.lists(radii(max_r), min_size=1, max_size=6, unique=True))
    if draw(st.booleans()):
        rs.append(0.0)
    return np.array(sorted(set(rs)))


def _thomas(rng, n_parents, mean_children, sigma, window):
    xmin, ymin, xmax, ymax = window
    parents = rng.uniform((xmin, ymin), (xmax, ymax), size=(n_parents, 2))
    counts = rng.poisson(mean_children, size=n_parents)
    xy = np.repeat(parents, counts, axis=0) + rng.normal(0, sigma, (counts.sum(), 2))
    keep = ((xy >= (xmin, ymin)) & (xy <= (xmax, ymax))).all(axis=1)
    return xy[keep]


def _ripley_sd(n, r, area, perimeter):
    """Ripley's CSR approximation to sd(K_iso(r)) (spatstat Kest, var.approx)."""
    var = 2 * (area / (n - 1)) ** 2 * (
        np.pi * r**2 / area + 0.96 * perimeter * r**3 / area**2
        + 0.13 * (n / area) * perimeter * r**5 / area**2
    )
    return np.sqrt(var)


# ----------------------------------------------------------------- cases on paper


def test_k_square_by_hand_for_every_correction():
    r = np.array([0.5, 1.0, 1.5])
    # |W| / (n (n-1)) = 4 / 12
    k, theo = ripley.ripley_k(SQUARE, r, SQUARE_W, "none")
    np.testing.assert_allclose(k, [0.0, 8 / 3, 4.0])
    np.testing.assert_allclose(theo, np.pi * r**2)
    # translation: dx = 1 -> 4 / (1 * 2) = 2; diagonal -> 4 / (1 * 1) = 4
    k, _ = ripley.ripley_k(SQUARE, r, SQUARE_W, "translation")
    np.testing.assert_allclose(k, [0.0, 16 / 3, 32 / 3])
    # isotropic at d = 1 from (0.5, 0.5): arcs beyond x = 0 and y = 0 span 7 pi / 6,
    # so 5/12 of the circle is inside and the weight is 12/5
    k, _ = ripley.ripley_k(SQUARE, r[:2], SQUARE_W, "isotropic")
    np.testing.assert_allclose(k, [0.0, 4 / 12 * 8 * 12 / 5])
    # border: every point is 0.5 from the edge, so r > 0.5 has no eligible point
    k, _ = ripley.ripley_k(SQUARE, r, SQUARE_W, "border")
    np.testing.assert_array_equal(k, [0.0, np.nan, np.nan])


def test_isotropic_weight_is_two_on_an_edge_and_four_on_a_corner():
    xy = np.array([[0.0, 1.0], [0.5, 1.0], [0.0, 0.0], [0.0, 0.5]])
    window = (0.0, 0.0, 4.0, 4.0)
    # ordered pairs within 0.5 and the weight of their centre's circle: (0,1) and
    # (0,3) on the edge x = 0: 2; (1,0): point 1 is interior, its circle only touches
    # x = 0: 1; (3,0), (3,2) on the edge: 2; (2,3) from the corner: a quarter, 4
    k, _ = ripley.ripley_k(xy, [0.5], window, "isotropic")
    np.testing.assert_allclose(k, [16 / 12 * (2 + 2 + 1 + 2 + 2 + 4)])


def test_l_and_h_are_transforms_of_k():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 10, (200, 2))
    r = np.linspace(0, 2, 9)
    k, _ = ripley.ripley_k(xy, r, (0, 0, 10, 10))
    l, l_theo = ripley.ripley_l(xy, r, (0, 0, 10, 10))
    h, h_theo = ripley.ripley_h(xy, r, (0, 0, 10, 10))
    np.testing.assert_array_equal(l, np.sqrt(k / np.pi))
    np.testing.assert_array_equal(h, l - r)
    np.testing.assert_array_equal(l_theo, r)
    np.testing.assert_array_equal(h_theo, 0.0)


def test_cross_k_of_a_set_with_itself_is_k():
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 5, (150, 2))
    r = np.linspace(0.1, 1.5, 8)
    everyone = np.ones(len(xy), dtype=bool)
    for correction in ripley.CORRECTIONS:
        k, _ = ripley.ripley_k(xy, r, (0, 0, 5, 5), correction)
        kc, _ = ripley.ripley_k_cross(xy, everyone, everyone, r, (0, 0, 5, 5), correction)
        np.testing.assert_allclose(kc, k, rtol=1e-12)


# --------------------------------------------------------------- undefined → NaN


@pytest.mark.parametrize("correction", ripley.CORRECTIONS)
def test_fewer_than_two_points_give_nan(correction):
    for xy in (np.empty((0, 2)), np.array([[0.5, 0.5]])):
        k, _ = ripley.ripley_k(xy, [0.1, 0.2], (0, 0, 1, 1), correction)
        assert np.isnan(k).all()
    g, _ = ripley.pcf(np.array([[0.5, 0.5]]), [0.1], (0, 0, 1, 1))
    assert np.isnan(g).all()


def test_corrections_are_nan_beyond_their_range():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1, (50, 2))
    window = (0.0, 0.0, 2.0, 1.0)
    r = np.array([0.5, 0.999, 1.0, 1.1, 1.2])  # short side 1, half-diagonal 1.118
    k, _ = ripley.ripley_k(xy, r, window, "translation")
    assert np.isfinite(k[:2]).all() and np.isnan(k[2:]).all()
    k, _ = ripley.ripley_k(xy, r, window, "isotropic")
    assert np.isfinite(k[:4]).all() and np.isnan(k[4:]).all()
    g, _ = ripley.pcf(xy, np.array([0.0, 0.5, 1.0]), window)
    assert np.isnan(g[0]) and np.isfinite(g[1]) and np.isnan(g[2])


# ---------------------------------------------------------------- input checking


def test_unknown_correction_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'none', 'border', 'translation', 'isotropic'"):
        ripley.ripley_k(SQUARE, [1.0], SQUARE_W, "Ripley")
    with pytest.raises(ValueError, match="'none', 'translation', 'isotropic'"):
        ripley.pcf(SQUARE, [1.0], SQUARE_W, "border")


def test_points_outside_the_window_are_rejected():
    with pytest.raises(ValueError, match=r"2 point\(s\) outside window .*index \[1, 3\]"):
        ripley.ripley_k(SQUARE, [1.0], (0.0, 0.0, 1.0, 2.0))


def test_bad_radii_and_bandwidth_are_rejected():
    with pytest.raises(ValueError, match="strictly increasing"):
        ripley.ripley_l(SQUARE, [1.0, 0.5], SQUARE_W)
    with pytest.raises(ValueError, match="bandwidth"):
        ripley.pcf(SQUARE, [1.0], SQUARE_W, bandwidth=0.0)


# ---------------------------------------------------------- against the reference


@given(data=st.data(), correction=st.sampled_from(ripley.CORRECTIONS))
def test_k_matches_reference(data, correction):
    xy = data.draw(points(max_size=40))
    window = window_for(xy, pad=data.draw(st.sampled_from([0.0, 0.5])))
    r = _radii_list(data.draw, 12.0)
    got, theo = ripley.ripley_k(xy, r, window, correction)
    want, want_theo = ref.ripley_k(xy, r, window, correction)
    _assert_same(got, want)
    np.testing.assert_array_equal(theo, want_theo)


@given(data=st.data(), correction=st.sampled_from(ripley.CORRECTIONS))
def test_cross_k_matches_reference(data, correction):
    xy, labels = data.draw(labelled_points(max_size=40))
    window = window_for(xy)
    r = _radii_list(data.draw, 12.0)
    a = labels == 0
    b = labels == data.draw(st.sampled_from([0, 1]))
    got, _ = ripley.ripley_k_cross(xy, a, b, r, window, correction)
    want, _ = ref.ripley_k_cross(xy, np.flatnonzero(a), np.flatnonzero(b), r, window,
                                 correction)
    _assert_same(got, want)
    got_h, _ = ripley.ripley_h_cross(xy, a, b, r, window, correction)
    want_h, _ = ref.ripley_h_cross(xy, np.flatnonzero(a), np.flatnonzero(b), r, window,
                                   correction)
    np.testing.assert_allclose(got_h, want_h, rtol=RTOL, atol=1e-9, equal_nan=True)


@given(data=st.data(), correction=st.sampled_from(ripley.PCF_CORRECTIONS))
def test_pcf_matches_reference(data, correction):
    xy = data.draw(points(min_size=2, max_size=40))
    window = window_for(xy, pad=0.25)
    r = _radii_list(data.draw, 8.0)
    bandwidth = data.draw(st.sampled_from([None, 0.5, 2.0]))
    got, theo = ripley.pcf(xy, r, window, correction, bandwidth=bandwidth)
    want, _ = ref.pcf(xy, r, window, correction, bandwidth=bandwidth)
    _assert_same(got, want)
    np.testing.assert_array_equal(theo, 1.0)


# ------------------------------------------------------------- analytic checks


def test_csr_k_is_pi_r_squared_within_sampling_error():
    rng = np.random.default_rng(20240601)
    n = 2000
    xy = rng.uniform(0, 1, (n, 2))
    r = np.array([0.025, 0.05, 0.075, 0.1])
    # 4 sd of Ripley's CSR variance approximation: a false failure is ~1 in 10^4
    tol = 4 * _ripley_sd(n, r, 1.0, 4.0)
    for correction in ("translation", "isotropic", "border"):
        k, theo = ripley.ripley_k(xy, r, (0, 0, 1, 1), correction)
        # border uses only points >= r from the edge: inflate by the lost fraction
        scale = 1 / (1 - 2 * r) if correction == "border" else 1.0
        assert np.all(np.abs(k - theo) < tol * scale), (correction, k - theo, tol)
    l, _ = ripley.ripley_l(xy, r, (0, 0, 1, 1), "translation")
    np.testing.assert_allclose(l, r, atol=np.max(tol / (2 * np.pi * r)))


def test_csr_uncorrected_k_has_the_expected_edge_bias():
    rng = np.random.default_rng(7)
    n = 2000
    xy = rng.uniform(0, 1, (n, 2))
    r = np.array([0.05, 0.1])
    k_none, theo = ripley.ripley_k(xy, r, (0, 0, 1, 1), "none")
    k_trans, _ = ripley.ripley_k(xy, r, (0, 0, 1, 1), "translation")
    # E K_none = integral of the unit square's set covariance over the disc
    #          = pi r^2 - 8/3 r^3 + r^4 / 2
    expected = np.pi * r**2 - 8 / 3 * r**3 + r**4 / 2
    tol = 4 * _ripley_sd(n, r, 1.0, 4.0)
    assert np.all(np.abs(k_none - expected) < tol)
    assert np.all(np.abs(k_trans - theo) < np.abs(k_none - theo))


def test_thomas_clusters_give_l_above_r():
    rng = np.random.default_rng(11)
    xy = _thomas(rng, n_parents=40, mean_children=25, sigma=0.02, window=(0, 0, 1, 1))
    r = np.array([0.02, 0.05, 0.1])
    for correction in ripley.CORRECTIONS:
        h, _ = ripley.ripley_h(xy, r, (0, 0, 1, 1), correction)
        assert np.all(h > 0.02), (correction, h)


def test_cross_k_of_independent_csr_sets_is_pi_r_squared():
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 1, (3000, 2))
    a = np.arange(1000)
    b = np.arange(1000, 3000)
    r = np.array([0.05, 0.1])
    k, theo = ripley.ripley_k_cross(xy, a, b, r, (0, 0, 1, 1), "translation")
    # cross pairs are independent across sets: sd ~ that of K with n = 2 n_a n_b/(n_a+n_b)
    tol = 4 * _ripley_sd(1333, r, 1.0, 4.0)
    assert np.all(np.abs(k - theo) < tol), (k - theo, tol)


def test_csr_pcf_is_one():
    rng = np.random.default_rng(13)
    n = 2000
    xy = rng.uniform(0, 1, (n, 2))
    r = np.linspace(0.04, 0.1, 7)
    g, _ = ripley.pcf(xy, r, (0, 0, 1, 1))
    # pairs in the kernel band: N = n^2 pi r * 2h / 2 unordered (>= 7500 here);
    # Poisson sd of g ~ 1 / sqrt(N) <= 0.012, 4 sd tolerance
    h = 0.15 / math.sqrt(n)
    tol = 4 / np.sqrt(n**2 * np.pi * r * h)
    assert np.all(np.abs(g - 1) < tol), (g, tol)


def test_pcf_of_thomas_clusters_peaks_at_short_range():
    rng = np.random.default_rng(17)
    xy = _thomas(rng, n_parents=30, mean_children=30, sigma=0.02, window=(0, 0, 1, 1))
    g, _ = ripley.pcf(xy, [0.02, 0.3], (0, 0, 1, 1))
    # Thomas: g(r) = 1 + exp(-r^2 / (4 sigma^2)) / (4 pi kappa sigma^2) ~ 1 + 5.2 at 0.02
    assert g[0] > 3.0 and abs(g[1] - 1) < 0.3


# ------------------------------------------------------------------ determinism


def test_same_bits_on_any_thread_count():
    rng = np.random.default_rng(19)
    xy = rng.uniform(0, 1, (20_000, 2))
    r = np.linspace(0, 0.05, 11)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = [ripley.ripley_k(xy, r, (0, 0, 1, 1), c)[0] for c in ripley.CORRECTIONS]
        one.append(ripley.pcf(xy, r, (0, 0, 1, 1))[0])
        numba.set_num_threads(before)
        many = [ripley.ripley_k(xy, r, (0, 0, 1, 1), c)[0] for c in ripley.CORRECTIONS]
        many.append(ripley.pcf(xy, r, (0, 0, 1, 1))[0])
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("correction", ripley.CORRECTIONS)
def test_blocks_of_query_points_give_the_reference(monkeypatch, correction):
    # rows are filled block by block; tiny blocks exercise every block boundary
    monkeypatch.setattr(ripley, "_ROW_CELLS", 40)
    rng = np.random.default_rng(23)
    xy = np.round(rng.uniform(0, 6, (150, 2)) * 8) / 8  # duplicates and ties
    r = np.array([0.0, 0.25, 0.5, 1.0, 1.5])
    window = (0.0, 0.0, 6.0, 6.0)
    _assert_same(ripley.ripley_k(xy, r, window, correction)[0],
                 ref.ripley_k(xy, r, window, correction)[0])
    a, b = np.arange(0, 150, 2), np.arange(40, 150)
    _assert_same(ripley.ripley_k_cross(xy, a, b, r, window, correction)[0],
                 ref.ripley_k_cross(xy, a, b, r, window, correction)[0])
    if correction != "border":
        _assert_same(ripley.pcf(xy, r, window, correction, bandwidth=0.3)[0],
                     ref.pcf(xy, r, window, correction, bandwidth=0.3)[0])
