"""Worked examples for the prompt: the cookbook's questions and queries, shipped as data.

``docs/`` is not installed, so the cookbook (``docs/cookbook.md`` and, when present, every
``docs/cookbook/*.md``) is compiled into ``agent/examples.json``.
``python -m cytoql.agent.examples`` rewrites it; ``--check`` fails when it is stale.
Examples are ranked for a question by TF-IDF cosine over word tokens: deterministic, no
model, no dependency.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

__all__ = ["Example", "examples", "generate", "main", "rank"]

_REPO = Path(__file__).resolve().parents[1]
_FILE = "examples.json"
# a page is cut at its "### question" headings; each section may hold an entry
_HEADING = re.compile(r"^###\s+(?:\d+\.\s+)?(.+)$", re.M)
_SECTION = re.compile(r"^##\s+(.+)$", re.M)
_ENTRY = re.compile(r"<!-- id: (\w+) -->\s*```cytoql\n(.*?)```", re.S)
_TOKEN = re.compile(r"[a-z0-9µ²]+")


@dataclass(frozen=True)
class Example:
    """One worked example: a question and the query that answers it."""

    id: str
    question: str
    query: str
    section: str = ""


def _pages(docs: Path) -> list[Path]:
    pages = [docs / "cookbook.md"] if (docs / "cookbook.md").exists() else []
    return pages + sorted((docs / "cookbook").glob("*.md"))


def generate(docs: Path = _REPO / "docs") -> str:
    """The JSON text of every cookbook entry under ``docs``, in page order."""
    entries = []
    for page in _pages(docs):
        text = page.read_text(encoding="utf-8")
        heads = list(_HEADING.finditer(text))
        for head, nxt in zip(heads, heads[1:] + [None]):
            section = text[head.end():nxt.start() if nxt else len(text)]
            chapter = [m[1].strip() for m in _SECTION.finditer(text, 0, head.start())]
            entries += [{"id": i, "question": head[1].strip(), "query": q.strip(),
                         "section": chapter[-1] if chapter else page.stem}
                        for i, q in _ENTRY.findall(section)]
    ids = [e["id"] for e in entries]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"duplicate cookbook ids: {', '.join(dup)}")
    return json.dumps(entries, ensure_ascii=False, indent=1) + "\n"


@lru_cache(maxsize=1)
def examples() -> tuple[Example, ...]:
    """The shipped examples (from the installed ``examples.json``)."""
    text = resources.files("cytoql.agent").joinpath(_FILE).read_text(encoding="utf-8")
    return tuple(Example(**e) for e in json.loads(text))


def _tokens(text: str) -> list[str]:
    """Lower-case word tokens, a plural ``s`` dropped (podocytes ~ podocyte)."""
    return [t[:-1] if len(t) > 3 and t.endswith("s") and not t.endswith("ss") else t
            for t in _TOKEN.findall(text.lower())]


def rank(question: str, k: int = 4, pool: tuple[Example, ...] | None = None) -> list[Example]:
    """The ``k`` examples most similar to ``question`` (TF-IDF cosine; ties by page order).

    Examples
    --------
    >>> [e.id for e in rank("What is the density of macrophages?", k=1)]
    ['density_macrophage']
    """
    pool = examples() if pool is None else pool
    docs = [Counter(_tokens(e.question + " " + e.query)) for e in pool]
    df = Counter(t for d in docs for t in d)
    idf = {t: math.log((1 + len(docs)) / (1 + n)) + 1 for t, n in df.items()}

    def vector(counts):
        return {t: c * idf.get(t, 0.0) for t, c in counts.items()}

    q = vector(Counter(_tokens(question)))
    qn = math.sqrt(sum(v * v for v in q.values())) or 1.0
    scores = []
    for i, d in enumerate(docs):
        v = vector(d)
        dn = math.sqrt(sum(x * x for x in v.values())) or 1.0
        scores.append((-sum(q[t] * v.get(t, 0.0) for t in q) / (qn * dn), i))
    return [pool[i] for _, i in sorted(scores)[:k]]


def main(argv=None) -> int:
    """Write (or with ``--check``, compare) ``agent/examples.json``."""
    parser = argparse.ArgumentParser(prog="python -m cytoql.agent.examples", description=__doc__)
    parser.add_argument("--docs", type=Path, default=_REPO / "docs")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name(_FILE))
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    text = generate(args.docs)
    if args.check:
        if not args.out.exists() or args.out.read_text(encoding="utf-8") != text:
            print(f"{args.out} is stale: run `python -m cytoql.agent.examples`", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
