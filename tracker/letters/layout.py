"""Where the lines of a plain-text letter go in the letter layout (pure Python)."""

from __future__ import annotations

from tracker.letters.patterns import FOOTER_RE


def letter_lines(body: str | None, head: tuple[str | None, ...] = ()) -> list[str]:
    """The letter's lines without those the layout shows apart: the heading (title, grade,
    document number — given in `head`) and the closing notes (contact, disclosure, cc)."""
    lines = [line.strip() for line in (body or "").splitlines() if line.strip()]
    title, doc_number, grade = (list(head) + [None, None, None])[:3]
    skip = {title, doc_number, grade, f"{grade}类" if grade else None} - {None}
    while lines and (
        lines[0] in skip
        or (doc_number and doc_number in lines[0] and len(lines[0]) < len(doc_number) + 8)
    ):
        lines.pop(0)
    while lines and FOOTER_RE.match(lines[-1]):
        lines.pop()
    return lines
