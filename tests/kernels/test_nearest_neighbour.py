"""Tests of cytoql.kernels.nearest_neighbour against paper cases, references and theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import nearest_neighbour as nn
from cytoql.kernels.reference import nearest_neighbour as ref
from cytoql.kernels.spatial_index import build_kdtree
from strategies import labelled_points, points, window_for

LINE = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [6.0, 0.0]])  # NND 1, 1, 2, 3
LINE_WINDOW = (-2.0, -2.0, 8.0, 2.0)  # every point is exactly 2 from the border


def _lattice(side: int, spacing: float = 1.0):
    g = np.arange(side) * spacing
    xy = np.column_stack([np.repeat(g, side), np.tile(g, side)])
    half = spacing / 2
    return xy, (-half, -half, g[-1] + half, g[-1] + half)


# --------------------------------------------------------------------------- paper cases


def test_nearest_distance_ranks_targets_on_paper():
    query = np.array([[0.0, 0.0]])
    targets = np.array([[3.0, 4.0], [6.0, 8.0], [0.0, 1.0]])
    got = [nn.nearest_distance(query, targets, k)[0] for k in (1, 2, 3, 4)]
    assert got[:3] == [1.0, 5.0, 10.0]
    assert math.isnan(got[3])


def test_nearest_distance_skips_the_cell_itself():
    ids = np.arange(4)
    np.testing.assert_array_equal(nn.nearest_distance(LINE, LINE, skip=ids), [1, 1, 2, 3])
    # without the skip every cell finds itself at distance 0
    np.testing.assert_array_equal(nn.nearest_distance(LINE, LINE), [0, 0, 0, 0])
    # a duplicate at the same spot is another cell: distance 0 even with the skip
    dup = np.vstack([LINE, LINE[:1]])
    assert nn.nearest_distance(dup, dup, skip=np.arange(5))[0] == 0.0


def test_nearest_distance_accepts_a_prebuilt_tree():
    tree = build_kdtree(LINE)
    got = nn.nearest_distance(LINE[:2], LINE, 2, skip=[0, 1], tree=tree)
    np.testing.assert_array_equal(got, [3.0, 2.0])


def test_nearest_label_breaks_ties_by_smaller_index():
    targets = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 5.0]])
    labels = np.array([2, 0, 1])
    got = nn.nearest_label(np.array([[0.0, 0.0], [0.0, 4.0]]), targets, labels)
    np.testing.assert_array_equal(got, [2, 1])
    assert nn.nearest_label(np.zeros((1, 2)), np.empty((0, 2)), np.empty(0, int))[0] == -1


def test_clark_evans_of_a_square_lattice_is_two():
    xy, window = _lattice(10)  # lambda = 1, mean NND = 1, E = 0.5
    got = nn.clark_evans(xy, window)
    assert got.r == pytest.approx(2.0, rel=1e-12)
    se = math.sqrt((4 - math.pi) / (4 * math.pi)) * 10 / 100 / 0.5
    assert got.standard_error == pytest.approx(se, rel=1e-12)
    assert got.z == pytest.approx(1.0 / se, rel=1e-12)
    assert got.p_value < 1e-50
    donnelly = nn.clark_evans(xy, window, correction="donnelly")
    expected = 0.5 + (0.0514 + 0.0412 / 10) * 40 / 100
    assert donnelly.expected_distance == pytest.approx(expected, rel=1e-12)
    assert donnelly.r == pytest.approx(1.0 / expected, rel=1e-12)
    # cdf: the 36 edge points (border 0.5 < NND 1) are censored, the other 64 observe
    # 1, so the Kaplan-Meier distribution is a point mass at 1: R = 2 again
    cdf = nn.clark_evans(xy, window, correction="cdf")
    assert cdf.mean_distance == pytest.approx(1.0, rel=1e-12)
    assert cdf.r == pytest.approx(2.0, rel=1e-12)
    assert cdf.standard_error == got.standard_error


def test_clark_evans_is_nan_below_two_points():
    assert all(math.isnan(v) for v in nn.clark_evans([[0.5, 0.5]], (0, 0, 1, 1)))


def test_g_function_on_paper():
    r = np.array([0.0, 1.0, 2.0, 2.5, 3.0])
    g, theo = nn.g_function(LINE, r, LINE_WINDOW)
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.75, np.nan, np.nan])
    g_none, _ = nn.g_function(LINE, r, LINE_WINDOW, correction="none")
    np.testing.assert_array_equal(g_none, [0.0, 0.5, 0.75, 0.75, 1.0])
    np.testing.assert_allclose(theo, 1 - np.exp(-4 / 40 * np.pi * r**2), rtol=1e-15)


def test_f_and_j_functions_on_paper():
    # one point at the centre of a 2 x 2 window, 2 x 2 raster: every test location is
    # sqrt(0.5) from the point and 0.5 from the border
    xy, window, r = [[1.0, 1.0]], (0, 0, 2, 2), np.array([0.5, 0.7, 0.71])
    f_none, _ = nn.f_function(xy, r, window, correction="none", grid=2)
    np.testing.assert_array_equal(f_none, [0.0, 0.0, 1.0])
    f_rs, _ = nn.f_function(xy, r, window, grid=2)
    np.testing.assert_array_equal(f_rs, [0.0, np.nan, np.nan])
    j, theo = nn.j_function(xy, r, window, correction="none", grid=2)
    assert np.isnan(j).all()  # G is undefined for one point; J also where F == 1
    np.testing.assert_array_equal(theo, [1.0, 1.0, 1.0])


def test_g_and_f_counts_are_the_numerators_and_denominators_on_paper():
    r = np.array([0.0, 1.0, 2.0, 2.5, 3.0])
    # every point is 2 from the border: the reduced sample keeps all 4 up to r = 2
    num, den = nn.g_counts(LINE, r, LINE_WINDOW)
    np.testing.assert_array_equal(num, [0, 2, 3, 0, 0])
    np.testing.assert_array_equal(den, [4, 4, 4, 0, 0])
    num, den = nn.g_counts(LINE, r, LINE_WINDOW, correction="none")
    np.testing.assert_array_equal(num, [0, 2, 3, 3, 4])
    np.testing.assert_array_equal(den, [4, 4, 4, 4, 4])
    assert num.dtype == den.dtype == np.int64
    xy, window, r = [[1.0, 1.0]], (0, 0, 2, 2), np.array([0.5, 0.7, 0.71])
    num, den = nn.f_counts(xy, r, window, correction="none", grid=2)
    np.testing.assert_array_equal(num, [0, 0, 4])
    np.testing.assert_array_equal(den, [4, 4, 4])
    num, den = nn.f_counts(xy, r, window, grid=2)
    np.testing.assert_array_equal(num, [0, 0, 0])
    np.testing.assert_array_equal(den, [4, 0, 0])
    # undefined estimates have nothing to pool: zero counts
    for counts in (nn.g_counts(xy, r, window), nn.f_counts(np.empty((0, 2)), r, window)):
        np.testing.assert_array_equal(np.concatenate(counts), np.zeros(6))


# --------------------------------------------------------------------------- references


@given(data=st.data(), a=points(max_size=30), b=labelled_points(max_size=40),
       k=st.integers(1, 4))
def test_nearest_queries_match_reference(data, a, b, k):
    xy, labels = b
    skip = np.array(data.draw(st.lists(st.integers(-1, len(xy) - 1), min_size=len(a),
                                       max_size=len(a))), dtype=np.int64)
    np.testing.assert_array_equal(nn.nearest_distance(a, xy, k, skip=skip),
                                  ref.nearest_distance(a, xy, k, skip=skip))
    np.testing.assert_array_equal(nn.nearest_label(a, xy, labels, skip=skip),
                                  ref.nearest_label(a, xy, labels, skip=skip))


@given(xy=points(max_size=50), pad=st.sampled_from([0.0, 0.5, 3.0]),
       correction=st.sampled_from(nn.CLARK_EVANS_CORRECTIONS))
def test_clark_evans_matches_reference(xy, pad, correction):
    window = window_for(xy, pad)
    got = nn.clark_evans(xy, window, correction=correction)._asdict()
    want = ref.clark_evans(xy, window, correction=correction)
    for key, value in want.items():
        # p-value: erfc in the kernel vs scipy's norm.sf in the reference; z is a
        # standardised difference, so near 0 it keeps only an absolute accuracy
        # (seen: 1.5e-15 apart at z = -0.0014)
        atol = 1e-12 if key == "z" else 1e-300
        np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=atol, err_msg=key)


@given(xy=points(max_size=40), pad=st.sampled_from([0.0, 1.0, 4.0]),
       correction=st.sampled_from(nn.CORRECTIONS), grid=st.integers(1, 12),
       steps=st.lists(st.integers(1, 16), min_size=1, max_size=8))
def test_g_f_j_match_reference(xy, pad, correction, grid, steps):
    window = window_for(xy, pad)
    r = np.cumsum(steps) / 8.0 - 1 / 8  # on the coordinate grid, starting at 0
    for name in ("g_function", "f_function", "j_function"):
        kwargs = {"correction": correction} | ({} if name == "g_function" else {"grid": grid})
        got = getattr(nn, name)(xy, r, window, **kwargs)
        want = getattr(ref, name)(xy, r, window, **kwargs)
        # both estimates are ratios of the same integer counts: equal bits
        np.testing.assert_array_equal(got[0], want[0], err_msg=name)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-14, err_msg=name)
    for name in ("g", "f"):
        kwargs = {"correction": correction} | ({} if name == "g" else {"grid": grid})
        num, den = getattr(nn, f"{name}_counts")(xy, r, window, **kwargs)
        want = getattr(ref, f"{name}_function")(xy, r, window, **kwargs)[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            np.testing.assert_array_equal(np.where(den > 0, num / den, np.nan), want)


# --------------------------------------------------------------------------- theory


def _csr(n, seed):
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(n, 2)), (0.0, 0.0, 1.0, 1.0)


def test_g_and_f_match_poisson_theory_under_csr():
    n = 2000
    xy, window = _csr(n, seed=7)
    r = np.linspace(0.002, 0.03, 15)  # theory rises from 0.025 to 0.996
    g, theo = nn.g_function(xy, r, window)
    f, theo_f = nn.f_function(xy, r, window)
    np.testing.assert_array_equal(theo, theo_f)
    # Tolerances are 4 standard deviations of (estimate - theory) measured over 50
    # seeds of this design: 0.0145 for G (binomial 0.5 / sqrt(0.9 n) = 0.012 plus the
    # correlation of neighbouring NNDs), 0.0058 for F (16384 correlated raster
    # points), 0.065 for J up to r = 0.016; the mean bias was below 0.002 for G and F.
    np.testing.assert_allclose(g, theo, atol=0.058)
    np.testing.assert_allclose(f, theo, atol=0.023)
    j, _ = nn.j_function(xy, r[:8], window)
    np.testing.assert_allclose(j, 1.0, atol=0.26)


def test_clark_evans_is_one_under_csr_and_detects_patterns():
    xy, window = _csr(1500, seed=3)
    csr = nn.clark_evans(xy, window, correction="donnelly")
    assert abs(csr.z) < 3.5 and csr.p_value > 5e-4
    assert csr.r == pytest.approx(1.0, abs=3.5 * csr.standard_error)
    # clustered: 30 parents with 50 offspring each, N(0, 0.01^2) displacements
    rng = np.random.default_rng(5)
    parents = rng.uniform(0.1, 0.9, size=(30, 2))
    clustered = np.clip(np.repeat(parents, 50, axis=0)
                        + rng.normal(0, 0.01, size=(1500, 2)), 0, 1)
    got = nn.clark_evans(clustered, window)
    assert got.r < 0.5 and got.z < -10 and got.p_value < 1e-10
    lattice, lattice_window = _lattice(30, 1 / 30)
    assert nn.clark_evans(lattice, lattice_window).r == pytest.approx(2.0)


def test_clark_evans_edge_corrections_remove_the_csr_bias():
    # n = 100 in the unit square: the naive R is biased upwards by edge effects (points
    # near the border miss neighbours outside): over these 100 seeds its mean is 1.043
    # (standard error 0.0054), Donnelly's 0.999 (0.0052) and cdf's 0.999 (0.0062)
    means = {c: np.mean([nn.clark_evans(_csr(100, seed)[0], (0, 0, 1, 1), correction=c).r
                         for seed in range(100)])
             for c in nn.CLARK_EVANS_CORRECTIONS}
    assert means["none"] > 1.02
    assert means["donnelly"] == pytest.approx(1.0, abs=0.02)
    assert means["cdf"] == pytest.approx(1.0, abs=0.02)


def test_g_and_mean_nnd_agree_with_pointpats():
    pointpats = pytest.importorskip("pointpats")
    xy, window = _csr(300, seed=11)
    nnd_mean = pointpats.PointPattern(xy).mean_nnd
    got = nn.clark_evans(xy, window)
    assert got.mean_distance == pytest.approx(nnd_mean, rel=1e-12)
    assert got.r == pytest.approx(nnd_mean / (0.5 / math.sqrt(300)), rel=1e-12)
    # pointpats' G counts histogram bins [a, b) over a support from 0 to the largest
    # NND, normalised by all n: the same as ours, d <= r, wherever no distance equals a
    # support point (continuous data) and at the largest NND itself
    support, g_pp = pointpats.g(xy, support=25)
    g, _ = nn.g_function(xy, support, window, correction="none")
    np.testing.assert_allclose(g, g_pp, rtol=1e-12)


# --------------------------------------------------------------------------- bad input


def test_bad_inputs_raise_precise_errors():
    window = (0, 0, 1, 1)
    with pytest.raises(ValueError, match=r"correction must be one of 'none', 'border'"):
        nn.g_function(LINE, [1.0], LINE_WINDOW, correction="ripley")
    with pytest.raises(ValueError, match=r"correction must be one of 'none', 'donnelly', 'cdf'"):
        nn.clark_evans(LINE, LINE_WINDOW, correction="border")
    with pytest.raises(ValueError, match=r"1 point\(s\) of xy lie outside window"):
        nn.clark_evans([[0.5, 0.5], [1.5, 0.5]], window)
    with pytest.raises(ValueError, match="r must be strictly increasing"):
        nn.g_function(LINE, [1.0, 0.5], LINE_WINDOW)
    with pytest.raises(ValueError, match="grid must be >= 1"):
        nn.f_function(LINE, [1.0], LINE_WINDOW, grid=0)
    with pytest.raises(TypeError, match="grid must be an integer"):
        nn.f_function(LINE, [1.0], LINE_WINDOW, grid=2.5)
    with pytest.raises(ValueError, match="window must have positive width"):
        nn.g_function(LINE, [1.0], (0, 0, 0, 1))
    with pytest.raises(ValueError, match="tree was not built on xy"):
        nn.nearest_distance(LINE, LINE, tree=build_kdtree(LINE[:3]))
    with pytest.raises(TypeError, match="tree must be a KDTree"):
        nn.nearest_distance(LINE, LINE, tree=LINE)
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        nn.nearest_label(LINE, LINE, [0, 1])
    with pytest.raises(ValueError, match="k must be >= 1"):
        nn.nearest_distance(LINE, LINE, 0)
    with pytest.raises(ValueError, match="query_xy has 1 non-finite row"):
        nn.nearest_distance([[np.nan, 0.0]], LINE)
