"""CSR envelopes: 100 simulations of L over 50 radii, against pointpats' ``l_test``.

CytoQL simulates 100 binomial patterns of the tissue's size in its window and
computes the translation-corrected L of each (:func:`cytoql.kernels.envelopes.csr_envelope`
over :func:`cytoql.kernels.ripley.ripley_l`). pointpats ``l_test(n_simulations=100)``
does the same simulations in the same bounding box, with uncorrected L, in parallel
worker processes (``n_jobs=-1``); each simulation builds all pairwise distances and
compares them with every radius at once (2.5 GB and about 13 s per simulation at
10k cells on the reference machine), so 100 of them at 10k would take over half an
hour: it runs at 2k cells only, where the same 50 radii still hold about 160
neighbours per cell.
"""

from __future__ import annotations

import numpy as np
from harness import Case

from cytoql.kernels import envelopes, ripley

RADII = np.linspace(0.0, 100.0, 50)
NSIM = 100
POINTPATS = f"pointpats l_test, {NSIM} simulations (no correction)"


def _setup(p):
    return {"xy": p.xy, "window": p.window}


def _envelope(d):
    xy, window = d["xy"], d["window"]
    observed, theo = ripley.ripley_l(xy, RADII, window)
    return envelopes.csr_envelope(lambda sim: ripley.ripley_l(sim, RADII, window)[0],
                                  len(xy), window, NSIM, np.random.default_rng(0),
                                  observed=observed, reference=theo)


def _pointpats_envelope(d):
    from pointpats import distance_statistics

    return distance_statistics.l_test(d["xy"], support=RADII, hull=np.asarray(d["window"]),
                                      n_simulations=NSIM, keep_simulations=True)


CASES = [
    Case(f"L envelope, {NSIM} CSR simulations, 50 radii, translation", _setup, _envelope,
         {POINTPATS: _pointpats_envelope}, sizes=(2_000, 10_000),
         baseline_max_n={POINTPATS: 2_000}, target="10k < 5 s"),
]
