"""How things read on a page: user-written Markdown (rendered, then sanitised), letter
text in the letter layout, dates and times. Template filters that web.py registers, and
that views use for previews; nothing here knows the blueprints."""

from __future__ import annotations

from datetime import date, datetime

from markupsafe import Markup, escape

from tracker.letters import markup
from tracker.letters.layout import letter_lines
from tracker.letters.patterns import heading_level, is_date_line
from tracker.rules.clock import to_beijing


def render_markdown(text: str | None) -> Markup:
    """The one way user-written Markdown reaches a page: rendered, then sanitised."""
    return Markup(markup.render(text))


def letter_paragraphs(letter) -> Markup:
    """An imported letter's text in the letter layout, headings and signature in place."""
    lines = letter_lines(letter.body, head=(letter.title, letter.doc_number, letter.classification))
    parts = []
    for n, line in enumerate(lines):
        tail = len(lines) - n <= 2 and (line == letter.issuer or is_date_line(line))
        if tail:
            css = ' class="sign"'
        elif n == 0 and line.endswith((":", "：")):
            css = ' class="salutation"'
        elif heading_level(line) in (1, 2):
            css = f' class="h{heading_level(line)}"'
        else:
            css = ""
        parts.append(f"<p{css}>{escape(line)}</p>")
    return Markup("".join(parts))


def letter_markdown(text: str | None) -> Markup:
    """A drafted letter's Markdown body, sanitised, set out as the exports print it (一、/（一）
    lines as headings, see tracker.letters.markup)."""
    return Markup(markup.letter_html(text))


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC timestamp as Beijing time."""
    if value is None:
        return ""
    return to_beijing(value).strftime(fmt)


def days_phrase(due_on: date | None, today: date) -> str:
    if due_on is None:
        return ""
    days = (due_on - today).days
    if days > 0:
        return f"剩余{days}天"
    if days == 0:
        return "今天到期"
    return f"逾期{-days}天"
