"""Reading letters out of file formats and archives (tracker.letters.formats, .archives,
.reading): pure Python, tested without an app, on files the tests build."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from letterfiles import (
    docx_bytes,
    html_bytes,
    letter_lines,
    letter_text,
    pdf_bytes,
    scanned_pdf_bytes,
    zip_bytes,
)

from tracker.letters import archives, formats, reading
from tracker.letters.formats import ReadOptions, Unreadable, extract

LINES = letter_lines()


def in_order(text: str, lines: list[str]) -> bool:
    """Every line appears in the text, on a line of its own, in this order."""
    found = [line.strip() for line in text.splitlines()]
    positions = [found.index(line) for line in lines]
    return positions == sorted(positions)


def unreadable(data: bytes, name: str, options: ReadOptions | None = None) -> str:
    with pytest.raises(Unreadable) as caught:
        extract(data, name, options)
    return str(caught.value)


# -- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        letter_text().encode("utf-8"),
        b"\xef\xbb\xbf" + letter_text().encode("utf-8"),
        letter_text().encode("gb18030"),
        letter_text().encode("utf-16"),  # "Unicode" from Notepad: with a BOM
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "utf-16"],
)
def test_text_files_are_read_in_their_encoding(data):
    result = extract(data, "答复.TXT")
    assert result.fmt == "txt"
    assert result.text.splitlines()[:3] == LINES[:3]


def test_binary_undecodable_and_empty_text_are_refused():
    assert "二进制文件" in unreadable(b"\x00\x01\x02binary", "a.txt")
    assert "无法识别的文本编码" in unreadable(b"abc\xff\x80\xff", "a.txt")
    assert unreadable(b"  \n\n", "a.txt") == "空文件"


def test_an_unsupported_type_says_what_can_be_imported():
    message = unreadable(b"PK\x03\x04", "统计表.xlsx")
    assert (
        message.startswith("不支持的文件类型（.xlsx）：")
        and ".docx" in message
        and ".zip" in message
    )
    assert "无扩展名" in unreadable(b"abc", "README")


def test_a_file_of_more_text_than_any_letter_is_refused():
    data = ("您提出的建议收悉。" * 120_000).encode()  # 1,080,000 characters, 3.2 MB
    assert unreadable(data, "汇编.txt") == (
        "文字过多（1,080,000 字，上限 1,000,000 字）：一个文件应是一封答复函，汇编请拆分后再导入"
    )


def test_a_file_over_the_limit_is_refused_before_reading():
    message = unreadable(letter_text().encode(), "a.txt", ReadOptions(max_file_bytes=100))
    assert message.startswith("文件过大") and "上限" in message
    # a file just over 50 MB is not "50 MB" beside its limit of 50 MB
    assert str(formats.too_large("文件", 52_499_870, 50 * formats.MB)) == (
        "文件过大（50.1 MB，上限 50 MB）"
    )


# -- .docx --------------------------------------------------------------------------------


def test_docx_reads_the_head_table_and_the_paragraphs_in_document_order():
    result = extract(docx_bytes(), "答复.docx")
    assert result.fmt == "docx"
    # the grade and the title sit in a table above the body; the merged title cell once
    assert result.text.splitlines()[:3] == LINES[:3]
    assert result.text.count(LINES[1]) == 1
    assert in_order(result.text, LINES)


def test_docx_table_rows_of_single_lines_stay_on_one_line():
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("正文之前")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "文号：穗交运函〔2023〕156号"
    table.cell(0, 1).text = "签发人：张明"
    table.cell(1, 0).text = "第一段\n第二段"  # a cell of two paragraphs
    document.add_paragraph("正文之后")
    buffer = io.BytesIO()
    document.save(buffer)
    lines = extract(buffer.getvalue(), "a.docx").text.splitlines()
    assert lines == [
        "正文之前",
        "文号：穗交运函〔2023〕156号  签发人：张明",
        "第一段",
        "第二段",
        "正文之后",
    ]


def test_docx_text_box_is_read_once():
    """A grade in a text box: Word writes the box twice (for new and old readers)."""
    import io

    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    paragraph = document.add_paragraph("广州市交通运输局关于第20232048号建议答复的函")
    box = """<w:txbxContent><w:p><w:r><w:t>A类</w:t></w:r></w:p></w:txbxContent>"""
    run = parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
        ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
        ' xmlns:v="urn:schemas-microsoft-com:vml">'
        f'<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx>{box}</wps:txbx>'
        f"</w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox>"
        "</v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    paragraph._p.append(run)
    buffer = io.BytesIO()
    document.save(buffer)
    text = extract(buffer.getvalue(), "a.docx").text
    assert text.splitlines() == ["A类", "广州市交通运输局关于第20232048号建议答复的函"]


def test_docx_text_as_word_shows_it_with_changes_controls_and_tags():
    """Text python-docx's Paragraph.text leaves out: runs inserted or moved in tracked
    changes (deleted and moved-away ones are not shown), inside a smart tag or a field,
    and whole paragraphs inside a content control (a form's 文号 and date); tab stops in
    a paragraph's properties are no text."""
    import io

    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    body = document.element.body
    for xml in (
        f"<w:p {w}><w:pPr><w:tabs><w:tab w:val='left' w:pos='720'/></w:tabs></w:pPr>"
        "<w:r><w:t>经研究，</w:t></w:r>"
        "<w:ins w:id='1' w:author='a'><w:r><w:t>现答复</w:t></w:r></w:ins>"
        "<w:del w:id='2' w:author='a'><w:r><w:delText>旧的</w:delText></w:r></w:del>"
        "<w:moveFrom w:id='3' w:author='a'><w:r><w:t>挪走的</w:t></w:r></w:moveFrom>"
        "<w:r><w:t>如下：</w:t></w:r></w:p>",
        f"<w:sdt {w}><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>桃水函〔2023〕8号</w:t></w:r>"
        "</w:p></w:sdtContent></w:sdt>",
        f"<w:p {w}><w:smartTag w:uri='urn:schemas-microsoft-com:office:smarttags' "
        "w:element='chsdate'><w:r><w:t>2023年7月3日</w:t></w:r></w:smartTag>"
        "<w:r><w:tab/><w:t>联系人</w:t></w:r></w:p>",
    ):
        body.insert(len(body) - 1, parse_xml(xml))  # before the section properties
    buffer = io.BytesIO()
    document.save(buffer)
    assert extract(buffer.getvalue(), "a.docx").text.splitlines() == [
        "经研究，现答复如下：",
        "桃水函〔2023〕8号",
        "2023年7月3日\t联系人",
    ]


def test_corrupt_encrypted_and_oversized_docx_are_refused():
    data = docx_bytes()
    assert unreadable(data[: len(data) // 2], "a.docx") == "Word 文档（.docx）已损坏，无法读取"
    assert unreadable(b"PK\x03\x04 not really a zip", "a.docx").startswith("Word 文档")
    # an encrypted .docx is an OLE container, as is an old .doc renamed
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert "已加密" in unreadable(ole, "a.docx")
    # a docx bomb: small on disk, huge unpacked
    bomb = zip_bytes({"word/document.xml": b" " * 3_000_000})
    assert len(bomb) < 100_000
    message = unreadable(bomb, "a.docx", ReadOptions(max_file_bytes=1_000_000))
    assert message.startswith("Word 文档解压后过大")


# -- .pdf ---------------------------------------------------------------------------------


def test_pdf_text_layer_keeps_its_lines_across_pages():
    result = extract(pdf_bytes(), "答复.pdf")
    assert result.fmt == "pdf"
    assert result.text.splitlines()[:3] == LINES[:3]
    assert in_order(result.text, LINES)  # the second page follows the first


def test_a_scanned_pdf_is_reported_never_read_as_empty():
    message = unreadable(scanned_pdf_bytes(), "扫描件.pdf")
    assert message.startswith("扫描件 PDF：没有文字层") and "OCR" in message


def test_an_encrypted_pdf_needs_its_password_but_restrictions_alone_do_not_stop_it():
    message = unreadable(pdf_bytes(user_password="secret"), "a.pdf")
    assert message.startswith("PDF 已加密，需要密码")
    # encrypted with an owner password only (no printing, no copying): opens without one
    assert extract(pdf_bytes(owner_password="owner"), "a.pdf").text.splitlines()[1] == LINES[1]


def test_a_corrupt_pdf_is_refused():
    data = pdf_bytes()
    assert unreadable(b"%PDF-1.4\n" + b"\x00garbage" * 50, "a.pdf") == "PDF 文件已损坏，无法读取"
    assert unreadable(data.replace(b"%PDF-", b"%XYZ-"), "a.pdf") == "PDF 文件已损坏或不是 PDF"


# -- .html --------------------------------------------------------------------------------


def test_a_saved_web_page_gives_the_letter_without_scripts_styles_menus_and_forms():
    result = extract(html_bytes(), "答复.html")
    assert result.fmt == "html"
    text = result.text
    # the article's own header (grade, title) is the letter's; block elements are lines
    assert text.splitlines()[:3] == LINES[:3]
    assert in_order(text, LINES)
    for noise in (
        "脚本里的菜单",  # script
        "脚本写的段落",
        "样式里的字",  # style
        "广州市交通运输局网站",  # the page's header and title
        "首页",  # nav
        "办事服务",  # a menu by class
        "请输入关键词",  # a search form
        "搜索",
        "请启用脚本",  # noscript
        "相关阅读",  # aside
        "网站标识码",  # the page's footer
    ):
        assert noise not in text, noise
    assert "附件：  公交线路优化清单" in text.splitlines()  # table cells apart, one row a line


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (html_bytes(encoding="gbk"), "meta gbk"),
        (html_bytes(encoding="utf-8"), "meta utf-8"),
        (html_bytes(encoding="gbk").replace(b"charset=gbk", b""), "no charset: GB18030"),
        (
            b"\xef\xbb\xbf"
            + html_bytes(encoding="utf-8").replace(b"charset=utf-8", b"charset=gbk"),
            "BOM wins over a wrong meta",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_web_page_is_decoded_by_bom_meta_charset_or_gb18030(data, name):
    assert extract(data, "a.htm").text.splitlines()[1] == LINES[1]


def test_a_page_wrapped_in_one_form_keeps_its_text():
    """ASP.NET sites put the whole page in a form: the letter is in it."""
    body = "".join(f"<p>{line}</p>" for line in LINES)
    page = f'<html><body><form id="form1" method="post"><input type="hidden" name="__VIEWSTATE" value="x">{body}</form></body></html>'
    text = extract(page.encode("utf-8"), "a.html").text
    assert text.splitlines() == LINES


def test_unclosed_and_hidden_elements_do_not_leak_into_the_text():
    page = (
        "<p>第一段<p>第二段<br>第三行"
        '<div hidden>隐藏的字</div><div style="display: none">也隐藏</div>'
        '<ul role="navigation"><li>导航<li>菜单</ul><p>最后&nbsp;一段&lt;完&gt;'
    )
    assert extract(page.encode(), "a.html").text.splitlines() == [
        "第一段",
        "第二段",
        "第三行",
        "最后 一段<完>",
    ]


# -- .zip ---------------------------------------------------------------------------------


def _sources(path, options=None):
    return list(reading.sources(str(path), "答复汇编.zip", options or ReadOptions()))


def _loaded(path, options=None):
    options = options or ReadOptions()
    return list(reading.load(_sources(path, options), options))


def test_zip_member_names_in_gbk_or_utf8_with_folders_and_no_junk(tmp_path):
    gbk = tmp_path / "gbk.zip"
    gbk.write_bytes(
        zip_bytes(
            {
                "2023年/交通局答复.txt": letter_text().encode("gb18030"),
                "2023年/第二批/教育局答复.docx": docx_bytes("20232049", 157),
            },
            gbk_names=True,
        )
    )
    utf8 = tmp_path / "utf8.zip"
    utf8.write_bytes(
        zip_bytes(
            {
                "答复/交通局答复.pdf": pdf_bytes(),
                "__MACOSX/答复/._交通局答复.pdf": b"\x00\x05\x16\x07",
                "答复/.DS_Store": b"\x00\x00\x00\x01Bud1",
                "答复/~$交通局答复.docx": b"\x06lock",
                "答复/Thumbs.db": b"\xd0\xcf",
                "答复/空文件夹/": b"",
            }
        )
    )
    assert [(s.label, s.name, s.fmt) for s in _sources(gbk)] == [
        ("答复汇编.zip/2023年/交通局答复.txt", "2023年/交通局答复.txt", "txt"),
        ("答复汇编.zip/2023年/第二批/教育局答复.docx", "2023年/第二批/教育局答复.docx", "docx"),
    ]
    assert [s.label for s in _sources(utf8)] == ["答复汇编.zip/答复/交通局答复.pdf"]
    ((source, data),) = _loaded(utf8)
    assert extract(data, source.name).text.splitlines()[1] == LINES[1]


def test_zip_member_paths_cannot_climb_out_or_name_a_drive():
    assert archives.clean_path("../../etc/passwd") == "etc/passwd"
    assert archives.clean_path("C:\\Windows\\..\\letters\\a.txt") == "Windows/letters/a.txt"
    assert archives.clean_path("/abs/./a.txt") == "abs/a.txt"
    assert archives.clean_path("../") is None
    assert archives.clean_path("docs/.hidden/a.txt") is None


def test_zip_over_its_limits_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "a.zip"
    path.write_bytes(zip_bytes({f"{n}.txt": letter_text().encode() for n in range(5)}))
    (only,) = _sources(path, ReadOptions(max_archive_files=4))
    assert only.label == "答复汇编.zip" and only.error == "压缩包内文件过多（5 个，上限 4 个）"
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(zip_bytes({f"{n}.txt": b"\xe5\x87\xbd" * 400_000 for n in range(3)}))
    assert bomb.stat().st_size < 100_000
    (only,) = _sources(bomb, ReadOptions(max_archive_bytes=3_000_000))
    assert only.error.startswith("压缩包解压后过大（3.4 MB，上限 2.9 MB）")
    # one member over the file limit fails; the others are read
    loaded = _loaded(bomb, ReadOptions(max_file_bytes=1_000_000))
    assert [data for _, data in loaded] == ["文件过大（1.1 MB，上限 1.0 MB）"] * 3


def test_encrypted_corrupt_empty_and_nested_archives_are_reported(tmp_path):
    data = bytearray(zip_bytes({"a.txt": b"\x12\x34 ciphertext", "b.txt": letter_text().encode()}))
    # mark a.txt encrypted as a password-protected archive does (zipfile cannot write one)
    data[data.find(b"PK\x03\x04") + 6] |= archives.ENCRYPTED_FLAG
    data[data.find(b"PK\x01\x02") + 8] |= archives.ENCRYPTED_FLAG
    encrypted = tmp_path / "enc.zip"
    encrypted.write_bytes(bytes(data))
    (_, a), (_, b) = _loaded(encrypted)
    assert a.startswith("压缩包中的文件已加密，需要密码") and isinstance(b, bytes)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 truncated")
    assert [s.error for s in _sources(broken)] == ["压缩包已损坏或不是 zip 文件"]
    empty = tmp_path / "empty.zip"
    empty.write_bytes(zip_bytes({"文件夹/": b""}))
    assert [s.error for s in _sources(empty)] == ["压缩包中没有文件"]
    nested = tmp_path / "nested.zip"
    nested.write_bytes(zip_bytes({"inner.zip": zip_bytes({"a.txt": letter_text().encode()})}))
    ((source, data),) = _loaded(nested)
    parsed = reading.read_and_parse(source, data, None, ReadOptions())
    assert parsed.error == "压缩包中的压缩包不会展开：请解压后再导入"


def test_a_member_whose_header_lies_about_its_size_fails_alone(tmp_path):
    path = tmp_path / "lying.zip"
    data = bytearray(zip_bytes({"a.txt": letter_text().encode(), "b.txt": b"second letter"}))
    # declare a.txt shorter than it is, in the central directory
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    (_, a), (_, b) = _loaded(path)
    # in Chinese only: zipfile's English reason named the member as it decoded it (cp437)
    assert a == "压缩包中的文件已损坏，无法解压" and b == b"second letter"


# -- .doc / .wps --------------------------------------------------------------------------


def test_doc_without_libreoffice_says_what_to_install():
    message = unreadable(b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "答复.doc")
    assert message.startswith("需要安装 LibreOffice 才能读取 .doc 文件")
    assert "另存为 .docx" in message
    assert ".wps" in unreadable(b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "答复.wps")


FAKE_SOFFICE = """#!{python}
import sys, time
from pathlib import Path
args = sys.argv[1:]
assert "--headless" in args and args[args.index("--convert-to") + 1] == "docx", args
assert any(a.startswith("-env:UserInstallation=file://") for a in args), args
source = Path(args[-1])
if source.read_bytes() == b"hang":
    time.sleep(30)
out = Path(args[args.index("--outdir") + 1])
out.mkdir(parents=True, exist_ok=True)
if source.read_bytes() != b"broken":
    import docx
    document = docx.Document()
    document.add_paragraph("converted " + source.suffix)
    document.save(out / (source.stem + ".docx"))
"""


@pytest.fixture
def fake_soffice(tmp_path):
    path = tmp_path / "soffice"
    path.write_text(FAKE_SOFFICE.format(python=sys.executable))
    path.chmod(0o755)
    return str(path)


@pytest.mark.slow  # four conversions in a process each, one waiting for its time limit
def test_doc_and_wps_are_converted_by_libreoffice(fake_soffice):
    options = ReadOptions(soffice=fake_soffice)
    assert extract(b"old word", "答复.doc", options) == formats.Extracted("converted .doc", "doc")
    assert extract(b"kingsoft", "答复.wps", options) == formats.Extracted("converted .wps", "wps")
    assert unreadable(b"broken", "a.doc", options).startswith("LibreOffice 无法转换该 .doc 文件")
    message = unreadable(b"hang", "a.doc", ReadOptions(soffice=fake_soffice, convert_timeout=0.3))
    assert message.startswith("LibreOffice 转换超时（0.3 秒）")


# tests/files/letter.doc: docx_bytes() saved as Word 97 by LibreOffice 7.4 (`soffice
# --headless --convert-to doc letter.docx`); made once, as a real .doc, so that the test
# starts LibreOffice once (the conversion back), not twice
REAL_DOC = Path(__file__).parent / "files" / "letter.doc"


@pytest.mark.slow
def test_a_real_doc_is_read_through_libreoffice():
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is needed: apt-get install libreoffice-writer-nogui (.ci/run does)"
    data = REAL_DOC.read_bytes()
    assert data.startswith(b"\xd0\xcf\x11\xe0")  # an OLE compound file, as Word 97 writes
    result = extract(data, "答复.doc", ReadOptions(soffice=soffice))
    assert result.fmt == "doc" and in_order(result.text, LINES)
