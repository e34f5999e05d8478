"""Letter export: .docx, PDF and print HTML in the GB/T 9704 layout, built from the seed letter."""

from __future__ import annotations

import functools
import io
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTTextContainer, LTTextLine

from tracker.letters.export import (
    LetterContent,
    blocks_from_markdown,
    blocks_from_text,
    fullwidth_punctuation,
    to_docx,
    to_html,
    to_pdf,
)
from tracker.letters.export.content import _text_width_chars
from tracker.letters.export.linebreak import _break_lines, _Piece, _title_lines, _units

SEED = Path(__file__).resolve().parents[1] / "corpus" / "000_983cdb5ab656f1f2.txt"
TITLE = "广州市教育局关于市十六届人大一次会议第20222174号建议答复的函"
COMMITMENT = "今年底全市中小学专任教师持C证率达到80%"
CC_LINE = "抄送：市府办公厅，市人大选联工委，市卫生健康委。"


def seed_body() -> str:
    """The seed letter's body: the lines between the salutation and the signature."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("曾志伟代表"))
    end = next(i for i, line in enumerate(lines) if line.strip() == "广州市教育局")
    return "\n".join(lines[start + 1 : end])


def seed_content(**changes) -> LetterContent:
    values = {
        "title": TITLE,
        "classification": "A类",
        "doc_number": "穗教案〔2022〕119号",
        "salutation": "曾志伟代表：",
        "blocks": blocks_from_text(seed_body()),
        "issuer": "广州市教育局",
        "letter_on": date(2022, 5, 7),
        "contact_person": "邹慧婷",
        "contact_phone": "22083710",
        "disclosure": "主动公开",
        "cc": ["市府办公厅", "市人大选联工委", "市卫生健康委"],
    }
    values.update(changes)
    return LetterContent(**values)


@pytest.fixture(scope="module")
def docx_document():
    return Document(io.BytesIO(to_docx(seed_content())))


@pytest.fixture(scope="module")
def pdf_bytes():
    return to_pdf(seed_content())


def east_asian_font(run) -> str | None:
    rpr = run._element.rPr
    fonts = rpr.rFonts if rpr is not None else None
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def paragraph_with(document, text: str):
    matches = [p for p in document.paragraphs if p.text.replace("\n", "") == text]
    assert matches, f"no paragraph {text!r}"
    return matches[-1]


def position(document, paragraph) -> int:
    return [p._p for p in document.paragraphs].index(paragraph._p)


def text_runs(paragraph):
    return [run for run in paragraph.runs if run.text]


def has_bottom_border(paragraph) -> bool:
    ppr = paragraph._p.pPr
    borders = ppr.find(qn("w:pBdr")) if ppr is not None else None
    return borders is not None and borders.find(qn("w:bottom")) is not None


# --------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一、目前工作推进情况", [("h1", "一、目前工作推进情况")]),
        ("(一)建立健全中小学心理健康工作机制", [("h2", "(一)建立健全中小学心理健康工作机制")]),
        ("（二）建立专家指导队伍。积极发挥", [("h2", "（二）建立专家指导队伍。积极发挥")]),
        ("  十一、其他  ", [("h1", "十一、其他")]),
        (
            "一是建立了学生心理危机防控工作联席会议制度。",
            [("p", "一是建立了学生心理危机防控工作联席会议制度。")],
        ),
        ("\u3000\u3000接下来，市相关职能部门", [("p", "接下来，市相关职能部门")]),
        ("1.加强师资培训", [("p", "1.加强师资培训")]),
        ("第一段\n\n   \n第二段", [("p", "第一段"), ("p", "第二段")]),
        ("", []),
    ],
)
def test_blocks_from_text(text, expected):
    assert blocks_from_text(text) == expected


def test_blocks_from_text_on_the_seed_body():
    blocks = blocks_from_text(seed_body())
    assert blocks[0][0] == "p" and blocks[0][1].startswith("您提出的《关于进一步加强")
    assert ("h1", "一、目前工作推进情况") in blocks
    assert ("h1", "二、下一步工作安排") in blocks
    assert ("h2", "(一)建立健全中小学心理健康工作机制") in blocks
    assert [kind for kind, _ in blocks].count("h2") == 9
    assert blocks[-1] == (
        "p",
        "感谢你们对我市学生心理健康教育工作的关心和支持,欢迎继续对我们的工作提出宝贵意见和建议。",
    )


@pytest.mark.parametrize(
    ("md", "expected"),
    [
        ("# 一、目前工作推进情况", [("h1", "一、目前工作推进情况")]),
        ("## （一）建立健全机制", [("h2", "（一）建立健全机制")]),
        ("### 1.加强培训", [("p", "1.加强培训")]),
        (
            "一、目前工作\n（一）机制\n正文",
            [("h1", "一、目前工作"), ("h2", "（一）机制"), ("p", "正文")],
        ),
        ("**二、下一步工作安排**", [("h1", "二、下一步工作安排")]),
        (
            "我局**高度重视**，会同\n市卫生健康委*认真*研究。",
            [("p", "我局高度重视，会同市卫生健康委认真研究。")],
        ),
        ("第一段\n\n第二段", [("p", "第一段"), ("p", "第二段")]),
        # as the preview shows it: no strikethrough in the editor's Markdown
        ("使用 `代码` 和 __强调__ 与 ~~删除~~", [("p", "使用 代码 和 强调 与 ~~删除~~")]),
        ("- 第一项\n- 第二项\n  续行", [("p", "第一项"), ("p", "第二项续行")]),
        ("1. 加强培训\n2. 配齐教师", [("p", "1.加强培训"), ("p", "2.配齐教师")]),
        ("[通知](http://example.org/a) 见附件", [("p", "通知 见附件")]),
        ("仿宋_GB2312 与 \\*星号\\*", [("p", "仿宋_GB2312 与 *星号*")]),
        ("---\n\n> 引用\n\n---", [("p", "引用")]),
        (
            "| 项目 | 数量 |\n|---|---|\n| 学校 | 550 |",
            [("p", "项目\u3000数量"), ("p", "学校\u3000550")],
        ),
        ("The plan\nworks", [("p", "The plan works")]),
        ("", []),
    ],
)
def test_blocks_from_markdown(md, expected):
    assert blocks_from_markdown(md) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("现将有关办理情况答复如下:", "现将有关办理情况答复如下："),
        ("经市政府同意,市教育局牵头", "经市政府同意，市教育局牵头"),
        ("的建议》(第20222174号)已收悉", "的建议》（第20222174号）已收悉"),
        ("(一)建立健全", "（一）建立健全"),
        ("行动计划(2021-2023)》", "行动计划（2021-2023）》"),
        ("共1,000元,9:30开会", "共1,000元，9:30开会"),
        ("14.7万余名", "14.7万余名"),
        ("Python(3.11)", "Python(3.11)"),
    ],
)
def test_fullwidth_punctuation(text, expected):
    assert fullwidth_punctuation(text) == expected


# --------------------------------------------------------------------------------------
# Line breaking and title lines (used by the PDF)
# --------------------------------------------------------------------------------------


def lines_of(text: str, width: float) -> list[str]:
    pieces = [_Piece(ch, "f", False, 1.0) for ch in text]
    lines = _break_lines(_units(pieces), width, width)
    return ["".join(p.text for unit in units for p in unit) for units, _ in lines]


def test_line_breaking_keeps_closing_marks_off_the_line_start():
    # Plain greedy filling would start line 2 with "，" (and reportlab's own CJK wrap does).
    assert lines_of("一二三四，五六", 4) == ["一二三", "四，五六"]
    assert lines_of("一二三。”四五", 4) == ["一二", "三。”四", "五"]


def test_line_breaking_keeps_opening_marks_off_the_line_end():
    assert lines_of("一二三《四五》", 4) == ["一二三", "《四五》"]


def test_line_breaking_never_overflows():
    text = (
        "确保专职心理教师专职专业专用，落实享受班主任同等待遇政策。强化专兼职心理教师分级分类培训"
    )
    for width in (5, 7, 11, 13):
        assert all(len(line) <= width for line in lines_of(text, width))
        assert "".join(lines_of(text, width)) == text


def test_title_lines_break_between_phrases():
    assert _title_lines(TITLE) == [
        "广州市教育局关于市十六届人大一次会议",
        "第20222174号建议答复的函",
    ]
    assert _title_lines("广州市教育局关于某事的函") == ["广州市教育局关于某事的函"]
    long_title = TITLE * 2
    lines = _title_lines(long_title)
    assert "".join(lines) == long_title and len(lines) == 4
    assert all(_text_width_chars(line) <= 20 for line in lines)


# --------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------


def test_docx_page_is_a4_with_gb9704_margins(docx_document):
    section = docx_document.sections[0]
    assert abs(section.page_width.mm - 210) < 0.5
    assert abs(section.page_height.mm - 297) < 0.5
    assert abs(section.top_margin.mm - 37) < 0.5
    assert abs(section.left_margin.mm - 28) < 0.5
    assert abs(section.right_margin.mm - 26) < 0.5
    assert abs(section.bottom_margin.mm - 35) < 0.5
    text_block_width = section.page_width.mm - section.left_margin.mm - section.right_margin.mm
    text_block_height = section.page_height.mm - section.top_margin.mm - section.bottom_margin.mm
    assert abs(text_block_width - 156) < 0.5 and abs(text_block_height - 225) < 0.5


def test_docx_grade_and_document_number_come_first(docx_document):
    grade, number = docx_document.paragraphs[0], docx_document.paragraphs[1]
    assert grade.text == "A类"
    assert grade.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert east_asian_font(grade.runs[0]) == "黑体"
    assert grade.runs[0].font.size.pt == 16
    assert number.text == "穗教案〔2022〕119号"
    assert number.alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_docx_title_is_centred_22pt_xiaobiaosong(docx_document):
    title = paragraph_with(docx_document, TITLE)
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    runs = text_runs(title)
    assert runs and all(run.font.size.pt == 22 for run in runs)
    assert all("小标宋" in east_asian_font(run) for run in runs)
    # Broken between phrases, not wherever the line runs out.
    assert title.text.split("\n") == [
        "广州市教育局关于市十六届人大一次会议",
        "第20222174号建议答复的函",
    ]


def test_docx_salutation_is_flush_left(docx_document):
    salutation = paragraph_with(docx_document, "曾志伟代表：")
    assert salutation.alignment == WD_ALIGN_PARAGRAPH.LEFT
    assert not salutation.paragraph_format.first_line_indent


def test_docx_body_is_16pt_fangsong_indented_on_a_fixed_pitch(docx_document):
    body = [p for p in docx_document.paragraphs if p.text.startswith("一是建立了学生心理危机")]
    assert body
    paragraph = body[0]
    fmt = paragraph.paragraph_format
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert 28 <= fmt.line_spacing.pt <= 29
    assert abs(fmt.first_line_indent.pt - 32) < 0.1  # two 16 pt characters
    assert paragraph.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    for run in text_runs(paragraph):
        assert run.font.size.pt == 16
        assert "仿宋" in east_asian_font(run)
    # Half-width punctuation of the web page is printed full width.
    assert "经市政府同意，市教育局" in paragraph.text


def test_docx_headings_use_heiti_and_kaiti(docx_document):
    h1 = paragraph_with(docx_document, "一、目前工作推进情况")
    assert [east_asian_font(r) for r in text_runs(h1)] == ["黑体"]
    assert abs(h1.paragraph_format.first_line_indent.pt - 32) < 0.1
    h2 = paragraph_with(docx_document, "（一）建立健全中小学心理健康工作机制")
    assert [east_asian_font(r) for r in text_runs(h2)] == ["楷体_GB2312"]
    # A heading that runs on: only the heading part is 楷体, the rest 仿宋.
    mixed = next(
        p for p in docx_document.paragraphs if p.text.startswith("（一）健全完善工作体系。")
    )
    runs = text_runs(mixed)
    assert runs[0].text == "（一）健全完善工作体系。"
    assert east_asian_font(runs[0]) == "楷体_GB2312"
    assert east_asian_font(runs[1]) == "仿宋_GB2312"


def test_docx_closing_signature_date_contact_disclosure(docx_document):
    paragraphs = docx_document.paragraphs
    signature = paragraph_with(docx_document, "广州市教育局")
    signed_on = paragraph_with(docx_document, "2022年5月7日")
    assert signature.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert signed_on.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert abs(signed_on.paragraph_format.right_indent.pt - 64) < 0.1  # 右空四字
    contact = paragraph_with(docx_document, "（联系人：邹慧婷，联系电话：22083710）")
    disclosure = paragraph_with(docx_document, "公开方式：主动公开")
    order = [position(docx_document, p) for p in (signature, signed_on, contact, disclosure)]
    assert order == sorted(order)
    assert order[0] > position(docx_document, paragraph_with(docx_document, "二、下一步工作安排"))
    assert len(paragraphs) > order[-1]


def test_docx_cc_between_two_rules_in_4hao(docx_document):
    paragraphs = docx_document.paragraphs
    cc = paragraph_with(docx_document, CC_LINE)
    index = position(docx_document, cc)
    assert index == len(paragraphs) - 2
    assert has_bottom_border(paragraphs[index - 1])
    assert has_bottom_border(paragraphs[index + 1])
    assert not has_bottom_border(cc)
    assert all(run.font.size.pt == 14 for run in text_runs(cc))
    assert index > position(docx_document, paragraph_with(docx_document, "公开方式：主动公开"))


def test_docx_holds_the_whole_letter(docx_document):
    full = "\n".join(p.text for p in docx_document.paragraphs)
    assert COMMITMENT in full
    assert "二、下一步工作安排" in full
    assert docx_document.core_properties.title == TITLE


def test_docx_page_numbers_in_the_footers(docx_document):
    section = docx_document.sections[0]
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert "PAGE" in xml and "— " in xml and " —" in xml
    assert section.footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert section.even_page_footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
    assert docx_document.settings.odd_and_even_pages_header_footer


def test_docx_declares_chinese_and_font_fallbacks():
    data = to_docx(seed_content())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        styles = archive.read("word/styles.xml").decode()
        fonts = archive.read("word/fontTable.xml").decode()
    assert 'w:eastAsia="zh-CN"' in styles
    assert 'w:name="仿宋_GB2312"' in fonts and 'w:val="仿宋"' in fonts
    assert 'w:name="方正小标宋简体"' in fonts


def test_docx_without_optional_fields_and_with_control_characters():
    content = seed_content(
        classification=None,
        doc_number=None,
        salutation=None,
        letter_on=None,
        contact_person=None,
        contact_phone=None,
        disclosure=None,
        cc=[],
        blocks=[("p", "含控制字符\x0b\x01的段落")],
    )
    document = Document(io.BytesIO(to_docx(content)))
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[0].replace("\n", "") == TITLE
    assert "含控制字符的段落" in texts
    assert not any(t.startswith(("抄送", "公开方式", "（联系人")) for t in texts)


def test_docx_normalises_the_document_number_brackets():
    document = Document(io.BytesIO(to_docx(seed_content(doc_number="穗教案[2022]119号"))))
    assert document.paragraphs[1].text == "穗教案〔2022〕119号"


# --------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def pdf_lines(data: bytes) -> tuple[tuple[int, float, float, float, float, str], ...]:
    """(page, x0, top, x1, bottom, text) of every line of text in the PDF, in points with y
    from the top of the page, the text without spaces (a justified line spreads its
    characters). Read by pdfminer.six, which maps the CJK fonts the exporter uses (the
    STSong-Light CID font, embedded TrueType subsets) back to Unicode."""
    lines = []
    for number, page in enumerate(extract_pages(io.BytesIO(data)), start=1):
        height = page.height
        for box in page:
            if not isinstance(box, LTTextContainer):
                continue
            for line in box:
                if isinstance(line, LTTextLine):
                    x0, y0, x1, y1 = line.bbox
                    text = re.sub(r"\s+", "", line.get_text())
                    lines.append((number, x0, height - y1, x1, height - y0, text))
    return tuple(lines)


def pdf_text(data: bytes) -> str:
    """The PDF's text, a line of the page a line of text, pages separated by a form feed."""
    pages: dict[int, list[str]] = {}
    for page, *_box, text in pdf_lines(data):
        pages.setdefault(page, []).append(text)
    return "\f".join("\n".join(pages[n]) for n in sorted(pages))


