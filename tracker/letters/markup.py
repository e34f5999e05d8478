"""User-written Markdown, read once for every way it is shown, and a reply letter's body read
as the letter prints it.

:func:`render` is the one way user-written Markdown reaches a page: Python-Markdown (tables,
sane lists) renders it and nh3 sanitises the HTML.  A drafted letter's body goes one step
further, on that sanitised tree: :func:`letter_tree` sets it out as the letter's blocks.  The
preview and the letter's page show that tree (:func:`letter_html`) and the .docx, PDF and
print page print its blocks (:func:`letter_blocks`), so preview and export cannot disagree:

* a paragraph line that starts with 一、 or （一） is a heading of that level, on its own
  even where the Markdown runs it into the paragraph around it; where it goes on after its
  first 。, only that head is set in the heading face (:func:`split_heading`); ``#`` and
  ``##`` headings are first- and second-level headings, deeper ones paragraphs unless
  numbered so;
* a hard line break starts a new paragraph; soft-wrapped lines join, with no space between
  Chinese characters and one between Latin words; spaces at either end of a paragraph are
  dropped;
* an indented code block's lines are paragraphs (a letter pasted with indented paragraphs
  reads as a letter);
* lists, block quotes and tables stay lists, quotes and tables on screen and print as
  paragraphs: an ordered item with its number (``1.加强…``), a bullet item without its
  marker, a table row's cells separated by full-width spaces; emphasis, code and links
  print as their text; images (removed by the sanitiser) and rules do not print.

Pure library code (Markdown, nh3, lxml): no Flask, no database.
"""

from __future__ import annotations

import re

import markdown
import nh3
from lxml import html as lxml_html

from tracker.letters.patterns import heading_mark

__all__ = [
    "ALLOWED_TAGS",
    "heading_kind",
    "letter_blocks",
    "letter_html",
    "letter_tree",
    "render",
    "split_heading",
]

EXTENSIONS = ("tables", "sane_lists")
ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "b",
        "i",
        "u",
        "s",
        "ul",
        "ol",
        "li",
        "blockquote",
        "code",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "hr",
        "a",
        "del",
        "ins",
        "sup",
        "sub",
    }
)
# an ordered list keeps its first number ("3. …" after a paragraph goes on at 3)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def render(text: str | None) -> str:
    """Markdown as sanitised HTML."""
    return _sanitised(markdown.markdown(text or "", extensions=list(EXTENSIONS)))


def _sanitised(html: str, *, letter: bool = False) -> str:
    """``html`` with only the allowed tags, attributes and link schemes; ``letter`` lets the
    letter's block classes through (p.h1, p.h2, p.runon, span.head)."""
    tags, attributes = set(ALLOWED_TAGS), {k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()}
    if letter:
        tags.add("span")
        attributes.update({"p": {"class"}, "span": {"class"}})
    return nh3.clean(
        html,
        tags=tags,
        attributes=attributes,
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
    )


# -- the letter's own conventions ---------------------------------------------------------


def heading_kind(line: str) -> str | None:
    """ "h1" for a line that starts with 一、, "h2" for （一）/(一), else None."""
    level = heading_mark(line)
    return f"h{level}" if level in (1, 2) else None


def split_heading(text: str) -> tuple[str, str]:
    """("（一）健全完善工作体系。", "完善中小学…") for a heading that runs on after its first 。"""
    cut = text.find("。")
    if 0 < cut < len(text) - 1:
        return text[: cut + 1], text[cut + 1 :]
    return text, ""


# -- the letter's body as a tree ----------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "pre", "table", "hr"}
)
_HEADING_TAGS = {"h1": "h1", "h2": "h2", "h3": None, "h4": None, "h5": None, "h6": None}
_SOFT_BREAK_RE = re.compile(r"[ \t\u3000]*\n\s*")


def letter_tree(text: str | None):
    """The body's sanitised HTML as an lxml ``<div>`` of the letter's blocks: paragraphs
    (``<p>``, headings with class "h1" or "h2"), lists, block quotes, tables and rules."""
    root = lxml_html.fragment_fromstring(render(text), create_parent="div")
    _set_out(root)
    return root


def letter_html(text: str | None) -> str:
    """The letter body as the preview and the letter's page show it (sanitised HTML)."""
    root = letter_tree(text)
    html = "".join(lxml_html.tostring(child, encoding="unicode") for child in root)
    return _sanitised(html, letter=True)  # sanitised again after the restructuring


def letter_blocks(text: str | None) -> list[tuple[str, str]]:
    """The letter body as the exports print it: ("h1" | "h2" | "p", text) in order."""
    return _blocks(letter_tree(text))


