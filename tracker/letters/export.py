"""Export a reply letter (答复函) as .docx, PDF or a print-ready HTML page.

Layout follows GB/T 9704-2012 (党政机关公文格式) as the domain notes describe it:

* A4, margins top 37 mm, left 28 mm, right 26 mm, bottom 35 mm (text block 156 × 225 mm);
* the reply grade ("A类") at the top right of the first page in 3号黑体, the document number
  right-aligned on its own line beneath it (the 信函格式 place, and where the seed letter has it);
* the title centred in 2号 (22 pt) 方正小标宋简体; body in 3号 (16 pt) 仿宋_GB2312 with a
  two-character first-line indent and a fixed line pitch of 28.95 pt (22 lines in 225 mm);
  first-level headings (一、) in 黑体, second-level headings (（一）) in 楷体_GB2312 — where a
  heading line goes on with running text after its first 。, only the heading part takes the
  heading face;
* salutation flush left; signature unit and date (Arabic numerals, 2022年5月7日) right-aligned,
  the date four characters in from the right edge and the signature centred over the date;
  then the contact line in parentheses and the disclosure mode, each indented two characters;
* the 版记: "抄送：…，…。" in 4号 (14 pt) between two horizontal rules;
* page numbers "— 1 —" in 4号 半角宋体 7 mm below the text block, odd pages right, even pages
  left, one character in from the edge.

Printed text is typeset, not rewritten: half-width punctuation in Chinese running text is
printed full width (答复如下: → 答复如下：, (第20222174号) → （第20222174号）), the year in the
document number in 〔〕, tabs and odd spaces as plain spaces; a long title is broken into
balanced lines between words (rjieba) rather than wherever the line runs out.

The .docx names the official fonts (East Asian names set through ``w:eastAsia``, the document
language zh-CN) and records a fallback for each in the font table; Word/WPS/LibreOffice
substitute whatever is installed.  Line breaking there is the word processor's.

The PDF (reportlab) is laid out here: Chinese line-breaking rules (no "，。、；：？！）》”" at a
line start, no "（《“" at a line end; a mark that does not fit takes the character before it
to the next line rather than hanging in the margin), justified lines, no single line left at
the foot or the top of a page, a heading never last on a page, the last lines of the body
kept with the signature, the 版记 at the foot of the last page.  It embeds an installed
TrueType CJK font for each role when one is found (``$TRACKER_FONT_DIR`` first, then the
usual font folders: simfang/simhei/simkai/simsun, 方正小标宋, AR PL UMing/UKai, WenQuanYi…)
and otherwise uses the Adobe CID font STSong-Light, which needs no font file (PDF viewers
supply it), so Chinese never comes out as boxes; without a 黑体 file, 黑体 text is drawn
fill-and-stroke to keep its weight.  Noto/Source Han CJK fonts carry CFF outlines, which
reportlab cannot embed, so they are skipped.  A character no available font has (an emoji)
is printed as 〓.

The HTML page has the same layout in CSS (@page A4 with the margins and page numbers, the
font fallback lists), inline and self-contained, every text escaped.

Pure library code: no Flask, no database.
"""

from __future__ import annotations

import functools
import hashlib
import html
import io
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tracker.letters.patterns import DISCLOSURE_LABEL_RE, heading_mark

__all__ = [
    "LetterContent",
    "blocks_from_markdown",
    "blocks_from_text",
    "fullwidth_punctuation",
    "pdf_fonts",
    "to_docx",
    "to_html",
    "to_pdf",
]


@dataclass
class LetterContent:
    """Everything printed on a reply letter, in print order."""

    title: str  # 广州市教育局关于市十六届人大一次会议第20222174号建议答复的函
    classification: str | None  # printed top right of page 1, e.g. "A类"
    doc_number: str | None  # 穗教案〔2022〕119号
    salutation: str | None  # 曾志伟代表：
    blocks: list[tuple[str, str]]  # ("h1", "一、…") / ("h2", "（一）…") / ("p", text)
    issuer: str  # signature unit
    letter_on: date | None  # printed 2022年5月7日
    contact_person: str | None
    contact_phone: str | None
    disclosure: str | None  # 主动公开 …
    cc: list[str] = field(default_factory=list)  # 抄送 list


# --------------------------------------------------------------------------------------
# Page geometry and type sizes (GB/T 9704-2012)
# --------------------------------------------------------------------------------------

PT_PER_MM = 72 / 25.4
PAGE_W_MM, PAGE_H_MM = 210, 297
MARGIN_TOP_MM, MARGIN_BOTTOM_MM = 37, 35
MARGIN_LEFT_MM, MARGIN_RIGHT_MM = 28, 26
TITLE_PT = 22  # 2号
BODY_PT = 16  # 3号
NOTE_PT = 14  # 4号: 版记 and page numbers
LINE_PT = 28.95  # 22 lines in the 225 mm text block
TITLE_LINE_PT = 35
PAGE_NUMBER_GAP_MM = 7  # page number's top edge below the text block

# Font roles: the official face first, then fallbacks (CSS order; the .docx records the
# first fallback as the font's altName).
FONT_FAMILIES: dict[str, tuple[str, ...]] = {
    "title": ("方正小标宋简体", "FZXiaoBiaoSong-B05S", "华文中宋", "STZhongsong", "宋体", "SimSun"),
    "body": ("仿宋_GB2312", "仿宋", "FangSong", "STFangsong"),
    "hei": ("黑体", "SimHei", "STHeiti"),
    "kai": ("楷体_GB2312", "楷体", "KaiTi", "STKaiti"),
    "song": ("宋体", "SimSun", "STSong"),
}
_DOCX_ALT_NAMES = {
    "方正小标宋简体": "华文中宋",
    "仿宋_GB2312": "仿宋",
    "黑体": "SimHei",
    "楷体_GB2312": "楷体",
    "宋体": "SimSun",
}
_CSS_GENERIC = {
    "title": "serif",
    "body": "serif",
    "hei": "sans-serif",
    "kai": "serif",
    "song": "serif",
}
_LATIN_FONT = "Times New Roman"  # digits and Latin letters in the text (page numbers: 宋体)

