"""The cookbook's queries, read from docs/cookbook.md and docs/cookbook/*.md
(``<!-- id: NAME -->`` + a cytoql block)."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
COOKBOOK = DOCS / "cookbook.md"
ENTRY = re.compile(r"<!-- id: (\w+) -->\s*```cytoql\n(.*?)```", re.S)


def pages() -> list[Path]:
    """The cookbook pages: the main page, then one page per family, by name."""
    return [COOKBOOK] + sorted((DOCS / "cookbook").glob("*.md"))


def cookbook(page: str | None = None) -> dict[str, str]:
    """Query text by cookbook id, in page order: of every page, or of one
    (``"cookbook"`` for the main page, else the name of a page in docs/cookbook/)."""
    chosen = pages() if page is None else [
        COOKBOOK if page == "cookbook" else DOCS / "cookbook" / f"{page}.md"]
    entries: dict[str, str] = {}
    for path in chosen:
        for key, text in ENTRY.findall(path.read_text(encoding="utf-8")):
            if key in entries:
                raise ValueError(f"cookbook id {key!r} appears twice ({path.name})")
            entries[key] = text
    return entries