def test_pdf_is_a_pdf(pdf_bytes):
    assert pdf_bytes.startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf_bytes  # A4


def test_pdf_text(pdf_bytes):
    text = pdf_text(pdf_bytes)
    flat = re.sub(r"\s+", "", text)
    assert TITLE in flat
    assert "穗教案〔2022〕119号" in flat
    assert COMMITMENT in flat
    assert "2022年5月7日" in flat
    assert "（联系人：邹慧婷，联系电话：22083710）" in flat
    assert CC_LINE in flat


def test_pdf_paginates_with_the_grade_on_page_one_only(pdf_bytes):
    pages = [p for p in pdf_text(pdf_bytes).split("\f") if p.strip()]
    assert len(pages) >= 3
    assert "A类" in pages[0]
    assert not any("A类" in page for page in pages[1:])
    for number, page in enumerate(pages, start=1):
        assert re.search(rf"—\s*{number}\s*—", page), f"page {number} has no page number"
    assert CC_LINE in re.sub(r"\s+", "", pages[-1])


def test_pdf_never_starts_a_line_with_a_closing_mark(pdf_bytes):
    lines = [line.strip() for line in pdf_text(pdf_bytes).splitlines()]
    assert not [line for line in lines if line and line[0] in "，。、；：？！）》”"]