# --------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SPACE = " \t\u3000\u00a0\u2002\u2003\u2009\u200b\ufeff"


_SPACES_RE = re.compile(r"[\t\u00a0\u2002\u2003\u2009]")
_ZERO_WIDTH_RE = re.compile(r"[\u200b\ufeff]")


def _clean(text: str | None) -> str:
    """Text safe for XML and PDF: control and zero-width characters dropped, tabs and odd
    spaces made plain spaces, ends stripped."""
    text = _ZERO_WIDTH_RE.sub("", _CONTROL_RE.sub("", text or ""))
    return _SPACES_RE.sub(" ", text).strip(_SPACE + "\r\n")


def _heading_kind(line: str) -> str | None:
    level = heading_mark(line)
    return f"h{level}" if level in (1, 2) else None


def _split_heading(text: str) -> tuple[str, str]:
    """("（一）健全完善工作体系。", "完善中小学…") for a heading that runs on after its first 。"""
    cut = text.find("。")
    if 0 < cut < len(text) - 1:
        return text[: cut + 1], text[cut + 1 :]
    return text, ""


_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\u2018-\u201d\u2026\u2014"
_PAREN_RE = re.compile(r"\(([^()]*[\u4e00-\u9fff][^()]*)\)|(?<=[\u4e00-\u9fff])\(([^()]*)\)")
_AFTER_CJK = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}
_PUNCT_RE = re.compile(rf"(?<=[{_CJK}])\s*([,:;?!])(?!//)|([,;])(?=\s*[\u4e00-\u9fff])")
_DOCNUM_YEAR_RE = re.compile(r"[\[【［(（〔]\s*(\d{4})\s*[\]】］)）〕]")


def fullwidth_punctuation(text: str) -> str:
    """Half-width punctuation in Chinese running text → full width (GB/T 15834).

    "答复如下:" → "答复如下：", "同意,市教育局" → "同意，市教育局", "(第20222174号)" →
    "（第20222174号）".  Punctuation between digits or Latin text is left alone (1,000;
    9:30; http://…; 14.7万; 5.25)."""
    text = _PAREN_RE.sub(lambda m: f"（{m.group(1) or m.group(2) or ''}）", text)
    return _PUNCT_RE.sub(lambda m: _AFTER_CJK[m.group(1) or m.group(2)], text)


def _doc_number_text(doc_number: str | None) -> str:
    """The year in 〔〕 as GB/T 9704 has it: 穗教案[2022]119号 → 穗教案〔2022〕119号."""
    return _DOCNUM_YEAR_RE.sub(r"〔\1〕", _clean(doc_number))


def _date_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _salutation_text(salutation: str | None) -> str:
    text = fullwidth_punctuation(_clean(salutation))
    if not text:
        return ""
    if text.endswith(":"):
        return text[:-1] + "："
    return text if text.endswith("：") else text + "："


def _contact_text(content: LetterContent) -> str:
    person, phone = _clean(content.contact_person), _clean(content.contact_phone)
    parts = []
    if person:
        parts.append(f"联系人：{person}")
    if phone:
        parts.append(f"联系电话：{phone}")
    return f"（{'，'.join(parts)}）" if parts else ""


def _disclosure_text(disclosure: str | None) -> str:
    text = _clean(disclosure)
    if not text:
        return ""
    match = DISCLOSURE_LABEL_RE.match(text)
    if match:
        return f"{match.group(1)}：{text[match.end() :].strip(_SPACE)}"
    return f"公开方式：{text}"


_CC_LABEL = "抄送："


def _cc_text(cc: list[str]) -> str:
    units = [_clean(u).strip("，,、。；;") for u in cc]
    units = [u for u in units if u]
    return f"{_CC_LABEL}{'，'.join(units)}。" if units else ""


def _text_width_chars(text: str) -> float:
    """Width in body characters: CJK, full-width forms and “”—… count 1, Latin half."""
    return sum(0.5 if ord(ch) < 0x2000 else 1.0 for ch in text)


def _closing_indents(issuer: str, date_text: str) -> tuple[float, float]:
    """Right indents (in characters) of the signature and the date lines.

    The date sits four characters in from the right edge (右空四字); the signature is centred
    over the date, and never pushed past the right edge when it is the longer of the two."""
    date_right = 4.0 if date_text else 2.0
    if not date_text:
        return date_right, date_right
    sig_right = date_right + (_text_width_chars(date_text) - _text_width_chars(issuer)) / 2
    return max(0.0, sig_right), date_right


@dataclass
class _Line:
    """One printed paragraph of the letter, independent of the output format."""

    kind: str  # grade, docnum, blank, title, salutation, h1, h2, p, sign, date, note, cc
    text: str = ""
    right_chars: float = 0.0  # right indent in body characters (sign/date)


def _layout(content: LetterContent) -> list[_Line]:
    lines: list[_Line] = []
    grade, docnum = _clean(content.classification), _doc_number_text(content.doc_number)
    if grade:
        lines.append(_Line("grade", grade))
    if docnum:
        lines.append(_Line("docnum", docnum))
    if grade or docnum:
        lines.append(_Line("blank"))
    lines.append(_Line("title", fullwidth_punctuation(_clean(content.title))))
    lines.append(_Line("blank"))
    salutation = _salutation_text(content.salutation)
    if salutation:
        lines.append(_Line("salutation", salutation))
    for kind, text in content.blocks:
        text = fullwidth_punctuation(_clean(text))
        if text:
            lines.append(_Line(kind if kind in ("h1", "h2") else "p", text))
    issuer = _clean(content.issuer)
    date_text = _date_text(content.letter_on) if content.letter_on else ""
    if issuer or date_text:
        sig_right, date_right = _closing_indents(issuer, date_text)
        lines.append(_Line("blank"))
        if issuer:
            lines.append(_Line("sign", issuer, sig_right))
        if date_text:
            lines.append(_Line("date", date_text, date_right))
    for note in (_contact_text(content), _disclosure_text(content.disclosure)):
        if note:
            lines.append(_Line("note", note))
    cc = _cc_text(content.cc)
    if cc:
        lines.append(_Line("cc", cc))
    return lines


