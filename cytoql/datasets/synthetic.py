"""Synthetic spatial tissue: seeded point processes with cell types, markers and outlines.

Every data set is a pure function of the arguments of :func:`synthetic`: the same
arguments give bit-identical AnnData on any machine. Each field of view (FOV) draws from
its own random stream, spawned from ``numpy.random.SeedSequence(seed)`` by FOV index, so
FOV ``i`` is the same whatever the number of FOVs (for the same count of cells in it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from numbers import Integral, Real

import anndata as ad
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from scipy.special import ndtr, ndtri
from scipy.stats import poisson

from cytoql.data.polygons import attach_polygons
from cytoql.diagnostics.suggest import closest, quote_list
from cytoql.errors import InternalError
from cytoql.interop import keys

__all__ = [
    "BACKGROUND_RATE",
    "DEFAULT_CELL_TYPES",
    "DEFAULT_PROPORTIONS",
    "DEFAULT_TUMOUR_TYPES",
    "MARKERS",
    "MARKER_RATE",
    "MAX_PACKING",
    "PROCESSES",
    "synthetic",
]

#: The point processes :func:`synthetic` can draw cell positions from.
PROCESSES = ("csr", "thomas", "matern", "hardcore", "compartments")

DEFAULT_CELL_TYPES = ("Tumour", "Epithelial", "Fibroblast", "T cell", "B cell",
                      "Macrophage", "Endothelial")
DEFAULT_PROPORTIONS = (0.25, 0.15, 0.20, 0.15, 0.05, 0.10, 0.10)
#: Cell types placed inside tumour islands by ``process="compartments"``.
DEFAULT_TUMOUR_TYPES = ("Tumour", "Epithelial")

#: Marker panel: gene -> the cell types that express it at :data:`MARKER_RATE`.
MARKERS = {
    "CD3E": ("T cell",),
    "CD19": ("B cell",),
    "CD68": ("Macrophage",),
    "KRT8": ("Tumour", "Epithelial"),
    "PECAM1": ("Endothelial",),
    "COL1A1": ("Fibroblast",),
    "MKI67": ("Tumour",),
}
#: Poisson mean of a marker's counts in the cell types that express it.
MARKER_RATE = 8.0
#: Poisson mean of a marker's counts in every other cell type.
BACKGROUND_RATE = 0.3

#: Highest packing fraction ``n * pi * d**2 / 4 / |W|`` per FOV that
#: ``process="hardcore"`` accepts. Random sequential inhibition jams near 0.547; the
#: last few percent below that need a number of proposals that grows without bound.
MAX_PACKING = 0.45

_THOMAS_EXPAND = 4.0  # parents up to 4 sigma outside the window (as spatstat's rThomas)
_SHRINK = 0.9  # outline vertices move 10 % of the way to the cell position
_MAX_BATCH = 1 << 22  # proposals per round: bounds memory at ~100 MB


def synthetic(
    n_cells: int = 5000,
    *,
    process: str = "csr",
    seed: int = 0,
    n_fovs: int = 1,
    fov_size: tuple[float, float] = (1000.0, 1000.0),
    cell_types: Sequence[str] | None = None,
    proportions: Sequence[float] | None = None,
    n_clusters: float = 25.0,
    cluster_scale: float = 25.0,
    hardcore_distance: float = 8.0,
    n_islands: int = 4,
    island_radius: float = 150.0,
    tumour_types: Sequence[str] | None = None,
    polygons: bool = False,
) -> ad.AnnData:
    """Generate a synthetic spatial single-cell sample from a documented point process.

    Parameters
    ----------
    n_cells : int, default 5000
        Total number of cells, >= 0. FOV ``i`` holds exactly ``n_cells // n_fovs`` cells,
        plus one for the first ``n_cells % n_fovs`` FOVs.
    process : {"csr", "thomas", "matern", "hardcore", "compartments"}, default "csr"
        How positions are drawn in each FOV window ``W`` (see Notes).
    seed : int, default 0
        Seed (>= 0) of ``numpy.random.SeedSequence``; no global random state is used.
    n_fovs : int, default 1
        Number of fields of view, >= 1.
    fov_size : (float, float), default (1000.0, 1000.0)
        Width and height of each FOV window in µm.
    cell_types : sequence of str, optional
        Distinct cell-type names; default :data:`DEFAULT_CELL_TYPES` (7 types).
    proportions : sequence of float, optional
        Probability of each cell type (same length as ``cell_types``, >= 0, summing to
        1). Default :data:`DEFAULT_PROPORTIONS` for the default types, else equal.
    n_clusters : float, default 25.0
        ``thomas`` and ``matern``: expected number of parents per FOV window, i.e. the
        parent intensity is ``kappa = n_clusters / |W|``.
    cluster_scale : float, default 25.0
        ``thomas``: standard deviation sigma (µm) of the Gaussian offspring displacement;
        ``matern``: radius R (µm) of the disc offspring are uniform in.
    hardcore_distance : float, default 8.0
        ``hardcore``: minimum distance d (µm) between any two cells of a FOV.
    n_islands : int, default 4
        ``compartments``: number of tumour islands per FOV, >= 1.
    island_radius : float, default 150.0
        ``compartments``: mean island radius (µm); radii are uniform in
        ``[0.75, 1.25] * island_radius``.
    tumour_types : sequence of str, optional
        ``compartments``: the cell types found inside islands (a non-empty proper subset
        of ``cell_types``); default :data:`DEFAULT_TUMOUR_TYPES`.
    polygons : bool, default False
        Add cell outlines (``obsm["polygons"]``) and their areas (``obs["area"]``).

    Returns
    -------
    AnnData
        ``n_cells x 7`` marker counts in ``X`` (float32, dense; ``var_names`` are the genes
        of :data:`MARKERS`), ``obs_names`` ``"cell_0" ..``, and

        - ``obs["cell_type"]``: categorical, categories ``cell_types`` in order;
        - ``obs["fov"]``: categorical strings ``"0" .. str(n_fovs - 1)``;
        - ``obs["total_counts"]``: float64, row sums of ``X``;
        - ``obs["compartment"]`` (``compartments`` only): ``"tumour"`` or ``"stroma"``;
        - ``obs["area"]`` (``polygons=True`` only): outline area in µm²;
        - ``obsm["spatial"]``: (n, 2) float64 positions in µm, ``uns["spatial_unit"] = "um"``;
        - ``obsm["polygons"]`` (``polygons=True`` only): (n, V, 2) NaN-padded outlines;
        - ``uns["fov_windows"]``: ``{fov: [xmin, ymin, xmax, ymax]}`` in µm;
        - ``uns["synthetic"]``: the generator's parameters (plain types), including
          derived ones (parent intensity, mean offspring, island discs per FOV).

    Raises
    ------
    ValueError
        An argument out of range, an unknown process (the message lists the valid
        ones), proportions of the wrong length or not summing to 1, unknown tumour
        types, or a hard-core density above :data:`MAX_PACKING`.

    Notes
    -----
    FOVs are tiled row by row, ``ceil(sqrt(n_fovs))`` per row, edge to edge: FOV ``i``
    has its lower-left corner at ``(col * width, row * height)``. Windows are closed
    rectangles. Processes, each in every FOV window ``W`` with ``n`` cells:

    - ``csr``: binomial process, ``n`` independent uniform points in ``W``.
    - ``thomas``: Thomas cluster process. Parents are Poisson with intensity ``kappa``
      in ``W`` grown by ``4 sigma`` on each side; each offspring is its parent plus an
      isotropic Gaussian displacement of standard deviation ``sigma``. The process is
      conditioned on ``n`` points in ``W`` (given the parents, the points in ``W`` are
      independent with density proportional to the sum of the parents' kernels on ``W``,
      sampled exactly through truncated normals), and on at least one parent. The mean
      number of offspring per parent, ``n / n_clusters``, is recorded.
    - ``matern``: Matérn cluster process: as ``thomas``, with offspring uniform in the
      disc of radius ``R`` around the parent, parents in ``W`` grown by ``R``, and
      conditioned on at least one parent whose disc reaches ``W``.
    - ``hardcore``: random sequential inhibition run in batches: uniform proposals are
      rejected within distance ``< d`` of an accepted cell; of the others, a proposal
      within ``< d`` of an earlier one of its batch is rejected too, even when that one
      is rejected itself (Matérn II thinning by proposal order); batches repeat until
      ``n`` cells are placed. No two cells of a FOV are closer than ``d``. A packing fraction
      ``n pi d**2 / (4 |W|)`` above :data:`MAX_PACKING` raises ``ValueError``.
    - ``compartments``: ``n`` uniform points; ``n_islands`` discs (tumour islands) with
      centres uniform in ``W`` and radii uniform in ``[0.75, 1.25] * island_radius``.
      A cell inside any disc (distance <= radius) draws its type from ``tumour_types``,
      any other cell from the remaining types, each with ``proportions`` renormalised
      within the group; the discs are recorded in ``uns["synthetic"]["islands"]``.

    Other processes label cells independently of position with ``proportions``
    (random labelling). Marker counts are independent Poisson draws: mean
    :data:`MARKER_RATE` for a gene in the cell types :data:`MARKERS` assigns it, else
    :data:`BACKGROUND_RATE` (so ``expr("CD3E") > 2`` keeps about 99 % of T cells and
    0.4 % of the others).

    Outlines are Voronoi cells of the FOV's cells clipped to the FOV window, with every
    vertex moved 10 % towards the cell's position (so outlines are convex, contain their
    cell, and neighbours do not touch). A FOV of one cell gets the shrunk window.
    Cost (single-threaded, measured at 1M cells): positions, types and counts take
    about 3 s and 400 MB per million cells, ``hardcore`` up to ~20 s near
    :data:`MAX_PACKING`; outlines add about 1 min and 2 GB per million (GEOS Voronoi
    and packing), so use them up to a few hundred thousand cells.

    Examples
    --------
    >>> from cytoql.datasets import synthetic
    >>> adata = synthetic(2000, process="thomas", n_fovs=2, seed=1)
    >>> adata.n_obs, list(adata.obs["fov"].cat.categories)
    (2000, ['0', '1'])
    >>> adata.uns["fov_windows"]["1"]
    [1000.0, 0.0, 2000.0, 1000.0]
    """
    n_cells = _count(n_cells, "n_cells", minimum=0)
    if process not in PROCESSES:
        hint = closest(str(process), PROCESSES, limit=1)
        did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ValueError(f"unknown process {process!r}{did_you_mean}; valid processes: "
                         f"{quote_list(PROCESSES)}")
    seed = _count(seed, "seed", minimum=0)
    n_fovs = _count(n_fovs, "n_fovs", minimum=1)
    width, height = _fov_size(fov_size)
    types, probs = _cell_types(cell_types, proportions)
    params: dict = {
        "generator": "cytoql.datasets.synthetic",
        "process": process,
        "seed": seed,
        "n_cells": n_cells,
        "n_fovs": n_fovs,
        "fov_size": [width, height],
        "cell_types": list(types),
        "proportions": probs.tolist(),
        "markers": {gene: list(expressed) for gene, expressed in MARKERS.items()},
        "marker_rate": MARKER_RATE,
        "background_rate": BACKGROUND_RATE,
        "polygons": bool(polygons),
    }
    draw = _uniform  # positions of n cells in one FOV window: draw(rng, n, window)
    if process in ("thomas", "matern"):
        n_clusters = _positive(n_clusters, "n_clusters")
        cluster_scale = _positive(cluster_scale, "cluster_scale")
        if process == "thomas":
            draw = partial(_thomas, n_clusters=n_clusters, sigma=cluster_scale)
        else:
            draw = partial(_matern, n_clusters=n_clusters, radius=cluster_scale)
        params.update(n_clusters=n_clusters, cluster_scale=cluster_scale,
                      parent_intensity=n_clusters / (width * height),
                      mean_offspring=n_cells / n_fovs / n_clusters)
    elif process == "hardcore":
        hardcore_distance = _positive(hardcore_distance, "hardcore_distance")
        n_max = -(-n_cells // n_fovs)
        packing = n_max * math.pi * hardcore_distance**2 / 4 / (width * height)
        if packing > MAX_PACKING:
            limit = int(MAX_PACKING * 4 * width * height / (math.pi * hardcore_distance**2))
            raise ValueError(
                f"hardcore_distance={hardcore_distance:g} um cannot hold {n_max} cells in a "
                f"{width:g} x {height:g} um FOV: packing fraction {packing:.3f} > "
                f"{MAX_PACKING}; use at most {limit} cells per FOV, more FOVs, a larger "
                "fov_size or a smaller hardcore_distance")
        params.update(hardcore_distance=hardcore_distance)
        draw = partial(_hardcore, d=hardcore_distance)
    elif process == "compartments":
        n_islands = _count(n_islands, "n_islands", minimum=1)
        island_radius = _positive(island_radius, "island_radius")
        inside, outside = _tumour_split(tumour_types, types, probs)
        params.update(n_islands=n_islands, island_radius=island_radius,
                      tumour_types=[types[i] for i in inside], islands={})

    genes = list(MARKERS)
    rates = np.array([[MARKER_RATE if t in MARKERS[g] else BACKGROUND_RATE for g in genes]
                      for t in types])
    per_fov = [n_cells // n_fovs + (i < n_cells % n_fovs) for i in range(n_fovs)]
    n_cols = math.ceil(math.sqrt(n_fovs))
    windows = [((i % n_cols) * width, (i // n_cols) * height,
                (i % n_cols + 1) * width, (i // n_cols + 1) * height) for i in range(n_fovs)]
    streams = np.random.SeedSequence(seed).spawn(n_fovs)

    xy = np.empty((n_cells, 2))
    codes = np.empty(n_cells, dtype=np.int64)
    counts = np.empty((n_cells, len(genes)), dtype=np.float32)
    in_tumour = np.zeros(n_cells, dtype=bool)
    start = 0
    for i, (n, window, stream) in enumerate(zip(per_fov, windows, streams)):
        rng = np.random.default_rng(stream)
        rows = slice(start, start + n)
        xy[rows] = draw(rng, n, window)
        if process == "compartments":
            islands = _islands(rng, n_islands, island_radius, window)
            params["islands"][str(i)] = islands.tolist()
            in_tumour[rows] = _inside_discs(xy[rows], islands)
            codes[rows] = _labels(rng, in_tumour[rows], inside, outside, probs)
        else:
            codes[rows] = rng.choice(len(types), size=n, p=probs / probs.sum())
        counts[rows] = rng.poisson(rates[codes[rows]])
        start += n

    fov_names = [str(i) for i in range(n_fovs)]
    obs = pd.DataFrame(
        {
            keys.CELL_TYPE: pd.Categorical.from_codes(codes, categories=list(types)),
            keys.FOV: pd.Categorical.from_codes(np.repeat(np.arange(n_fovs), per_fov),
                                                categories=fov_names),
            "total_counts": counts.sum(axis=1, dtype=np.float64),
        },
        index=pd.Index([f"cell_{i}" for i in range(n_cells)], dtype=object),
    )
    if process == "compartments":
        obs["compartment"] = pd.Categorical.from_codes(in_tumour.astype(np.int8),
                                                       categories=["stroma", "tumour"])
    adata = ad.AnnData(X=counts, obs=obs, var=pd.DataFrame(index=pd.Index(genes, dtype=object)))
    adata.obsm[keys.SPATIAL] = xy
    adata.uns[keys.SPATIAL_UNIT] = "um"
    adata.uns[keys.FOV_WINDOWS] = {name: [float(v) for v in w]
                                   for name, w in zip(fov_names, windows)}
    adata.uns["synthetic"] = params
    if polygons:
        outlines = _outlines(xy, per_fov, windows)
        adata.obs["area"] = shapely.area(outlines)
        # Vertex arrays pack much faster than Polygon objects (no per-cell .coords).
        coords, owner = shapely.get_coordinates(outlines, return_index=True)
        rings = np.split(coords, np.flatnonzero(np.diff(owner)) + 1) if n_cells else []
        attach_polygons(adata, rings, copy=False)
    return adata


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _fov_size(fov_size) -> tuple[float, float]:
    if isinstance(fov_size, (str, bytes)) or len(fov_size) != 2:
        raise ValueError(f"fov_size must be (width, height) in um, got {fov_size!r}")
    return _positive(fov_size[0], "fov_size width"), _positive(fov_size[1], "fov_size height")


def _cell_types(cell_types, proportions) -> tuple[tuple[str, ...], np.ndarray]:
    if cell_types is None:
        types = DEFAULT_CELL_TYPES
        default = DEFAULT_PROPORTIONS
    else:
        if isinstance(cell_types, str):
            raise ValueError(f"cell_types must be a sequence of names, got the string "
                             f"{cell_types!r}")
        types = tuple(cell_types)
        if not types or not all(isinstance(t, str) and t for t in types):
            raise ValueError(f"cell_types must be non-empty strings, got {list(types)!r}")
        repeated = sorted({t for t in types if types.count(t) > 1})
        if repeated:
            raise ValueError(f"cell_types must be distinct; repeated: {quote_list(repeated)}")
        default = (1.0 / len(types),) * len(types)
    probs = np.asarray(default if proportions is None else proportions, dtype=np.float64)
    if probs.shape != (len(types),):
        raise ValueError(f"proportions must have one value per cell type ({len(types)}: "
                         f"{quote_list(types)}), got {probs.size}")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ValueError(f"proportions must be finite and >= 0, got {probs.tolist()}")
    if abs(probs.sum() - 1.0) > 1e-6:
        raise ValueError(f"proportions must sum to 1, got sum {probs.sum():.6g}")
    return types, probs


def _tumour_split(tumour_types, types, probs) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the types inside and outside islands; both groups have positive weight."""
    if tumour_types is None:
        missing = [t for t in DEFAULT_TUMOUR_TYPES if t not in types]
        if missing:
            raise ValueError(f"process 'compartments' needs tumour_types: the default "
                             f"{quote_list(DEFAULT_TUMOUR_TYPES)} are not all in cell_types "
                             f"({quote_list(types)})")
        tumour_types = DEFAULT_TUMOUR_TYPES
    elif isinstance(tumour_types, str):
        tumour_types = (tumour_types,)
    unknown = [t for t in tumour_types if t not in types]
    if unknown:
        raise ValueError(f"tumour_types {quote_list(unknown)} not in cell_types "
                         f"({quote_list(types)})")
    is_tumour = np.isin(np.asarray(types, dtype=object), list(tumour_types))
    inside, outside = np.flatnonzero(is_tumour), np.flatnonzero(~is_tumour)
    if inside.size == 0 or outside.size == 0:
        raise ValueError("tumour_types must be a non-empty proper subset of cell_types, "
                         f"got {quote_list(tumour_types)}")
    if probs[inside].sum() == 0 or probs[outside].sum() == 0:
        raise ValueError("proportions must give tumour_types and the other cell types "
                         "each a positive total")
    return inside, outside


