"""Graphs: Delaunay and its measures against scipy (Qhull, csgraph) and networkx.

* Delaunay triangulation: CytoQL's own (:func:`cytoql.kernels.delaunay.triangles`,
  duplicates merged, exact predicates) against ``scipy.spatial.Delaunay`` (Qhull), the
  triangles alone on both sides (target: ratio >= 2 at 1M).
* Delaunay graph with edge lengths and degrees against ``scipy.spatial.Delaunay`` alone:
  the canonical edge list, the duplicate rule and the measures on top of the
  triangulation, still against Qhull's triangles alone.
* Euclidean MST: CytoQL's Kruskal over its Delaunay edges against scipy's
  ``Delaunay`` + ``csgraph.minimum_spanning_tree`` on the same edges, the whole pipeline
  timed on both sides (csgraph drops zero-length edges, so duplicates would stay apart
  there; the synthetic tissue has none).
* Clustering coefficient (Delaunay graph) and connected components (20 µm radius graph)
  on a given edge list, against networkx (graph built once, untimed; up to 100k cells:
  a networkx graph of 1M cells takes several GB) and, for components, scipy ``csgraph``
  with its sparse matrix built inside the timed call as CytoQL builds its adjacency.
"""

from __future__ import annotations

import numpy as np
from harness import Case
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay

from cytoql.kernels import delaunay, graphs

R_COMPONENTS = 20.0
NETWORKX = "networkx (graph prebuilt)"
NETWORKX_MAX_N = 100_000


def _setup(p):
    return {"xy": p.xy, "n": len(p.xy)}


def _setup_delaunay(p):
    return {**_setup(p), "edges": graphs.delaunay_edges(p.xy)}


def _setup_radius(p):
    return {**_setup(p), "edges": graphs.radius_edges(p.xy, R_COMPONENTS)}


def _delaunay_measures(d):
    edges = graphs.delaunay_edges(d["xy"])
    return edges, graphs.edge_lengths(d["xy"], edges), graphs.degrees(edges, d["n"])


def _scipy_mst(d):
    xy, n = d["xy"], d["n"]
    tri = Delaunay(xy).simplices.astype(np.int64)
    pairs = np.sort(tri[:, [0, 1, 1, 2, 0, 2]].reshape(-1, 2), axis=1)
    keys = np.unique(pairs[:, 0] * n + pairs[:, 1])
    i, j = keys // n, keys % n
    length = np.hypot(*(xy[i] - xy[j]).T)
    return minimum_spanning_tree(coo_matrix((length, (i, j)), shape=(n, n)).tocsr())


def _nx_graph(d):
    """The networkx graph of ``d["edges"]``, built on the (untimed) warm-up call."""
    if "nx" not in d:
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(d["n"]))
        graph.add_edges_from(d["edges"].tolist())
        d["nx"] = graph
    return d["nx"]


def _nx_clustering(d):
    import networkx as nx

    return nx.clustering(_nx_graph(d))


def _nx_components(d):
    import networkx as nx

    return sorted(len(c) for c in nx.connected_components(_nx_graph(d)))


def _scipy_components(d):
    e, n = d["edges"], d["n"]
    matrix = coo_matrix((np.ones(len(e), dtype=np.int8), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(matrix.tocsr(), directed=False)


CASES = [
    Case("Delaunay triangulation", _setup, lambda d: delaunay.triangles(d["xy"]),
         {"scipy Delaunay (Qhull)": lambda d: Delaunay(d["xy"])},
         target="ratio >= 2 at 1M"),
    Case("Delaunay edges + lengths + degrees", _setup, _delaunay_measures,
         {"scipy Delaunay alone": lambda d: Delaunay(d["xy"])}),
    Case("Euclidean MST (via Delaunay)", _setup, lambda d: graphs.mst_edges(d["xy"]),
         {"scipy Delaunay + csgraph MST": _scipy_mst}),
    Case("clustering coefficient, Delaunay graph", _setup_delaunay,
         lambda d: graphs.clustering_coefficient(d["edges"], d["n"]),
         {NETWORKX: _nx_clustering}, baseline_max_n={NETWORKX: NETWORKX_MAX_N}),
    Case(f"connected components, {R_COMPONENTS:g} µm radius graph", _setup_radius,
         lambda d: graphs.connected_components(d["edges"], d["n"]),
         {"scipy csgraph": _scipy_components, NETWORKX: _nx_components},
         baseline_max_n={NETWORKX: NETWORKX_MAX_N}),
]
