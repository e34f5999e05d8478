"""The letter's body as blocks (("h1", …), ("h2", …), ("p", …)): from plain text, one
paragraph a line, and from the editor's Markdown as the preview reads it."""

from __future__ import annotations

from tracker.letters.export.content import _clean
from tracker.letters.markup import heading_kind, letter_blocks


def blocks_from_text(text: str) -> list[tuple[str, str]]:
    """Plain letter text, one paragraph a line: 一、… → h1, （一）/(一)… → h2, others p.

    Blank lines are skipped; leading and trailing spaces (also full-width) are dropped."""
    blocks: list[tuple[str, str]] = []
    for raw in (text or "").splitlines():
        line = _clean(raw)
        if line:
            blocks.append((heading_kind(line) or "p", line))
    return blocks


def blocks_from_markdown(md: str) -> list[tuple[str, str]]:
    """The editor's Markdown body → blocks, read by the same Markdown library and sanitiser
    as the preview, from the same tree (see tracker.letters.markup): what the preview shows
    as a heading prints as one, list items, quotes and table rows print as paragraphs."""
    blocks = [(kind, _clean(text)) for kind, text in letter_blocks(md)]
    return [(kind, text) for kind, text in blocks if text]