def _uniform(rng: np.random.Generator, n: int, window) -> np.ndarray:
    xmin, ymin, xmax, ymax = window
    return np.column_stack([xmin + (xmax - xmin) * rng.random(n),
                            ymin + (ymax - ymin) * rng.random(n)])


def _parents(rng: np.random.Generator, n_clusters: float, window, expand: float):
    """Poisson parents in ``window`` grown by ``expand``, conditioned on at least one."""
    xmin, ymin, xmax, ymax = window
    grown = (xmin - expand, ymin - expand, xmax + expand, ymax + expand)
    mean = n_clusters / ((xmax - xmin) * (ymax - ymin)) * \
        (grown[2] - grown[0]) * (grown[3] - grown[1])
    # Inverse transform on (P(0), 1): an exact zero-truncated Poisson draw.
    k = int(poisson.ppf(rng.uniform(math.exp(-mean), 1.0), mean))
    return _uniform(rng, max(k, 1), grown)


def _thomas(rng: np.random.Generator, n: int, window, n_clusters: float,
            sigma: float) -> np.ndarray:
    if n == 0:
        return np.empty((0, 2))
    parents = _parents(rng, n_clusters, window, _THOMAS_EXPAND * sigma)
    lo = (np.array(window[:2]) - parents) / sigma  # (k, 2) window in standard units
    hi = (np.array(window[2:]) - parents) / sigma
    # Work in the lower tail, where ndtr keeps full relative precision.
    flip = lo > 0
    a, b = np.where(flip, -hi, lo), np.where(flip, -lo, hi)
    fa, fb = ndtr(a), ndtr(b)
    mass = np.prod(fb - fa, axis=1)  # P(offspring of parent j lands in the window)
    j = rng.choice(len(parents), size=n, p=mass / mass.sum())
    u = fa[j] + rng.random((n, 2)) * (fb[j] - fa[j])
    z = np.clip(ndtri(u), a[j], b[j])
    xy = parents[j] + sigma * np.where(flip[j], -z, z)
    return np.clip(xy, window[:2], window[2:])


