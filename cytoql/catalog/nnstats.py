"""Nearest-neighbour statistics: the G, F and J functions and the Clark–Evans index.

G and F are ratios of counts in every correction (``none``: points / test locations
with nearest distance <= r over all of them; ``border``: the reduced sample, those
counted that lie at least r from the edge over those that do), so per FOV the partial is
the numerator and the denominator, and pooled over FOVs both are summed: the pooled G is
the estimate of all cells of all FOVs, each censored by its own FOV's edge. J is computed
from the pooled G and F. Clark–Evans R is the summed nearest-neighbour distances over the
summed expectations n E of the FOVs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cytoql.catalog import _nulls
from cytoql.catalog.kinds import CELLS, LENGTH_KIND, LENGTHS, Option
from cytoql.catalog.spec import RATIO_OF_SUMS, Builtin, Param, aggregate, cost, register
from cytoql.plan import Op
from cytoql.types import CurveT, RangeT, ScalarT
from cytoql.units import DIMENSIONLESS
from cytoql.values import Curve
from cytoql.work import Cost

__all__ = ["ClarkEvans", "NearestNeighbourFunction"]

CATEGORY = ("nearest-neighbour statistics", 61)

CORRECTION = Option("none", "border",
                    aliases={"rs": "border", "bord": "border", "reduced": "border",
                             "reduced_sample": "border"})
CE_CORRECTION = Option("none", "donnelly", "cdf")
REPORT = Option("R", "z", "p", aliases={"index": "R", "p_value": "p", "pvalue": "p"})

#: spatstat's default raster for F's test locations (npixel = 128 per side).
_DEFAULT_GRID = 128
#: Finer rasters than this per side (16.8 M test locations) are refused.
_MAX_GRID = 4096


@dataclass(frozen=True)
class NearestNeighbourFunction(Op):
    """G, F or J of ``cells`` at ``radii`` µm; ``curve`` for a range, else the one
    radius. ``spacing`` is F's test-grid spacing in µm (None: 128 × 128 locations)."""

    function: str
    cells: Op
    radii: tuple[float, ...]
    curve: bool
    correction: str
    spacing: float | None
    null: str
    nsim: int
    test: str


def _grid(op, window) -> int:
    if op.spacing is None:
        return _DEFAULT_GRID
    return max(1, math.ceil(max(window.width, window.height) / op.spacing))


def _counts(op, xy, window, grid):
    """The count arrays of one pattern: (G num, G den) and/or (F num, F den)."""
    from cytoql.kernels import nearest_neighbour as nn

    r, box = np.asarray(op.radii), window.as_tuple()
    parts = []
    if op.function in ("G", "J"):
        parts.extend(nn.g_counts(xy, r, box, correction=op.correction))
    if op.function in ("F", "J"):
        parts.extend(nn.f_counts(xy, r, box, correction=op.correction, grid=grid))
    return parts


def _partial(op: NearestNeighbourFunction, ev, group):
    a = ev.ids(op.cells)
    grid = _grid(op, ev.window)
    if grid > _MAX_GRID:
        ev.fail("E0402", f"F's test grid would be {grid} × {grid} locations in this "
                f"{ev.window.width:g} × {ev.window.height:g} µm window (at most "
                f"{_MAX_GRID} per side)", op,
                help=f"use a coarser grid, e.g. `grid = "
                     f"{math.ceil(max(ev.window.width, ev.window.height) / 512):g} um`")
    enough = len(a) >= (1 if op.function == "F" else 2)
    if not enough:
        ev.warn_empty(op, "too few cells for this statistic: its value is NaN here")
    counts = _counts(op, ev.xy[a], ev.window, grid)
    den = counts[1]
    undefined = np.any([d == 0 for d in counts[1::2]], axis=0)
    if op.correction == "border" and enough and undefined.any():
        first = op.radii[int(np.flatnonzero(undefined)[0])]
        w = ev.window
        ev.warn(op, "W0503", f"the border correction is undefined for r >= {first:g} µm "
                f"in this window ({w.width:g} × {w.height:g} µm): no cell (or test "
                "location) that far from the edge, NaN there")
    theo = np.zeros(len(op.radii))
    if op.function != "J":
        # the CSR value 1 − exp(−λπr²) weighted by the denominator, so that pooled it
        # is the CSR expectation of the pooled estimate
        lam = len(a) / ev.window.area
        theo = den * (1.0 - np.exp(-lam * math.pi * np.asarray(op.radii) ** 2))
    parts = [np.concatenate(counts).astype(float), theo]
    if op.null != "none":
        for xy, sa, _ in _nulls.simulations(op.null, op.nsim, ev.xy, ev.window, a, None,
                                            np.arange(ev.n), ev.rng(op)):
            parts.append(np.concatenate(_counts(op, xy[sa], ev.window, grid)).astype(float))
    return np.concatenate(parts)


