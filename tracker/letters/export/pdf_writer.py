"""The letter as a PDF (reportlab), laid out here: Chinese line breaking, justified lines,
no widows or orphans, headings kept with their text, the closing kept with the body's last
lines, the 版记 at the foot of the last page."""

from __future__ import annotations

import io

from tracker.letters.export.content import _CC_LABEL, LetterContent, _clean, _layout, _split_heading
from tracker.letters.export.fonts import _CID_FONT, _cid_font, _PdfFonts, pdf_fonts
from tracker.letters.export.geometry import (
    BODY_PT,
    LINE_PT,
    MARGIN_BOTTOM_MM,
    MARGIN_LEFT_MM,
    MARGIN_RIGHT_MM,
    MARGIN_TOP_MM,
    NOTE_PT,
    PAGE_NUMBER_GAP_MM,
    PT_PER_MM,
    TITLE_LINE_PT,
    TITLE_PT,
)
from tracker.letters.export.linebreak import (
    _TOKEN_RE,
    _break_lines,
    _Piece,
    _title_lines,
    _units,
)

_MISSING = "〓"  # printed for a character no available font has


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
