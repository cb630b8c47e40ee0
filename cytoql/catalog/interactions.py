"""Cell-type interactions: neighbourhood enrichment (squidpy), co-occurrence (squidpy),
SPIAT's mixing scores, and two summaries of any curve against its CSR value (area and
crossing radius, SPIAT's cross-K AUC and crossing).

Every per-FOV partial is a set of counts that adds over FOVs, so pooled values are
exact: the enrichment of all FOVs with labels permuted within each FOV (squidpy's
``library_key``), the co-occurrence and mixing scores of the summed pair counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from cytoql.catalog.kinds import CELLS, CURVE, INTEGER, LENGTH_KIND, LENGTHS, Option
from cytoql.catalog.spec import (ADDITIVE, RATIO_OF_SUMS, BuildError, Builtin, Param,
                                 aggregate, cost, evaluator, register)
from cytoql.plan import Op
from cytoql.types import CurveT, RangeT, ScalarT, TableT
from cytoql.units import DIMENSIONLESS, LENGTH
from cytoql.values import Curve
from cytoql.work import Cost

__all__ = ["CoOccurrence", "CurveSummary", "MixingScore", "NhoodEnrichment"]

CATEGORY = ("cell-type interactions", 64)

GRAPH = Option("delaunay", "knn", "radius",
               aliases={"triangulation": "delaunay", "kNN": "knn", "nearest": "knn",
                        "generic": "knn", "distance": "radius", "ball": "radius"})
BINS = Option("interval", "cumulative", aliases={"annulus": "interval", "ring": "interval",
                                                  "disc": "cumulative", "disk": "cumulative"})

_FOV = "cells in different FOVs are never neighbours; each FOV is its own window"


# ---------------------------------------------------------------------- enrichment
@dataclass(frozen=True)
class NhoodEnrichment(Op):
    """Permutation z-scores of the label-pair edge counts of a neighbour graph over
    ``cells`` (labels of ``column``)."""

    cells: Op
    column: str
    graph: str
    k: int
    radius: float
    nperm: int


def _graph_csr(op: NhoodEnrichment, xy: np.ndarray):
    from cytoql.kernels import graphs

    if op.graph == "delaunay":
        edges = graphs.delaunay_edges(xy)
    elif op.graph == "knn":
        edges = graphs.knn_edges(xy, op.k)
    else:
        edges = graphs.radius_edges(xy, op.radius)
    return graphs.adjacency(edges, len(xy))


def _enrichment_partial(op: NhoodEnrichment, ev, group):
    from cytoql.kernels.neighbourhood import label_edge_counts, permuted_edge_counts

    n_labels = len(ev.categories(op.column))
    ids = ev.ids(op.cells)
    codes = ev.labels(op.column)[ids]
    ids, codes = ids[codes >= 0], codes[codes >= 0]
    out = np.zeros((op.nperm + 1, n_labels, n_labels))
    if len(ids) < 2:
        ev.warn_empty(op, "fewer than 2 labelled cells: no graph, z-scores are NaN here")
        return out.ravel()
    indptr, indices = _graph_csr(op, ev.xy[ids])
    out[0] = label_edge_counts(indptr, indices, codes, n_labels)
    # permutation k relabels the cells of this FOV only; the pooled null adds the k-th
    # permuted counts of every FOV, which is squidpy's permutation within library_key
    out[1:] = permuted_edge_counts(indptr, indices, codes, n_labels, n_perms=op.nperm,
                                   rng=ev.rng(op))
    return out.ravel()


def _enrichment_finish(op: NhoodEnrichment, partial):
    counts = np.asarray(partial).reshape(op.nperm + 1, -1)
    n_labels = int(round(np.sqrt(counts.shape[1])))
    observed, perms = counts[0], counts[1:]
    mean, std = perms.mean(axis=0), perms.std(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std > 0, (observed - mean) / std, np.nan)
    return z.reshape(n_labels, n_labels)


aggregate(NhoodEnrichment, partial=_enrichment_partial, finish=_enrichment_finish,
          combine=ADDITIVE)


@cost(NhoodEnrichment)
def _enrichment_cost(op: NhoodEnrichment, w):
    """The graph's edges, counted for the data and once per permutation; the permuted
    count matrices are held until the FOVs pool."""
    n = w.size(op.cells)
    edges = {"delaunay": 3 * n, "knn": op.k * n}.get(op.graph) or w.pairs(
        op.cells, op.cells, op.radius)
    labels = w.labels(op.column)
    return Cost((op.nperm + 1) * edges, 8 * w.n + 16 * edges + 8 * (op.nperm + 1) * labels ** 2)


def _enrichment(args, ctx):
    key = ctx.schema.type_key
    op = NhoodEnrichment(args["cells"].op, key, args["graph"].value, args["k"].value,
                         args["radius"].value, args["nperm"].value)
    return op, TableT(key, square=True, what="z-score")


register(Builtin(
    name="nhood_enrichment", category=CATEGORY[0],
    params=(Param("cells", CELLS, "the cells of the graph (their cell types are the table's "
                  "rows and columns)", default="context"),
            Param("graph", GRAPH, "neighbour graph: `delaunay` (Delaunay triangulation), "
                  "`knn` (symmetric k nearest neighbours) or `radius` (all pairs within "
                  "`radius`)", default="delaunay"),
            Param("k", INTEGER, "neighbours per cell of the `knn` graph", default=6,
                  minimum=1, maximum=1000),
            Param("radius", LENGTH_KIND, "distance of the `radius` graph", default=30.0,
                  minimum=0.0, strict=True),
            Param("nperm", INTEGER, "number of label permutations", default=1000,
                  minimum=2, maximum=10000)),
    returns="a table per FOV (and pooled): for each pair of cell types (rows, columns), "
            "the dimensionless z-score of their edge count",
    doc="Neighbourhood enrichment (squidpy's `gr.nhood_enrichment`): the number of graph "
        "edges between cells of type a and type b, against random relabellings of the "
        "cells — z = (count − mean of the permuted counts) / their standard deviation. "
        "Positive: the types touch more than chance.",
    conventions=(
        _FOV,
        "count[a, b] = number of (cell of a, neighbour of b) entries of the symmetric "
        "adjacency: an a–b edge counts once in [a, b] and once in [b, a], an a–a edge "
        "twice in [a, a] (squidpy's count matrix)",
        "`knn`: i–j is an edge when j is among the k nearest of i or i among those of j "
        "(symmetric union); `radius`: every pair at distance <= radius; `delaunay`: the "
        "triangulation's edges, whatever their length",
        "null: the cell-type labels are permuted among the labelled cells of the set, "
        "within each FOV, positions and graph fixed; z uses the population standard "
        "deviation (ddof = 0) of the nperm permuted counts, as squidpy",
        "NaN where the permuted counts do not vary (a type absent from the set); squidpy "
        "gives inf/NaN there",
        "cells without a cell type are left out before the graph is built",
        "pooled over FOVs: the observed counts and the k-th permuted counts of every FOV "
        "are summed, then z is computed — exactly squidpy with `library_key` = FOV on "
        "the graph of all FOVs (never a mean of per-FOV z-scores)",
        "permutations are seeded per (seed, sample, FOV, call), one stream per "
        "permutation: the same z on any number of threads or workers; squidpy's stream "
        "differs, so z agrees with it within Monte-Carlo error",
        "memory: the nperm + 1 count tables of each FOV, 8 (nperm + 1) L² bytes for L "
        "cell types (80 MB at nperm = 1000, L = 100)",
    ),
    examples=("nhood_enrichment(cells, nperm = 200)",),
    combine=ADDITIVE, build=_enrichment,
    aliases=("neighbourhood_enrichment", "neighborhood_enrichment", "nhoodEnrichment")))


# ---------------------------------------------------------------------- co-occurrence
@dataclass(frozen=True)
class CoOccurrence(Op):
    """p(B | A) / p(B) over the pairs of ``among`` cells in each distance bin."""

    cells: Op
    others: Op
    among: Op
    edges: tuple[float, ...]
    bins: str


def _cooccurrence_partial(op: CoOccurrence, ev, group):
    from cytoql.kernels.spatial_index import build_kdtree, label_pair_counts

    pool = ev.ids(op.among)
    m = len(op.edges) - 1
    a, b = ev.mask(op.cells)[pool], ev.mask(op.others)[pool]
    if not a.any() or not b.any():
        ev.warn_empty(op, "no A or no B cell among the cells: the ratio is NaN here")
    if len(pool) < 2:
        return np.zeros(4 * m)
    # one code per (in A, in B) membership: the pair counts of the four codes give the
    # A–B, A–any, any–B and any–any counts
    codes = a.astype(np.int64) * 2 + b.astype(np.int64)
    edges = np.asarray(op.edges)
    positive = edges > 0
    upper = label_pair_counts(build_kdtree(ev.xy[pool]), codes, 4, edges[positive])
    counts = np.zeros((4, 4, len(edges)))
    counts[:, :, positive] = upper
    if op.bins == "interval":
        # (r_{i-1}, r_i]; with r_0 = 0 the first bin is [0, r_1] (coincident cells count)
        binned = counts[:, :, 1:] - counts[:, :, :-1]
    else:
        binned = counts[:, :, 1:]
    first_a, second_b = np.array([2, 3]), np.array([1, 3])
    pair_ab = binned[np.ix_(first_a, second_b)].sum(axis=(0, 1))
    from_a = binned[first_a].sum(axis=(0, 1))
    to_b = binned[:, second_b].sum(axis=(0, 1))
    total = binned.sum(axis=(0, 1))
    return np.concatenate([pair_ab, from_a, to_b, total])


def _cooccurrence_finish(op: CoOccurrence, partial):
    m = len(op.edges) - 1
    pair_ab, from_a, to_b, total = np.asarray(partial).reshape(4, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where((from_a > 0) & (to_b > 0), pair_ab * total / (from_a * to_b),
                         np.nan)
    return Curve(np.asarray(op.edges[1:]), value, np.ones(m))


aggregate(CoOccurrence, partial=_cooccurrence_partial, finish=_cooccurrence_finish,
          combine=RATIO_OF_SUMS)


@cost(CoOccurrence)
def _cooccurrence_cost(op: CoOccurrence, w):
    return Cost(w.pairs(op.among, op.among, max(op.edges)), 8 * w.n)


def _cooccurrence(args, ctx):
    edges = args["r"].value
    if not isinstance(args["r"].type, RangeT) or len(edges) < 2:
        raise BuildError("E0305", "co-occurrence needs a range of at least two distance "
                         "edges", "r", "one distance", help="give the bin edges as a "
                         "range, e.g. `r = 0 um .. 100 um by 10 um`")
    op = CoOccurrence(args["cells"].op, args["others"].op, args["among"].op, edges,
                      args["bins"].value)
    return op, CurveT(DIMENSIONLESS)


register(Builtin(
    name="co_occurrence", category=CATEGORY[0],
    params=(Param("cells", CELLS, "A: the conditioning cells"),
            Param("others", CELLS, "B: the cells whose share near A is compared with "
                  "their share overall"),
            Param("r", LENGTHS, "the distance bin edges r_0 < r_1 < … as a range, e.g. "
                  "`r = 0 um .. 100 um by 10 um`", minimum=0.0),
            Param("among", CELLS, "the cells the pairs are drawn from", default="cells"),
            Param("bins", BINS, "`interval`: pairs at distance in (r_{i-1}, r_i]; "
                  "`cumulative`: pairs at distance <= r_i", default="interval")),
    returns="a dimensionless curve over the bin edges r_1 … r_K (1 under independence)",
    doc="Co-occurrence ratio (squidpy's `gr.co_occurrence`): among the pairs of cells "
        "at a distance in each bin, the probability that the second cell is B given the "
        "first is A, divided by the probability that it is B — p(B | A) / p(B). Above 1: "
        "B is found near A more often than overall.",
    conventions=(
        _FOV,
        "pairs are ordered pairs of distinct cells of `among` (both orders count; two "
        "cells at one spot are a pair at distance 0); A and B may overlap",
        "ratio = C_AB T / (C_A· C_·B) per bin, C_AB the A→B pairs, C_A· the pairs from "
        "A, C_·B the pairs to B, T all pairs: squidpy's formula, symmetric in A and B",
        "bins = interval (default): bin i holds (r_{i-1}, r_i], the first bin closed "
        "[0, r_1] when r_0 = 0 — squidpy's definition before its numba rewrite; "
        "`bins = cumulative` holds d <= r_i, as squidpy 1.8 computes it (r_0 unused)",
        "the curve's value at r_i is bin i; its CSR value is 1",
        "NaN in a bin where no pair starts at A or ends at B (squidpy stores 0)",
        "pooled over FOVs as a ratio of the summed pair counts per bin",
    ),
    examples=('co_occurrence(cells where type == "Podocyte", cells where type == '
              '"Mesangial.cell", r = 0 um .. 100 um by 10 um)',),
    combine=RATIO_OF_SUMS, build=_cooccurrence,
    aliases=("cooccurrence", "co_occurrence_ratio")))


# ---------------------------------------------------------------------- mixing score
@dataclass(frozen=True)
class MixingScore(Op):
    """SPIAT's (normalised) mixing score of reference A and target B within ``radius``."""

    normalised: bool
    cells: Op
    others: Op
    radius: float


