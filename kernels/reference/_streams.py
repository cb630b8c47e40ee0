"""Plain-Python SplitMix64 streams, as the `_streams` kernel module documents them.

One :class:`Stream` per permutation, started at the seed the kernel draws for it; Python
integers masked to 64 bits, no numba. For the small inputs of tests only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Stream", "seeds"]

_MASK = (1 << 64) - 1


def seeds(rng, n_perms):
    """The per-permutation seeds, drawn from ``rng`` exactly as the kernels draw them."""
    return [int(s) for s in rng.integers(0, 2**64, size=n_perms, dtype=np.uint64)]


class Stream:
    """SplitMix64 from ``seed`` with Lemire's exactly uniform bounded draw."""

    def __init__(self, seed):
        self.state = int(seed)

    def next64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def below(self, s):
        """A uniform integer in ``[0, s)``: reject the biased low products."""
        threshold = (2**32 - s) % s
        while True:
            m = (self.next64() >> 32) * s
            if m % 2**32 >= threshold:
                return m >> 32

    def shuffle(self, values):
        """Fisher-Yates from the end: swap ``values[i]`` with a uniform ``values[j]``,
        ``j <= i``, for ``i = n - 1, ..., 1``; in place."""
        for i in range(len(values) - 1, 0, -1):
            j = self.below(i + 1)
            values[i], values[j] = values[j], values[i]
