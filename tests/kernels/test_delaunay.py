"""Our Delaunay triangulation vs Qhull (the reference), exact geometry and paper cases.

Identity with Qhull is asserted on points in general position only: on co-circular
points any triangulation is Delaunay, so there the tests check the defining property
exactly (rational arithmetic) and the edge count instead.
"""

from __future__ import annotations

from fractions import Fraction

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import delaunay, graphs
from cytoql.kernels._predicates import incircle, orient
from cytoql.kernels.reference import delaunay as ref_delaunay
from cytoql.kernels.reference import graphs as ref
from cytoql.kernels.reference.tessellation import convex_hull as ref_hull
from strategies import points

SQUARE_AND_CENTRE = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]])


def _q(v) -> Fraction:
    return Fraction(float(v))


def _orient_q(a, b, c) -> Fraction:
    a, b, c = ([_q(v) for v in p] for p in (a, b, c))
    return (a[0] - c[0]) * (b[1] - c[1]) - (a[1] - c[1]) * (b[0] - c[0])


def _incircle_q(a, b, c, d) -> Fraction:
    rows = []
    for p in (a, b, c):
        dx, dy = _q(p[0]) - _q(d[0]), _q(p[1]) - _q(d[1])
        rows.append((dx, dy, dx * dx + dy * dy))
    (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = rows
    return (a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0)
            + a2 * (b0 * c1 - b1 * c0))


def _hull_boundary_count(p: np.ndarray) -> int:
    """Distinct points on the convex hull's boundary (corners and points on sides)."""
    hull = ref_hull(p)
    on = np.zeros(len(p), dtype=bool)
    for a, b in zip(hull, np.roll(hull, -1, axis=0)):
        for k, c in enumerate(p):
            inside_box = ((np.minimum(a, b) <= c) & (c <= np.maximum(a, b))).all()
            on[k] |= _orient_q(a, b, c) == 0 and bool(inside_box)
    return int(on.sum())


def _assert_exactly_delaunay(xy: np.ndarray) -> None:
    """CCW triangles, none with a point strictly inside its circumcircle, as many as
    a triangulation of the distinct positions has (checked in rational arithmetic on
    the centred coordinates the kernel triangulates)."""
    simplices, rep = delaunay.triangles(xy)
    c = xy - 0.5 * (xy.min(axis=0) + xy.max(axis=0))
    ids = np.flatnonzero(rep == np.arange(len(xy)))
    p = c[ids]
    flat = len(ids) < 3 or all(_orient_q(p[0], p[1], q) == 0 for q in p)
    if flat:
        assert simplices.shape == (0, 3)
        return
    assert len(simplices) == 2 * len(ids) - 2 - _hull_boundary_count(p)
    assert set(np.unique(simplices)) == set(ids.tolist())
    for i, j, k in simplices:
        assert _orient_q(c[i], c[j], c[k]) > 0
        for m in ids:
            if m not in (i, j, k):
                assert _incircle_q(c[i], c[j], c[k], c[m]) <= 0


