"""Where the lines of a plain-text letter go in the letter layout (pure Python)."""

from __future__ import annotations

import re

FOOTER_RE = re.compile(
    r"^[（(]?\s*(联系人|承办人|公开方式|公开属性|公开类别|抄送|办复类别|答复类别)"
)
HEADING_RE = {
    1: re.compile(r"^[一二三四五六七八九十]+、"),
    2: re.compile(r"^[（(][一二三四五六七八九十]+[）)]"),
}
DATE_LINE_RE = re.compile(r"^[0-9〇○零一二三四五六七八九十]{4}\s*年.{1,3}月.{1,3}日$")


def is_date_line(line: str) -> bool:
    return bool(DATE_LINE_RE.match(line))


def is_heading(line: str, level: int) -> bool:
    return len(line) <= 40 and bool(HEADING_RE[level].match(line))


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
