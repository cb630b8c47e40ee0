"""Ripley's family: K, L, H and the pair correlation function g, one-set and cross-type,
at one radius (a number per FOV) or over a range (a curve), with edge corrections and
simulation envelopes.

Per FOV the partial is the edge-corrected pair sum S(r) and the intensity term D
(n(n−1)/|W|, n²/|W| or n_A n_B/|W|): K = S / D. Pooled over FOVs both are summed, so
the pooled K is exact — the K of all pairs within FOVs, never a mean of per-FOV curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cytoql.catalog import _nulls
from cytoql.catalog.kinds import CELLS, LENGTH_KIND, LENGTHS, NUMBER, Option
from cytoql.catalog.spec import (RATIO_OF_SUMS, BuildError, Builtin, Param, aggregate, cost,
                                 register)
from cytoql.plan import Op
from cytoql.types import CurveT, RangeT, ScalarT
from cytoql.units import AREA, DIMENSIONLESS, LENGTH
from cytoql.values import Curve
from cytoql.work import Cost

__all__ = ["Ripley"]

CATEGORY = ("Ripley family", 60)

CORRECTION = Option("none", "border", "translation", "isotropic",
                    aliases={"translate": "translation", "trans": "translation",
                             "Ripley": "isotropic", "iso": "isotropic", "bord": "border",
                             "rs": "border"})
PCF_CORRECTION = Option("none", "translation", "isotropic",
                        aliases={"translate": "translation", "trans": "translation",
                                 "Ripley": "isotropic", "iso": "isotropic"})
INTENSITY = Option("unbiased", "naive")


@dataclass(frozen=True)
class Ripley(Op):
    """K, L, H or pcf of ``cells`` (B = ``others`` around A = ``cells`` when cross-type)
    at ``radii`` µm; ``curve`` for a range, else the one radius."""

    function: str
    cells: Op
    others: Op | None
    radii: tuple[float, ...]
    curve: bool
    correction: str
    intensity: str
    null: str
    nsim: int
    test: str
    bandwidth: float | None = None
    stoyan: float = 0.15


def _sums(op, xy, a, b, window):
    """(S(r), D) of one pattern: the corrected pair sums and the intensity term."""
    from cytoql.kernels import ripley

    r = np.asarray(op.radii)
    box = window.as_tuple()
    area = window.area
    n_a = len(a)
    if b is None:
        d = (n_a * (n_a - 1) if op.intensity == "unbiased" else n_a * n_a) / area
        if n_a < 2:
            return np.zeros(len(r)), 0.0
        if op.function == "pcf":
            g, _ = ripley.pcf(xy[a], r, box, correction=op.correction,
                              bandwidth=op.bandwidth, stoyan=op.stoyan)
            # g = |W| sums / (n (n-1) 2 pi r): back to S so that pooling sums pairs
            s = g * (n_a * (n_a - 1) / area)
        else:
            k, _ = ripley.ripley_k(xy[a], r, box, correction=op.correction)
            s = k * (n_a * (n_a - 1) / area)
        return s, d
    n_b = len(b)
    if n_a == 0 or n_b == 0:
        return np.zeros(len(r)), 0.0
    k, _ = ripley.ripley_k_cross(xy, a, b, r, box, correction=op.correction)
    d = n_a * n_b / area
    return k * d, d


def _partial(op: Ripley, ev, group):
    a = ev.ids(op.cells)
    b = None if op.others is None else ev.ids(op.others)
    if len(a) < (1 if b is not None else 2) or (b is not None and not len(b)):
        ev.warn_empty(op, "too few cells for this statistic: its value is NaN here")
    s, d = _sums(op, ev.xy, a, b, ev.window)
    defined = np.isfinite(s)
    if d > 0 and not defined.all():
        first = op.radii[int(np.flatnonzero(~defined)[0])]
        w = ev.window
        ev.warn(op, "W0503", f"the {op.correction} correction is undefined for r >= "
                f"{first:g} µm in this window ({w.width:g} × {w.height:g} µm): NaN there")
    parts = [np.where(defined | (d == 0), np.nan_to_num(s), np.nan), [d]]
    if op.null != "none":
        pool = np.arange(ev.n) if b is None else np.union1d(a, b)
        sims = [_sums(op, xy, sa, sb, ev.window)[0] for xy, sa, sb in _nulls.simulations(
            op.null, op.nsim, ev.xy, ev.window, a, b, pool, ev.rng(op))]
        parts.append(np.ravel(sims))
    return np.concatenate(parts)


def _transform(op: Ripley, k: np.ndarray) -> np.ndarray:
    r = np.asarray(op.radii)
    with np.errstate(invalid="ignore"):
        if op.function == "L":
            return np.sqrt(k / math.pi)
        if op.function == "H":
            return np.sqrt(k / math.pi) - r
    return k


def _theo(op: Ripley) -> np.ndarray:
    r = np.asarray(op.radii)
    return {"K": math.pi * r ** 2, "L": r, "H": np.zeros_like(r),
            "pcf": np.ones_like(r)}[op.function]


def _finish(op: Ripley, partial):
    m = len(op.radii)
    s, d = partial[:m], partial[m]
    with np.errstate(invalid="ignore", divide="ignore"):
        value = _transform(op, s / d if d > 0 else np.full(m, np.nan))
        if not op.curve:
            return float(value[0])
        lo = hi = p_value = None
        if op.null != "none":
            sims = _transform(op, partial[m + 1:].reshape(op.nsim, m) / d) if d > 0 else \
                np.full((op.nsim, m), np.nan)
            lo, hi, p_value = _nulls.envelope_of(sims, value, _theo(op), op.test)
    return Curve(np.asarray(op.radii), value, _theo(op), lo, hi, p_value)


aggregate(Ripley, partial=_partial, finish=_finish, combine=RATIO_OF_SUMS)


@cost(Ripley)
def _cost(op: Ripley, w):
    """The pairs within the largest radius (plus the kernel's half-width for g), once for
    the data and once per simulation."""
    reach = max(op.radii)
    if op.function == "pcf":
        n = w.size(op.cells)
        reach += op.bandwidth or (op.stoyan / math.sqrt(n / w.area) if n and w.area > 0
                                  else 0.0)
    others = op.cells if op.others is None else op.others
    patterns = 1 + (op.nsim if op.null != "none" else 0)
    return Cost(patterns * w.pairs(op.cells, others, reach),
                8 * w.n + 8 * patterns * len(op.radii))

_DIMS = {"K": AREA, "L": LENGTH, "H": LENGTH, "pcf": DIMENSIONLESS}


def _build(function):
    def build(args, ctx):
        others = args.get("others")
        cross = others is not None and others.node is not None
        radii = args["r"].value
        curve = isinstance(args["r"].type, RangeT)
        _nulls.check_null(args, curve, cross)
        if function == "pcf" and 0.0 in radii:
            raise BuildError("E0305", "the pair correlation function is undefined at r = 0",
                             "r", "starts at 0", help="start the range above 0, e.g. at the "
                             "first step")
        op = Ripley(function, args["cells"].op, others.op if cross else None, radii, curve,
                    args["correction"].value, args["intensity"].value, args["null"].value,
                    args["nsim"].value, args["test"].value,
                    args["bandwidth"].value if "bandwidth" in args else None,
                    args["stoyan"].value if "stoyan" in args else 0.15)
        dim = _DIMS[function]
        return op, (CurveT(dim) if curve else ScalarT(dim))
    return build


_CELLS = Param("cells", CELLS, "the points A (the pattern of a one-set function)")
_OTHERS = Param("others", CELLS, "B for the cross-type function: B cells counted around "
                "A cells (leave out for the one-set function)", default=None)
_R = Param("r", LENGTHS, "a radius (a number per FOV) or a range of radii (a curve), "
           "e.g. `r = 0 um .. 100 um by 10 um`", minimum=0.0)
_CORRECTION = Param("correction", CORRECTION, "edge correction: `none`, `border` (reduced "
                    "sample), `translation` (Ohser–Stoyan) or `isotropic` (Ripley)",
                    default="translation")
_INTENSITY = Param("intensity", INTENSITY, "λ² estimator of a one-set function: `unbiased` "
                   "n(n−1)/|W|² or `naive` n²/|W|²", default="unbiased")

_COMMON = (
    "cells in different FOVs are never paired; each FOV is its own window",
    "the window is the FOV rectangle from metadata, else the bounding box of its cells "
    "(recorded as an assumption)",
    "default correction translation: unbiased for a rectangle at every r below the "
    "shorter side, and cheap; `border` discards points near the edge, `isotropic` is "
    "spatstat's Ripley correction",
    "K = |W| / (n(n−1)) Σ_{i≠j} 1(d_ij ≤ r) e_ij (intensity = unbiased, spatstat's "
    "default) or |W| / n² Σ … (naive); cross-type K_AB = |W| / (n_A n_B) Σ_{a,b} …",
    "NaN where the correction is undefined (translation: r ≥ the shorter side; "
    "isotropic: r ≥ half the diagonal; warning W0503), for fewer than 2 cells, or "
    "for an empty B; never extrapolated",
    "pooled over FOVs as Σ S(r) / Σ D: the pairs of all FOVs over the summed intensity "
    "terms (ratio of sums; exact for none, translation and isotropic, whose S is a sum "
    "over pairs; for border, whose denominator depends on r, it is the mean of per-FOV "
    "K weighted by D)",
) + _nulls.CONVENTIONS

_FUNCTIONS = {
    "K": ("ripley_k", ("K", "Kest", "Kcross", "ripley"),
          "Ripley's K function: the expected number of further points within r of a "
          "typical point, divided by the intensity (µm²; π r² under CSR).",
          'ripley_k(cells where type == "Podocyte", r = 10 um .. 100 um by 10 um, correction = translation)'),
    "L": ("ripley_l", ("L", "Lest", "Lcross"),
          "Besag's L function √(K/π) (µm; r under CSR).",
          'ripley_l(cells where type == "macrophage", r = 0 um .. 100 um by 10 um, correction = isotropic)'),
    "H": ("ripley_h", ("H", "Hest"),
          "H = L − r (µm; 0 under CSR, positive for clustering).",
          'ripley_h(cells where type == "PCT", cells where type == "macrophage", r = 50 um, correction = border)'),
}

for _function, (_name, _aliases, _doc, _example) in _FUNCTIONS.items():
    register(Builtin(
        name=_name, category=CATEGORY[0],
        params=(_CELLS, _OTHERS, _R, _CORRECTION, _INTENSITY) + _nulls.NULL_PARAMS,
        returns=f"{_DIMS[_function].article()} per FOV for one radius; a curve over r for "
                "a range (with the CSR value, and an envelope with `null`)",
        doc=_doc, conventions=_COMMON, examples=(_example,), combine=RATIO_OF_SUMS,
        build=_build(_function), aliases=_aliases))

register(Builtin(
    name="pcf", category=CATEGORY[0],
    params=(_CELLS, _R,
            Param("correction", PCF_CORRECTION, "edge correction: `none`, `translation` or "
                  "`isotropic`", default="translation"),
            _INTENSITY,
            Param("bandwidth", LENGTH_KIND, "Epanechnikov kernel half-width h; default "
                  "Stoyan's rule h = stoyan / √λ", default=None, minimum=0.0, strict=True),
            Param("stoyan", NUMBER, "coefficient of Stoyan's bandwidth rule", default=0.15,
                  minimum=0.0, strict=True)) + _nulls.NULL_PARAMS,
    returns="a dimensionless number per FOV for one radius; a curve over r for a range "
            "(1 under CSR)",
    doc="Pair correlation function g(r), estimated by Epanechnikov kernel smoothing of the "
        "pair distances (the derivative of K over 2πr).",
    conventions=(
        "g(r) = |W| / (n(n−1)) Σ_{i≠j} k_h(r − d_ij) e_ij / (2π r), Epanechnikov kernel "
        "k_h(u) = 3/(4h) (1 − (u/h)²) on |u| < h (sd h/√5, spatstat's bw), divisor r",
        "the exact kernel sum (spatstat's pcf bins the distances first); no reflection at "
        "0, so g is biased low for r < h; undefined (an error) at r = 0",
        "bandwidth by Stoyan's rule h = 0.15/√λ unless given",
    ) + _COMMON[:2] + _COMMON[4:],
    examples=('pcf(cells where type == "PCT", r = 5 um .. 60 um by 5 um)',),
    combine=RATIO_OF_SUMS, build=_build("pcf"), aliases=("pcf_est",)))