def _mixing_partial(op: MixingScore, ev, group):
    a = ev.ids(op.cells)
    n_b = int(ev.mask(op.others).sum())
    if not len(a) or not n_b:
        ev.warn_empty(op, "no reference or no target cell: the mixing score is NaN here")
    a_b = ev.index(op.others).count_within(a, op.radius).sum()
    # A–A interactions are unordered pairs: each is found from both ends
    a_a = ev.index(op.cells).count_within(a, op.radius).sum() / 2
    return np.array([a_b, a_a, len(a), n_b], dtype=float)


def _mixing_finish(op: MixingScore, partial):
    a_b, a_a, n_a, n_b = partial
    if a_a == 0 or n_b == 0:
        return float("nan")
    score = a_b / a_a
    return float(0.5 * score * (n_a - 1) / n_b) if op.normalised else float(score)


aggregate(MixingScore, partial=_mixing_partial, finish=_mixing_finish,
          combine=RATIO_OF_SUMS)


@cost(MixingScore)
def _mixing_cost(op: MixingScore, w):
    return Cost(w.pairs(op.cells, op.others, op.radius) + w.pairs(op.cells, op.cells, op.radius),
                8 * w.n)


def _mixing(normalised):
    def build(args, ctx):
        return (MixingScore(normalised, args["cells"].op, args["others"].op,
                            args["r"].value), ScalarT(DIMENSIONLESS))
    return build


