"""Render diagnostics as rustc-style text, one-line short form, or JSON-ready dicts.

No colour and no box-drawing glyphs: the agent feeds this exact text to a language model.
"""

from __future__ import annotations

from cytoql.diagnostics.diagnostic import Diagnostic
from cytoql.source import Source

__all__ = ["render_json", "render_short", "render_text"]

# A source line longer than this is shown as an excerpt around the caret, so that the
# message of a long one-line query stays readable (and short for the agent).
_LINE_CHARS = 120
_BEFORE_CARET = 40


def _excerpt(text: str, col: int, width: int) -> tuple[str, int, int]:
    """``text`` cut to about ``_LINE_CHARS`` characters around 0-based column ``col``,
    with ``…`` where it was cut; returns the excerpt and the caret's column and width."""
    if len(text) <= _LINE_CHARS:
        return text, col, width
    start = max(0, min(col - _BEFORE_CARET, len(text) - _LINE_CHARS))
    end = start + _LINE_CHARS
    shown = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    return shown, col - start + (1 if start else 0), max(1, min(width, end - col))


def render_text(diag: Diagnostic, source: Source) -> str:
    """The full form: header, ``-->`` location, source line, caret and notes.

    Examples
    --------
    ::

        error[E0203]: unknown cell type "Mesangial cell"
         --> query:1:29
          |
        1 | let M = cells where type == "Mesangial cell"
          |                             ^^^^^^^^^^^^^^^^ not a value of obs["cell_type"]
          |
          = help: did you mean "Mesangial.cell"?
    """
    line, col = source.position(diag.span.start)
    end_line, end_col = source.position(max(diag.span.end, diag.span.start))
    text = source.line(line)
    gutter = " " * len(str(line))
    width = (end_col - col) if end_line == line else len(text) - col + 1
    text, caret_col, width = _excerpt(text, col - 1, max(1, width))
    caret = " " * caret_col + "^" * width
    out = [f"{diag.severity}[{diag.code}]: {diag.message}",
           f"{gutter}--> {source.name}:{line}:{col}",
           f"{gutter} |",
           f"{line} | {text}",
           f"{gutter} | {caret}" + (f" {diag.label.message}" if diag.label.message else "")]
    if diag.help or diag.notes:
        out.append(f"{gutter} |")
    if diag.help:
        out.append(f"{gutter} = help: {diag.help}")
    out.extend(f"{gutter} = note: {note}" for note in diag.notes)
    return "\n".join(out)


def render_short(diag: Diagnostic, source: Source) -> str:
    """``query:3:17: error[E0303]: radius needs a length, got a count``."""
    line, col = source.position(diag.span.start)
    return f"{source.name}:{line}:{col}: {diag.severity}[{diag.code}]: {diag.message}"


def render_json(diag: Diagnostic, source: Source) -> dict:
    """The diagnostic's fields, its 1-based positions and both text forms."""
    line, col = source.position(diag.span.start)
    end_line, end_col = source.position(diag.span.end)
    return {
        "code": diag.code,
        "severity": diag.severity,
        "message": diag.message,
        "span": {"start": diag.span.start, "end": diag.span.end, "line": line,
                 "column": col, "end_line": end_line, "end_column": end_col},
        "label": diag.label.message,
        "help": diag.help,
        "notes": list(diag.notes),
        "suggestions": [{"start": s.span.start, "end": s.span.end,
                         "replacement": s.replacement, "confident": s.confident}
                        for s in diag.suggestions],
        "short": render_short(diag, source),
        "rendered": render_text(diag, source),
    }
