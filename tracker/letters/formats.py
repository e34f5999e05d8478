"""A letter's text out of the file formats offices keep letters in.

Pure Python (no Flask, no database; the format libraries are imported when first needed),
so import workers start fast. `extract(data, name, options)` returns the text and the
format it was read as, or raises `Unreadable` with a message a person can act on:

- .txt/.text: UTF-8 (with or without BOM), GB18030 (GBK, GB2312), UTF-16 with a BOM;
- .docx: paragraphs and tables in document order (letters often put the head in a
  table), text boxes included;
- .pdf: the text layer, line by line; a scan without one, or an encrypted file, is refused;
- .html/.htm: a saved web page's text, without scripts, styles, menus and forms, one line
  per block; decoded by BOM, the page's meta charset, else UTF-8, else GB18030;
- .doc/.wps: converted to .docx by LibreOffice (`soffice --headless`) when it is installed.

Archives (.zip) are opened by `tracker.letters.archives`; this module reads one document.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import signal
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

MB = 1024 * 1024

# suffix -> the format label shown in reports
FORMATS = {
    ".txt": "txt",
    ".text": "txt",
    ".docx": "docx",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".doc": "doc",
    ".wps": "wps",
}
ARCHIVES = {".zip": "zip"}
SUPPORTED = "可导入 .txt、.docx、.pdf、.html/.htm、.doc/.wps 及其 .zip 压缩包"


class Unreadable(ValueError):
    """The file's text cannot be read (the message says why, for the person importing)."""


@dataclass(frozen=True)
class ReadOptions:
    """Limits and tools for reading files; picklable, so worker processes get the same."""

    max_file_bytes: int = 50 * MB  # one file, and a .docx's unpacked content
    max_archive_files: int = 20000  # entries in one .zip
    max_archive_bytes: int = 1024 * MB  # a .zip's total unpacked size
    soffice: str | None = None  # path of LibreOffice's soffice; None: not installed
    convert_timeout: float = 120.0  # seconds for one LibreOffice conversion


@dataclass(frozen=True)
class Extracted:
    text: str
    fmt: str  # txt, docx, pdf, html, doc, wps


# the most text a letter file may hold: a long reply is some tens of thousands of characters
MAX_TEXT_CHARS = 1_000_000