def _set_out(container) -> None:
    """Rewrite ``container``'s children (the root or a block quote) into letter blocks."""
    nodes: list = []
    if container.text and container.text.strip():
        nodes += _paragraphs(_element("p", container.text))
    for child in list(container):
        tail, child.tail = child.tail, None
        container.remove(child)
        nodes += _set_out_block(child)
        if tail and tail.strip():
            nodes += _paragraphs(_element("p", tail))
    container.text = "\n" if nodes else None
    for node in nodes:
        node.tail = "\n"
        container.append(node)


def _set_out_block(element) -> list:
    tag = element.tag
    if tag == "p":
        return _paragraphs(element)
    if tag in _HEADING_TAGS:
        paragraph = _element("p")
        _move_content(element, paragraph)
        _tidy(paragraph)
        text = paragraph.text_content()
        kind = _HEADING_TAGS[tag] or heading_kind(text)
        return [_classified(paragraph, kind)] if text else []
    if tag == "pre":  # each line a paragraph, as typed
        lines = [line.strip() for line in element.text_content().splitlines()]
        return [_classified(_element("p", line), heading_kind(line)) for line in lines if line]
    if tag == "blockquote":
        _set_out(element)
        return [element]
    if tag in ("ul", "ol"):
        _tidy_list(element)
        return [element]
    if tag == "table":
        for cell in element.iter("th", "td"):
            _tidy(cell)
        return [element]
    if tag == "hr":
        return [element]
    return _paragraphs(_element("p", None, element))  # inline content outside a paragraph


def _paragraphs(paragraph) -> list:
    """A Markdown paragraph as the letter's paragraphs: cut at hard line breaks and before
    lines that start with a heading mark, and after such a line unless it runs on after its
    first 。; soft-wrapped lines joined."""
    groups: list[tuple[str | None, list[list]]] = []
    open_ = False  # the last group takes the next soft-wrapped line
    for items, hard in _lines(paragraph):
        text = _items_text(items).strip()
        kind = heading_kind(text)
        if kind or hard or not open_:
            groups.append((kind, [items]))
            # a heading line ends its paragraph unless it runs on after its first 。
            open_ = not kind or bool(split_heading(text)[1])
        else:
            groups[-1][1].append(items)
    out = []
    for kind, lines in groups:
        new = _element("p")
        for number, items in enumerate(lines):
            _append_items(new, (["\n"] if number else []) + items)
        _tidy(new)
        if new.text_content().strip():
            out.append(_classified(new, kind))
    return out


def _lines(paragraph) -> list[tuple[list, bool]]:
    """The paragraph's lines as (strings and inline elements, starts after a <br>?)."""
    lines: list[tuple[list, bool]] = [([], False)]

    def text(value: str | None) -> None:
        first, *rest = (value or "").split("\n")
        lines[-1][0].append(first)
        lines.extend(([part], False) for part in rest)

    text(paragraph.text)
    for child in list(paragraph):
        tail, child.tail = child.tail, None
        paragraph.remove(child)
        if child.tag == "br":
            lines.append(([], True))
        else:
            lines[-1][0].append(child)
        text(tail)
    return lines


def _items_text(items: list) -> str:
    return "".join(item if isinstance(item, str) else item.text_content() for item in items)


def _append_items(paragraph, items: list) -> None:
    for item in items:
        if not isinstance(item, str):
            paragraph.append(item)
        elif len(paragraph):
            paragraph[-1].tail = (paragraph[-1].tail or "") + item
        else:
            paragraph.text = (paragraph.text or "") + item


def _classified(paragraph, kind: str | None):
    """Mark a heading paragraph "h1"/"h2"; a heading that runs on after its first 。 is
    "h1 runon" with its head in <span class="head">."""
    if kind:
        head, rest = split_heading(paragraph.text_content())
        if rest:
            _wrap_head(paragraph, len(head))
            kind += " runon"
        paragraph.set("class", kind)
    return paragraph


def _wrap_head(paragraph, length: int) -> None:
    """Put the paragraph's first ``length`` characters in a <span class="head"> (an inline
    element the head ends inside goes in whole)."""
    span = _element("span")
    span.set("class", "head")
    text = paragraph.text or ""
    paragraph.text = None
    if len(text) >= length:
        span.text, span.tail = text[:length], text[length:]
        paragraph.insert(0, span)
        return
    span.text = text
    left = length - len(text)
    for child in list(paragraph):
        tail, child.tail = child.tail or "", None
        paragraph.remove(child)
        span.append(child)
        left -= len(child.text_content())
        if left <= 0:
            span.tail = tail
            break
        if len(tail) >= left:
            child.tail, span.tail = tail[:left], tail[left:]
            break
        child.tail = tail
        left -= len(tail)
    paragraph.insert(0, span)