@st.composite
def general_position(draw, max_size: int = 60, cluster_scale: float = 1e-4):
    """Random float64 points (no grid): uniform, clustered, tiny, huge, far away, or
    uniform with repeated rows.

    Clusters 1e-6 of the extent wide already make Qhull return a few triangles with a
    point inside their circumcircle (rational check), hence 1e-4 against Qhull.
    """
    n = draw(st.integers(3, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(["uniform", "clustered", "tiny", "huge", "far",
                                 "duplicates"]))
    rng = np.random.default_rng(seed)
    xy = rng.random((n, 2))
    if kind == "clustered":
        centres = rng.random((3, 2))
        xy = centres[rng.integers(0, 3, n)] + cluster_scale * rng.standard_normal((n, 2))
    elif kind == "tiny":
        xy *= 1e-30
    elif kind == "huge":
        xy *= 1e30
    elif kind == "far":
        xy = xy * 1000.0 + [2.5e6, 7.1e6]
    elif kind == "duplicates":
        xy[: n // 2] = xy[rng.integers(0, n, n // 2)]
    return xy


# ----------------------------------------------------------------- paper cases


def test_square_with_centre_is_four_triangles_around_the_centre():
    simplices, rep = delaunay.triangles(SQUARE_AND_CENTRE)
    assert rep.tolist() == [0, 1, 2, 3, 4]
    assert sorted(tuple(sorted(t)) for t in simplices.tolist()) == [
        (0, 1, 4), (0, 3, 4), (1, 2, 4), (2, 3, 4)]
    assert graphs.delaunay_edges(SQUARE_AND_CENTRE).tolist() == [
        [0, 1], [0, 3], [0, 4], [1, 2], [1, 4], [2, 3], [2, 4], [3, 4]]


def test_square_corners_get_one_diagonal():
    # four co-circular points: either diagonal is Delaunay, exactly one is taken
    edges = graphs.delaunay_edges([[0, 0], [1, 0], [1, 1], [0, 1]])
    sides = [[0, 1], [0, 3], [1, 2], [2, 3]]
    assert len(edges) == 5
    assert all(s in edges.tolist() for s in sides)


def test_point_on_a_hull_edge_splits_it():
    xy = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 2.0], [1.0, 0.0]])
    assert graphs.delaunay_edges(xy).tolist() == [[0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]


def test_duplicates_merge_onto_the_lowest_index():
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    simplices, rep = delaunay.triangles(xy)
    assert rep.tolist() == [0, 1, 2, 1, 1]
    assert sorted(simplices[0].tolist()) == [0, 1, 2]
    assert graphs.delaunay_edges(xy).tolist() == [[0, 1], [0, 2], [1, 2], [1, 3], [1, 4]]


def test_collinear_points_have_no_triangles_and_give_the_path():
    xy = np.array([[2.0, 4.0], [0.0, 0.0], [3.0, 6.0], [1.0, 2.0], [1.0, 2.0]])
    simplices, rep = delaunay.triangles(xy)
    assert simplices.shape == (0, 3)
    assert rep.tolist() == [0, 1, 2, 3, 3]
    assert graphs.delaunay_edges(xy).tolist() == [[0, 2], [0, 3], [1, 3], [3, 4]]


def test_empty_and_tiny_inputs():
    assert delaunay.triangles(np.empty((0, 2)))[0].shape == (0, 3)
    assert delaunay.triangles([[1.0, 1.0], [2.0, 2.0]])[0].shape == (0, 3)
    # one counter-clockwise triangle, in some rotation
    (tri,) = delaunay.triangles([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])[0].tolist()
    assert tri in ([0, 1, 2], [1, 2, 0], [2, 0, 1])


@pytest.mark.parametrize(("xy", "match"), [([[0.0, np.inf]], "non-finite"),
                                           (np.zeros((4, 3)), r"shape \(n, 2\)")])
def test_bad_input_raises(xy, match):
    with pytest.raises(ValueError, match=match):
        delaunay.triangles(xy)


# --------------------------------------------------------------- predicates


def _near_degenerate(rng, k):
    """Quadruples and triples on (or within rounding of) a line or a circle."""
    a, b = rng.random(2), rng.random(2)
    t = rng.random(k)
    on_line = a + t[:, None] * (b - a)  # rounded: a hair off the line
    ang = rng.random(k) * 2 * np.pi
    on_circle = 0.5 + 0.3 * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    return a, b, on_line, on_circle


def test_predicates_have_the_exact_sign_near_degeneracy():
    rng = np.random.default_rng(11)
    for _ in range(20):
        a, b, on_line, on_circle = _near_degenerate(rng, 25)
        for c in np.vstack([on_line, [a, b, 2 * b - a]]):
            want = _orient_q(a, b, c)
            got = orient(a[0], a[1], b[0], b[1], c[0], c[1])
            assert np.sign(got) == np.sign(want)
        p, q, r = on_circle[:3]
        if _orient_q(p, q, r) < 0:
            p, q = q, p
        for d in np.vstack([on_circle[3:], [p, 0.5 * (p + q)]]):
            want = _incircle_q(p, q, r, d)
            got = incircle(p[0], p[1], q[0], q[1], r[0], r[1], d[0], d[1])
            assert np.sign(got) == np.sign(want)


def test_predicates_on_exact_grid_ties():
    # integer coordinates: collinear and co-circular exactly, found by the exact stage
    assert orient(0.0, 0.0, 1.0, 1.0, 3.0, 3.0) == 0.0
    assert incircle(0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0) == 0.0
    assert incircle(0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.5, 0.5) > 0.0
    assert incircle(0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 2.0, 2.0) < 0.0


# ------------------------------------------------------ properties vs Qhull


@given(general_position())
def test_edges_match_qhull_in_general_position(xy):
    np.testing.assert_array_equal(graphs.delaunay_edges(xy), ref.delaunay_edges(xy))


@given(points(max_size=40), st.sampled_from([(1, 0), (0, 1), (1, -1), (2, 1)]))
def test_collinear_input_matches_the_reference_path(xy, direction):
    # all on one line (horizontal, vertical, falling, steep), grid-exact: the path rule
    xy = 3.0 + xy[:, :1] * np.array(direction, dtype=np.float64)
    np.testing.assert_array_equal(graphs.delaunay_edges(xy), ref.delaunay_edges(xy))


@given(points(min_size=1, max_size=25))
def test_degenerate_grid_sets_are_exactly_delaunay(xy):
    # grid points: duplicates, collinear runs and co-circular quadruples everywhere
    _assert_exactly_delaunay(xy)


@given(general_position(max_size=25, cluster_scale=1e-7))
def test_general_position_sets_are_exactly_delaunay(xy):
    # clusters tight enough to defeat Qhull's precision
    _assert_exactly_delaunay(xy)


def test_lattice_is_exactly_delaunay_with_one_diagonal_per_square():
    xy = np.array([[x, y] for y in range(6) for x in range(6)], dtype=np.float64)
    _assert_exactly_delaunay(xy)
    assert len(graphs.delaunay_edges(xy)) == 3 * 36 - 3 - 20


@pytest.mark.parametrize("k", [-900, -60, 1, 60, 900])
def test_power_of_two_scaling_changes_nothing(k):
    rng = np.random.default_rng(2)
    xy = rng.random((500, 2))
    np.testing.assert_array_equal(graphs.delaunay_edges(np.ldexp(xy, k)),
                                  graphs.delaunay_edges(xy))


def test_large_uniform_set_matches_qhull():
    rng = np.random.default_rng(8)
    xy = rng.random((50_000, 2)) * 3000.0
    np.testing.assert_array_equal(graphs.delaunay_edges(xy), ref.delaunay_edges(xy))


def test_identical_on_any_thread_count():
    rng = np.random.default_rng(6)
    xy = rng.random((20_000, 2))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        serial = delaunay.triangles(xy)[0]
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        threaded = delaunay.triangles(xy)[0]
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(serial, threaded)


def _canonical(simplices: np.ndarray) -> list[tuple[int, ...]]:
    """Each triangle rotated to start at its lowest vertex (orientation kept), sorted."""
    out = []
    for t in simplices.tolist():
        k = t.index(min(t))
        out.append(tuple(t[k:] + t[:k]))
    return sorted(out)


@given(general_position())
def test_triangles_match_the_qhull_reference(xy):
    got, rep = delaunay.triangles(xy)
    want, want_rep = ref_delaunay.triangles(xy)
    np.testing.assert_array_equal(rep, want_rep)
    assert _canonical(got) == _canonical(want)