# --------------------------------------------------------------------------------------
# Blocks from plain text and from the editor's Markdown
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------


def _docx_fonts(run, role: str) -> None:
    """Name the role's font for East Asian text (w:eastAsia) and Latin text."""
    from docx.oxml.ns import qn

    east = FONT_FAMILIES[role][0]
    latin = east if role == "song" else _LATIN_FONT
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:hint"), "eastAsia")


def _docx_run(paragraph, text: str, role: str, size: float):
    from docx.shared import Pt

    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    _docx_fonts(run, role)
    return run


def _docx_paragraph(
    doc,
    *,
    align: str = "justify",
    size: float = BODY_PT,
    line_pt: float | None = LINE_PT,
    first_chars: float = 0.0,
    left_pt: float = 0.0,
    right_pt: float = 0.0,
    keep_with_next: bool = False,
):
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Pt

    paragraph = doc.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.alignment = {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if line_pt:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line_pt)
    fmt.left_indent = Pt(left_pt)
    fmt.right_indent = Pt(right_pt)
    fmt.first_line_indent = Pt(first_chars * size)
    if first_chars > 0:
        # Word and WPS keep the indent at two characters when the font size changes.
        paragraph._p.get_or_add_pPr().get_or_add_ind().set(
            qn("w:firstLineChars"), str(round(first_chars * 100))
        )
    fmt.widow_control = True
    if keep_with_next:
        fmt.keep_with_next = True
    return paragraph


# Children of w:pPr in schema order (ECMA-376 CT_PPr).
_PPR_SEQUENCE = [
    "w:pStyle",
    "w:keepNext",
    "w:keepLines",
    "w:pageBreakBefore",
    "w:framePr",
    "w:widowControl",
    "w:numPr",
    "w:suppressLineNumbers",
    "w:pBdr",
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
]


def _ppr_child(paragraph, tag: str):
    """The paragraph's pPr child ``tag`` (e.g. "w:pBdr"), created in schema order."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    found = ppr.find(qn(tag))
    if found is not None:
        return found
    seq = _PPR_SEQUENCE
    return ppr.insert_element_before(OxmlElement(tag), *seq[seq.index(tag) + 1 :])


def _docx_border(paragraph, side: str, size_eighths: int = 8) -> None:
    """A single black rule on one side of the paragraph (版记 lines); 8 = 1 pt ≈ 0.35 mm."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), "single")
    edge.set(qn("w:sz"), str(size_eighths))
    edge.set(qn("w:space"), "0")
    edge.set(qn("w:color"), "000000")
    _ppr_child(paragraph, "w:pBdr").append(edge)


def _docx_page_number(footer, odd: bool) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    if odd:
        fmt.right_indent = Pt(NOTE_PT)
    else:
        fmt.left_indent = Pt(NOTE_PT)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    _docx_run(paragraph, "— ", "song", NOTE_PT)
    # A PAGE field: begin, instruction, separate, cached result, end.
    for piece in ("begin", " PAGE ", "separate", "1", "end"):
        run = _docx_run(paragraph, "", "song", NOTE_PT)
        if piece in ("begin", "separate", "end"):
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), piece)
            run._r.append(char)
        elif piece == " PAGE ":
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = piece
            run._r.append(code)
        else:
            run.text = piece
    _docx_run(paragraph, " —", "song", NOTE_PT)


