"""Diagnostic data: what went wrong, where, and how to fix it (rendering is apart)."""

from __future__ import annotations

from dataclasses import dataclass

from cytoql.source import Span

__all__ = ["Diagnostic", "Label", "Suggestion"]


@dataclass(frozen=True)
class Label:
    """A span of the query with a short message printed under its caret."""

    span: Span
    message: str = ""


@dataclass(frozen=True)
class Suggestion:
    """Replace the text under ``span`` by ``replacement``.

    ``confident`` marks a unique, normalisation-equal or habit-based fix that a tool (the
    agent's repair loop) may apply without asking.
    """

    span: Span
    replacement: str
    confident: bool = False


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning about a query.

    Attributes
    ----------
    code : str
        ``E01xx`` syntax, ``E02xx`` names, ``E03xx`` types and units, ``E04xx`` data,
        ``W05xx`` warnings (see :mod:`cytoql.diagnostics.codes`).
    message : str
        Lowercase, no final period, clear alone.
    label : Label
        The primary span with its caret message.
    notes : tuple of str
        What exists (``= note:`` lines).
    help : str, optional
        How to fix it (``= help:`` line).
    suggestions : tuple of Suggestion
    """

    code: str
    message: str
    label: Label
    notes: tuple[str, ...] = ()
    help: str | None = None
    suggestions: tuple[Suggestion, ...] = ()

    @property
    def severity(self) -> str:
        """``"error"`` or ``"warning"``."""
        return "warning" if self.code.startswith("W") else "error"

    @property
    def span(self) -> Span:
        return self.label.span