def suffix_of(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def format_of(name: str) -> str:
    """The format label a file is read as, by its suffix ("?" when it has none)."""
    suffix = suffix_of(name)
    return FORMATS.get(suffix) or ARCHIVES.get(suffix) or suffix.lstrip(".") or "?"


def extract(data: bytes, name: str, options: ReadOptions | None = None) -> Extracted:
    """The text of one letter file; raises Unreadable."""
    options = options or ReadOptions()
    fmt = FORMATS.get(suffix_of(name))
    if fmt is None:
        raise Unreadable(f"不支持的文件类型（{suffix_of(name) or '无扩展名'}）：{SUPPORTED}")
    if len(data) > options.max_file_bytes:
        raise too_large("文件", len(data), options.max_file_bytes)
    if not data.strip():
        raise Unreadable("空文件")
    if fmt == "txt":
        text = decode_text(data)
    elif fmt == "docx":
        text = docx_text(data, options)
    elif fmt == "pdf":
        text = pdf_text(data)
    elif fmt == "html":
        text = html_text(data)
    else:
        text = docx_text(convert_with_libreoffice(data, suffix_of(name), options), options)
    if not text.strip():
        raise Unreadable("文件中没有文字内容")
    if len(text) > MAX_TEXT_CHARS:
        # (a 49-million-character "letter" took an import 2 GB of memory, and a line of it
        # the parser three minutes)
        raise Unreadable(
            f"文字过多（{len(text):,} 字，上限 {MAX_TEXT_CHARS:,} 字）："
            "一个文件应是一封答复函，汇编请拆分后再导入"
        )
    return Extracted(text, fmt)


def megabytes(size: int) -> str:
    """ "3.4 MB"; whole megabytes past ten ("50 MB"), a size over them with its tenth, which
    a limit of 50 MB and a file of 50.1 MB would otherwise both be."""
    if size >= 10 * MB and size % MB == 0:
        return f"{size // MB} MB"
    return f"{size / MB:.1f} MB"


def too_large(what: str, size: int, limit: int) -> Unreadable:
    return Unreadable(f"{what}过大（{megabytes(size)}，上限 {megabytes(limit)}）")


# -- plain text ---------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# labels that name a subset of GB18030: decode with the superset
_GB_NAMES = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "euc-cn", "x-euc-cn", "windows-936"}


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Bytes to text: a BOM wins, then the declared charset (a web page's), then UTF-8,
    then GB18030 (which also reads GBK and GB2312)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise Unreadable("无法识别的文本编码（文件开头标明的编码与内容不符）") from error
    if b"\x00" in data:
        raise Unreadable("二进制文件，不是文本")
    encodings = ["utf-8", "gb18030"]
    charset = _charset(declared)
    if charset and charset not in encodings:
        encodings.insert(0, charset)
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unreadable("无法识别的文本编码：既不是 UTF-8，也不是 GB18030/GBK")


def _charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    if name in _GB_NAMES:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


# -- .docx --------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def docx_text(data: bytes, options: ReadOptions) -> str:
    """Paragraphs and tables of the document body in order; a row of one-line cells on one
    line, cells apart by two spaces; merged cells once."""
    if data.startswith(_OLE_MAGIC):
        raise Unreadable(
            "不是有效的 .docx：文件已加密（需要密码），或实为旧版 .doc 格式；"
            "请在 Word/WPS 中另存为未加密的 .docx 后再导入"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise Unreadable("Word 文档（.docx）已损坏，无法读取") from error
    if unpacked > options.max_file_bytes:
        raise too_large("Word 文档解压后", unpacked, options.max_file_bytes)
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        lines = list(_block_lines(document._body))  # (its body: the proxy tables need)
    except Exception as error:  # a third-party parser on untrusted input
        raise Unreadable("Word 文档（.docx）已损坏，无法读取") from error
    return "\n".join(lines)


def _block_lines(container):
    """The lines of a body or a table cell: its paragraphs and tables, those inside content
    controls (w:sdt) and custom XML too, which python-docx's own iteration passes over."""
    from docx.table import Table

    element = getattr(container, "_element", container)
    for block in _blocks(element):
        if block.tag == f"{_W}tbl":
            yield from _table_lines(Table(block, container))
        else:
            yield from _textbox_lines(block)
            yield _paragraph_text(block)


def _blocks(element):
    for child in element.iterchildren():
        if child.tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif child.tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _blocks(content)
        elif child.tag == f"{_W}customXml":
            yield from _blocks(child)


# what a paragraph shows is not inside these: its properties (tab stops are w:tab too), a
# text box (read apart), Word's copy of a box for old readers, text deleted or moved away
# in tracked changes
_NOT_SHOWN = {
    f"{_W}pPr",
    f"{_W}rPr",
    f"{_W}txbxContent",
    _MC_FALLBACK,
    f"{_W}del",
    f"{_W}moveFrom",
}
_SHOWN_TEXT = (f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr")


def _paragraph_text(p) -> str:
    """A paragraph's text as Word shows it, tracked changes taken: its runs wherever they
    sit (inserted or moved here, in a hyperlink, a field, a smart tag or a content control,
    all of which python-docx's Paragraph.text leaves out), tabs and line breaks."""
    out = []
    for el in p.iter(*_SHOWN_TEXT):
        if any(a.tag in _NOT_SHOWN for a in _ancestors_below(el, p)):
            continue
        if el.tag == f"{_W}t":
            out.append(el.text or "")
        else:
            out.append("\t" if el.tag == f"{_W}tab" else "\n")
    return "".join(out)


def _ancestors_below(el, top):
    for a in el.iterancestors():
        if a is top:
            return
        yield a


def _table_lines(table):
    # a merged cell appears in every row and column it spans; the set keeps the elements
    # alive, so that lxml hands out the same object for the same cell
    seen = set()
    for row in table.rows:
        cells = []
        for cell in row.cells:
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            lines = [line for line in _block_lines(cell) if line.strip()]
            if lines:
                cells.append(lines)
        if not cells:
            continue
        if all(len(lines) == 1 for lines in cells):
            yield "  ".join(lines[0].strip() for lines in cells)
        else:
            for lines in cells:
                yield from lines


def _textbox_lines(paragraph):
    """Text boxes anchored in a paragraph (a grade like "A类" is often one); Word stores a
    fallback copy of each for old readers, which is skipped."""
    for box in paragraph.iter(f"{_W}txbxContent"):
        if any(parent.tag == _MC_FALLBACK for parent in box.iterancestors()):
            continue
        for p in box.iter(f"{_W}p"):
            yield _paragraph_text(p)


# -- .pdf ---------------------------------------------------------------------------------

_MIN_PDF_CHARS = 10  # fewer letters or digits than this on every page: no text layer


def pdf_text(data: bytes) -> str:
    """The text layer, page by page, keeping its lines (pypdf)."""
    if b"%PDF-" not in data[:1024]:
        raise Unreadable("PDF 文件已损坏或不是 PDF")
    try:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # restrictions only: readable without a password
            except (DependencyError, NotImplementedError):
                opened = False
            if not opened:
                raise Unreadable("PDF 已加密，需要密码才能打开；请导出未加密的 PDF 后再导入")
        pages = [page.extract_text() or "" for page in reader.pages]
    except Unreadable:
        raise
    except Exception as error:  # a third-party parser on untrusted input
        raise Unreadable("PDF 文件已损坏，无法读取") from error
    text = "\n".join(pages)
    if sum(ch.isalnum() for ch in text) < _MIN_PDF_CHARS:
        raise Unreadable(
            "扫描件 PDF：没有文字层，只有图像，无法读取文字；请先做文字识别（OCR），"
            "或导入原始的 Word 文件"
        )
    return text


# -- .html / .htm -------------------------------------------------------------------------

# elements whose content is never the letter
_SKIP = {
    "head",
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "aside",
    "menu",
    "select",
    "option",
    "button",
    "textarea",
    "iframe",
    "object",
    "svg",
    "canvas",
}
# the page's header and footer; inside an article or main they belong to the text
_PAGE_PARTS = {"header", "footer"}
_SKIP_ROLES = {"navigation", "menu", "menubar", "banner", "contentinfo", "search"}
_SKIP_CLASSES = {"nav", "navbar", "navigation", "menu", "breadcrumb", "sidebar"}
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
}
_BLOCKS = {
    "address",
    "article",
    "blockquote",
    "br",
    "caption",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "thead",
    "tr",
    "ul",
}
_CELLS = {"td", "th"}
_FORM_MIN_TEXT = 100  # a form with less text is a search box or a login: dropped
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w:.-]+)", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\n\f\xa0]+")


