"""Tests of cytoql.kernels.neighbourhood: paper cases, references and squidpy agreement."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cytoql.kernels import neighbourhood as nh
from cytoql.kernels.reference import neighbourhood as ref
from strategies import labelled_points


def _csr(n, pairs):
    """CSR (indptr, indices) of directed entries ``pairs``, duplicates kept."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    order = np.argsort(pairs[:, 0], kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs[:, 0], minlength=n), out=indptr[1:])
    return indptr, pairs[order, 1]


def _symmetric(pairs):
    return [p for a, b in pairs for p in ((a, b), (b, a))]


@st.composite
def graphs(draw, max_cells=25, n_labels=3, symmetric=None):
    """(indptr, indices, labels, groups) of a random directed graph with repeats and
    self-loops; ``symmetric`` (drawn if None): every entry listed both ways."""
    n = draw(st.integers(1, max_cells))
    cell = st.integers(0, n - 1)
    pairs = draw(st.lists(st.tuples(cell, cell), max_size=4 * n))
    if symmetric if symmetric is not None else draw(st.booleans()):
        pairs = _symmetric(pairs)
        pairs = draw(st.permutations(pairs)) if pairs else pairs  # rows in any order
    labels = np.array(draw(st.lists(st.integers(0, n_labels - 1), min_size=n, max_size=n)))
    groups = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    return (*_csr(n, pairs), labels, groups)


# --------------------------------------------------------------------------- paper cases


def test_label_edge_counts_count_both_directions():
    indptr, indices = _csr(3, _symmetric([(0, 1), (1, 2)]))
    np.testing.assert_array_equal(nh.label_edge_counts(indptr, indices, [0, 1, 1], 2),
                                  [[0, 1], [1, 2]])


def test_nhood_enrichment_matches_exact_permutation_distribution():
    # two disjoint edges, labels 0 0 1 1: of the 6 equally likely arrangements, 2 keep
    # both edges same-label (count[0, 0] = 2), 4 make both mixed (count[0, 0] = 0), so
    # mean 2/3 and std 2 sqrt(2) / 3, and the z-scores are +-sqrt(2)
    indptr, indices = _csr(4, _symmetric([(0, 1), (2, 3)]))
    got = nh.nhood_enrichment(indptr, indices, [0, 0, 1, 1], 2, n_perms=20000,
                              rng=np.random.default_rng(0))
    np.testing.assert_array_equal(got.counts, [[2, 0], [0, 2]])
    # Monte-Carlo error of z with 20000 permutations: sqrt((2 + z^2) / n) = 0.014; 4 SD
    s = np.sqrt(2)
    np.testing.assert_allclose(got.zscore, [[s, -s], [-s, s]], atol=0.06)


def test_nhood_enrichment_is_nan_where_permutations_cannot_vary():
    indptr, indices = _csr(4, _symmetric([(0, 1), (2, 3)]))
    # each group holds a single label: permuting within groups changes nothing
    got = nh.nhood_enrichment(indptr, indices, [0, 0, 1, 1], 2, n_perms=5,
                              rng=np.random.default_rng(1), groups=[0, 0, 1, 1])
    assert np.isnan(got.zscore).all()


def test_co_occurrence_on_paper():
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])  # labels A, B, B
    labels = [0, 1, 1]
    occ = nh.co_occurrence(xy, labels, 2, [0.0, 1.5, 2.5])
    # bin 0 (d <= 1.5): the pair A-B both ways; bin 1 (d <= 2.5): also B-B both ways
    np.testing.assert_allclose(occ[:, :, 0], [[0.0, 2.0], [2.0, 0.0]])
    np.testing.assert_allclose(occ[:, :, 1], [[0.0, 4 / 3], [4 / 3, 8 / 9]])
    occ = nh.co_occurrence(xy, labels, 2, [0.0, 1.5, 2.5], cumulative=False)
    # bin 1 alone, 1.5 < d <= 2.5, holds only B-B: A is in no pair there
    np.testing.assert_allclose(occ[:, :, 1], [[np.nan, np.nan], [np.nan, 1.0]])


# --------------------------------------------------------------------------- references


@given(graph=graphs(), seed=st.integers(0, 2**16), use_groups=st.booleans())
def test_nhood_enrichment_matches_reference(graph, seed, use_groups):
    indptr, indices, labels, groups = graph
    groups = groups if use_groups else None
    np.testing.assert_array_equal(nh.label_edge_counts(indptr, indices, labels, 3),
                                  ref.label_edge_counts(indptr, indices, labels, 3))
    got = nh.nhood_enrichment(indptr, indices, labels, 3, n_perms=30,
                              rng=np.random.default_rng(seed), groups=groups)
    want = ref.nhood_enrichment(indptr, indices, labels, 3, n_perms=30,
                                rng=np.random.default_rng(seed), groups=groups)
    # the same generator stream and the same integer counts: equal bits
    np.testing.assert_array_equal(got.counts, want[1])
    np.testing.assert_array_equal(got.zscore, want[0])


