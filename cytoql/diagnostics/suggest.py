"""Did-you-mean: rank candidate names by edit distance after normalisation.

Names are compared after lower-casing and removing spaces, dots, underscores and
hyphens, so ``"Mesangial cell"`` finds ``"Mesangial.cell"`` and ``"tcell"`` finds
``"T cell"``. A unique candidate whose normalised form equals the query's is a
*confident* match that a tool may apply without asking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["closest", "edit_distance", "normalise", "quote_list"]

_SEPARATORS = re.compile(r"[\s._\-]+")


def normalise(name: str) -> str:
    """Lower-case ``name`` and drop spaces, dots, underscores and hyphens."""
    return _SEPARATORS.sub("", name.casefold())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between ``a`` and ``b`` (insert, delete, substitute)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def closest(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` candidates close to ``name``, best first.

    A candidate qualifies when its normalised form equals the query's, contains it (or
    is contained in it, for queries of 3+ characters), or lies within an edit distance
    of about a third of the longer normalised name. Ties keep the candidates' order.
    """
    query = normalise(name)
    scored = []
    for order, cand in enumerate(dict.fromkeys(candidates)):
        norm = normalise(cand)
        if norm == query:
            score = 0.0
        elif len(query) >= 3 and (query in norm or norm in query):
            score = 0.5 + abs(len(norm) - len(query)) / 100
        else:
            dist = edit_distance(query, norm)
            if dist > max(len(query), len(norm)) // 3:
                continue
            score = float(dist)
        scored.append((score, order, cand))
    scored.sort()
    return [cand for _, _, cand in scored[:limit]]


def quote_list(names: Iterable[str], limit: int = 8) -> str:
    """``"a", "b", "c"`` with ``… (N more)`` past ``limit`` names."""
    names = list(names)
    shown = ", ".join(f'"{n}"' for n in names[:limit])
    if len(names) > limit:
        shown += f", … ({len(names) - limit} more)"
    return shown
