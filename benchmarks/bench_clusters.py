"""DBSCAN: CytoQL's KD-tree radius lists + expansion against scikit-learn.

Same parameters and conventions on both sides (``eps`` closed ball, ``min_samples``
counting the point itself; CytoQL reproduces scikit-learn's labels). scikit-learn
runs its radius queries on all cores (``n_jobs=-1``) as CytoQL does. At the kidney's
density a 15 µm ball holds about 3.5 cells under CSR, so ``min_samples=5`` keeps the
clustered tissue's dense patches and leaves sparse cells as noise.
"""

from __future__ import annotations

from harness import Case

from cytoql.kernels import clusters

EPS = 15.0
MIN_SAMPLES = 5


def _setup(p):
    return {"xy": p.xy}


def _sklearn(d):
    from sklearn.cluster import DBSCAN

    return DBSCAN(eps=EPS, min_samples=MIN_SAMPLES, n_jobs=-1).fit(d["xy"]).labels_


CASES = [
    Case(f"DBSCAN eps={EPS:g} µm, min_samples={MIN_SAMPLES}", _setup,
         lambda d: clusters.dbscan(d["xy"], EPS, MIN_SAMPLES),
         {"scikit-learn DBSCAN": _sklearn}),
]