def _tidy_list(element) -> None:
    for item in element.iterchildren("li"):
        _tidy(item)
        for child in item:
            if child.tag == "p":
                _tidy(child)
            elif child.tag in ("ul", "ol"):
                _tidy_list(child)
            elif child.tag == "blockquote":
                _set_out(child)


def _tidy(element) -> None:
    """Join soft-wrapped lines in the element's own text (not inside its block children)
    and drop the spaces at either end."""
    slots = _text_slots(element)
    whole = "".join(getattr(node, attr) or "" for node, attr in slots)
    offset = 0
    for node, attr in slots:
        value = getattr(node, attr) or ""
        start = offset
        offset += len(value)
        if "\n" not in value:
            continue

        def join(match: re.Match, start: int = start) -> str:
            before = whole[start + match.start() - 1] if start + match.start() else ""
            after = whole[start + match.end()] if start + match.end() < len(whole) else ""
            latin = before.isascii() and before.isalnum() and after.isascii() and after.isalnum()
            return " " if latin else ""

        setattr(node, attr, _SOFT_BREAK_RE.sub(join, value))
    for ends, strip in ((slots, str.lstrip), (slots[::-1], str.rstrip)):
        for node, attr in ends:
            value = strip(getattr(node, attr) or "")
            setattr(node, attr, value)
            if value:
                break


def _text_slots(element) -> list[tuple[object, str]]:
    """(node, "text" | "tail") for the element's text in document order, block children
    (a list inside a list item) left out."""
    slots: list[tuple[object, str]] = [(element, "text")]
    for child in element:
        if not isinstance(child.tag, str) or child.tag in _BLOCK_TAGS:
            continue
        slots += _text_slots(child)
        slots.append((child, "tail"))
    return slots


def _move_content(source, target) -> None:
    target.text = source.text
    for child in list(source):
        target.append(child)


def _element(tag: str, text: str | None = None, child=None):
    element = lxml_html.Element(tag)
    element.text = text
    if child is not None:
        element.append(child)
    return element


# -- the tree as printed blocks -----------------------------------------------------------


def _blocks(elements) -> list[tuple[str, str]]:
    blocks: list[tuple[str, str]] = []
    for child in elements:
        tag = child.tag
        if tag == "p":
            kind = (child.get("class") or "p").split()[0]
            _add(blocks, kind, child.text_content())
        elif tag == "blockquote":
            blocks += _blocks(child)
        elif tag in ("ul", "ol"):
            blocks += _list_blocks(child)
        elif tag == "table":
            for row in child.iter("tr"):
                cells = [cell.text_content().strip() for cell in row.iterchildren("th", "td")]
                _add(blocks, "p", "\u3000".join(cell for cell in cells if cell))
        elif isinstance(tag, str) and tag != "hr":
            _add(blocks, "p", child.text_content())
    return blocks


def _list_blocks(element) -> list[tuple[str, str]]:
    """A list's items as paragraphs: "1.加强…" for an ordered item, a bullet's text alone."""
    ordered = element.tag == "ol"
    start = element.get("start", "1")
    number = int(start) if start.isdigit() else 1
    blocks: list[tuple[str, str]] = []
    for item in element.iterchildren("li"):
        item_blocks = _item_blocks(item)
        if ordered and item_blocks:
            kind, text = item_blocks[0]
            # "1. 加强…" is printed "1.加强…", as numbered items are in Chinese documents.
            space = "" if ord(text[0]) >= 0x2E80 else " "
            item_blocks[0] = (kind, f"{number}.{space}{text}")
        blocks += item_blocks
        number += 1
    return blocks


def _item_blocks(item) -> list[tuple[str, str]]:
    """A list item's paragraphs: its own text (cut at line breaks), then its block children."""
    blocks: list[tuple[str, str]] = []
    run = [item.text or ""]
    for child in item:
        if child.tag == "br" or child.tag in _BLOCK_TAGS:
            _add(blocks, "p", "".join(run))
            run = []
            if child.tag in ("ul", "ol"):
                blocks += _list_blocks(child)
            elif child.tag != "br":
                blocks += _blocks([child])
            run = [child.tail or ""]
        else:
            run.append(child.text_content() + (child.tail or ""))
    _add(blocks, "p", "".join(run))
    return blocks


def _add(blocks: list[tuple[str, str]], kind: str, text: str) -> None:
    text = text.strip()
    if text:
        blocks.append((kind if kind in ("h1", "h2") else "p", text))
