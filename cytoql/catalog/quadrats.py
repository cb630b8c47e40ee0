"""Quadrat statistics: counts of cells in square tiles and what is computed from them —
the variance-to-mean ratio, the maximum tile count, Morisita's index and the χ²
quadrat test.

The tiles have side ``size`` and are anchored at the lower-left corner of each FOV's
window; the last row and column are partial tiles cut by the window, kept by default
(``edge = keep``) or left out (``edge = drop``).

Each statistic is a built-in over a cell set (``quadrat_vmr(A, size = 30 um)``) rather
than a function of a value ``quadrat_counts(A, size = 30 um)``: a grid of tile counts
is not one of the result shapes (a number, a curve, a table over a label column), and
the statistics need only the counts, which pool exactly. Per FOV the partial of VMR,
Morisita and the maximum is the list of tile counts; pooled, the tiles of all FOVs are
gathered, so the pooled value is the statistic over all tiles of all FOVs. The χ² test
sums the per-FOV statistics and degrees of freedom (spatstat's ``pool.quadrattest``).
Grouped (``by type``), the cells of each group are counted in the FOV's tiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cytoql.catalog.kinds import CELLS, LENGTH_KIND, Option
from cytoql.catalog.spec import ADDITIVE, GATHER, Builtin, Param, aggregate, register
from cytoql.plan import Op
from cytoql.types import ScalarT
from cytoql.units import COUNT, DIMENSIONLESS

__all__ = ["QuadratStatistic", "QuadratTest"]

CATEGORY = ("quadrats", 62)

EDGE = Option("keep", "drop", aliases={"partial": "keep", "full": "drop"})
ALTERNATIVE = Option("two_sided", "clustered", "regular",
                     aliases={"two.sided": "two_sided", "both": "two_sided",
                              "greater": "clustered", "less": "regular"})
VALUE = Option("p_value", "statistic", aliases={"p": "p_value", "pvalue": "p_value",
                                               "chi2": "statistic", "X2": "statistic"})

#: Relative tolerance under which a tile narrower than ``size`` still counts as whole
#: (the kernel's grid rounds 0.3 / 0.1 to 3 tiles the same way).
_WHOLE = 1e-9
#: Expected counts below this make the χ² approximation doubtful (spatstat's warning).
_SMALL_EXPECTED = 5.0


@dataclass(frozen=True)
class QuadratStatistic(Op):
    """``statistic`` (``vmr``, ``max`` or ``morisita``) of the tile counts of ``cells``
    in square tiles of side ``size`` µm."""

    statistic: str
    cells: Op
    size: float
    edge: str


@dataclass(frozen=True)
class QuadratTest(Op):
    """Pearson's χ² test of CSR on the tile counts of ``cells`` (tiles of side ``size``
    µm); ``value`` is the statistic or the p-value under ``alternative``."""

    cells: Op
    size: float
    edge: str
    alternative: str
    value: str


def _tiles(op, ev, group, least: int = 2):
    """(counts, areas) of the kept tiles of one FOV (of the cells in the boolean mask
    ``group`` when grouped), flattened alike; warns when fewer than ``least`` tiles are
    kept."""
    from cytoql.kernels.quadrats import MAX_BINS, quadrat_counts

    w = ev.window
    tiles = math.ceil(w.width / op.size) * math.ceil(w.height / op.size)
    if tiles > MAX_BINS:
        ev.fail("E0402", f"tiles of {op.size:g} µm would make {tiles} tiles in this window "
                f"({w.width:g} × {w.height:g} µm), more than {MAX_BINS}", op,
                help="use larger tiles, e.g. `size = 30 um`")
    ids = ev.ids(op.cells)
    if group is not None:
        ids = ids[group[ids]]
    elif not len(ids):
        ev.warn_empty(op, "no cells in this set: every tile count is 0")
    counts, x_edges, y_edges = quadrat_counts(ev.xy[ids], ev.window.as_tuple(), op.size)
    widths, heights = np.diff(x_edges), np.diff(y_edges)
    areas = np.outer(heights, widths).ravel()
    counts = counts.ravel()
    if op.edge == "drop":
        whole = np.outer(heights >= op.size * (1 - _WHOLE),
                         widths >= op.size * (1 - _WHOLE)).ravel()
        counts, areas = counts[whole], areas[whole]
    if len(counts) < least:
        _warn_once(ev, op, "W0504", f"{len(counts)} {'whole ' if op.edge == 'drop' else ''}"
                f"tile(s) of {op.size:g} µm in this window ({w.width:g} × {w.height:g} µm): "
                f"the statistic needs at least {least}, its value is NaN here")
    return counts, areas


def _warn_once(ev, op, code, message):
    """Warn unless this FOV already has the warning (each group of a grouped query
    shares the FOV's tiles)."""
    if not any(d.code == code and d.message.endswith(message) for d in ev.warnings):
        ev.warn(op, code, message)


def _statistic_partial(op: QuadratStatistic, ev, group):
    return _tiles(op, ev, group, 1 if op.statistic == "max" else 2)[0].astype(float)


def _statistic_finish(op: QuadratStatistic, counts):
    from cytoql.kernels import quadrats

    counts = np.asarray(counts).astype(np.int64)
    if op.statistic == "max":
        return float(quadrats.max_tile_count(counts)) if len(counts) else float("nan")
    if op.statistic == "vmr":
        return quadrats.vmr(counts)
    return quadrats.morisita_index(counts) if len(counts) >= 2 else float("nan")


aggregate(QuadratStatistic, partial=_statistic_partial, finish=_statistic_finish,
          combine=GATHER, groupable=True)


def _test_partial(op: QuadratTest, ev, group):
    """[X², df] of one FOV; [0, 0] when it has no test to add (no cells, < 2 tiles)."""
    counts, areas = _tiles(op, ev, group)
    total, area = counts.sum(), areas.sum()
    if total == 0 or len(counts) < 2 or area <= 0:
        return np.zeros(2)
    expected = total * areas / area
    small = int((expected < _SMALL_EXPECTED).sum())
    if small:
        which = f"{small} of {len(counts)} tiles" if group is None else \
            "in some groups, tiles"
        _warn_once(ev, op, "W0505", f"{which} expect fewer than {_SMALL_EXPECTED:g} cells: "
                   "the χ² approximation may be inaccurate")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (counts - expected) ** 2 / expected, 0.0)
    return np.array([float(np.sum(terms)), float(len(counts) - 1)])


