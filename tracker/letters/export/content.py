"""What a reply letter prints, in print order, whatever the output format: the letter's
content, the text helpers that typeset it (full-width punctuation, the document number's
〔〕, the closing notes) and the layout as a list of lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from tracker.letters.patterns import DISCLOSURE_LABEL_RE
from tracker.rules.chinese import cn_date


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


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SPACE = " \t\u3000\u00a0\u2002\u2003\u2009\u200b\ufeff"


_SPACES_RE = re.compile(r"[\t\u00a0\u2002\u2003\u2009]")
_ZERO_WIDTH_RE = re.compile(r"[\u200b\ufeff]")


def _clean(text: str | None) -> str:
    """Text safe for XML and PDF: control and zero-width characters dropped, tabs and odd
    spaces made plain spaces, ends stripped."""
    text = _ZERO_WIDTH_RE.sub("", _CONTROL_RE.sub("", text or ""))
    return _SPACES_RE.sub(" ", text).strip(_SPACE + "\r\n")


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
    date_text = cn_date(content.letter_on)
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
