"""The reportlab flowables the PDF is built from: a paragraph laid out with Chinese
line-breaking rules on a fixed line pitch, the closing kept with the body's last lines, the
版记 at the foot of the page, a rule.  Imported only when a PDF is made (reportlab is not
loaded for the other formats)."""

from __future__ import annotations

from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable

from tracker.letters.export.geometry import BODY_PT, LINE_PT
from tracker.letters.export.linebreak import _TOKEN_RE, _break_lines, _Piece, _units

_MISSING = "〓"  # printed for a character no available font has


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