def _matern(rng: np.random.Generator, n: int, window, n_clusters: float,
            radius: float) -> np.ndarray:
    if n == 0:
        return np.empty((0, 2))
    lo, hi = np.array(window[:2]), np.array(window[2:])
    while True:
        parents = _parents(rng, n_clusters, window, radius)
        # Parents whose disc misses the window add no offspring to it.
        gap = np.maximum(np.maximum(lo - parents, parents - hi), 0.0)
        parents = parents[np.hypot(gap[:, 0], gap[:, 1]) < radius]
        if len(parents):
            break
    out = np.empty((n, 2))
    filled = 0
    accepted, proposed = 1.0, 1.0
    while filled < n:
        need = n - filled
        size = min(_MAX_BATCH, int(need * 1.2 * proposed / accepted) + 64)
        j = rng.integers(len(parents), size=size)
        r = radius * np.sqrt(rng.random(size))
        theta = 2 * np.pi * rng.random(size)
        pts = parents[j] + np.column_stack([r * np.cos(theta), r * np.sin(theta)])
        pts = pts[((pts >= lo) & (pts <= hi)).all(axis=1)]
        take = min(len(pts), need)
        out[filled:filled + take] = pts[:take]
        filled += take
        accepted += len(pts)
        proposed += size
    return out


