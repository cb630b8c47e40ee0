"""Start-up cost: import a kernel module and make the first call of each of its kernels;
and the whole command line, ``cytoql query`` and ``cytoql demo``, in a fresh process.

The harness' untimed warm-up call would hide this cost, so each measurement here runs a
fresh interpreter (``python -c``) that imports ``cytoql.kernels.<module>`` and calls
every public kernel of it once on 60 points; the time is that interpreter's whole wall
time, so it also includes Python's start and the numpy / numba imports (an upper
bound). The warm-up call fills the numba cache (the harness points ``NUMBA_CACHE_DIR``
at its own directory), so the timed call measures the warm-cache start a user gets in
every new session. The tissue size ``n`` plays no part.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile

from harness import Case

PRELUDE = """
import numpy as np
from cytoql.kernels import {module} as m
rng = np.random.default_rng(0)
xy = rng.uniform(0.0, 100.0, (60, 2))
win = (0.0, 0.0, 100.0, 100.0)
r = np.linspace(0.0, 20.0, 5)
lab = np.arange(60) % 3
ids = np.arange(60)
"""

CALLS = {
    "spatial_index": """
t = m.build_kdtree(xy)
m.knn(t, xy, 3, skip=ids)
m.nearest_of_label(t, lab, 1, xy, skip=ids)
m.query_radius(t, xy, 10.0, skip=ids)
m.count_within(t, xy, 10.0, skip=ids)
m.count_within_by_label(t, lab, 3, xy, 10.0, skip=ids)
m.cumulative_counts(t, xy, r[1:], skip=ids)
m.label_pair_counts(t, lab, 3, r[1:])
""",
    "ripley": """
for c in m.CORRECTIONS:
    m.ripley_k(xy, r, win, c)
    m.ripley_k_cross(xy, lab == 0, lab == 1, r, win, c)
m.ripley_l(xy, r, win); m.ripley_h(xy, r, win)
m.ripley_l_cross(xy, lab == 0, lab == 1, r, win); m.ripley_h_cross(xy, lab == 0, lab == 1, r, win)
for c in m.PCF_CORRECTIONS:
    m.pcf(xy, r[1:], win, c)
""",
    "envelopes": """
from cytoql.kernels.ripley import ripley_l
m.simulate_csr(60, win, rng)
m.csr_envelope(lambda s: ripley_l(s, r, win)[0], 60, win, 5, rng, kind="global", observed=r)
m.envelope(rng.normal(size=(5, len(r))), observed=r, test="dclf")
""",
    "nearest_neighbour": """
m.nearest_distance(xy, xy, 2, skip=ids)
m.nearest_label(xy, xy, lab, skip=ids)
for c in m.CLARK_EVANS_CORRECTIONS:
    m.clark_evans(xy, win, correction=c)
for c in m.CORRECTIONS:
    m.g_function(xy, r, win, correction=c)
    m.f_function(xy, r, win, correction=c)
    m.g_counts(xy, r, win, correction=c); m.f_counts(xy, r, win, correction=c)
    m.j_function(xy, r, win, correction=c)
""",
    "quadrats": """
counts = m.quadrat_counts(xy, win, 25.0)[0]
m.vmr(counts); m.max_tile_count(counts); m.morisita_index(counts)
""",
    "autocorrelation": """
for w in (m.grid_weights((6, 10)), m.knn_weights(xy, 4), m.distance_band_weights(xy, 20.0)):
    m.morans_i(xy[:, 0], w, nperm=9, rng=rng)
    m.gearys_c(xy[:, 0], w, nperm=9, rng=rng)
    m.local_morans_i(xy[:, 0], w); m.getis_ord_g_star(xy[:, 0], w)
""",
    "graphs": """
e = m.delaunay_edges(xy)
m.gabriel_edges(xy); m.mst_edges(xy); m.knn_edges(xy, 3); m.radius_edges(xy, 15.0)
m.canonical_edges(e[:, ::-1], 60); m.adjacency(e, 60); m.degrees(e, 60)
m.mixed_edge_fraction(e, lab); m.clustering_coefficient(e, 60); m.connected_components(e, 60)
length = m.edge_lengths(xy, e)
m.closeness_centrality(e, 60); m.closeness_centrality(e, 60, length)
m.betweenness_centrality(e, 60); m.betweenness_centrality(e, 60, length)
""",
    "delaunay": """
m.triangles(xy)
""",
    "tessellation": """
m.voronoi_cells(xy, win)
m.polygon_area(m.convex_hull(xy))
""",
    "clusters": """
labels, core = m.dbscan(xy, 15.0, 3)
m.cluster_sizes(labels); m.cluster_composition(labels, lab, 3)
m.cluster_hull_areas(xy, labels); m.largest_cluster(labels)
""",
    "neighbourhood": """
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree
g = csr_matrix(cKDTree(xy).sparse_distance_matrix(cKDTree(xy), 20.0))
m.label_edge_counts(g.indptr, g.indices, lab, 3)
m.nhood_enrichment(g.indptr, g.indices, lab, 3, n_perms=9, rng=rng)
m.permuted_edge_counts(g.indptr, g.indices, lab, 3, n_perms=9, rng=rng)
m.co_occurrence(xy, lab, 3, r)
""",
}


def _first_calls(module):
    code = PRELUDE.format(module=module) + CALLS[module]

    def run(_):
        # outside the checkout: `python -c` puts the working directory first on sys.path,
        # where the source tree would shadow an installed (non-editable) cytoql
        subprocess.run([sys.executable, "-c", code], check=True, cwd=tempfile.gettempdir())

    return run


def _kidney_path() -> str:
    """The bundled kidney file that ``cytoql demo`` reads."""
    from importlib import resources

    return str(resources.files("cytoql.datasets") / "data" / "cosmx_kidney.h5ad")


CLI_QUERY = ('mean(distance(cells where type == "PCT" -> nearest cells where type == '
             '"Podocyte"))')
READ_ONLY = "python: import anndata, read the .h5ad (the floor)"


def _cli(*args):
    def run(_):
        code = f"from cytoql.cli import main; raise SystemExit(main({list(args)!r}))"
        subprocess.run([sys.executable, "-c", code], check=True, cwd=tempfile.gettempdir(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return run


def _read_only(_):
    code = f"import anndata; anndata.read_h5ad({_kidney_path()!r})"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tempfile.gettempdir())


CASES = [
    Case(f"import {module} + first call of each kernel (warm cache)", lambda p: None,
         _first_calls(module), sizes=(10_000,), target="< 2 s")
    for module in CALLS
] + [
    Case("`cytoql query` on the kidney data, fresh process (warm cache)", lambda p: None,
         lambda d: _cli("query", _kidney_path(), CLI_QUERY)(d), {READ_ONLY: _read_only},
         sizes=(10_000,), target="< 2 s"),
    Case("`cytoql demo`, fresh process (warm cache)", lambda p: None,
         lambda d: _cli("demo")(d), sizes=(10_000,), target="as short as it can be"),
]