_MIXING_PARAMS = (
    Param("cells", CELLS, "the reference cells A (SPIAT's `reference_celltype`)"),
    Param("others", CELLS, "the target cells B (SPIAT's `target_celltype`)"),
    Param("r", LENGTH_KIND, "interaction distance", minimum=0.0, strict=True))
_MIXING_CONVENTIONS = (
    _FOV,
    "N_AB = Σ over A cells of the B cells within r (distance <= r; a cell is never its "
    "own neighbour), N_AA = the unordered pairs of A cells within r (half the ordered "
    "count), as SPIAT's `mixing_score_summary`",
    "NaN when there is no A–A interaction (SPIAT reports 0 with a message) or no B "
    "cell (SPIAT stops with an error)",
)

register(Builtin(
    name="mixing_score", category=CATEGORY[0], params=_MIXING_PARAMS,
    returns="a dimensionless number per FOV",
    doc="SPIAT's mixing score: the number of A–B interactions within r divided by the "
        "number of A–A interactions within r. High: A and B are intermixed; low: A "
        "forms compartments B rarely enters.",
    conventions=_MIXING_CONVENTIONS + (
        "MS = N_AB / N_AA; pooled over FOVs as Σ N_AB / Σ N_AA (ratio of sums)",),
    examples=('mixing_score(cells where type == "macrophage", cells where type == "PCT", '
              'r = 30 um)',),
    combine=RATIO_OF_SUMS, build=_mixing(False), aliases=("mixing_score_summary",)))