def _hardcore(rng: np.random.Generator, n: int, window, d: float) -> np.ndarray:
    xmin, ymin, xmax, ymax = window
    # Grid cells of side d / 1.5 (diagonal < d) hold at most one accepted point, and
    # every point within d of a cell lies within 2 cells of it: a 5 x 5 look-up suffices.
    side = d / 1.5
    pad = 2
    ny = int((ymax - ymin) / side) + 1 + 2 * pad
    nx = int((xmax - xmin) / side) + 1 + 2 * pad
    grid = np.full(nx * ny, -1, dtype=np.int64)  # flat (nx, ny): accepted point or -1
    offsets = [dx * ny + dy for dx in range(-pad, pad + 1) for dy in range(-pad, pad + 1)]
    out = np.empty((n, 2))
    filled = 0
    d2 = d * d
    rate = 1.0  # share of the last batch's proposals that were kept
    for _ in range(10_000):
        if filled == n:
            return out
        need = n - filled
        cand = _uniform(rng, min(_MAX_BATCH, max(256, int(1.2 * need / rate))), window)
        size = len(cand)
        cell = ((((cand[:, 0] - xmin) / side).astype(np.int64) + pad) * ny
                + ((cand[:, 1] - ymin) / side).astype(np.int64) + pad)
        if filled:
            free = np.ones(size, dtype=bool)
            for offset in offsets:
                other = grid[cell + offset]
                hit = np.flatnonzero(other >= 0)
                diff = cand[hit] - out[other[hit]]
                free[hit[np.einsum("ij,ij->i", diff, diff) < d2]] = False
            cand, cell = cand[free], cell[free]
        pairs = cKDTree(cand).query_pairs(d, output_type="ndarray")
        if len(pairs):
            diff = cand[pairs[:, 0]] - cand[pairs[:, 1]]
            close = pairs[np.einsum("ij,ij->i", diff, diff) < d2]
            keep = np.ones(len(cand), dtype=bool)
            keep[close.max(axis=1)] = False  # the later proposal of a close pair goes
            cand, cell = cand[keep], cell[keep]
        take = min(len(cand), need)
        out[filled:filled + take] = cand[:take]
        grid[cell[:take]] = np.arange(filled, filled + take)
        filled += take
        rate = max(len(cand), 1) / size
    raise InternalError(f"hard-core placement stalled at {filled} of {n} cells below "
                        f"packing fraction {MAX_PACKING}")


