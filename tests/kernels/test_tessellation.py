"""Clipped Voronoi cells, convex hulls and polygon areas vs paper cases and shapely."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import MultiPoint, Polygon

from cytoql.kernels import tessellation
from cytoql.kernels.reference import tessellation as ref
from strategies import points, window_for

SQUARE_AND_CENTRE = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]])


def _cell(cells, i) -> np.ndarray:
    offsets, vertices = cells[0], cells[1]
    return vertices[offsets[i]:offsets[i + 1]]


def _is_ccw(v: np.ndarray) -> bool:
    x, y = v[:, 0], v[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) > 0


# ----------------------------------------------------------------- paper cases


def test_square_with_centre_cells():
    cells = tessellation.voronoi_cells(SQUARE_AND_CENTRE, (0, 0, 1, 1))
    np.testing.assert_allclose(cells.area, [0.125, 0.125, 0.125, 0.125, 0.5])
    # the centre's diamond meets the window only at four points: not a boundary cell
    np.testing.assert_array_equal(cells.touches_boundary, [True] * 4 + [False])
    diamond = Polygon(_cell(cells, 4))
    assert diamond.equals(Polygon([(0.5, 0), (1, 0.5), (0.5, 1), (0, 0.5)]))


def test_grid_cells_are_unit_squares_cut_by_the_window():
    xy = np.array([[x + 0.5, y + 0.5] for y in range(3) for x in range(3)])
    cells = tessellation.voronoi_cells(xy, (0, 0, 3, 3))
    np.testing.assert_allclose(cells.area, 1.0)
    np.testing.assert_array_equal(cells.touches_boundary, [i != 4 for i in range(9)])
    for i in range(9):
        assert _is_ccw(_cell(cells, i))
        assert Polygon(_cell(cells, i)).equals(
            shapely.box(xy[i, 0] - 0.5, xy[i, 1] - 0.5, xy[i, 0] + 0.5, xy[i, 1] + 0.5))


def test_single_point_owns_the_window_and_collinear_points_own_strips():
    one = tessellation.voronoi_cells([[1.0, 1.0]], (0, 0, 4, 2))
    np.testing.assert_allclose(one.area, [8.0])
    line = tessellation.voronoi_cells([[3.0, 1.0], [0.0, 1.0], [1.0, 1.0]], (0, 0, 4, 2))
    # strips split at x = 0.5 and x = 2
    np.testing.assert_allclose(line.area, [4.0, 1.0, 3.0])
    assert line.touches_boundary.all()


def test_coincident_points_share_one_cell():
    xy = np.array([[1.0, 1.0], [3.0, 1.0], [1.0, 1.0]])
    cells = tessellation.voronoi_cells(xy, (0, 0, 4, 2))
    np.testing.assert_allclose(cells.area, [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(_cell(cells, 0), _cell(cells, 2))


def test_points_1e15_apart_get_their_own_cells():
    xy = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0.25, 0.5], [0.25 + 1e-15, 0.5]])
    cells = tessellation.voronoi_cells(xy, (0, 0, 1, 1))
    # the exact Delaunay triangulation keeps both twins: six cells tile the square
    assert not np.array_equal(_cell(cells, 4), _cell(cells, 5))
    assert cells.area.sum() == pytest.approx(1.0, rel=1e-12)


def test_empty_point_set():
    cells = tessellation.voronoi_cells(np.empty((0, 2)), (0, 0, 1, 1))
    assert cells.offsets.tolist() == [0]
    assert cells.vertices.shape == (0, 2)
    assert cells.area.shape == cells.touches_boundary.shape == (0,)


def test_convex_hull_of_a_square_with_inner_and_edge_points():
    xy = np.array([[1, 1], [0, 0], [2, 0], [2, 2], [0, 2], [1, 0], [0, 0]], dtype=float)
    hull = tessellation.convex_hull(xy)
    np.testing.assert_array_equal(hull, [[0, 0], [2, 0], [2, 2], [0, 2]])
    assert tessellation.polygon_area(hull) == 4.0
    assert tessellation.polygon_area(hull[::-1]) == 4.0


def test_convex_hull_of_degenerate_sets():
    assert tessellation.convex_hull(np.empty((0, 2))).shape == (0, 2)
    np.testing.assert_array_equal(tessellation.convex_hull([[1.0, 2.0], [1.0, 2.0]]),
                                  [[1.0, 2.0]])
    np.testing.assert_array_equal(
        tessellation.convex_hull([[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]]), [[0, 0], [2, 2]])
    assert tessellation.polygon_area([[0.0, 0.0], [1.0, 1.0]]) == 0.0


def test_polygon_area_keeps_digits_far_from_the_origin():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float) + 1e7
    assert tessellation.polygon_area(square) == 1.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: tessellation.voronoi_cells([[0.5, 0.5], [2.0, 0.5]], (0, 0, 1, 1)),
         r"1 point\(s\) lie outside the window .* first at index \[1\]"),
        (lambda: tessellation.voronoi_cells([[0.5, 0.5]], (0, 0, 0, 1)),
         "positive width and height"),
        (lambda: tessellation.voronoi_cells([[0.5, 0.5]], (0, 0, 1)), r"\(xmin, ymin"),
        (lambda: tessellation.voronoi_cells([[np.inf, 0.5]], (0, 0, 1, 1)), "non-finite"),
        (lambda: tessellation.convex_hull(np.zeros(4)), r"shape \(n, 2\)"),
        (lambda: tessellation.polygon_area([[0.0, np.nan]] * 3), "vertices has 3 non-finite"),
    ],
)
def test_bad_inputs_raise_with_a_precise_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------ properties vs references


@given(points(max_size=40), st.sampled_from([0.0, 1.5]))
def test_voronoi_cells_match_shapely(xy, pad):
    window = window_for(xy, pad)
    got = tessellation.voronoi_cells(xy, window)
    offsets, vertices, area, touches = ref.voronoi_cells(xy, window)
    scale = (window[2] - window[0]) * (window[3] - window[1])
    np.testing.assert_allclose(got.area, area, rtol=0, atol=1e-9 * scale)
    np.testing.assert_array_equal(got.touches_boundary, touches)
    for i in range(len(xy)):
        mine = _cell(got, i)
        assert _is_ccw(mine)
        theirs = Polygon(vertices[offsets[i]:offsets[i + 1]])
        assert Polygon(mine).symmetric_difference(theirs).area <= 1e-9 * scale


@given(points(min_size=1, max_size=40), st.sampled_from([0.0, 0.75]))
def test_distinct_cells_tile_the_window(xy, pad):
    xy = np.unique(xy, axis=0)
    window = window_for(xy, pad)
    cells = tessellation.voronoi_cells(xy, window)
    total = (window[2] - window[0]) * (window[3] - window[1])
    assert cells.area.sum() == pytest.approx(total, rel=1e-12)
    assert (cells.area > 0).all()
    # every hull vertex owns an unbounded Voronoi cell, so it reaches the window edge
    hull = tessellation.convex_hull(xy)
    on_hull = (xy[:, None, :] == hull[None, :, :]).all(axis=2).any(axis=1)
    assert cells.touches_boundary[on_hull].all()


@given(points(max_size=60))
def test_convex_hull_matches_shapely(xy):
    got = tessellation.convex_hull(xy)
    np.testing.assert_array_equal(got, ref.convex_hull(xy))
    want_area = MultiPoint([tuple(p) for p in xy]).convex_hull.area if len(xy) else 0.0
    assert tessellation.polygon_area(got) == pytest.approx(want_area, rel=1e-12, abs=0)
    assert tessellation.polygon_area(got) == pytest.approx(ref.polygon_area(got), rel=1e-12)


def test_cells_tile_the_window_far_from_the_origin():
    # slide coordinates: Qhull on raw coordinates this far out missed neighbours and
    # cells overlapped by ~1e-5 of the window
    rng = np.random.default_rng(2)
    origin = np.array([2.5e6, 7.1e6])
    xy = rng.random((2_000, 2)) * 1000.0 + origin
    cells = tessellation.voronoi_cells(xy, (*origin, *(origin + 1000.0)))
    assert cells.area.sum() == pytest.approx(1e6, rel=1e-11)


def test_poisson_cells_have_mean_area_window_over_n():
    rng = np.random.default_rng(11)
    xy = rng.random((5_000, 2)) * 100.0
    cells = tessellation.voronoi_cells(xy, (0, 0, 100, 100))
    assert cells.area.mean() == pytest.approx(100.0 * 100.0 / 5_000, rel=1e-12)
    # Poisson-Voronoi: the coefficient of variation of cell areas is about 0.53
    assert 0.48 < cells.area.std() / cells.area.mean() < 0.58