def _docx_defaults(doc) -> None:
    """Document defaults: 3号仿宋, Chinese language, exact 28.95 pt lines, no spacing."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Pt

    styles = doc.styles.element
    rpr_default = styles.find(qn("w:docDefaults") + "/" + qn("w:rPrDefault") + "/" + qn("w:rPr"))
    if rpr_default is not None:
        fonts = rpr_default.find(qn("w:rFonts"))
        if fonts is not None:
            for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(attr), None)
            fonts.set(qn("w:ascii"), _LATIN_FONT)
            fonts.set(qn("w:hAnsi"), _LATIN_FONT)
            fonts.set(qn("w:eastAsia"), FONT_FAMILIES["body"][0])
            fonts.set(qn("w:cs"), _LATIN_FONT)
        lang = rpr_default.find(qn("w:lang"))
        if lang is not None:
            lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    fmt = normal.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PT)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:ascii"), _LATIN_FONT)
    fonts.set(qn("w:hAnsi"), _LATIN_FONT)
    fonts.set(qn("w:eastAsia"), FONT_FAMILIES["body"][0])


def _docx_font_table(doc) -> None:
    """Record a fallback (w:altName) and the GB2312 charset for each official font."""
    from lxml import etree

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    part = next(
        (p for p in doc.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml"),
        None,
    )
    if part is None or not hasattr(part, "_blob"):
        return
    root = etree.fromstring(part.blob)
    present = {el.get(f"{{{w}}}name") for el in root.findall(f"{{{w}}}font")}
    for name, alt in _DOCX_ALT_NAMES.items():
        if name in present:
            continue
        font = etree.SubElement(root, f"{{{w}}}font")
        font.set(f"{{{w}}}name", name)
        etree.SubElement(font, f"{{{w}}}altName").set(f"{{{w}}}val", alt)
        etree.SubElement(font, f"{{{w}}}charset").set(f"{{{w}}}val", "86")
        family = "swiss" if name == "黑体" else "modern" if name.endswith("_GB2312") else "roman"
        etree.SubElement(font, f"{{{w}}}family").set(f"{{{w}}}val", family)
        etree.SubElement(font, f"{{{w}}}pitch").set(f"{{{w}}}val", "variable")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def to_docx(content: LetterContent) -> bytes:
    """The letter as a .docx in the GB/T 9704 layout (fonts named, not embedded)."""
    from docx import Document
    from docx.shared import Mm, Pt

    doc = Document()
    _docx_defaults(doc)
    _docx_font_table(doc)
    core = doc.core_properties
    core.title = _clean(content.title)
    core.author = _clean(content.issuer)
    core.last_modified_by = _clean(content.issuer)
    core.subject = "答复函"
    core.comments = ""
    core.keywords = _clean(content.doc_number)

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_W_MM), Mm(PAGE_H_MM)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT_MM), Mm(MARGIN_RIGHT_MM)
    section.header_distance = Mm(15)
    # The page number's top edge sits 7 mm below the text block.
    section.footer_distance = Mm(MARGIN_BOTTOM_MM - PAGE_NUMBER_GAP_MM) - Pt(NOTE_PT * 1.3)
    doc.settings.odd_and_even_pages_header_footer = True
    _docx_page_number(section.footer, odd=True)
    _docx_page_number(section.even_page_footer, odd=False)

    lines = _layout(content)
    for index, line in enumerate(lines):
        nxt = lines[index + 1].kind if index + 1 < len(lines) else ""
        # The last paragraph of the body goes with the signature (its last lines at least).
        before_closing = (
            nxt == "blank" and index + 2 < len(lines) and lines[index + 2].kind == "sign"
        )
        if line.kind == "grade":
            par = _docx_paragraph(doc, align="right")
            _docx_run(par, line.text, "hei", BODY_PT)
        elif line.kind == "docnum":
            par = _docx_paragraph(doc, align="right")
            _docx_run(par, line.text, "body", BODY_PT)
        elif line.kind == "blank":
            par = _docx_paragraph(doc, keep_with_next=nxt in ("sign", "date"))
            _docx_run(par, "", "body", BODY_PT)
        elif line.kind == "title":
            par = _docx_paragraph(
                doc, align="center", size=TITLE_PT, line_pt=TITLE_LINE_PT, keep_with_next=True
            )
            title_lines = _title_lines(line.text)
            for number, title_line in enumerate(title_lines):
                run = _docx_run(par, title_line, "title", TITLE_PT)
                if number < len(title_lines) - 1:
                    run.add_break()  # balanced lines, broken between phrases
        elif line.kind == "salutation":
            par = _docx_paragraph(doc, align="left", keep_with_next=True)
            _docx_run(par, line.text, "body", BODY_PT)
        elif line.kind in ("h1", "h2"):
            head, rest = _split_heading(line.text)
            par = _docx_paragraph(doc, first_chars=2, keep_with_next=not rest or before_closing)
            _docx_run(par, head, "hei" if line.kind == "h1" else "kai", BODY_PT)
            if rest:
                _docx_run(par, rest, "body", BODY_PT)
        elif line.kind == "p":
            par = _docx_paragraph(doc, first_chars=2, keep_with_next=before_closing)
            _docx_run(par, line.text, "body", BODY_PT)
        elif line.kind in ("sign", "date"):
            par = _docx_paragraph(
                doc,
                align="right",
                right_pt=line.right_chars * BODY_PT,
                keep_with_next=line.kind == "sign",
            )
            _docx_run(par, line.text, "body", BODY_PT)
        elif line.kind == "note":
            par = _docx_paragraph(doc, align="left", first_chars=2)
            _docx_run(par, line.text, "body", BODY_PT)
        elif line.kind == "cc":
            # 版记 after a blank line: a rule, the 抄送 line (one character in from each side,
            # continuation lines aligned after the colon), a rule.  The rules are thin empty
            # paragraphs with a bottom border, so they span the whole text block whatever the
            # text's indents.  (A frame at the foot of the page, as the PDF has it, is not
            # placed reliably by LibreOffice, so the .docx keeps the 版记 in the flow.)
            blank = _docx_paragraph(doc, keep_with_next=True)
            _docx_run(blank, "", "body", BODY_PT)
            top = _docx_paragraph(doc, line_pt=6, keep_with_next=True)
            _docx_run(top, "", "body", 2)
            _docx_border(top, "bottom")
            hang = len(_CC_LABEL) * NOTE_PT
            par = _docx_paragraph(
                doc,
                align="left",
                size=NOTE_PT,
                line_pt=LINE_PT,
                left_pt=NOTE_PT + hang,
                right_pt=NOTE_PT,
                keep_with_next=True,
            )
            par.paragraph_format.first_line_indent = Pt(-hang)
            _docx_run(par, line.text, "body", NOTE_PT)
            bottom = _docx_paragraph(doc, line_pt=6)
            _docx_run(bottom, "", "body", 2)
            _docx_border(bottom, "bottom")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------------------
# PDF (reportlab)
# --------------------------------------------------------------------------------------

# File-name stems (lower case, prefix match) of fonts for each role, best first.
_PDF_ROLE_FILES: dict[str, tuple[str, ...]] = {
    "title": (
        "方正小标宋简体",
        "方正小标宋",
        "fzxbsjw",
        "fzxiaobiaosong",
        "stzhongs",
        "华文中宋",
        "simsun",
        "宋体",
        "stsong",
        "华文宋体",
    ),
    "body": (
        "仿宋_gb2312",
        "fangsong_gb2312",
        "simfang",
        "仿宋",
        "fangsong",
        "stfangso",
        "华文仿宋",
    ),
    "hei": ("simhei", "黑体", "stheiti", "华文黑体", "wqy-zenhei", "wqy-microhei"),
    "kai": (
        "楷体_gb2312",
        "kaiti_gb2312",
        "simkai",
        "楷体",
        "kaiti",
        "stkaiti",
        "华文楷体",
        "ukai",
    ),
    "song": ("simsun", "宋体", "nsimsun", "stsong", "华文宋体", "uming", "gbsn00lp"),
}
# Any CJK font, serif faces first.  Noto/Source Han CJK ship CFF outlines, which reportlab
# cannot embed: they are tried (a future reportlab may take them) and skipped on failure.
_PDF_GENERIC_FILES = (
    "uming",
    "notoserifcjk",
    "sourcehanserif",
    "droidsansfallback",
    "wqy-microhei",
    "wqy-zenhei",
    "notosanscjk",
    "sourcehansans",
    "ukai",
)
_CID_FONT = "STSong-Light"  # Adobe-GB1, resolved by every PDF viewer, no file needed
_FONT_EXTS = (".ttf", ".ttc", ".otf")


def _font_dirs() -> list[Path]:
    dirs: list[Path] = []
    env = os.environ.get("TRACKER_FONT_DIR", "")
    dirs += [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    home = Path.home()
    dirs += [
        home / ".fonts",
        home / ".local/share/fonts",
        Path("/usr/local/share/fonts"),
        Path("/usr/share/fonts"),
        home / "Library/Fonts",
        Path("/Library/Fonts"),
        Path("/System/Library/Fonts"),
    ]
    windir = os.environ.get("WINDIR")
    if windir:
        dirs.append(Path(windir) / "Fonts")
    return dirs


@functools.lru_cache(maxsize=8)
def _font_files(env_dirs: str) -> tuple[tuple[Path, bool], ...]:
    """(path, from $TRACKER_FONT_DIR) for every font file in the font folders, in order."""
    del env_dirs  # the cache key: the folders are read from the environment
    env_paths = [
        Path(p).expanduser() for p in os.environ.get("TRACKER_FONT_DIR", "").split(os.pathsep) if p
    ]
    seen: set[Path] = set()
    found: list[tuple[Path, bool]] = []
    for base in _font_dirs():
        if not base.is_dir():
            continue
        for root, _dirs, files in os.walk(base):
            for name in sorted(files):
                path = Path(root) / name
                if path.suffix.lower() not in _FONT_EXTS or path in seen:
                    continue
                seen.add(path)
                found.append((path, base in env_paths))
    return tuple(found)


def _stem_rank(path: Path) -> int:
    """Regular faces before bold/light ones among files matching the same name."""
    stem = path.stem.lower()
    return (
        1
        if any(w in stem for w in ("bold", "light", "heavy", "black", "thin", "medium", "semi"))
        else 0
    )


@functools.lru_cache(maxsize=64)
def _load_ttf(path: str) -> str | None:
    """Register the TrueType font at ``path`` with reportlab; its registered name or None.

    In a .ttc collection the simplified-Chinese face is preferred."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    digest = hashlib.sha1(path.encode()).hexdigest()[:10]
    candidates = [0]
    if path.lower().endswith(".ttc"):
        candidates = list(range(8))
    first: TTFont | None = None
    chosen: TTFont | None = None
    for index in candidates:
        try:
            font = TTFont(f"TrackerCJK-{digest}-{index}", path, subfontIndex=index)
        except (TTFError, OSError, IndexError, KeyError, ValueError, AssertionError):
            if index == 0:
                return None
            break
        if ord("中") not in font.face.charToGlyph:
            continue
        first = first or font
        names = " ".join(
            str(getattr(font.face, attr, "")) for attr in ("name", "familyName", "styleName")
        )
        if re.search(r"\b(SC|CN|GB)\b|Simplified|简", names):
            chosen = font
            break
    chosen = chosen or first
    if chosen is None:
        return None
    pdfmetrics.registerFont(chosen)
    return chosen.fontName