@given(graph=graphs(), seed=st.integers(0, 2**16), use_groups=st.booleans())
def test_permuted_edge_counts_match_reference(graph, seed, use_groups):
    # each permuted table against label_edge_counts of the labels the reference's
    # streams permute, symmetric graphs (half counted) and others alike
    indptr, indices, labels, groups = graph
    groups = groups if use_groups else None
    got = nh.permuted_edge_counts(indptr, indices, labels, 3, n_perms=7,
                                  rng=np.random.default_rng(seed), groups=groups)
    want = ref.permuted_edge_counts(indptr, indices, labels, 3, n_perms=7,
                                    rng=np.random.default_rng(seed), groups=groups)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    # a permutation keeps the number of entries
    np.testing.assert_array_equal(got.sum(axis=(1, 2)), len(indices))


@given(graph=graphs(symmetric=True))
def test_symmetric_graphs_are_counted_by_their_half(graph):
    indptr, indices, _, _ = graph
    pairs, loops, symmetric = nh._edge_pairs(indptr, indices)
    assert symmetric
    assert len(pairs) * 2 + len(loops) == len(indices)


def test_a_one_sided_entry_is_counted_as_given():
    # (0, 1) twice and (1, 0) once: not symmetric, so no half may be mirrored
    indptr, indices = _csr(2, [(0, 1), (0, 1), (1, 0)])
    got = nh.permuted_edge_counts(indptr, indices, [0, 1], 2, n_perms=50,
                                  rng=np.random.default_rng(0))
    assert {tuple(t.ravel()) for t in got} == {(0, 2, 1, 0), (0, 1, 2, 0)}


def test_nhood_enrichment_is_the_same_on_any_thread_count():
    numba = pytest.importorskip("numba")
    rng = np.random.default_rng(3)
    pairs = rng.integers(0, 300, size=(1200, 2))
    indptr, indices = _csr(300, pairs)
    labels = rng.integers(0, 4, size=300)
    most = numba.config.NUMBA_NUM_THREADS
    if most < 2:
        pytest.skip("one CPU: nothing to compare")
    before = numba.get_num_threads()
    results = []
    try:
        for threads in (1, most):
            numba.set_num_threads(threads)
            results.append([nh.nhood_enrichment(indptr, indices, labels, 4, n_perms=64,
                                                rng=np.random.default_rng(8), groups=g)
                            for g in (None, labels % 3)])
    finally:
        numba.set_num_threads(before)
    for one, many in zip(*results):
        np.testing.assert_array_equal(many.zscore, one.zscore)


def test_permuted_edge_counts_are_the_same_under_numba_num_threads_1_and_2():
    # fresh interpreters: the thread count fixed at start-up, as a user would set it
    script = (
        "import numpy as np\n"
        "from cytoql.kernels import neighbourhood as nh\n"
        "rng = np.random.default_rng(5)\n"
        "pairs = rng.integers(0, 500, size=(3000, 2))\n"
        "pairs = np.vstack([pairs, pairs[:, ::-1]])\n"
        "pairs = pairs[np.argsort(pairs[:, 0], kind='stable')]\n"
        "indptr = np.searchsorted(pairs[:, 0], np.arange(501))\n"
        "labels = rng.integers(0, 5, size=500)\n"
        "out = [nh.permuted_edge_counts(indptr, pairs[:, 1], labels, 5, n_perms=37,\n"
        "       rng=np.random.default_rng(2), groups=g) for g in (None, labels % 2)]\n"
        "print(hashlib.sha256(np.stack(out).tobytes()).hexdigest())\n")
    digests = [_run_with_threads("import hashlib\n" + script, threads) for threads in (1, 2)]
    assert digests[0] == digests[1]


def _run_with_threads(script, threads):
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-P", "-c", script], capture_output=True,
                         text=True, env=env, check=True)
    return out.stdout.strip().splitlines()[-1]


@given(data=labelled_points(max_size=50), steps=st.lists(st.integers(1, 24), min_size=1,
                                                          max_size=6),
       start=st.sampled_from([0.0, 0.125, 0.3]), cumulative=st.booleans())
def test_co_occurrence_matches_reference(data, steps, start, cumulative):
    xy, labels = data
    interval = start + np.concatenate([[0.0], np.cumsum(steps) / 8.0])
    got = nh.co_occurrence(xy, labels, 3, interval, cumulative=cumulative)
    want = ref.co_occurrence(xy, labels, 3, interval, cumulative=cumulative)
    np.testing.assert_allclose(got, want, rtol=1e-14, equal_nan=True)


def test_co_occurrence_is_symmetric_and_one_without_structure():
    # every label equally mixed everywhere: p(a | b) = p(a), so occ -> 1 at large r
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 100, size=(3000, 2))
    labels = rng.integers(0, 3, size=3000)
    occ = nh.co_occurrence(xy, labels, 3, [0.0, 10.0, 30.0, 60.0])
    np.testing.assert_allclose(occ, occ.transpose(1, 0, 2), rtol=1e-12)
    # within 60 each label is in ~1e6 pairs: multinomial error far below 0.05
    np.testing.assert_allclose(occ[:, :, 2], 1.0, atol=0.05)


