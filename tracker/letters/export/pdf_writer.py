"""The letter as a PDF (reportlab), laid out here: Chinese line breaking, justified lines,
no widows or orphans, headings kept with their text, the closing kept with the body's last
lines, the 版记 at the foot of the last page."""

from __future__ import annotations

import io

from tracker.letters.export.content import _CC_LABEL, LetterContent, _clean, _layout
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
from tracker.letters.export.linebreak import _title_lines
from tracker.letters.markup import split_heading


def _pdf_story(content: LetterContent, fonts: _PdfFonts):
    from reportlab.platypus import CondPageBreak, KeepTogether, Spacer

    from tracker.letters.export.flowables import AtPageBottom, CJKParagraph, KeepTail, Rule

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
            head, rest = split_heading(line.text)
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