def _ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _value(op, block, m):
    if op.function == "J":
        g, f = _ratio(block[:m], block[m:2 * m]), _ratio(block[2 * m:3 * m], block[3 * m:])
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(f < 1.0, (1.0 - g) / (1.0 - f), np.nan)
    return _ratio(block[:m], block[m:])


def _finish(op: NearestNeighbourFunction, partial):
    m = len(op.radii)
    width = (4 if op.function == "J" else 2) * m
    value = _value(op, partial[:width], m)
    if not op.curve:
        return float(value[0])
    theo = np.ones(m) if op.function == "J" else _ratio(partial[width:width + m],
                                                          partial[m:2 * m])
    lo = hi = p_value = None
    if op.null != "none":
        sims = partial[width + m:].reshape(op.nsim, width)
        curves = np.array([_value(op, s, m) for s in sims])
        lo, hi, p_value = _nulls.envelope_of(curves, value, theo, op.test)
    return Curve(np.asarray(op.radii), value, theo, lo, hi, p_value)


aggregate(NearestNeighbourFunction, partial=_partial, finish=_finish, combine=RATIO_OF_SUMS)


@cost(NearestNeighbourFunction)
def _cost(op: NearestNeighbourFunction, w):
    """One nearest-neighbour search per cell (G) and per test location (F), once for the
    data and once per simulation (a grid over the limit is refused by the partial)."""
    locations = min(_grid(op, w.window), _MAX_GRID) ** 2 if op.function in ("F", "J") else 0
    searches = (w.size(op.cells) if op.function in ("G", "J") else 0) + locations
    patterns = 1 + (op.nsim if op.null != "none" else 0)
    return Cost(patterns * searches, 8 * w.n + 16 * locations)


def _build(function):
    def build(args, ctx):
        curve = isinstance(args["r"].type, RangeT)
        _nulls.check_null(args, curve, cross=False)
        spacing = args["grid"].value if "grid" in args else None
        op = NearestNeighbourFunction(function, args["cells"].op, args["r"].value, curve,
                                      args["correction"].value, spacing,
                                      args["null"].value, args["nsim"].value,
                                      args["test"].value)
        return op, (CurveT(DIMENSIONLESS) if curve else ScalarT(DIMENSIONLESS))
    return build


_CELLS = Param("cells", CELLS, "the point pattern")
_R = Param("r", LENGTHS, "a radius (a number per FOV) or a range of radii (a curve), "
           "e.g. `r = 0 um .. 30 um by 2 um`", minimum=0.0)
_CORRECTION = Param("correction", CORRECTION, "edge correction: `border` (reduced sample: "
                    "only points at least r from the edge count, spatstat's `rs`) or "
                    "`none`", default="border")
_GRID = Param("grid", LENGTH_KIND, "spacing of F's test locations, a square raster over "
              "the window (at most this far apart in x and y); default 128 × 128 "
              "locations, spatstat's raster", default=None, minimum=0.0, strict=True)

# one-set functions: the shift null (B moved against A) does not apply
_NULL_PARAMS = (Param(
    "null", Option("none", "csr", "labels", aliases={
        k: v for k, v in _nulls.NULL.aliases.items() if v != "shift"}),
    "null model of the envelope: `csr` (uniform points in the window) or `labels` "
    "(random labelling: the set's cells drawn among all cells of the FOV, positions "
    "fixed); `none` for no simulations", default="none"),) + _nulls.NULL_PARAMS[1:]