# --------------------------------------------------------------------------- squidpy


@pytest.fixture(scope="module")
def squidpy_data():
    pytest.importorskip("squidpy")
    import anndata as ad
    import pandas as pd
    from scipy import sparse
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(9)
    # integer coordinates: exact in squidpy's float32, so distances agree exactly
    xy = rng.integers(0, 120, size=(400, 2)).astype(np.float64)
    labels = np.where(xy[:, 0] < 60, rng.integers(0, 2, 400), rng.integers(1, 4, 400))
    _, knn = cKDTree(xy).query(xy, k=7)
    rows = np.repeat(np.arange(400), 6)
    adj = sparse.csr_matrix((np.ones(rows.size), (rows, knn[:, 1:].ravel())),
                            shape=(400, 400))
    adj = ((adj + adj.T) > 0).astype(np.float64).tocsr()
    adata = ad.AnnData(obs=pd.DataFrame(
        {"type": pd.Categorical.from_codes(labels, ["a", "b", "c", "d"])},
        index=[f"c{i}" for i in range(400)]))
    adata.obsm["spatial"] = xy
    adata.obsp["spatial_connectivities"] = adj
    return adata, xy, labels, adj


def test_nhood_enrichment_agrees_with_squidpy(squidpy_data):
    import squidpy as sq

    adata, _, labels, adj = squidpy_data
    n_perms = 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z_sq, count_sq = sq.gr.nhood_enrichment(adata, "type", n_perms=n_perms, seed=0,
                                                copy=True, n_jobs=1,
                                                show_progress_bar=False)
    got = nh.nhood_enrichment(adj.indptr, adj.indices, labels, 4, n_perms=n_perms,
                              rng=np.random.default_rng(0))
    np.testing.assert_array_equal(got.counts, count_sq)
    # two independent Monte-Carlo estimates of z: SD of their difference is about
    # sqrt((2 + z^2) / n_perms) (mean and std each estimated); allow 5 SD
    tolerance = 5 * np.sqrt((2 + z_sq**2) / n_perms)
    assert (np.abs(got.zscore - z_sq) <= tolerance).all()


def test_co_occurrence_agrees_with_squidpy(squidpy_data):
    import squidpy as sq

    adata, xy, labels, _ = squidpy_data
    interval = np.array([0.5, 5.5, 12.5, 25.5, 40.5])  # no integer distance ties
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        occ_sq, _ = sq.gr.co_occurrence(adata, "type", interval=interval, copy=True)
    got = nh.co_occurrence(xy, labels, 4, interval)
    assert got.shape == occ_sq.shape == (4, 4, 4)
    defined = ~np.isnan(got)
    np.testing.assert_allclose(got[defined], occ_sq[defined], rtol=1e-10)
    np.testing.assert_array_equal(occ_sq[~defined], 0.0)  # squidpy stores 0 there


# --------------------------------------------------------------------------- bad input


def test_bad_inputs_raise_precise_errors():
    indptr, indices = _csr(3, [(0, 1)])
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 3\) for 3 cells"):
        nh.label_edge_counts(indptr, [5], [0, 0, 0], 1)
    with pytest.raises(ValueError, match="indptr must start at 0 and end at len"):
        nh.label_edge_counts([0, 1, 1, 2], indices, [0, 0, 0], 1)
    with pytest.raises(ValueError, match="indptr must be non-decreasing"):
        nh.label_edge_counts([0, 1, 0, 1], indices, [0, 0, 0], 1)
    with pytest.raises(TypeError, match="indices must be integer"):
        nh.label_edge_counts(indptr, [1.0], [0, 0, 0], 1)
    with pytest.raises(ValueError, match="labels must be < n_labels = 2, got 2"):
        nh.label_edge_counts(indptr, indices, [0, 2, 0], 2)
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        nh.label_edge_counts(indptr, indices, [0, 1], 2)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        nh.nhood_enrichment(indptr, indices, [0, 1, 0], 2, rng=0)
    with pytest.raises(ValueError, match="n_perms must be >= 1"):
        nh.nhood_enrichment(indptr, indices, [0, 1, 0], 2, n_perms=0, rng=rng)
    with pytest.raises(ValueError, match=r"groups must have shape \(3,\)"):
        nh.nhood_enrichment(indptr, indices, [0, 1, 0], 2, rng=rng, groups=[0])
    xy = np.zeros((3, 2))
    with pytest.raises(ValueError, match="interval must be a 1-D array of >= 2"):
        nh.co_occurrence(xy, [0, 1, 0], 2, [1.0])
    with pytest.raises(ValueError, match="interval edges must be strictly increasing"):
        nh.co_occurrence(xy, [0, 1, 0], 2, [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="interval edges must be finite and >= 0"):
        nh.co_occurrence(xy, [0, 1, 0], 2, [-1.0, 2.0])
