"""The cookbook's queries, read from docs/cookbook.md (``<!-- id: NAME -->`` + a cytoql block)."""

from __future__ import annotations

import re
from pathlib import Path

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "cookbook.md"
ENTRY = re.compile(r"<!-- id: (\w+) -->\s*```cytoql\n(.*?)```", re.S)


def cookbook() -> dict[str, str]:
    """Query text by cookbook id, in page order."""
    return dict(ENTRY.findall(COOKBOOK.read_text(encoding="utf-8")))
