"""Graph builders and measures vs paper cases, brute force, networkx and geometry."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import graphs
from cytoql.kernels.reference import graphs as ref
from cytoql.kernels.reference.tessellation import convex_hull as ref_hull
from strategies import labelled_points, points, radii

SQUARE_AND_CENTRE = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]])
GRID_3X3 = np.array([[x, y] for y in range(3) for x in range(3)], dtype=np.float64)


def _pairs(edges) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in edges}


def _distinct(xy: np.ndarray) -> np.ndarray:
    """Indices of the first point at each position."""
    _, first = np.unique(xy, axis=0, return_index=True)
    return np.sort(first)


def _has_empty_circle(p: np.ndarray, i: int, j: int) -> bool:
    """Whether some circle through p[i], p[j] has no point of p strictly inside.

    Circles through both points have centres m + t*nrm on the bisector; a point on the
    left (s > 0) is inside iff t > q / 2s, one on the right iff t < q / 2s, so an empty
    circle exists iff every right bound is <= every left bound. Cross-multiplied, so
    grid coordinates are compared exactly.
    """
    d = p[j] - p[i]
    nrm = np.array([-d[1], d[0]])
    m = 0.5 * (p[i] + p[j])
    others = np.delete(np.arange(len(p)), [i, j])
    rel = p[others] - m
    s = rel @ nrm
    q = (rel * rel).sum(axis=1) - ((p[i] - m) ** 2).sum()
    on_chord = (s == 0) & (q < 0)
    if on_chord.any():
        return False
    left, right = s > 0, s < 0
    ql, sl, qr, sr = q[left], s[left], q[right], s[right]
    return bool((np.multiply.outer(qr, sl) >= np.multiply.outer(sr, ql)).all())


def _hull_boundary_count(p: np.ndarray) -> int:
    hull = ref_hull(p)
    on = np.zeros(len(p), dtype=bool)
    for a, b in zip(hull, np.roll(hull, -1, axis=0)):
        cross = (b[0] - a[0]) * (p[:, 1] - a[1]) - (b[1] - a[1]) * (p[:, 0] - a[0])
        inside_box = ((np.minimum(a, b) <= p) & (p <= np.maximum(a, b))).all(axis=1)
        on |= (cross == 0) & inside_box
    return int(on.sum())


# ----------------------------------------------------------------- paper cases


def test_square_with_centre_delaunay_is_four_sides_and_four_spokes():
    assert _pairs(graphs.delaunay_edges(SQUARE_AND_CENTRE)) == {
        (0, 1), (1, 2), (2, 3), (0, 3), (0, 4), (1, 4), (2, 4), (3, 4)}


def test_square_with_centre_gabriel_and_mst_are_the_spokes():
    # the centre lies on each side's diametral circle: closed disc, so sides are blocked
    spokes = {(0, 4), (1, 4), (2, 4), (3, 4)}
    assert _pairs(graphs.gabriel_edges(SQUARE_AND_CENTRE)) == spokes
    mst = graphs.mst_edges(SQUARE_AND_CENTRE)
    assert _pairs(mst) == spokes
    assert graphs.edge_lengths(SQUARE_AND_CENTRE, mst).sum() == pytest.approx(2 * math.sqrt(2))


def test_grid_delaunay_has_every_unit_edge_and_one_diagonal_per_square():
    edges = _pairs(graphs.delaunay_edges(GRID_3X3))
    unit = {(i, i + 1) for i in range(9) if i % 3 != 2} | {(i, i + 3) for i in range(6)}
    assert unit <= edges
    diagonals = edges - unit
    assert len(diagonals) == 4
    lengths = graphs.edge_lengths(GRID_3X3, np.array(sorted(diagonals)))
    np.testing.assert_allclose(lengths, math.sqrt(2))


def test_grid_gabriel_is_the_unit_lattice_and_mst_has_length_eight():
    unit = {(i, i + 1) for i in range(9) if i % 3 != 2} | {(i, i + 3) for i in range(6)}
    assert _pairs(graphs.gabriel_edges(GRID_3X3)) == unit
    mst = graphs.mst_edges(GRID_3X3)
    assert len(mst) == 8
    assert graphs.edge_lengths(GRID_3X3, mst).sum() == 8.0


def test_obtuse_triangle_loses_its_long_side_in_the_gabriel_graph():
    tri = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 1.0]])
    assert _pairs(graphs.delaunay_edges(tri)) == {(0, 1), (0, 2), (1, 2)}
    assert _pairs(graphs.gabriel_edges(tri)) == {(0, 2), (1, 2)}


def test_delaunay_does_not_change_far_from_the_origin():
    rng = np.random.default_rng(4)
    xy = rng.random((2_000, 2)) * 1000.0
    np.testing.assert_array_equal(graphs.delaunay_edges(xy + [2.5e6, 7.1e6]),
                                  graphs.delaunay_edges(xy))


def test_tiny_inputs():
    assert graphs.delaunay_edges(np.empty((0, 2))).shape == (0, 2)
    assert graphs.delaunay_edges([[1.0, 2.0]]).shape == (0, 2)
    assert graphs.delaunay_edges([[1.0, 2.0], [3.0, 2.0]]).tolist() == [[0, 1]]
    assert graphs.mst_edges([[1.0, 2.0], [1.0, 2.0]]).tolist() == [[0, 1]]


def test_collinear_points_give_the_path_along_the_line():
    xy = np.array([[3.0, 3.0], [0.0, 0.0], [2.0, 2.0], [1.0, 1.0], [2.0, 2.0]])
    # distinct positions in order along the line: 1, 3, 2, 0; 4 duplicates 2
    assert _pairs(graphs.delaunay_edges(xy)) == {(1, 3), (2, 3), (0, 2), (2, 4)}
    assert _pairs(graphs.gabriel_edges(xy)) == {(1, 3), (2, 3), (0, 2), (2, 4)}


def test_collinear_path_follows_a_falling_line():
    xy = np.array([[0.0, 3.0], [3.0, 0.0], [1.0, 2.0], [2.0, 1.0]])
    assert _pairs(graphs.delaunay_edges(xy)) == {(0, 2), (2, 3), (1, 3)}


def test_duplicates_hang_off_the_lowest_index_by_a_zero_length_edge():
    xy = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    edges = graphs.delaunay_edges(xy)
    assert _pairs(edges) == {(0, 1), (0, 2), (1, 2), (0, 3), (1, 4), (0, 5)}
    lengths = dict(zip(map(tuple, edges.tolist()), graphs.edge_lengths(xy, edges)))
    assert lengths[(0, 3)] == lengths[(1, 4)] == lengths[(0, 5)] == 0.0
    assert graphs.mst_edges(xy).shape == (5, 2)


def test_points_1e15_apart_are_both_triangulated():
    xy = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0.25, 0.5], [0.25 + 1e-15, 0.5]])
    edges = graphs.delaunay_edges(xy)
    # exact predicates: the twins are two vertices (Qhull merged them), joined by an
    # edge; 6 points, 4 on the hull: 3 * 6 - 3 - 4 edges
    assert [4, 5] in edges.tolist()
    assert len(edges) == 11
    assert (graphs.degrees(edges, len(xy))[4:] >= 3).all()


def test_measures_on_a_triangle_with_a_tail():
    # triangle 0-1-2 and a tail 2-3; node 4 isolated
    edges = np.array([[0, 1], [0, 2], [1, 2], [2, 3]])
    np.testing.assert_array_equal(graphs.degrees(edges, 5), [2, 2, 3, 1, 0])
    np.testing.assert_allclose(graphs.clustering_coefficient(edges, 5),
                               [1.0, 1.0, 1 / 3, 0.0, 0.0])
    labels, sizes = graphs.connected_components(edges, 5)
    np.testing.assert_array_equal(labels, [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(sizes, [4, 1])
    assert graphs.mixed_edge_fraction(edges, np.array([0, 0, 1, 1, 0])) == 0.5
    # node 2 lies on every path from 3 to 0 and 1: 2 ordered pairs each way / (4 * 3)
    np.testing.assert_allclose(graphs.betweenness_centrality(edges, 5),
                               [0, 0, 4 / 12, 0, 0])
    # node 3 reaches 3 nodes at distances 1, 2, 2: (3/5) * (3/4)
    assert graphs.closeness_centrality(edges, 5)[3] == pytest.approx(0.6 * 0.75)
    indptr, indices = graphs.adjacency(edges, 5)
    np.testing.assert_array_equal(indptr, [0, 2, 4, 7, 8, 8])
    np.testing.assert_array_equal(indices, [1, 2, 0, 2, 0, 1, 3, 2])


def test_mixed_edge_fraction_without_edges_is_nan():
    assert math.isnan(graphs.mixed_edge_fraction(np.empty((0, 2), dtype=np.int64),
                                                 np.array([0, 1])))


def test_knn_and_radius_on_a_line():
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [6.0, 0.0]])
    assert _pairs(graphs.knn_edges(xy, 1)) == {(0, 1), (1, 2), (2, 3)}
    assert _pairs(graphs.knn_edges(xy, 1, mutual=True)) == {(0, 1)}
    assert _pairs(graphs.radius_edges(xy, 2.0)) == {(0, 1), (1, 2)}
    assert _pairs(graphs.knn_edges(xy, 10)) == {(a, b) for a in range(4) for b in range(a + 1, 4)}


def test_canonical_edges_orients_sorts_and_merges():
    got = graphs.canonical_edges([[3, 1], [1, 3], [2, 2], [0, 4]], 5)
    assert got.tolist() == [[0, 4], [1, 3]]


# -------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: graphs.delaunay_edges([[0.0, np.nan]]), ValueError, "non-finite"),
        (lambda: graphs.delaunay_edges(np.zeros((3, 3))), ValueError, r"shape \(n, 2\)"),
        (lambda: graphs.degrees([[1, 0]], 2), ValueError, "i < j"),
        (lambda: graphs.degrees([[0, 2], [0, 1]], 3), ValueError, "sorted"),
        (lambda: graphs.degrees([[0, 1], [0, 1]], 3), ValueError,
         r"without repeats, row 1 is \[0, 1\] after \[0, 1\]"),
        (lambda: graphs.degrees([[0, 5]], 3), ValueError, r"\[0, 3\)"),
        (lambda: graphs.degrees([[0.0, 1.0]], 3), TypeError, "integer"),
        (lambda: graphs.degrees([[0, 1]], -1), ValueError, ">= 0"),
        (lambda: graphs.knn_edges(np.zeros((3, 2)), 0), ValueError, "k must be >= 1"),
        (lambda: graphs.knn_edges(np.zeros((3, 2)), 2.0), TypeError, "k must be an integer"),
        (lambda: graphs.radius_edges(np.zeros((3, 2)), -1.0), ValueError, "r must be > 0"),
        (lambda: graphs.closeness_centrality([[0, 1]], 2, weights=[-1.0]), ValueError,
         ">= 0"),
        (lambda: graphs.betweenness_centrality([[0, 1]], 2, weights=[1.0, 2.0]),
         ValueError, r"shape \(1,\)"),
    ],
)
def test_bad_inputs_raise_with_a_precise_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------ properties vs references


# Identity with the Qhull reference (general position, collinear input) is tested in
# test_delaunay.py: on these grid points co-circular quadruples may take either diagonal.


@given(points(min_size=3, max_size=40))
def test_delaunay_edges_have_empty_circles_and_triangulate(xy):
    edges = graphs.delaunay_edges(xy)
    keep = _distinct(xy)
    core = edges[np.isin(edges[:, 0], keep) & np.isin(edges[:, 1], keep)]
    p = xy[keep]
    local = {int(g): k for k, g in enumerate(keep)}
    for a, b in core:
        assert _has_empty_circle(p, local[int(a)], local[int(b)])
    m = len(keep)
    d = p - p[0]
    collinear = m < 3 or bool((d[:, 0] * d[1, 1] - d[:, 1] * d[1, 0] == 0).all())
    expected = m - 1 if collinear else 3 * m - 3 - _hull_boundary_count(p)
    assert len(core) == expected
    assert len(edges) - len(core) == len(xy) - m  # one edge per duplicate


@given(points(max_size=40))
def test_gabriel_matches_brute_force(xy):
    got = graphs.gabriel_edges(xy)
    np.testing.assert_array_equal(got, ref.gabriel_edges(xy))
    assert _pairs(got) <= _pairs(graphs.delaunay_edges(xy))


@given(points(max_size=40))
def test_mst_has_networkx_total_and_sorted_lengths(xy):
    got = graphs.mst_edges(xy)
    want = ref.mst_edges(xy)
    assert got.shape == want.shape == (max(len(xy) - 1, 0), 2)
    _, sizes = graphs.connected_components(got, len(xy))
    assert len(sizes) == min(len(xy), 1)
    np.testing.assert_allclose(np.sort(graphs.edge_lengths(xy, got)),
                               np.sort(ref.edge_lengths(xy, want)), rtol=1e-12, atol=0)


@given(points(max_size=40), st.integers(1, 6), st.booleans())
def test_knn_matches_brute_force(xy, k, mutual):
    np.testing.assert_array_equal(graphs.knn_edges(xy, k, mutual=mutual),
                                  ref.knn_edges(xy, k, mutual=mutual))


@given(points(max_size=40), radii(max_r=6.0))
def test_radius_graph_matches_brute_force(xy, r):
    np.testing.assert_array_equal(graphs.radius_edges(xy, r), ref.radius_edges(xy, r))


def _graph_cases():
    """Delaunay, kNN and radius graphs: connected or not, with zero-length edges."""
    return st.tuples(labelled_points(max_size=30), st.sampled_from(["delaunay", "knn", "radius"]))


def _build(xy, kind):
    if kind == "delaunay":
        return graphs.delaunay_edges(xy)
    if kind == "knn":
        return graphs.knn_edges(xy, 2, mutual=True)
    return graphs.radius_edges(xy, 3.0)


@given(_graph_cases())
def test_counting_measures_match_networkx(case):
    (xy, labels), kind = case
    n = len(xy)
    edges = _build(xy, kind)
    for got, want in zip(graphs.adjacency(edges, n), ref.adjacency(edges, n)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(graphs.degrees(edges, n), ref.degrees(edges, n))
    for got, want in zip(graphs.connected_components(edges, n),
                         ref.connected_components(edges, n)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(graphs.clustering_coefficient(edges, n),
                               ref.clustering_coefficient(edges, n), rtol=1e-12)
    np.testing.assert_equal(graphs.mixed_edge_fraction(edges, labels),
                            ref.mixed_edge_fraction(edges, labels))
    np.testing.assert_array_equal(graphs.edge_lengths(xy, edges), ref.edge_lengths(xy, edges))


@given(_graph_cases(), st.booleans())
def test_centralities_match_networkx(case, weighted):
    (xy, _), kind = case
    n = len(xy)
    edges = _build(xy, kind)
    weights = graphs.edge_lengths(xy, edges) if weighted else None
    # path sums in the same order as networkx: only the final division may round apart
    np.testing.assert_allclose(graphs.closeness_centrality(edges, n, weights),
                               ref.closeness_centrality(edges, n, weights), rtol=1e-12)
    np.testing.assert_allclose(graphs.betweenness_centrality(edges, n, weights),
                               ref.betweenness_centrality(edges, n, weights),
                               rtol=1e-12, atol=1e-15)


def test_centralities_do_not_depend_on_edge_weight_scale():
    rng = np.random.default_rng(7)
    xy = rng.random((80, 2))
    edges = graphs.delaunay_edges(xy)
    w = graphs.edge_lengths(xy, edges)
    np.testing.assert_allclose(graphs.betweenness_centrality(edges, 80, w),
                               graphs.betweenness_centrality(edges, 80, 4.0 * w), rtol=1e-12)
    np.testing.assert_allclose(graphs.closeness_centrality(edges, 80, w),
                               4.0 * graphs.closeness_centrality(edges, 80, 4.0 * w),
                               rtol=1e-12)


def test_centralities_are_identical_on_any_thread_count():
    rng = np.random.default_rng(5)
    xy = rng.random((300, 2))
    edges = graphs.delaunay_edges(xy)
    w = graphs.edge_lengths(xy, edges)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        serial = [graphs.betweenness_centrality(edges, 300, w),
                  graphs.closeness_centrality(edges, 300, w)]
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        threaded = [graphs.betweenness_centrality(edges, 300, w),
                    graphs.closeness_centrality(edges, 300, w)]
    finally:
        numba.set_num_threads(before)
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


def test_poisson_delaunay_mean_degree_is_near_six():
    # Euler: a triangulation with h hull points has 3n - 3 - h edges, mean degree
    # 6 - (6 + 2h)/n; h ~ log n for uniform points
    rng = np.random.default_rng(3)
    xy = rng.random((20_000, 2))
    deg = graphs.degrees(graphs.delaunay_edges(xy), len(xy))
    assert 5.98 < deg.mean() < 6.0