_NND = ("d_i is the distance from cell i to its nearest other cell of the same set in its "
        "FOV (cells in different FOVs are never neighbours); b_i its distance to the FOV's "
        "edge; within r means d <= r",)
_COMMON = (
    "the window is the FOV rectangle from metadata, else the bounding box of its cells "
    "(recorded as an assumption)",
    "default correction border (spatstat's reduced-sample `rs`): unbiased for a "
    "stationary pattern and a ratio of counts, so it pools exactly; `none` is biased "
    "low near the edge; spatstat's Kaplan–Meier and Hanisch corrections are not offered",
    "NaN where the estimate is undefined: fewer than 2 cells (G) or no cell (F), or, "
    "with border, no point (test location) at least r from the edge (warning W0503); "
    "never extrapolated",
)
_POOL = ("pooled over FOVs as Σ numerator / Σ denominator: the estimate of all cells of "
         "all FOVs, each censored by its own FOV's edge (ratio of sums, exact for both "
         "corrections); the pooled CSR value is the mean of the FOVs' 1 − exp(−λπr²) "
         "weighted by their denominators (so NaN, like the estimate, where all are 0)",)
_F_CONVENTIONS = (
    "test locations: the centres of a g × g raster over the window, g = ⌈max(width, "
    "height) / grid⌉ (at most 4096), or g = 128 by default; F is resolved to about half "
    "a raster diagonal",
    "e_j is the distance from test location j to the nearest cell of the set",
)

_FUNCTIONS = {
    "G": ("g_function", ("G", "Gest"),
          "Nearest-neighbour distance distribution G(r): the fraction of cells whose "
          "nearest other cell lies within r (1 − exp(−λπr²) under CSR; above it for "
          "clustering).",
          _NND + ("G = #{d_i <= r} / n (none) or #{d_i <= r <= b_i} / #{b_i >= r} "
                  "(border)",),
          'g_function(cells where type == "PCT", r = 0 um .. 30 um by 3 um)'),
    "F": ("f_function", ("F", "Fest"),
          "Empty-space function F(r): the fraction of locations of the window within r of "
          "a cell (1 − exp(−λπr²) under CSR; below it for clustering).",
          _F_CONVENTIONS + ("F = #{e_j <= r} / g² (none) or #{e_j <= r <= b_j} / "
                            "#{b_j >= r} (border), b_j the location's distance to the edge",),
          'f_function(cells where type == "PCT", r = 0 um .. 60 um by 6 um, grid = 5 um)'),
    "J": ("j_function", ("J", "Jest"),
          "Van Lieshout–Baddeley J(r) = (1 − G(r)) / (1 − F(r)): 1 under CSR, below 1 for "
          "clustering, above 1 for regularity.",
          _NND + _F_CONVENTIONS + ("G and F with the same correction; J is NaN where "
                                   "F(r) = 1",
                                   "pooled: J of the pooled G and F (each a ratio of "
                                   "sums), never a mean of per-FOV J"),
          'j_function(cells where type == "macrophage", r = 0 um .. 40 um by 5 um, '
          'correction = none)'),
}

for _function, (_name, _aliases, _doc, _own, _example) in _FUNCTIONS.items():
    register(Builtin(
        name=_name, category=CATEGORY[0],
        params=(_CELLS, _R, _CORRECTION) + ((_GRID,) if _function != "G" else ())
        + _NULL_PARAMS,
        returns="a dimensionless number per FOV for one radius; a curve over r for a range "
                "(with the CSR value, and an envelope with `null`)",
        doc=_doc, conventions=_own + _COMMON + (() if _function == "J" else _POOL)
        + _nulls.CONVENTIONS,
        examples=(_example,), combine=RATIO_OF_SUMS, build=_build(_function),
        aliases=_aliases))


# ------------------------------------------------------------------ Clark–Evans

@dataclass(frozen=True)
class ClarkEvans(Op):
    """Clark–Evans R (or its z or p-value) of ``cells``."""

    cells: Op
    correction: str
    report: str


