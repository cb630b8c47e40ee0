"""Per-permutation random streams: permutation tests that give the same bits on any
thread count.

A permutation test draws its seeds from the caller's generator once, in order,
``seeds = rng.integers(0, 2**64, size=n_perms, dtype=np.uint64)`` (:func:`seeds`);
permutation ``k`` then draws only from SplitMix64 (Steele, Lea & Flood 2014, the
generator of Java's ``SplittableRandom``) started at state ``seeds[k]``. Which thread
runs permutation ``k``, and in what order, cannot change its numbers.

Each SplitMix64 step adds ``0x9E3779B97F4A7C15`` to the state and outputs the state
mixed by ``z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB;
z ^= z >> 31`` (mod 2**64). A draw uniform on ``[0, s)`` (``1 <= s <= 2**32``) takes the
top 32 bits ``x`` of one output and returns ``(x * s) >> 32``, rejecting and drawing
again while ``(x * s) mod 2**32 < (2**32 - s) mod s`` (Lemire 2019, "Fast random integer
generation in an interval"): exactly uniform. :mod:`cytoql.kernels.reference._streams`
implements the same in plain Python.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["MAX_DRAW", "bounded", "seeds"]

# the largest bound of one draw; a population to permute is at most this large
MAX_DRAW = 1 << 32

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_S27, _S30, _S31, _S32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)


def seeds(rng, n_perms: int) -> np.ndarray:
    """``n_perms`` uint64 seeds from ``rng``: the only draws a permutation test makes on it."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng.integers(0, 2**64, size=n_perms, dtype=np.uint64)


@jit
def _next(state):
    """One SplitMix64 step: the new state and its 64-bit output."""
    state = state + _GAMMA
    z = state
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return state, z ^ (z >> _S31)


@jit
def bounded(state, s):
    """The new state and a uniform integer in ``[0, s)``, for ``1 <= s <= 2**32``."""
    s = np.uint64(s)
    state, z = _next(state)
    m = (z >> _S32) * s
    low = m & _LOW32
    if low < s:
        threshold = ((_LOW32 - s) + np.uint64(1)) % s  # 2**32 mod s
        while low < threshold:
            state, z = _next(state)
            m = (z >> _S32) * s
            low = m & _LOW32
    return state, np.int64(m >> _S32)