def _cid_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    try:
        pdfmetrics.getFont(_CID_FONT)
    except KeyError:
        pdfmetrics.registerFont(UnicodeCIDFont(_CID_FONT))
    return _CID_FONT


def _pick_font(stems: tuple[str, ...], files: tuple[tuple[Path, bool], ...]) -> str | None:
    """The first loadable font whose file name starts with one of ``stems`` (in that order);
    among files matching the same stem, those in $TRACKER_FONT_DIR and regular faces first."""
    for stem in stems:
        matches = sorted(
            ((p, env) for p, env in files if p.stem.lower().startswith(stem)),
            key=lambda item: (not item[1], _stem_rank(item[0]), len(item[0].stem)),
        )
        for path, _env in matches:
            name = _load_ttf(str(path))
            if name:
                return name
    return None


@dataclass(frozen=True)
class _PdfFonts:
    title: str
    body: str
    hei: str
    kai: str
    song: str
    faux_bold_hei: bool  # 黑体 simulated by stroking a Song/Fangsong face


def pdf_fonts() -> _PdfFonts:
    """The fonts to_pdf uses for each role (registered reportlab names)."""
    files = _font_files(os.environ.get("TRACKER_FONT_DIR", ""))
    known = tuple(stem for stems in _PDF_ROLE_FILES.values() for stem in stems)
    known += _PDF_GENERIC_FILES
    # A font a deployer put in $TRACKER_FONT_DIR under a name we do not know comes first.
    unknown_env = tuple(
        p.stem.lower() for p, env in files if env and not p.stem.lower().startswith(known)
    )
    chosen = {role: _pick_font(stems, files) for role, stems in _PDF_ROLE_FILES.items()}
    generic = _pick_font(unknown_env + _PDF_GENERIC_FILES, files)
    song = chosen["song"] or generic
    body = chosen["body"] or song or _cid_font()
    hei = chosen["hei"]
    return _PdfFonts(
        title=chosen["title"] or song or _cid_font(),
        body=body,
        hei=hei or body,
        kai=chosen["kai"] or body,
        song=song or _cid_font(),
        faux_bold_hei=hei is None,
    )


# Chinese line breaking (禁则): these never start a line / never end one.  reportlab's own CJK
# wrap knows the Japanese set only (it lets "，" start a line and hangs 。 into the margin),
# so the PDF is laid out here and reportlab only draws the pieces.
_CANNOT_START = set("，。、；：？！）》」』】〕〗〙］｝〉”’·％‰,.;:?!)]}%")
_CANNOT_END = set("（《「『【〔〖〘［｛〈“‘([{")
_TOKEN_RE = re.compile(
    r"\n|[ \t]+|[A-Za-z0-9](?:[A-Za-z0-9.,:%/\-_@#&+=~']*[A-Za-z0-9%])?|—+|…+|.", re.S
)


@dataclass
class _Piece:
    text: str
    font: str
    faux_bold: bool
    width: float

    @property
    def space(self) -> bool:
        return not self.text.strip()