def html_text(data: bytes) -> str:
    """A saved web page's text: block elements become lines; scripts, styles, menus,
    navigation, the page's header and footer and small forms are dropped."""
    match = _META_CHARSET.search(data[:4096])
    text = decode_text(data, match.group(1).decode("ascii") if match else None)
    parser = _TextParser()
    parser.feed(text)
    parser.close()
    return parser.result()


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._skip: list[str] = []  # open elements being dropped
        self._sections = 0  # open article/main elements
        self._pre = 0
        # text collects in buffers: one for the page, one for each open form
        self._buffers: list[list[str]] = [[]]

    def _dropped(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in _SKIP or (tag in _PAGE_PARTS and not self._sections):
            return True
        values = dict(attrs)
        if "hidden" in values or "display:none" in (values.get("style") or "").replace(" ", ""):
            return True
        if (values.get("role") or "").lower() in _SKIP_ROLES:
            return True
        tokens = set((values.get("class") or "").lower().split())
        tokens.add((values.get("id") or "").lower())
        return bool(tokens & _SKIP_CLASSES)

    def handle_starttag(self, tag, attrs):
        if self._skip:
            if tag not in _VOID:
                self._skip.append(tag)
            return
        if self._dropped(tag, attrs):
            if tag not in _VOID:
                self._skip.append(tag)
            return
        if tag in ("article", "main"):
            self._sections += 1
        elif tag == "pre":
            self._pre += 1
        elif tag == "form":
            self._buffers.append([])
        if tag in _BLOCKS:
            self._write("\n")
        elif tag in _CELLS:
            self._write("  ")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self._skip:
            if tag in self._skip:  # close it and whatever was left open inside
                del self._skip[len(self._skip) - 1 - self._skip[::-1].index(tag) :]
            return
        if tag in _BLOCKS:
            self._write("\n")
        if tag in ("article", "main"):
            self._sections = max(0, self._sections - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
        elif tag == "form" and len(self._buffers) > 1:
            form = "".join(self._buffers.pop())
            if len(_SPACES.sub("", form)) >= _FORM_MIN_TEXT:  # a form around the page
                self._write(form)

    def handle_data(self, data):
        if self._skip:
            return
        self._write(data if self._pre else _SPACES.sub(" ", data))

    def _write(self, text: str) -> None:
        self._buffers[-1].append(text)

    def result(self) -> str:
        while len(self._buffers) > 1:  # a form never closed
            self.handle_endtag("form")
        text = "".join(self._buffers[0]).replace("\xa0", " ")
        return "\n".join(line.strip() for line in text.splitlines() if line.strip())


# -- .doc / .wps through LibreOffice ------------------------------------------------------


def convert_with_libreoffice(data: bytes, suffix: str, options: ReadOptions) -> bytes:
    """The file converted to .docx by `soffice --headless --convert-to docx`, in a
    temporary folder with its own LibreOffice profile (conversions may run side by side)."""
    if not options.soffice:
        raise Unreadable(
            f"需要安装 LibreOffice 才能读取 {suffix} 文件（服务器上未找到 soffice）；"
            "或在 Word/WPS 中另存为 .docx 后再导入"
        )
    with tempfile.TemporaryDirectory(prefix="tracker-convert-") as folder:
        work = Path(folder)
        source = work / f"letter{suffix}"  # never the uploaded name
        source.write_bytes(data)
        command = [
            options.soffice,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "docx",
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env={**os.environ, "HOME": folder},
                start_new_session=True,  # so that a timeout ends soffice and its children
            )
        except OSError as error:
            raise Unreadable(f"无法运行 LibreOffice（{options.soffice}）：{error}") from error
        try:
            process.communicate(timeout=options.convert_timeout)
        except subprocess.TimeoutExpired as error:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise Unreadable(
                f"LibreOffice 转换超时（{options.convert_timeout:g} 秒）：文件可能已损坏或加密"
            ) from error
        converted = work / "out" / "letter.docx"
        if not converted.is_file():
            raise Unreadable(f"LibreOffice 无法转换该 {suffix} 文件：文件可能已损坏或加密")
        return converted.read_bytes()
