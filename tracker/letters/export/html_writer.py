"""The letter as a standalone print-ready HTML page: the same layout in CSS, inline and
self-contained, every text escaped."""

from __future__ import annotations

import html

from tracker.letters.export.content import _CC_LABEL, LetterContent, _clean, _layout
from tracker.letters.export.geometry import (
    _CSS_GENERIC,
    BODY_PT,
    FONT_FAMILIES,
    LINE_PT,
    MARGIN_BOTTOM_MM,
    MARGIN_LEFT_MM,
    MARGIN_RIGHT_MM,
    MARGIN_TOP_MM,
    NOTE_PT,
    PAGE_H_MM,
    PAGE_NUMBER_GAP_MM,
    PAGE_W_MM,
    TITLE_LINE_PT,
    TITLE_PT,
)
from tracker.letters.export.linebreak import _title_lines
from tracker.letters.markup import split_heading


def _css_family(role: str) -> str:
    names = ", ".join(f'"{name}"' for name in FONT_FAMILIES[role])
    return f"{names}, {_CSS_GENERIC[role]}"


def _html_css() -> str:
    line = f"{LINE_PT}pt"
    return f"""
@page {{ size: A4; margin: {MARGIN_TOP_MM}mm {MARGIN_RIGHT_MM}mm {MARGIN_BOTTOM_MM}mm {MARGIN_LEFT_MM}mm; }}
@page :right {{ @bottom-right {{ content: "— " counter(page) " —"; font: {NOTE_PT}pt {_css_family("song")}; vertical-align: top; padding-top: {PAGE_NUMBER_GAP_MM}mm; margin-right: 1em; }} }}
@page :left {{ @bottom-left {{ content: "— " counter(page) " —"; font: {NOTE_PT}pt {_css_family("song")}; vertical-align: top; padding-top: {PAGE_NUMBER_GAP_MM}mm; margin-left: 1em; }} }}
html {{ background: #e8e8e8; }}
body {{ margin: 0; color: #000; -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
.letter {{ box-sizing: content-box; width: {PAGE_W_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM}mm;
  min-height: {PAGE_H_MM - MARGIN_TOP_MM - MARGIN_BOTTOM_MM}mm; margin: 10mm auto; background: #fff;
  padding: {MARGIN_TOP_MM}mm {MARGIN_RIGHT_MM}mm {MARGIN_BOTTOM_MM}mm {MARGIN_LEFT_MM}mm;
  box-shadow: 0 1px 4px rgba(0, 0, 0, .3);
  font-family: {_css_family("body")}; font-size: {BODY_PT}pt; line-height: {line}; }}
.letter p, .letter h1, .letter h2, .letter h3 {{ margin: 0; font-size: {BODY_PT}pt; font-weight: normal; line-height: {line}; }}
.letter .grade {{ text-align: right; font-family: {_css_family("hei")}; }}
.letter .docnum {{ text-align: right; }}
.letter h1.title {{ text-align: center; font-family: {_css_family("title")}; font-size: {TITLE_PT}pt;
  line-height: {TITLE_LINE_PT}pt; }}
.letter .blank {{ height: {line}; }}
.letter .p, .letter .h1, .letter .h2, .letter .note {{ text-indent: 2em; text-align: justify; }}
.letter .h1 .head {{ font-family: {_css_family("hei")}; }}
.letter .h2 .head {{ font-family: {_css_family("kai")}; }}
.letter .sign, .letter .date {{ text-align: right; }}
.letter .closing {{ break-inside: avoid; page-break-inside: avoid; }}
.letter .banji {{ margin-top: {line}; border-top: 0.35mm solid #000; border-bottom: 0.35mm solid #000;
  break-inside: avoid; page-break-inside: avoid; }}
.letter .banji p {{ font-size: {NOTE_PT}pt; line-height: {line}; margin: 0 1em;
  padding-left: {len(_CC_LABEL)}em; text-indent: -{len(_CC_LABEL)}em; }}
.letter .h1, .letter .h2 {{ break-after: avoid; page-break-after: avoid; }}
@media print {{
  html {{ background: none; }}
  .letter {{ width: auto; min-height: 0; margin: 0; padding: 0; box-shadow: none; }}
}}
""".strip()


def to_html(content: LetterContent, *, nonce: str | None = None) -> str:
    """A standalone print-ready HTML page of the letter (inline CSS, no external resources).

    All its style is in one <style> element (no style attributes), so that a page served
    under a Content-Security-Policy needs only `nonce` on that element."""
    esc = html.escape
    parts: list[str] = []
    closing: list[str] = []
    indents: dict[str, float] = {}
    for line in _layout(content):
        text = esc(line.text)
        if line.kind == "blank":
            (closing if closing else parts).append('<div class="blank"></div>')
        elif line.kind == "grade":
            parts.append(f'<p class="grade">{text}</p>')
        elif line.kind == "docnum":
            parts.append(f'<p class="docnum">{text}</p>')
        elif line.kind == "title":
            title_html = "<br>".join(esc(t) for t in _title_lines(line.text))
            parts.append(f'<h1 class="title">{title_html}</h1>')
        elif line.kind == "salutation":
            parts.append(f'<p class="salutation">{text}</p>')
        elif line.kind in ("h1", "h2"):
            head, rest = split_heading(line.text)
            tag = "h2" if line.kind == "h1" else "h3"
            if rest:
                parts.append(
                    f'<p class="{line.kind}"><span class="head">{esc(head)}</span>{esc(rest)}</p>'
                )
            else:
                parts.append(f'<{tag} class="{line.kind}"><span class="head">{text}</span></{tag}>')
        elif line.kind == "p":
            parts.append(f'<p class="p">{text}</p>')
        elif line.kind in ("sign", "date"):
            if not closing and parts and parts[-1] == '<div class="blank"></div>':
                closing.append(parts.pop())
            indents[line.kind] = line.right_chars
            closing.append(f'<p class="{line.kind}">{text}</p>')
        elif line.kind == "note":
            closing.append(f'<p class="note">{text}</p>')
        elif line.kind == "cc":
            if closing:
                parts.append(f'<div class="closing">{"".join(closing)}</div>')
                closing = []
            parts.append(f'<div class="banji"><p class="cc">{text}</p></div>')
    if closing:
        parts.append(f'<div class="closing">{"".join(closing)}</div>')
    body = "\n".join(parts)
    # the signature and the date are set in from the right by their own widths
    css = "\n".join(
        [_html_css()]
        + [f".letter p.{kind} {{ margin-right: {right:g}em; }}" for kind, right in indents.items()]
    )
    style = f'<style nonce="{esc(nonce)}">' if nonce else "<style>"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(_clean(content.title))}</title>\n"
        f"{style}\n{css}\n</style>\n</head>\n<body>\n"
        f'<article class="letter">\n{body}\n</article>\n</body>\n</html>\n'
    )