def _test_finish(op: QuadratTest, partial):
    from scipy.stats import chi2

    statistic, df = float(partial[0]), float(partial[1])
    if df <= 0:
        return float("nan")
    if op.value == "statistic":
        return statistic
    upper, lower = float(chi2.sf(statistic, df)), float(chi2.cdf(statistic, df))
    if op.alternative == "clustered":
        return upper
    if op.alternative == "regular":
        return lower
    return min(1.0, 2 * min(upper, lower))


aggregate(QuadratTest, partial=_test_partial, finish=_test_finish, combine=ADDITIVE,
          groupable=True)


_CELLS = Param("cells", CELLS, "the cells counted in the tiles")
_SIZE = Param("size", LENGTH_KIND, "side of the square tiles, e.g. `size = 30 um`",
              minimum=0.0, strict=True)
_EDGE = Param("edge", EDGE, "the partial tiles of the last row and column: `keep` (counted "
              "like whole tiles) or `drop` (left out, with their cells)", default="keep")

_COMMON = (
    "tiles of side `size` anchored at the lower-left corner of each FOV's window: edges "
    "xmin + k·size, the last row and column cut by the window (partial tiles)",
    "the window is the FOV rectangle from metadata, else the bounding box of its cells "
    "(recorded as an assumption)",
    "tiles are half-open [a, b) except the last, which also takes the window's max edge",
    "`edge = keep` (default) counts partial tiles like whole ones, so pick a size that "
    "divides the window when the statistic should compare equal areas; `edge = drop` "
    "leaves them and their cells out",
    "cells in different FOVs never share a tile; grouped (`by type`), each group's "
    "cells are counted in the same tiles",
)
_TOO_FEW = "NaN with fewer than 2 tiles (warning W0504)"
_GATHERED = ("pooled over FOVs by gathering the tile counts of all FOVs: the statistic "
             "over every tile of every FOV (exact, never a mean of per-FOV values)",)

