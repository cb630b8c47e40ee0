"""Query text and spans: character offsets mapped to 1-based line:column."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

__all__ = ["Source", "Span"]


@dataclass(frozen=True, order=True)
class Span:
    """Half-open range ``[start, end)`` of character offsets into a query's text."""

    start: int
    end: int

    def __or__(self, other: Span) -> Span:
        """The smallest span covering both."""
        return Span(min(self.start, other.start), max(self.end, other.end))


class Source:
    """The text of a query with a name for messages (``query``, a file name).

    Parameters
    ----------
    text : str
    name : str, default "query"
        Shown in diagnostics as ``name:line:col``.
    """

    def __init__(self, text: str, name: str = "query"):
        self.text = text
        self.name = name
        self._starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset (columns count characters)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def line(self, number: int) -> str:
        """The text of 1-based line ``number`` without its newline."""
        start = self._starts[number - 1]
        end = self._starts[number] - 1 if number < len(self._starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def snippet(self, span: Span) -> str:
        """The text under ``span``."""
        return self.text[span.start:span.end]