_Unit = list[_Piece]  # pieces that stay on one line together
_MISSING = "〓"  # printed for a character no available font has


def _units(pieces: list[_Piece | None]) -> list[_Unit | None]:
    """Glue pieces into unbreakable units: a closing mark to what precedes it, an opening
    mark to what follows it.  None is a forced line break and stays one."""
    units: list[_Unit | None] = []
    glue_next = False
    for piece in pieces:
        if piece is None:
            units.append(None)
            glue_next = False
            continue
        last = units[-1] if units else None
        if (
            last
            and not piece.space
            and not last[-1].space
            and (glue_next or piece.text[0] in _CANNOT_START)
        ):
            last.append(piece)
        else:
            units.append([piece])
        glue_next = not piece.space and piece.text[-1] in _CANNOT_END
    return units


def _break_lines(
    units: list[_Unit | None], first_width: float, width: float
) -> list[tuple[list[_Unit], bool]]:
    """Greedy line filling; a unit that does not fit moves to the next line whole (推出), so
    no mark hangs in the margin.  Returns (units of the line, justify?) per line."""
    lines: list[tuple[list[_Unit], bool]] = []
    current: list[_Unit] = []
    used = 0.0

    def avail() -> float:
        return first_width if not lines else width

    def close(justify: bool) -> None:
        nonlocal current, used
        while current and all(p.space for p in current[-1]):
            current.pop()
        lines.append((current, justify))
        current, used = [], 0.0

    queue = list(units)
    while queue:
        unit = queue.pop(0)
        if unit is None:
            close(False)
            continue
        is_space = all(p.space for p in unit)
        if is_space and not current:
            continue
        unit_width = sum(p.width for p in unit)
        if used + unit_width <= avail() + 0.01:
            current.append(unit)
            used += unit_width
            continue
        if is_space:
            close(True)
            continue
        if current and any(not all(p.space for p in u) for u in current):
            close(True)
            queue.insert(0, unit)
            continue
        # A unit wider than a whole line (a long URL or number): break it by character.
        chars = [
            [_Piece(ch, p.font, p.faux_bold, p.width * (len(ch) / max(len(p.text), 1)))]
            for p in unit
            for ch in p.text
        ]
        if len(chars) == 1:
            current.append(unit)
            close(True)
            continue
        fit, total = 0, 0.0
        while fit < len(chars) and total + chars[fit][0].width <= avail() + 0.01:
            total += chars[fit][0].width
            fit += 1
        fit = max(fit, 1)
        current.extend(chars[:fit])
        close(True)
        queue[0:0] = chars[fit:]
    if current:
        close(False)
    return lines


TITLE_CHARS_PER_LINE = int((PAGE_W_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM) * PT_PER_MM / TITLE_PT)


