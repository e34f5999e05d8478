"""A drafted letter's Markdown shows in the preview as the exports print it: the same text in
the same paragraphs, the same headings at the same levels, in the preview's HTML, the print
page, the .docx and the PDF."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from lxml import html as lxml_html
from test_export import pdf_text

from tracker.extensions import db
from tracker.letters.export import (
    LetterContent,
    blocks_from_markdown,
    fullwidth_punctuation,
    to_docx,
    to_html,
    to_pdf,
)
from tracker.models import ReplyLetter
from tracker.rendering import letter_markdown

TITLE = "答复函"

# (Markdown, the blocks every view shows: kind and text as printed)
CASES = {
    "headings": (
        "# 一、目前工作推进情况\n\n建立了联席会议制度。\n\n## （一）健全机制\n\n正文。",
        [
            ("h1", "一、目前工作推进情况"),
            ("p", "建立了联席会议制度。"),
            ("h2", "（一）健全机制"),
            ("p", "正文。"),
        ],
    ),
    "heading lines inside a paragraph": (
        "正文在前。\n一、目前工作\n（一）机制\n正文在后，\n续行。",
        [
            ("p", "正文在前。"),
            ("h1", "一、目前工作"),
            ("h2", "（一）机制"),
            ("p", "正文在后，续行。"),
        ],
    ),
    "a heading that runs on": (
        "（一）健全完善工作体系。完善中小学心理健康工作机制。",
        [("h2", "（一）健全完善工作体系。完善中小学心理健康工作机制。")],
    ),
    "emphasis and a bold heading": (
        "**二、下一步工作安排**\n\n我局**高度重视**，会同\n市卫生健康委*认真*研究。",
        [
            ("h1", "二、下一步工作安排"),
            ("p", "我局高度重视，会同市卫生健康委认真研究。"),
        ],
    ),
    "lists": (
        "1. 加强培训\n2. 配齐教师\n\n- 第一项\n- 第二项\n  续行",
        [("p", "1.加强培训"), ("p", "2.配齐教师"), ("p", "第一项"), ("p", "第二项续行")],
    ),
    "a numbered list that goes on after a paragraph": (
        "1. 加强培训\n\n中间的说明。\n\n3. 配齐教师",
        [("p", "1.加强培训"), ("p", "中间的说明。"), ("p", "3.配齐教师")],
    ),
    "a table": (
        "| 项目 | 数量 |\n|---|---|\n| 学校 | 550 |",
        [("p", "项目\u3000数量"), ("p", "学校\u3000550")],
    ),
    "a hard line break": (
        "第一行  \n第二行",
        [("p", "第一行"), ("p", "第二行")],
    ),
    "raw HTML": (
        "<script>alert(1)</script>正文<div>另起一段</div>",
        [("p", "正文"), ("p", "另起一段")],
    ),
    "indented paragraphs": (
        "    缩进的段落。\n\n    二、缩进的标题",
        [("p", "缩进的段落。"), ("h1", "二、缩进的标题")],
    ),
    "escapes, tildes, links and images": (
        "~~删除~~ 与 \\*星号\\*\n\n[通知](http://example.org/a) 见附件 ![图](x.png)",
        [("p", "~~删除~~ 与 *星号*"), ("p", "通知 见附件")],
    ),
    "a quote, Latin text and half-width punctuation": (
        "> 引用的话\n\n答复如下:\n\nThe plan\nworks",
        [("p", "引用的话"), ("p", "答复如下："), ("p", "The plan works")],
    ),
    "setext and deep headings": (
        "第一部分\n===\n\n### 1.加强培训\n\n#### 二、第二部分",
        [("h1", "第一部分"), ("p", "1.加强培训"), ("h1", "二、第二部分")],
    ),
}


def norm(text: str) -> str:
    """Text as printed: runs of white space as one space, punctuation typeset."""
    return fullwidth_punctuation(re.sub(r"\s+", " ", text).strip())


# -- reading each view back -----------------------------------------------------------------


def preview_blocks(html: str) -> list[tuple[str, str]]:
    """What the preview shows, block by block, as a reader sees it."""
    root = lxml_html.fragment_fromstring(html, create_parent="div")
    return _shown(root)


def _shown(container) -> list[tuple[str, str]]:
    blocks = []
    for element in container:
        tag, classes = element.tag, (element.get("class") or "").split()
        if tag in ("blockquote", "ul"):
            blocks += _shown(element) if tag == "blockquote" else _items(element, None)
        elif tag == "ol":
            start = element.get("start")
            blocks += _items(element, int(start) if start else 1)
        elif tag == "table":
            for row in element.iter("tr"):
                cells = [norm(cell.text_content()) for cell in row.iterchildren("th", "td")]
                blocks.append(("p", "\u3000".join(cells)))
        elif tag == "pre":
            blocks += [("p", norm(line)) for line in element.text_content().splitlines() if line]
        elif tag != "hr":
            level = {"h1": "h1", "h2": "h2"}.get(tag) or next(
                (c for c in classes if c in ("h1", "h2")), "p"
            )
            blocks.append((level, norm(element.text_content())))
    return [(kind, text) for kind, text in blocks if text]


def _items(element, number: int | None) -> list[tuple[str, str]]:
    blocks = []
    for item in element.iterchildren("li"):
        for br in item.iter("br"):  # a line break in an item: the rest on a line of its own
            br.tail = "\uf8ff" + (br.tail or "")
        first, *more = [norm(line) for line in item.text_content().split("\uf8ff")]
        if number is not None:
            first = f"{number}.{first}" if ord(first[0]) >= 0x2E80 else f"{number}. {first}"
            number += 1
        blocks += [("p", text) for text in (first, *more)]
    return blocks


def print_page_blocks(page: str) -> list[tuple[str, str]]:
    letter = lxml_html.document_fromstring(page).find_class("letter")[0]
    blocks = []
    for element in letter.iter():
        kind = next(
            (c for c in (element.get("class") or "").split() if c in ("p", "h1", "h2")), None
        )
        if kind:
            blocks.append((kind, element.text_content()))
    return blocks


FACES = {"黑体": "h1", "楷体_GB2312": "h2", "仿宋_GB2312": "p"}


def docx_blocks(data: bytes) -> list[tuple[str, str]]:
    """The .docx's body paragraphs, each with the level its first run's face gives it."""
    blocks = []
    for paragraph in Document(io.BytesIO(data)).paragraphs:
        runs = [run for run in paragraph.runs if run.text]
        if not runs:
            continue
        fonts = runs[0]._element.rPr.rFonts
        face = fonts.get(qn("w:eastAsia")) if fonts is not None else None
        closing = paragraph.alignment == WD_ALIGN_PARAGRAPH.RIGHT  # signature, date
        if face in FACES and paragraph.text != TITLE and not closing:
            blocks.append((FACES[face], paragraph.text))
    return blocks


def pdf_paragraphs(data: bytes, expected: list[tuple[str, str]], closing=()) -> list[str]:
    """The PDF's lines regrouped into the expected paragraphs: each paragraph must start on
    a line of its own and end at a line's end (spaces aside: the PDF draws words apart);
    the ``closing`` lines follow."""
    lines = [re.sub(r"\s", "", line) for line in pdf_text(data).splitlines()]
    lines = [line for line in lines if line and not re.fullmatch(r"—\d+—", line)]
    assert lines[0] == TITLE
    lines = lines[1:]
    found = []
    for _kind, want in expected:
        want, got = re.sub(r"\s", "", want), ""
        while lines and len(got) < len(want):
            got += lines.pop(0)
        found.append(got)
    assert lines == list(closing)
    return found


def letter_content(blocks) -> LetterContent:
    return LetterContent(
        title=TITLE,
        classification=None,
        doc_number=None,
        salutation=None,
        blocks=blocks,
        issuer="",
        letter_on=None,
        contact_person=None,
        contact_phone=None,
        disclosure=None,
    )


# -- the library: preview filter and export functions ---------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_preview_and_every_export_show_the_same_blocks(case):
    md, expected = CASES[case]
    assert preview_blocks(str(letter_markdown(md))) == expected
    content = letter_content(blocks_from_markdown(md))
    assert print_page_blocks(to_html(content)) == expected
    assert docx_blocks(to_docx(content)) == expected
    assert pdf_paragraphs(to_pdf(content), expected) == [
        re.sub(r"\s", "", text) for _kind, text in expected
    ]


def test_a_run_on_heading_has_only_its_head_in_the_heading_face():
    html = str(letter_markdown("（一）健全完善工作体系。完善中小学心理健康工作机制。"))
    paragraph = lxml_html.fragment_fromstring(html)
    assert paragraph.get("class") == "h2 runon"
    assert [span.text_content() for span in paragraph.find_class("head")] == [
        "（一）健全完善工作体系。"
    ]
    page = to_html(letter_content(blocks_from_markdown("（一）健全完善工作体系。完善机制。")))
    assert '<span class="head">（一）健全完善工作体系。</span>完善机制。' in page


# -- the browser: the editor's preview and the downloads ------------------------------------

SAMPLE = (
    "您提出的建议收悉。现答复如下:\n\n"
    "一、目前工作推进情况\n"
    "（一）健全完善工作体系。完善中小学心理健康工作机制，\n建立联席会议制度。\n\n"
    "| 指标 | 目标 |\n|---|---|\n| 持C证率 | 80% |\n\n"
    "二、下一步工作安排\n\n"
    "1. 今年底全市中小学专任教师持C证率达到**80%**。\n"
    "2. 配齐心理健康教育教师。  \n另起一行的说明。\n\n"
    "感谢您对我们工作的关心和支持。"
)
SAMPLE_BLOCKS = [
    ("p", "您提出的建议收悉。现答复如下："),
    ("h1", "一、目前工作推进情况"),
    ("h2", "（一）健全完善工作体系。完善中小学心理健康工作机制，建立联席会议制度。"),
    ("p", "指标\u3000目标"),
    ("p", "持C证率\u300080%"),
    ("h1", "二、下一步工作安排"),
    ("p", "1.今年底全市中小学专任教师持C证率达到80%。"),
    ("p", "2.配齐心理健康教育教师。"),
    ("p", "另起一行的说明。"),
    ("p", "感谢您对我们工作的关心和支持。"),
]


def test_the_editors_preview_shows_what_the_downloads_print(app, browser, make_proposal):
    pid = make_proposal("20222174", sign=True)
    browser.login("clerk")
    response = browser.post(f"/proposals/{pid}/draft")
    assert response.status_code == 302
    letter_id = int(response.location.rstrip("/").split("/")[-2])

    # the live preview (JavaScript) and the preview button (no JavaScript)
    preview = browser.post(f"/letters/{letter_id}/preview", {"body": SAMPLE})
    assert preview.status_code == 200
    assert preview_blocks(preview.get_data(as_text=True)) == SAMPLE_BLOCKS
    page = browser.post(f"/letters/{letter_id}/edit", {"body": SAMPLE, "action": "preview"})
    shown = lxml_html.document_fromstring(page.get_data(as_text=True)).get_element_by_id(
        "body-preview"
    )
    assert _shown(shown) == SAMPLE_BLOCKS

    with app.app_context():  # signed off: the downloads are open to the unit
        letter = db.session.get(ReplyLetter, letter_id)
        letter.body, letter.status = SAMPLE, "approved"
        letter.title, letter.addressee, letter.issuer = TITLE, None, "广州市教育局"
        letter.letter_on, letter.contact_person, letter.contact_phone = None, None, None
        letter.disclosure, letter.cc, letter.classification = None, [], None
        db.session.commit()
    page = browser.get(f"/letters/{letter_id}/export/html")
    assert print_page_blocks(page.get_data(as_text=True)) == SAMPLE_BLOCKS
    assert docx_blocks(browser.get(f"/letters/{letter_id}/export/docx").data) == SAMPLE_BLOCKS
    pdf = browser.get(f"/letters/{letter_id}/export/pdf").data
    assert pdf_paragraphs(pdf, SAMPLE_BLOCKS, closing=["广州市教育局"]) == [
        re.sub(r"\s", "", text) for _kind, text in SAMPLE_BLOCKS
    ]
    # the letter's page shows the body as the preview did
    shown = lxml_html.document_fromstring(browser.get(f"/letters/{letter_id}").data)
    body = shown.find_class("letter-body")[0]
    assert _shown(body) == [*SAMPLE_BLOCKS, ("p", "广州市教育局")]  # and the signature
