"""Graphs over a point set and the measures a spatial biologist asks of them.

Every graph is undirected and returned as an edge list: an ``(E, 2)`` int64 array with
``i < j`` in each row, rows sorted lexicographically, no repeated rows. This canonical
form is also what the measures accept, so ``edges`` from any builder here (or from
:func:`canonical_edges`) can be passed straight on.

Delaunay, Gabriel and minimum-spanning-tree graphs share one rule for coincident points:
each group of points at exactly the same position is represented by its lowest index,
which takes part in the triangulation; every other member of the group hangs off the
representative by one zero-length edge. The graph therefore stays connected, every
point has at least one edge as soon as there are two points, and the minimum spanning
tree of the graph is a Euclidean minimum spanning tree of all points.

The implementation is split by what it owns: the canonical edge list, its adjacency and
lengths (``_graph_edges``), the Delaunay, Gabriel and MST builders (``_graph_delaunay``),
the kNN and radius builders (``_graph_proximity``), degrees, mixed-label edges,
clustering and components (``_graph_measures``), and closeness and betweenness
(``_graph_centrality``).
"""

from __future__ import annotations

from ._graph_centrality import betweenness_centrality, closeness_centrality
from ._graph_delaunay import delaunay_edges, gabriel_edges, mst_edges
from ._graph_edges import adjacency, canonical_edges, edge_lengths
from ._graph_measures import (clustering_coefficient, connected_components, degrees,
                              mixed_edge_fraction)
from ._graph_proximity import knn_edges, radius_edges

__all__ = [
    "adjacency",
    "betweenness_centrality",
    "canonical_edges",
    "closeness_centrality",
    "clustering_coefficient",
    "connected_components",
    "degrees",
    "delaunay_edges",
    "edge_lengths",
    "gabriel_edges",
    "knn_edges",
    "mixed_edge_fraction",
    "mst_edges",
    "radius_edges",
]