def _title_lines(title: str, max_chars: float = TITLE_CHARS_PER_LINE) -> list[str]:
    """Break a long title into balanced lines at sensible places (GB/T 9704: 回行时词意完整，
    排列对称，长短适宜): before 关于/第/对/《, after 会议/》/） where possible, never inside a
    number or against 禁则."""
    if _text_width_chars(title) <= max_chars or len(title) < 2:
        return [title]
    n_lines = int(-(-_text_width_chars(title) // max_chars))
    good_before = ("关于", "第", "对", "《", "答复", "的答复", "的函")
    good_after = ("会议", "》", "）")

    def allowed(i: int) -> bool:
        a, b = title[i - 1], title[i]
        if a.isascii() and a.isalnum() and b.isascii() and b.isalnum():
            return False
        return b not in _CANNOT_START and a not in _CANNOT_END

    word_bounds = _word_boundaries(title)

    def penalty(i: int) -> float:
        if title[i:].startswith(good_before) or title[:i].endswith(good_after):
            return 0.0
        if i in word_bounds:
            return 30.0
        return 80.0  # inside a word: only when nothing else fits

    cuts = [i for i in range(1, len(title)) if allowed(i)]
    for lines in range(n_lines, n_lines + 4):
        breaks = _balanced_breaks(title, cuts, lines, max_chars, penalty)
        if breaks is not None:
            bounds = [0, *breaks, len(title)]
            return [title[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    return [title]  # unbreakable as asked: the layout engines wrap it themselves


def _word_boundaries(text: str) -> set[int]:
    """Offsets between words (rjieba's segmentation, the one the search index uses)."""
    try:
        import rjieba
    except ImportError:  # pragma: no cover - rjieba is a dependency of the tracker
        return set()
    bounds, offset = set(), 0
    for word in rjieba.cut(text):
        offset += len(word)
        bounds.add(offset)
    return bounds


def _balanced_breaks(title, cuts, n_lines, max_chars, penalty) -> list[int] | None:
    """Break positions giving ``n_lines`` lines of near-equal width, or None."""
    target = _text_width_chars(title) / n_lines
    best: dict[tuple[int, int], tuple[float, list[int]]] = {}

    def solve(start: int, lines_left: int) -> tuple[float, list[int]]:
        key = (start, lines_left)
        if key in best:
            return best[key]
        rest = _text_width_chars(title[start:])
        if lines_left == 1:
            result = ((rest - target) ** 2, []) if rest <= max_chars else (float("inf"), [])
            best[key] = result
            return result
        result: tuple[float, list[int]] = (float("inf"), [])
        for cut in cuts:
            if cut <= start:
                continue
            width = _text_width_chars(title[start:cut])
            if width > max_chars:
                break
            cost, tail = solve(cut, lines_left - 1)
            cost += (width - target) ** 2 + penalty(cut)
            if cost < result[0]:
                result = (cost, [cut, *tail])
        best[key] = result
        return result

    cost, breaks = solve(0, n_lines)
    return None if cost == float("inf") else breaks


def _pdf_flowables():
    """reportlab flowable classes (defined lazily: reportlab is imported only for PDFs)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.platypus import Flowable

    class CJKParagraph(Flowable):
        """A paragraph laid out with Chinese line-breaking rules on a fixed line pitch.

        ``segments`` are (text, font, faux_bold) runs; "\\n" forces a line break."""

        def __init__(
            self,
            segments,
            *,
            size=BODY_PT,
            leading=LINE_PT,
            align="justify",
            first_indent=0.0,
            left_indent=0.0,
            right_indent=0.0,
            fallback_font=None,
            lines=None,
        ):
            super().__init__()
            self.segments = segments
            self.size, self.leading, self.align = size, leading, align
            self.first_indent, self.left_indent, self.right_indent = (
                first_indent,
                left_indent,
                right_indent,
            )
            self.fallback_font = fallback_font
            self._lines = lines  # given for the parts of a split paragraph
            self._fixed = lines is not None
            self._lines_for: float | None = None

        def _covers(self, font: str, ch: str) -> bool:
            face = getattr(pdfmetrics.getFont(font), "face", None)
            char_map = getattr(face, "charToGlyph", None)
            if char_map is None:  # the CID font: Unicode's basic plane (UniGB-UCS2-H)
                return ord(ch) <= 0xFFFF
            return ord(ch) in char_map or ch in " \t\n"

        def _font_for(self, font: str, ch: str) -> str | None:
            if self._covers(font, ch):
                return font
            if self.fallback_font and self._covers(self.fallback_font, ch):
                return self.fallback_font
            return None

        def _pieces(self) -> list[_Piece | None]:
            pieces: list[_Piece | None] = []
            for text, font, faux in self.segments:
                for token in _TOKEN_RE.findall(text):
                    if token == "\n":
                        pieces.append(None)
                        continue
                    if all(self._covers(font, ch) for ch in token):
                        runs = [(token, font)]
                    else:
                        # A character the font lacks comes from the fallback font; one that
                        # no font here has (an emoji, a rare Extension B character) is printed
                        # as 〓, the typesetter's mark for a missing character.
                        runs = []
                        for ch in token:
                            ch_font = self._font_for(font, ch)
                            runs.append((ch, ch_font) if ch_font else (_MISSING, font))
                    for run_text, run_font in runs:
                        width = pdfmetrics.stringWidth(run_text, run_font, self.size)
                        pieces.append(_Piece(run_text, run_font, faux, width))
            return pieces

        def wrap(self, aw, ah):
            if not self._fixed and self._lines_for != aw:
                width = aw - self.left_indent - self.right_indent
                self._lines = _break_lines(_units(self._pieces()), width - self.first_indent, width)
                self._lines_for = aw
            self.width = aw
            self.height = self.leading * max(len(self._lines or []), 1)
            return aw, self.height

        def split(self, aw, ah):
            self.wrap(aw, ah)
            lines = self._lines or []
            fit = int((ah + 0.01) // self.leading)
            if fit >= len(lines):
                return [self]
            if len(lines) > 1 and fit == len(lines) - 1 and fit >= 2:
                fit -= 1  # no widow: never one last line alone on the next page
            if fit < 2 and len(lines) > 1:
                return []  # no orphan: never one first line alone at the foot
            if fit < 1:
                return []
            head = self._part(lines[:fit], first=True)
            tail = self._part(lines[fit:], first=False)
            return [head, tail]

        def _part(self, lines, first):
            part = CJKParagraph(
                self.segments,
                size=self.size,
                leading=self.leading,
                align=self.align,
                first_indent=self.first_indent if first else 0.0,
                left_indent=self.left_indent,
                right_indent=self.right_indent,
                fallback_font=self.fallback_font,
                lines=lines,
            )
            return part

        def draw(self):
            canv = self.canv
            width = self.width - self.left_indent - self.right_indent
            for index, (units, justify) in enumerate(self._lines or []):
                top = self.height - index * self.leading
                baseline = top - self.leading / 2 - 0.36 * self.size
                indent = self.first_indent if index == 0 else 0.0
                avail = width - indent
                used = sum(p.width for u in units for p in u)
                gap = 0.0
                x = self.left_indent + indent
                if self.align == "center":
                    x += (avail - used) / 2
                elif self.align == "right":
                    x += avail - used
                elif self.align == "justify" and justify and len(units) > 1:
                    gap = (avail - used) / (len(units) - 1)
                    if gap > self.size * 0.75:
                        gap = 0.0
                for unit in units:
                    for piece in unit:
                        if not piece.space:
                            self._text(canv, x, baseline, piece)
                        x += piece.width
                    x += gap

        def _text(self, canv, x, y, piece):
            # The text render mode outlives the text object in PDF's graphics state, so a
            # faux-bold piece is drawn inside its own save/restore.
            canv.saveState()
            text = canv.beginText(x, y)
            text.setFont(piece.font, self.size)
            if piece.faux_bold:
                canv.setLineWidth(self.size * 0.03)
                text.setTextRenderMode(2)
            text.textOut(piece.text)
            canv.drawText(text)
            canv.restoreState()

    class KeepTail(Flowable):
        """A paragraph and what follows it (the signature and date), kept together so that at
        least the paragraph's last two lines go with them: the signature never opens a page
        on its own (GB/T 9704 7.3.5)."""

        def __init__(self, paragraph, after):
            super().__init__()
            self.paragraph, self.after = paragraph, after
            self._heights: list[float] = []

        def wrap(self, aw, ah):
            self._heights = [f.wrap(aw, ah)[1] for f in (self.paragraph, *self.after)]
            self.width, self.height = aw, sum(self._heights)
            return aw, self.height

        def split(self, aw, ah):
            self.wrap(aw, ah)
            if self.height <= ah + 0.01:
                return [self]
            lines = self.paragraph._lines or []
            head = min(int((ah + 0.01) // self.paragraph.leading), len(lines) - 2)
            if head < 2:
                return []  # the whole group starts the next page
            first = self.paragraph._part(lines[:head], first=True)
            rest = self.paragraph._part(lines[head:], first=False)
            return [first, KeepTail(rest, self.after)]

        def draw(self):
            y = self.height
            for flowable, height in zip((self.paragraph, *self.after), self._heights, strict=True):
                y -= height
                flowable.drawOn(self.canv, 0, y)

    class AtPageBottom(Flowable):
        """Its content at the foot of the page it lands on (the 版记's place)."""

        def __init__(self, flowables):
            super().__init__()
            self._content = flowables
            self._heights: list[float] = []

        def wrap(self, aw, ah):
            self._heights = [f.wrap(aw, ah)[1] for f in self._content]
            need = sum(self._heights)
            self.width = aw
            self.height = max(need, ah - 0.5)
            return aw, self.height

        def split(self, aw, ah):
            return []

        def draw(self):
            y = sum(self._heights)
            for flowable, height in zip(self._content, self._heights, strict=True):
                y -= height
                flowable.drawOn(self.canv, 0, y)

    class Rule(Flowable):
        """A horizontal rule across the text block, centred in its own height."""

        def __init__(self, thickness, height):
            super().__init__()
            self.thickness, self.height = thickness, height

        def wrap(self, aw, ah):
            self.width = aw
            return aw, self.height

        def draw(self):
            self.canv.setLineWidth(self.thickness)
            self.canv.line(0, self.height / 2, self.width, self.height / 2)

    return CJKParagraph, KeepTail, AtPageBottom, Rule


def _pdf_story(content: LetterContent, fonts: _PdfFonts):
    from reportlab.platypus import CondPageBreak, KeepTogether, Spacer

    CJKParagraph, KeepTail, AtPageBottom, Rule = _pdf_flowables()
    fallback = _cid_font() if fonts.body != _CID_FONT else None
    hei = (fonts.hei, fonts.faux_bold_hei)
    body = (fonts.body, False)

    def para(segments, **kw):
        return CJKParagraph(
            [(text, font, faux) for text, (font, faux) in segments],
            fallback_font=fallback,
            **kw,
        )

    story: list = []
    closing: list = []  # blank line, signature, date
    notes: list = []  # contact line, disclosure
    bottom: list = []
    layout = _layout(content)
    for index, line in enumerate(layout):
        if line.kind == "blank":
            (closing if closing else story).append(Spacer(1, LINE_PT))
        elif line.kind == "grade":
            story.append(para([(line.text, hei)], align="right"))
        elif line.kind == "docnum":
            story.append(para([(line.text, body)], align="right"))
        elif line.kind == "title":
            text = "\n".join(_title_lines(line.text))
            title = para(
                [(text, (fonts.title, False))],
                size=TITLE_PT,
                leading=TITLE_LINE_PT,
                align="center",
            )
            story.append(title)
        elif line.kind == "salutation":
            story.append(para([(line.text, body)], align="left"))
        elif line.kind == "p":
            story.append(para([(line.text, body)], first_indent=2 * BODY_PT))
        elif line.kind in ("h1", "h2"):
            head, rest = _split_heading(line.text)
            face = hei if line.kind == "h1" else (fonts.kai, False)
            if index == 0 or layout[index - 1].kind not in ("h1", "h2"):
                # A heading never ends a page: it and the headings right after it go to the
                # next page unless two lines of the text that follows fit under them.
                run = 1
                while index + run < len(layout) and layout[index + run].kind in ("h1", "h2"):
                    run += 1
                story.append(CondPageBreak((run + 2) * LINE_PT - 0.5))
            story.append(para([(head, face), (rest, body)], first_indent=2 * BODY_PT))
        elif line.kind in ("sign", "date"):
            if not closing and story and isinstance(story[-1], Spacer):
                closing.append(story.pop())
            closing.append(
                para([(line.text, body)], align="right", right_indent=line.right_chars * BODY_PT)
            )
        elif line.kind == "note":
            notes.append(para([(line.text, body)], align="left", first_indent=2 * BODY_PT))
        elif line.kind == "cc":
            hang = len(_CC_LABEL) * NOTE_PT
            rule = 0.35 * PT_PER_MM
            bottom = [
                Rule(rule, 4),
                para(
                    [(line.text, body)],
                    size=NOTE_PT,
                    align="justify",
                    left_indent=NOTE_PT + hang,
                    first_indent=-hang,
                    right_indent=NOTE_PT,
                ),
                Rule(rule, 4),
            ]
    if closing and story and isinstance(story[-1], CJKParagraph):
        story.append(KeepTail(story.pop(), closing))
    elif closing:
        story.append(KeepTogether(closing))
    story.extend(notes)
    if bottom:
        story.append(Spacer(1, LINE_PT))
        story.append(AtPageBottom(bottom))
    return story


def to_pdf(content: LetterContent) -> bytes:
    """The letter as a PDF in the GB/T 9704 layout (CJK font embedded when one is installed)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    fonts = pdf_fonts()
    out = io.BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN_LEFT_MM * mm,
        rightMargin=MARGIN_RIGHT_MM * mm,
        topMargin=MARGIN_TOP_MM * mm,
        bottomMargin=MARGIN_BOTTOM_MM * mm,
        title=_clean(content.title),
        author=_clean(content.issuer),
        subject=_clean(content.doc_number) or "答复函",
        creator="tracker",
        lang="zh-CN",
        initialFontName=fonts.body,
    )
    frame = Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="text",
    )

    def page_number(canvas, document):
        number = document.page
        text = f"— {number} —"
        canvas.saveState()
        canvas.setFont(fonts.song, NOTE_PT)
        baseline = (MARGIN_BOTTOM_MM - PAGE_NUMBER_GAP_MM) * mm - NOTE_PT * 0.8
        if number % 2:
            canvas.drawRightString(A4[0] - MARGIN_RIGHT_MM * mm - NOTE_PT, baseline, text)
        else:
            canvas.drawString(MARGIN_LEFT_MM * mm + NOTE_PT, baseline, text)
        canvas.restoreState()

    doc.addPageTemplates([PageTemplate(id="letter", frames=[frame], onPage=page_number)])
    doc.build(_pdf_story(content, fonts))
    return out.getvalue()


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------


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
            head, rest = _split_heading(line.text)
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
