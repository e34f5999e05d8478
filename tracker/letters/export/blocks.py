"""The letter's body as blocks (("h1", …), ("h2", …), ("p", …)): from plain text, one
paragraph a line, and from the editor's Markdown."""

from __future__ import annotations

import re

from tracker.letters.export.content import _SPACE, _clean, _heading_kind


def blocks_from_text(text: str) -> list[tuple[str, str]]:
    """Plain letter text, one paragraph a line: 一、… → h1, （一）/(一)… → h2, others p.

    Blank lines are skipped; leading and trailing spaces (also full-width) are dropped."""
    blocks: list[tuple[str, str]] = []
    for raw in (text or "").splitlines():
        line = _clean(raw)
        if line:
            blocks.append((_heading_kind(line) or "p", line))
    return blocks


_MD_ATX_RE = re.compile(r"^(#{1,6})(?:[ \t]+|$)(.*?)(?:[ \t]+#+)?[ \t]*$")
_MD_SETEXT_RE = re.compile(r"^(=+|-+)[ \t]*$")
_MD_HR_RE = re.compile(r"^(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_MD_FENCE_RE = re.compile(r"^(```|~~~)")
_MD_BULLET_RE = re.compile(r"^[-*+][ \t]+")
_MD_ORDERED_RE = re.compile(r"^\d{1,9}[.)][ \t]+")
_MD_QUOTE_RE = re.compile(r"^(?:>[ \t]?)+")
_MD_TABLE_SEP_RE = re.compile(r"^\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?$")
_MD_ESCAPABLE = "\\`*_{}[]()#+-.!|~<>"
_PLACEHOLDER_BASE = 0xF0000  # Supplementary Private Use Area-A: never in a letter


def _strip_inline(text: str) -> str:
    """Markdown inline syntax → plain text: emphasis, code, links, images, escapes."""
    # Backslash escapes are protected first so that "\*" survives as a literal "*".
    text = re.sub(
        r"\\([" + re.escape(_MD_ESCAPABLE) + r"])",
        lambda m: chr(_PLACEHOLDER_BASE + _MD_ESCAPABLE.index(m.group(1))),
        text,
    )
    text = re.sub(r"(`+)(.+?)\1", lambda m: m.group(2).strip(" "), text)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images are not printed
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<(https?://[^>\s]+)>", r"\1", text)
    for _ in range(2):  # nested ***strong emphasis***
        text = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", r"\1", text)
        text = re.sub(r"(?<![\w])__(?=\S)(.+?)(?<=\S)__(?![\w])", r"\1", text)
        text = re.sub(r"(?<!\*)\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?!\*)", r"\1", text)
        text = re.sub(r"(?<![\w\\])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w])", r"\1", text)
    text = re.sub(r"~~(?=\S)(.+?)(?<=\S)~~", r"\1", text)
    text = re.sub(r"[ \t]{2,}$", "", text)  # hard line break marker
    return "".join(
        _MD_ESCAPABLE[ord(ch) - _PLACEHOLDER_BASE]
        if _PLACEHOLDER_BASE <= ord(ch) < _PLACEHOLDER_BASE + len(_MD_ESCAPABLE)
        else ch
        for ch in text
    )


def _join_lines(lines: list[str]) -> str:
    """Join soft-wrapped lines: no space between CJK, one space between Latin words."""
    out = ""
    for line in lines:
        line = line.strip(_SPACE)
        if not line:
            continue
        if (
            out
            and out[-1].isascii()
            and out[-1].isalnum()
            and line[0].isascii()
            and line[0].isalnum()
        ):
            out += " "
        out += line
    return out


def blocks_from_markdown(md: str) -> list[tuple[str, str]]:
    """The editor's Markdown body → blocks.

    ``#`` → h1 and ``##`` → h2 (deeper levels are paragraphs, as 1. is in running text);
    a line that starts with 一、 or （一） is a heading of its own too.  Other lines are joined
    into paragraphs up to a blank line; each list item is a paragraph (ordered items keep
    their number, bullets drop the marker); table rows become paragraphs with their cells
    separated by full-width spaces.  Emphasis, code and link syntax is stripped."""
    blocks: list[tuple[str, str]] = []
    para: list[str] = []
    in_fence = False
    quoted = False  # the paragraph being collected is a block quote

    def flush() -> None:
        if para:
            text = _clean(_strip_inline(_join_lines(para)))
            if text:
                blocks.append(("p", text))
            para.clear()

    def heading(kind: str, text: str) -> None:
        text = _clean(_strip_inline(text))
        if text:
            blocks.append((kind, text))

    for raw in (md or "").splitlines():
        raw = raw.replace("\t", "    ")
        if _MD_FENCE_RE.match(raw.strip()):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            line = _clean(raw)
            if line:
                blocks.append((_heading_kind(line) or "p", line))
            continue
        stripped = raw.strip(_SPACE)
        quote = _MD_QUOTE_RE.match(stripped)
        if quote:
            stripped = stripped[quote.end() :].strip(_SPACE)
        elif not para:
            quoted = False
        quoted = quoted or bool(quote)
        if not stripped:
            flush()
            continue
        indented_continuation = (
            raw.startswith("  ")
            and para
            and not (_MD_BULLET_RE.match(stripped) or _MD_ORDERED_RE.match(stripped))
        )
        setext = _MD_SETEXT_RE.match(stripped)
        if setext and para and len(para) == 1 and not quoted:
            text = para.pop()
            heading("h1" if setext.group(1).startswith("=") else "h2", text)
            continue
        if _MD_HR_RE.match(stripped):
            flush()
            continue
        atx = _MD_ATX_RE.match(stripped)
        if atx:
            flush()
            level, text = len(atx.group(1)), atx.group(2)
            if level <= 2:
                heading("h1" if level == 1 else "h2", text)
            else:
                heading(_heading_kind(_clean(_strip_inline(text))) or "p", text)
            continue
        plain = _clean(_strip_inline(stripped))
        kind = _heading_kind(plain)
        if kind and not indented_continuation:
            flush()
            heading(kind, stripped)
            continue
        if stripped.startswith("|") or (stripped.endswith("|") and "|" in stripped[:-1]):
            flush()
            if not _MD_TABLE_SEP_RE.match(stripped):
                cells = [c.strip(_SPACE) for c in stripped.strip("|").split("|")]
                para.append("\u3000".join(c for c in cells if c))
                flush()
            continue
        bullet = _MD_BULLET_RE.match(stripped)
        if bullet:
            flush()
            para.append(stripped[bullet.end() :])
            continue
        ordered = _MD_ORDERED_RE.match(stripped)
        if ordered:
            flush()
            number, text = stripped[: ordered.end()].rstrip(), stripped[ordered.end() :]
            # "1. 加强…" is printed "1.加强…", as numbered items are in Chinese documents.
            para.append(number + ("" if text[:1] and ord(text[0]) >= 0x2E80 else " ") + text)
            continue
        para.append(stripped)
    flush()
    return blocks