register(Builtin(
    name="normalised_mixing_score", category=CATEGORY[0], params=_MIXING_PARAMS,
    returns="a dimensionless number per FOV (about 1 when A and B mix at random)",
    doc="SPIAT's normalised mixing score: the mixing score scaled by the numbers of "
        "cells, NMS = MS (n_A − 1) / (2 n_B), so that random mixing gives about 1.",
    conventions=_MIXING_CONVENTIONS + (
        "NMS = 0.5 · N_AB / N_AA · (n_A − 1) / n_B (SPIAT's formula)",
        "pooled over FOVs by the same formula on the summed N_AB, N_AA, n_A and n_B (all "
        "FOVs as one image whose cells of different FOVs are never paired)",),
    examples=('normalised_mixing_score(cells where type == "Podocyte", cells where type '
              '== "Mesangial.cell", r = 20 um)',),
    combine=RATIO_OF_SUMS, build=_mixing(True),
    aliases=("normalized_mixing_score", "NMS")))


# ---------------------------------------------------------------------- curve summaries
@dataclass(frozen=True)
class CurveSummary(Op):
    """``auc`` or ``crossing`` of a finished curve against its CSR value."""

    folds: ClassVar[bool] = True

    summary: str
    curve: Op


def _difference(curve: Curve):
    theo = np.zeros_like(curve.value) if curve.theo is None else curve.theo
    return np.asarray(curve.r, float), np.asarray(curve.value, float) - theo