def _ce_partial(op: ClarkEvans, ev, group):
    from cytoql.kernels import nearest_neighbour as nn

    a = ev.ids(op.cells)
    if len(a) < 2:
        ev.warn_empty(op, "fewer than 2 cells: Clark–Evans R is NaN here")
        return np.zeros(3)
    ce = nn.clark_evans(ev.xy[a], ev.window.as_tuple(), correction=op.correction)
    if not math.isfinite(ce.mean_distance):
        ev.warn(op, "W0503", "no nearest-neighbour distance is shorter than its cell's "
                "distance to the edge: the cdf-corrected mean is undefined, NaN here")
        return np.zeros(3)
    # partial: the sum of NNDs, its CSR expectation n E and its null variance
    # (n E SE)² = 0.26136² |W|; all three add over independent FOVs
    expected = len(a) * ce.expected_distance
    return np.array([len(a) * ce.mean_distance, expected,
                     (expected * ce.standard_error) ** 2])


def _ce_finish(op: ClarkEvans, partial):
    total, expected, variance = partial
    if expected <= 0:
        return float("nan")
    r = total / expected
    if op.report == "R":
        return float(r)
    z = (r - 1.0) / (math.sqrt(variance) / expected)
    return float(z) if op.report == "z" else math.erfc(abs(z) / math.sqrt(2.0))


aggregate(ClarkEvans, partial=_ce_partial, finish=_ce_finish, combine=RATIO_OF_SUMS)


def _ce_build(args, ctx):
    return (ClarkEvans(args["cells"].op, args["correction"].value, args["report"].value),
            ScalarT(DIMENSIONLESS))


register(Builtin(
    name="clark_evans", category=CATEGORY[0],
    params=(_CELLS,
            Param("correction", CE_CORRECTION, "edge correction: `none`, `donnelly` "
                  "(Donnelly's edge term in the expected distance) or `cdf` (the mean of "
                  "the border-censored Kaplan–Meier NND distribution)", default="none"),
            Param("report", REPORT, "which number: the index `R`, its `z` score against "
                  "CSR, or the two-sided `p` value", default="R")),
    returns="a dimensionless number per FOV",
    doc="Clark–Evans aggregation index R = mean nearest-neighbour distance / its CSR "
        "expectation 0.5/√λ (1 under CSR, < 1 clustered, > 1 regular), with its z-test.",
    conventions=(
        "R = mean_i d_i / E with E = 0.5 √(|W|/n) (none), E + (0.0514 + 0.0412/√n) P/n "
        "(donnelly, P the window's perimeter), or the cdf mean in place of mean_i d_i "
        "(spatstat's clarkevans)",
        "z = (R − 1) / SE with SE = 0.26136 √|W| / (n E); p = 2 (1 − Φ(|z|)), two-sided "
        "(spatstat's clarkevans.test, method asymptotic); one statistic, so R, z and p "
        "are one built-in and `report` picks the number (a scalar composes in arithmetic "
        "and comparisons)",
        "default correction none, spatstat's clarkevans.test default: biased high near "
        "the edge (about +4 % for 100 points in a square); donnelly fixes that for "
        "rectangles",
        "d_i is the distance to the nearest other cell of the set in the same FOV; the "
        "window is the FOV rectangle (metadata, else the bounding box of its cells)",
        "NaN for fewer than 2 cells (warning W0501) and, with cdf, when no distance is "
        "observed before its cell's edge distance (W0503)",
        "pooled over FOVs as Σ_f n_f mean_f / Σ_f n_f E_f with SE = 0.26136 √(Σ|W_f|) / "
        "Σ n_f E_f (ratio of sums): the mean NND of all cells against its expectation "
        "under CSR in each FOV, not a window of summed area; exact for none and donnelly; "
        "for cdf the numerator sums n_f times each FOV's Kaplan–Meier mean (their "
        "n-weighted mean, not the Kaplan–Meier mean of the gathered distances)",
    ),
    examples=('clark_evans(cells where type == "PCT")',),
    combine=RATIO_OF_SUMS, build=_ce_build,
    aliases=("clarkevans", "clark_evans_r", "clarkevans_test")))
