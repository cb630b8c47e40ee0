"""Render diagnostics as rustc-style text, one-line short form, or JSON-ready dicts.

No colour and no box-drawing glyphs: the agent feeds this exact text to a language model.
"""

from __future__ import annotations

from cytoql.diagnostics.diagnostic import Diagnostic
from cytoql.source import Source

__all__ = ["render_json", "render_short", "render_text"]


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
    caret = " " * (col - 1) + "^" * max(1, width)
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