_STATISTICS = {
    "vmr": ("quadrat_vmr", ("vmr", "index_of_dispersion"), DIMENSIONLESS,
            "Variance-to-mean ratio (index of dispersion) of the tile counts: about 1 under "
            "complete spatial randomness, above 1 clustered, below 1 regular.",
            ("VMR = s² / mean over the Q tiles, with the sample variance s² (divides by "
             "Q − 1); NaN when no cell falls in the tiles", _TOO_FEW),
            'quadrat_vmr(cells where type == "PCT", size = 30 um)'),
    "max": ("quadrat_max", ("max_tile_count",), COUNT,
            "Largest number of cells in one tile.",
            ("0 when the set is empty; NaN without a tile (`edge = drop` and tiles "
             "larger than the window; warning W0504)",),
            'quadrat_max(cells where type == "macrophage", size = 50 um)'),
    "morisita": ("quadrat_morisita", ("morisita", "morisita_index"), DIMENSIONLESS,
                 "Morisita's index of dispersion of the tile counts: about 1 under complete "
                 "spatial randomness, above 1 clustered, below 1 regular.",
                 ("I_M = Q Σ n_i (n_i − 1) / (N (N − 1)) over the Q tiles with N cells in "
                  "all (Morisita 1959); NaN for N < 2", _TOO_FEW),
                 'quadrat_morisita(cells where type == "Podocyte", size = 40 um, edge = drop)'),
}


def _build_statistic(statistic, dim):
    def build(args, ctx):
        op = QuadratStatistic(statistic, args["cells"].op, args["size"].value,
                              args["edge"].value)
        return op, ScalarT(dim)
    return build


for _statistic, (_name, _aliases, _dim, _doc, _own, _example) in _STATISTICS.items():
    register(Builtin(
        name=_name, category=CATEGORY[0], params=(_CELLS, _SIZE, _EDGE),
        returns=f"{_dim.article()} per FOV", doc=_doc,
        conventions=_own + _COMMON + _GATHERED, examples=(_example,), combine=GATHER,
        build=_build_statistic(_statistic, _dim), aliases=_aliases))


def _build_test(args, ctx):
    op = QuadratTest(args["cells"].op, args["size"].value, args["edge"].value,
                     args["alternative"].value, args["value"].value)
    return op, ScalarT(DIMENSIONLESS)


register(Builtin(
    name="quadrat_test", category=CATEGORY[0],
    params=(_CELLS, _SIZE, _EDGE,
            Param("alternative", ALTERNATIVE, "alternative hypothesis of the p-value: "
                  "`two_sided`, `clustered` (upper tail) or `regular` (lower tail)",
                  default="two_sided"),
            Param("value", VALUE, "what is returned: the `p_value` or the χ² `statistic`",
                  default="p_value")),
    returns="a dimensionless number per FOV (the p-value, or the χ² statistic)",
    doc="Pearson's χ² quadrat test of complete spatial randomness on the tile counts "
        "(spatstat's quadrat.test).",
    conventions=(
        "X² = Σ (n_i − E_i)² / E_i over the kept tiles, expected counts proportional to "
        "tile area: E_i = N a_i / Σ a_j (so a partial tile expects fewer cells)",
        "df = tiles − 1; p-value from the χ² distribution (scipy.stats.chi2): upper tail "
        "for `clustered`, lower for `regular`, 2·min of the two (at most 1) for "
        "`two_sided`, spatstat's default",
        "warning W0505 when some tile expects fewer than 5 cells (the χ² approximation "
        "is doubtful there; spatstat warns alike)",
        "NaN for a FOV with no cells in the tiles (warning W0501) or fewer than 2 tiles "
        "(warning W0504)",
    ) + _COMMON + (
        "pooled over FOVs by summing X² and df of the FOVs that have a test (spatstat's "
        "pool.quadrattest): each FOV keeps its own intensity",
    ),
    examples=('quadrat_test(cells where type == "PCT", size = 50 um)',),
    combine=ADDITIVE, build=_build_test, aliases=("quadrattest", "quadrat_chisq")))
