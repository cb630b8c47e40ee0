"""Local Moran (LISA) and Getis–Ord Gi* against dense references, esda and by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import autocorrelation as ac
from cytoql.kernels.reference import autocorrelation as ref
from strategies import points

_FIELDS = ("statistic", "expected", "variance", "z")


def _dense(weights):
    n = weights.indptr.size - 1
    return scipy.sparse.csr_matrix(
        (weights.weights, weights.indices, weights.indptr), shape=(n, n)).toarray()


def _assert_local(got, want, rtol=1e-9):
    for field in _FIELDS:
        np.testing.assert_allclose(getattr(got, field), getattr(want, field), rtol=rtol,
                                   atol=1e-9, equal_nan=True, err_msg=field)


def test_local_moran_of_a_line_by_hand():
    # y = (1, 2, 3, 4) on a rook line, binary: z = (-1.5, -.5, .5, 1.5), sum z^2 = 5,
    # lags (-.5, -1, 1, .5): I_i = 3 z_i lag_i / 5
    res = ac.local_morans_i([1.0, 2.0, 3.0, 4.0], ac.grid_weights((1, 4)), transform="binary")
    np.testing.assert_allclose(res.statistic, [0.45, 0.3, 0.3, 0.45])
    np.testing.assert_allclose(res.expected, [-1 / 3, -2 / 3, -2 / 3, -1 / 3])
    # the local statistics sum to the global one up to the factor (n - 1) S0 / n
    glob = ac.morans_i([1.0, 2.0, 3.0, 4.0], ac.grid_weights((1, 4)), transform="binary")
    assert res.statistic.sum() == pytest.approx(glob.statistic * 3 * 6 / 4)


def test_g_star_by_hand():
    # rook line of 3, binary with self: rows {0,1}, {0,1,2}, {1,2}; sum y = 6
    res = ac.getis_ord_g_star([1.0, 2.0, 3.0], ac.grid_weights((1, 3)), transform="binary")
    np.testing.assert_allclose(res.statistic, [3 / 6, 6 / 6, 5 / 6])
    np.testing.assert_allclose(res.expected, [2 / 3, 1.0, 2 / 3])
    # W_i = n: the statistic is 1 whatever the values, variance 0, z undefined
    assert res.variance[1] == pytest.approx(0.0) and np.isnan(res.z[1])


def test_undefined_local_statistics_are_nan():
    w = ac.grid_weights((1, 4))
    assert np.isnan(ac.local_morans_i([2.0] * 4, w).statistic).all()
    assert np.isnan(ac.getis_ord_g_star([0.0] * 4, w).statistic).all()
    assert np.isnan(ac.local_morans_i([1.0, 2.0], ac.grid_weights((1, 2))).z).all()
    # a cell without neighbours: I_i = 0 with variance 0, so no z
    lonely = ac.distance_band_weights(np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0],
                                                [50.0, 0.0]]), 1.5)
    res = ac.local_morans_i([1.0, 2.0, 4.0, 3.0], lonely)
    assert res.statistic[3] == 0.0 and np.isnan(res.z[3]) and np.isfinite(res.z[:3]).all()


@given(
    values=st.lists(st.integers(0, 6), min_size=2, max_size=30),
    kind=st.sampled_from(["rook", "queen", "knn", "band"]),
    transform=st.sampled_from(ac.TRANSFORMS),
    data=st.data(),
)
def test_local_statistics_match_reference(values, kind, transform, data):
    y = np.array(values, dtype=np.float64)
    n = y.size
    if kind in ("rook", "queen"):
        w = ac.grid_weights((1, n) if data.draw(st.booleans()) else (n, 1), kind)
    else:
        xy = data.draw(points(min_size=n, max_size=n))
        w = ac.knn_weights(xy, 1) if kind == "knn" else ac.distance_band_weights(xy, 4.0)
    for name in ("local_morans_i", "getis_ord_g_star"):
        got = getattr(ac, name)(y, w, transform=transform)
        want = getattr(ref, name)(y, _dense(w), transform=transform)
        _assert_local(got, want)


def test_local_statistics_match_esda():
    esda = pytest.importorskip("esda")
    from libpysal.weights import W, fill_diagonal

    rng = np.random.default_rng(43)
    xy = rng.uniform(0, 100, (150, 2))
    y = np.exp(xy[:, 0] / 50 + rng.normal(0, 0.5, 150))  # positive, with a trend
    weights = ac.knn_weights(xy, 6)
    dense = scipy.sparse.csr_matrix((weights.weights, weights.indices, weights.indptr),
                                    shape=(150, 150))
    for transform, code in (("row", "r"), ("binary", "b")):
        mine = ac.local_morans_i(y, weights, transform=transform)
        theirs = esda.Moran_Local(y, W.from_sparse(dense), transformation=code,
                                  permutations=0)
        np.testing.assert_allclose(mine.statistic, theirs.Is, rtol=1e-9)
        np.testing.assert_allclose(mine.expected, theirs.EI, rtol=1e-9)
        np.testing.assert_allclose(mine.variance, theirs.VI, rtol=1e-9)
        star = fill_diagonal(W.from_sparse(dense), 1.0)
        mine = ac.getis_ord_g_star(y, weights, transform=transform)
        theirs = esda.G_Local(y, star, transform=code, star=True, permutations=0)
        np.testing.assert_allclose(mine.statistic, theirs.Gs, rtol=1e-9)
        np.testing.assert_allclose(mine.expected, theirs.EGs, rtol=1e-9)
        np.testing.assert_allclose(mine.z, theirs.Zs, rtol=1e-7)


def test_a_hot_spot_has_large_g_star():
    yy, xx = np.mgrid[0:15, 0:15]
    field = np.where((abs(yy - 7) <= 1) & (abs(xx - 7) <= 1), 10.0, 1.0)
    res = ac.getis_ord_g_star(field, ac.grid_weights(field.shape, "queen"))
    assert res.z.reshape(15, 15)[7, 7] > 4  # its queen neighbourhood is all hot
    assert np.nanargmax(res.z) == 7 * 15 + 7


def test_bad_local_arguments_are_rejected():
    w = ac.grid_weights((2, 3))
    with pytest.raises(ValueError, match="'row', 'binary'"):
        ac.local_morans_i(np.arange(6.0), w, transform="r")
    with pytest.raises(ValueError, match="cover 6 cells but values has 5"):
        ac.getis_ord_g_star(np.arange(5.0), w)
    with pytest.raises(ValueError, match="values must be finite"):
        ac.getis_ord_g_star([1.0, np.nan, 1, 1, 1, 1], w)
    with pytest.raises(TypeError, match="SpatialWeights"):
        ac.local_morans_i(np.arange(4.0), np.ones((4, 4)))
