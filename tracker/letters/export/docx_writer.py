"""The letter as a .docx: fonts named (East Asian names through ``w:eastAsia``, a fallback
for each in the font table), not embedded; line breaking is the word processor's."""

from __future__ import annotations

import io

from tracker.letters.export.content import _CC_LABEL, LetterContent, _clean, _layout
from tracker.letters.export.geometry import (
    _DOCX_ALT_NAMES,
    _LATIN_FONT,
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
            head, rest = split_heading(line.text)
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