def _islands(rng: np.random.Generator, k: int, radius: float, window) -> np.ndarray:
    """(k, 3) discs ``(cx, cy, r)`` with uniform centres and radii in 0.75..1.25 R."""
    centres = _uniform(rng, k, window)
    radii = radius * rng.uniform(0.75, 1.25, size=k)
    return np.column_stack([centres, radii])


def _inside_discs(xy: np.ndarray, discs: np.ndarray) -> np.ndarray:
    inside = np.zeros(len(xy), dtype=bool)
    for cx, cy, r in discs:
        inside |= (xy[:, 0] - cx) ** 2 + (xy[:, 1] - cy) ** 2 <= r * r
    return inside


def _labels(rng: np.random.Generator, in_tumour: np.ndarray, inside: np.ndarray,
            outside: np.ndarray, probs: np.ndarray) -> np.ndarray:
    codes = np.empty(len(in_tumour), dtype=np.int64)
    for group, mask in ((inside, in_tumour), (outside, ~in_tumour)):
        p = probs[group] / probs[group].sum()
        codes[mask] = group[rng.choice(len(group), size=int(mask.sum()), p=p)]
    return codes


def _outlines(xy: np.ndarray, per_fov: list[int], windows) -> np.ndarray:
    """Voronoi cells clipped to each FOV window, shrunk towards their cell; (n,) Polygons."""
    out = np.empty(len(xy), dtype=object)
    start = 0
    for n, window in zip(per_fov, windows):
        rows = slice(start, start + n)
        start += n
        if n == 0:
            continue
        box = shapely.box(*window)
        pts = xy[rows]
        if n == 1:
            cells = np.array([box])
        else:
            cells = shapely.get_parts(shapely.voronoi_polygons(
                shapely.multipoints(pts), extend_to=box, ordered=True))
            if len(cells) != n:
                raise InternalError(f"{n - len(cells)} coincident cell positions in a FOV")
            # Clipping is the costly step: only cells reaching past the window need it.
            bounds = shapely.bounds(cells)
            crosses = ((bounds[:, :2] < window[:2]) | (bounds[:, 2:] > window[2:])).any(axis=1)
            cells[crosses] = shapely.intersection(cells[crosses], box)
        # Scale each outline about its own cell position.
        coords, owner = shapely.get_coordinates(cells, return_index=True)
        coords = pts[owner] + _SHRINK * (coords - pts[owner])
        out[rows] = shapely.set_coordinates(cells.copy(), coords)
    return out