def auc_of(curve: Curve) -> float:
    """Trapezoid area of value − CSR value over r (NaN if any point is NaN)."""
    r, d = _difference(curve)
    if len(r) < 2 or not np.isfinite(d).all():
        return float("nan")
    return float(np.sum((d[1:] + d[:-1]) * np.diff(r)) / 2)


def crossing_of(curve: Curve) -> float:
    """The first r where value − CSR value changes sign from its first non-zero sign
    (linear interpolation); NaN if it never does or is NaN before it does."""
    r, d = _difference(curve)
    sign = 0.0
    for i, di in enumerate(d):
        if not np.isfinite(di):
            return float("nan")
        if sign == 0.0:
            sign = float(np.sign(di))
            continue
        if di == 0.0 or np.sign(di) != sign:
            return float(r[i - 1] + (r[i] - r[i - 1]) * d[i - 1] / (d[i - 1] - di))
    return float("nan")


@evaluator(CurveSummary)
def _run_curve_summary(op: CurveSummary, ev):
    curve = ev.value(op.curve)
    if curve is None:  # a curve that does not pool
        return float("nan")
    return auc_of(curve) if op.summary == "auc" else crossing_of(curve)


def _summary(summary):
    def build(args, ctx):
        curve = args["curve"]
        dim = curve.type.dim * LENGTH if summary == "auc" else LENGTH
        return CurveSummary(summary, curve.op), ScalarT(dim)
    return build


_CURVE = Param("curve", CURVE, "a curve over r, e.g. `ripley_k(A, B, r = 0 um .. 100 um "
               "by 10 um)`")
_ON_FINISHED = ("computed on the finished curve of each FOV, and on the pooled curve "
                "(which pools by its own rule, e.g. summed pair sums over summed "
                "intensities for Ripley's K); never a mean of per-FOV values",)

register(Builtin(
    name="auc", category=CATEGORY[0], params=(_CURVE,),
    returns="a number per FOV in the curve's unit × µm (µm³ for K)",
    doc="Area between a curve and its CSR value over the range of r, by the trapezoid "
        "rule (SPIAT's AUC of the cross-K function: positive when B gathers around A).",
    conventions=(
        "∫ (value − CSR value) dr over [r_first, r_last], trapezoid rule on the curve's "
        "radii; unnormalised",
        "NaN if the curve is NaN anywhere in the range (e.g. beyond the window for an "
        "edge correction): shorten the range",
    ) + _ON_FINISHED,
    examples=('auc(ripley_k(cells where type == "PCT", cells where type == "macrophage", '
              'r = 0 um .. 100 um by 10 um))',),
    combine=RATIO_OF_SUMS, build=_summary("auc"),
    aliases=("AUC", "AUC_of_cross_function", "area_under_curve")))

register(Builtin(
    name="crossing_radius", category=CATEGORY[0], params=(_CURVE,),
    returns="a length per FOV (µm)",
    doc="The first radius at which a curve crosses its CSR value (SPIAT's crossing of "
        "the cross-K function: where attraction turns into avoidance or back).",
    conventions=(
        "the sign of value − CSR value at its first non-zero point (leading zeros, e.g. "
        "K at r = 0, are skipped); the crossing is the first later point where it is 0 "
        "or of the other sign, located by linear interpolation from the point before",
        "NaN if the curve never crosses, or is NaN before it does",
    ) + _ON_FINISHED,
    examples=('crossing_radius(co_occurrence(cells where type == "Podocyte", cells where '
              'type == "Mesangial.cell", r = 0 um .. 300 um by 10 um))',),
    combine=RATIO_OF_SUMS, build=_summary("crossing"),
    aliases=("crossing_of_crossK", "crossing")))
