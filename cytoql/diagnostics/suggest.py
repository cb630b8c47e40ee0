"""Did-you-mean: rank candidate names by edit distance after normalisation.

Names are compared after Unicode normalisation (NFC), case folding and removing
spaces, dots, underscores and hyphens, so ``"Mesangial cell"`` finds
``"Mesangial.cell"``, ``"tcell"`` finds ``"T cell"`` and a decomposed ``"Müller"``
finds the composed one. A unique candidate whose normalised form equals the query's is
a *confident* match that a tool may apply without asking.

The search does bounded work whatever the input: names longer than
:data:`MAX_SUGGEST_CHARS` (after normalisation) are only matched when equal, a
candidate whose length differs by more than the allowed distance is skipped without
computing it, and the edit distance stops once it exceeds that distance.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["MAX_SUGGEST_CHARS", "closest", "edit_distance", "normalise", "quote_list",
           "shorten"]

#: Longest normalised name compared by edit distance or containment; longer ones are
#: suggested only when they equal the query after normalisation.
MAX_SUGGEST_CHARS = 64

_SEPARATORS = re.compile(r"[\s._\-]+")


def normalise(name: str) -> str:
    """``name`` in NFC, case-folded, without spaces, dots, underscores and hyphens."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())
    return _SEPARATORS.sub("", folded)


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance between ``a`` and ``b`` (insert, delete, substitute).

    With ``limit``, only the band of width ``2 * limit + 1`` around the diagonal is
    computed and ``limit + 1`` is returned as soon as the distance must exceed
    ``limit``: O(limit × min(len(a), len(b))) work.
    """
    if len(a) < len(b):
        a, b = b, a
    if limit is None:
        limit = len(a)
    if len(a) - len(b) > limit:
        return limit + 1
    over = limit + 1
    previous = [j if j <= limit else over for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        lo, hi = max(1, i - limit), min(len(b), i + limit)
        current = [over] * (len(b) + 1)
        current[0] = i if i <= limit else over
        for j in range(lo, hi + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (ca != b[j - 1]), over)
        if min(current[max(0, lo - 1):hi + 1]) > limit:
            return over
        previous = current
    return previous[-1]


def closest(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` candidates close to ``name``, best first.

    A candidate qualifies when its normalised form equals the query's, contains it (or
    is contained in it, for queries of 3+ characters), or lies within an edit distance
    of about a third of the longer normalised name; past ``MAX_SUGGEST_CHARS`` only
    equality counts. Ties keep the candidates' order.
    """
    query = normalise(name)
    scored = []
    for order, cand in enumerate(dict.fromkeys(candidates)):
        norm = normalise(cand)
        if norm == query:
            score = 0.0
        elif max(len(query), len(norm)) > MAX_SUGGEST_CHARS:
            continue
        elif len(query) >= 3 and (query in norm or norm in query):
            score = 0.5 + abs(len(norm) - len(query)) / 100
        else:
            allowed = max(len(query), len(norm)) // 3
            dist = edit_distance(query, norm, allowed)
            if dist > allowed:
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


def shorten(name: str, limit: int = MAX_SUGGEST_CHARS) -> str:
    """``name``, or its first characters and its length when longer than ``limit``, so
    that a message about a 10,000-character name stays one line."""
    if len(name) <= limit:
        return name
    return f"{name[:limit]}… ({len(name):,} characters)"
