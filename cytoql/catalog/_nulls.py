"""Null models shared by the curve built-ins: the parameters, the simulated patterns and
the envelope of the simulated curves.

``null = csr``: complete spatial randomness — the same numbers of points, uniform in
the FOV's window (a binomial process). ``null = labels``: random relabelling — positions
fixed, the A (and B) labels permuted among the cells of A ∪ B (among all cells of the
FOV for a one-set function). ``null = shift``: toroidal shift — B moved by one uniform
random vector in the window, wrapped around its edges, A fixed (cross-type functions
only). Each FOV draws from its own stream, derived from (seed, sample, FOV, the call),
so a result never depends on the order FOVs run in or on the number of workers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cytoql.catalog.kinds import INTEGER, Option
from cytoql.catalog.spec import BuildError, Param

__all__ = ["NULL_PARAMS", "check_null", "envelope_of", "simulations"]

NULL = Option("none", "csr", "labels", "shift",
              aliases={"poisson": "csr", "random": "csr", "relabel": "labels",
                       "relabelling": "labels", "random_labelling": "labels",
                       "toroidal": "shift", "torus": "shift"})
TEST = Option("mad", "dclf", aliases={"max": "mad", "maximum": "mad"})

_SIMULATED = ("csr", "labels", "shift")

NULL_PARAMS = (
    Param("null", NULL, "null model of the envelope: `csr` (uniform points in the window), "
          "`labels` (random relabelling, positions fixed) or `shift` (toroidal shift of B; "
          "cross-type only); `none` for no simulations", default="none"),
    Param("nsim", INTEGER, "number of simulations of the null model", default=99,
          minimum=2, maximum=9999, used_when=("null", _SIMULATED)),
    Param("test", TEST, "global test over r: maximum absolute deviation (`mad`) or the "
          "DCLF sum of squared deviations (`dclf`)", default="mad",
          used_when=("null", _SIMULATED)),
)

CONVENTIONS = (
    "envelope: pointwise minimum and maximum of the simulated curves (two-sided level "
    "2/(nsim+1) at each r); p-value of the global test (1 + #{T_sim >= T_obs})/(nsim+1)",
    "simulations are seeded per (seed, sample, FOV, call): the same query gives the same "
    "envelope on any machine and worker count",
    "pooled envelopes pool each simulation over FOVs, then take the envelope",
)


def check_null(args, curve: bool, cross: bool) -> None:
    """Refuse a null model that cannot apply (BuildError at the ``null`` argument)."""
    null = args["null"].value
    if null == "none":
        return
    if not curve:
        raise BuildError("E0305", "a null model needs a range of radii", "null",
                         "one radius", help="give r as a range, e.g. `r = 0 um .. 100 um "
                         "by 10 um`, or drop `null`")
    if null == "shift" and not cross:
        raise BuildError("E0305", "`null = shift` moves B against A: it needs a cross-type "
                         "function", "null", "one cell set",
                         help="use `null = csr` or `null = labels`, or give a second set")


def simulations(null: str, nsim: int, xy: np.ndarray, window, a: np.ndarray,
                b: np.ndarray | None, pool: np.ndarray, rng: np.random.Generator
                ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """``nsim`` simulated (positions, A ids, B ids) under ``null``.

    ``a``, ``b`` are FOV-local ids; ``pool`` the ids relabelling draws from (A ∪ B, or
    all cells for a one-set function).
    """
    from cytoql.kernels.envelopes import simulate_csr

    xmin, ymin, xmax, ymax = window.as_tuple()
    for _ in range(nsim):
        if null == "csr":
            n_a, n_b = len(a), 0 if b is None else len(b)
            sim = simulate_csr(n_a + n_b, (xmin, ymin, xmax, ymax), rng)
            ids = np.arange(n_a + n_b)
            yield sim, ids[:n_a], None if b is None else ids[n_a:]
        elif null == "labels":
            # permute the (in A, in B) memberships over the pool: the sizes of A, B and
            # of their overlap are kept
            order = rng.permutation(len(pool))
            in_a = np.isin(pool, a)[order]
            in_b = None if b is None else np.isin(pool, b)[order]
            yield xy, pool[in_a], None if b is None else pool[in_b]
        else:
            shift = rng.uniform((0.0, 0.0), (xmax - xmin, ymax - ymin))
            origin = np.array([xmin, ymin])
            size = np.array([xmax - xmin, ymax - ymin])
            moved = (xy[b] - origin + shift) % size + origin
            ids = np.arange(len(a) + len(b))
            yield np.vstack([xy[a], moved]), ids[:len(a)], ids[len(a):]


def envelope_of(sims: np.ndarray, observed: np.ndarray, theo: np.ndarray, test: str):
    """(lo, hi, p-value) of simulated curves around the theoretical curve."""
    from cytoql.kernels.envelopes import envelope

    env = envelope(sims, observed=observed, reference=theo, test=test)
    return env.lo, env.hi, env.p_value
