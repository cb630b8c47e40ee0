"""Spatial autocorrelation: global Moran's I and Geary's C with their tests, and the
local statistics (local Moran's I_i, Getis–Ord Gi*).

Weights are sparse rows (CSR): contiguity on a grid of quadrat counts, k nearest
neighbours or a distance band over cells. Statistics, moments and p-values follow
PySAL esda (``esda/moran.py`` Moran, ``esda/geary.py`` Geary, ``Moran_Local``,
``G_Local``) and Cliff & Ord (1981), *Spatial Processes*, section 1.5 (I) and 1.5.2 (C).

The implementation is split by what it owns: the weights, their checks and row
standardisation (``_autocorr_weights``), the moments S0, S1, S2 of the weights and the
power sums of the values (``_autocorr_moments``), the statistics' sums observed and
under permutation (``_autocorr_sums``), Moran's I and Geary's C with their analytic and
permutation tests (``_autocorr_global``), and the local statistics
(``_autocorr_local``).
"""

from __future__ import annotations

from ._autocorr_global import AutocorrelationResult, gearys_c, morans_i
from ._autocorr_local import LocalAutocorrelation, getis_ord_g_star, local_morans_i
from ._autocorr_weights import (CONTIGUITIES, TRANSFORMS, SpatialWeights,
                                distance_band_weights, grid_weights, knn_weights)

__all__ = [
    "AutocorrelationResult",
    "SpatialWeights",
    "distance_band_weights",
    "gearys_c",
    "grid_weights",
    "knn_weights",
    "morans_i",
    "LocalAutocorrelation",
    "getis_ord_g_star",
    "local_morans_i",
]