def test_pdf_skips_an_unusable_font_file(tmp_path, monkeypatch):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "simfang.ttf").write_bytes(b"not a font at all")
    monkeypatch.setenv("TRACKER_FONT_DIR", str(fonts))
    data = to_pdf(seed_content(blocks=[("p", "一段<正文>&内容")]))
    assert data.startswith(b"%PDF")
    flat = re.sub(r"\s+", "", pdf_text(data))
    assert "一段<正文>&内容" in flat


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------


def test_html_is_a_standalone_print_page():
    page = to_html(
        seed_content(
            blocks=[("p", "含有<script>alert(1)</script>的段落"), *blocks_from_text(seed_body())]
        )
    )
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    assert "@page" in page and "size: A4" in page and "37mm 26mm 35mm 28mm" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page
    assert '<p class="grade">A类</p>' in page
    assert f"<title>{TITLE}</title>" in page
    assert COMMITMENT in page
    assert CC_LINE in page
    assert "2022年5月7日" in page
    for external in ("src=", "href=", "@import", "url(", "http://", "https://"):
        assert external not in page
    assert '"仿宋_GB2312"' in page and '"方正小标宋简体"' in page


def test_html_escapes_every_field():
    page = to_html(
        seed_content(
            title="<b>题</b>",
            issuer="单位&<x>",
            salutation='"代表"<',
            cc=["<i>办</i>"],
            contact_person="<p>",
        )
    )
    assert "<b>" not in page and "&lt;b&gt;题&lt;/b&gt;" in page
    assert "单位&amp;&lt;x&gt;" in page
    assert "<i>" not in page
    assert "联系人：&lt;p&gt;" in page


