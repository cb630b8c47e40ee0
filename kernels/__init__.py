"""cytoql.kernels: numba kernels on plain numpy arrays.

Kernels know nothing of AnnData or the query language. Each public function has a
same-name, same-signature reference in :mod:`cytoql.kernels.reference` written in plain
numpy / scipy / shapely / networkx, against which it is property-tested.
"""