MM = 72 / 25.4


def test_pdf_text_stays_inside_the_text_block(pdf_bytes):
    left, right = 28 * MM, (210 - 26) * MM
    top, bottom = 37 * MM, (297 - 35) * MM
    words = pdf_lines(pdf_bytes)
    numbers = [w for w in words if w[2] > bottom]
    text = [w for w in words if w[2] <= bottom]
    assert text and numbers
    for _page, x0, y0, x1, y1, word in text:
        assert left - 0.5 <= x0 and x1 <= right + 0.5, word
        assert top - 0.5 <= y0 and y1 <= bottom + 0.5, word
    # Page numbers: 7 mm under the text block, odd pages right, even pages left.
    for page, x0, y0, x1, _y1, _word in numbers:
        assert abs(y0 - (bottom + 7 * MM)) < 2 * MM
        if page % 2:
            assert x1 > (105 + 40) * MM
        else:
            assert x0 < (105 - 40) * MM


@pytest.mark.parametrize("paragraphs", range(8, 18))
def test_pdf_signature_never_opens_a_page(paragraphs):
    blocks = [("p", f"第{n}段，一行的正文。") for n in range(paragraphs)]
    words = pdf_lines(to_pdf(seed_content(blocks=blocks)))
    signature = next(w for w in words if w[5] == "广州市教育局")
    assert next(w for w in words if w[5] == "2022年5月7日")[0] == signature[0]
    body_above = [
        w for w in words if w[0] == signature[0] and w[2] < signature[2] and w[5].startswith("第")
    ]
    assert body_above, f"the signature opens page {signature[0]}"


def test_pdf_prints_a_missing_character_mark():
    data = to_pdf(seed_content(blocks=[("p", "表情😀之后")]))
    assert "表情〓之后" in re.sub(r"\s+", "", pdf_text(data))
