"""Tables as spreadsheets: .xlsx and .csv, with Chinese column headings.

Every export in the tracker goes through here, so lists, the dashboard and the commitment
tracker write the same way: a header row, dates as dates, a frozen header, columns wide
enough for Chinese text. CSV is UTF-8 with a byte-order mark so that Excel on a Chinese
Windows desktop reads it without garbling.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from xml.sax.saxutils import escape

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def column_letter(n: int) -> str:
    """Excel's name of the n-th column (1 → A, 27 → AA), as openpyxl's get_column_letter:
    written here so that starting the app (every worker, every command) does not import
    openpyxl, a sixth of a second, for this one function."""
    name = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        name = chr(65 + rest) + name
    return name


@dataclass
class Sheet:
    title: str  # sheet name (Excel allows 31 characters, no []:*?/\)
    headers: Sequence[str]
    # a list, or an iterator read once (a streamed export: rows fetched as they are written)
    rows: Iterable[Sequence] = field(default_factory=list)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: a leading tab or CR is trimmed


def _cell(value):
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        value = "、".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        # spreadsheets refuse control characters (a stray form feed in a title)
        return _CONTROL.sub("", value)
    return value


def _width(value) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return 11
    text = str(value)
    # a CJK character is about two Latin characters wide
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _safe_title(title: str) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31] or "Sheet"


SIZED_BY = 1000  # column widths and date columns are judged on the first rows only
CHUNK_ROWS = 500  # rows per piece of a streamed CSV


# -- xlsx, streamed -------------------------------------------------------------------------
# A workbook is a zip of XML parts. The parts are written here as the rows come, into a zip
# written forwards only (data descriptors after each part, the directory at the end), so
# the first bytes leave before the rows are read: a 100,000-row export starts at once and
# memory stays flat. Text is always an inline string, never a formula.

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# cellXfs: 0 plain, 1 heading (bold on a pale fill), 2 date, 3 date and time, 4 wrapped
_STYLES = (
    f'<styleSheet xmlns="{_NS_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFE8EEF7"/>'
    '<bgColor rgb="FFE8EEF7"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_HEADING, _DATE, _DATETIME, _WRAP = 1, 2, 3, 4
_EPOCH = datetime(1899, 12, 30)
# what XML 1.0 cannot carry at all (beyond the control characters _cell removes)
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
FLUSH_ROWS = 500  # rows written between two pieces of a streamed workbook


class _Pieces:
    """A file that only goes forwards: what is written waits in a buffer until taken."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value), {'"': "&quot;"})


def _xml_cell(ref: str, value, wrap: bool) -> str:
    """One <c> element, or "" for an empty cell."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        serial = (value - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{_DATETIME}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            value = str(value)
        else:
            return f'<c r="{ref}"><v>{value}</v></c>'
    style = f' s="{_WRAP}"' if wrap else ""
    text = _text(str(value))
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet_parts(sheet: Sheet) -> Iterator[str]:
    """The worksheet's XML in pieces of FLUSH_ROWS rows: columns sized on the first rows,
    the heading frozen above the rest."""
    cells = ([_cell(v) for v in row] for row in sheet.rows)
    first = list(islice(cells, SIZED_BY))
    widths = [_width(h) for h in sheet.headers]
    for row in first:
        for i, value in enumerate(row[: len(widths)]):
            widths[i] = max(widths[i], min(_width(value), 80))
    wide = [w >= 60 for w in widths]
    letters: list[str] = []

    def letter(i: int) -> str:
        while len(letters) <= i:
            letters.append(column_letter(len(letters) + 1))
        return letters[i]

    cols = "".join(
        f'<col min="{i}" max="{i}" width="{max(6, w + 2)}" customWidth="1"/>'
        for i, w in enumerate(widths, start=1)
    )
    heading = "".join(
        f'<c r="{letter(i)}1" s="{_HEADING}" t="inlineStr"><is><t>{_text(str(h))}</t></is></c>'
        for i, h in enumerate(sheet.headers)
    )
    out = [
        f'{_XML_HEAD}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + f'<sheetData><row r="1">{heading}</row>'
    ]
    for n, row in enumerate(chain(first, cells), start=2):
        body = "".join(
            _xml_cell(f"{letter(i)}{n}", value, i < len(wide) and wide[i])
            for i, value in enumerate(row)
        )
        out.append(f'<row r="{n}">{body}</row>')
        if n % FLUSH_ROWS == 0:
            yield "".join(out)
            out = []
    out.append("</sheetData></worksheet>")
    yield "".join(out)


def _package_parts(titles: list[str]) -> dict[str, str]:
    """The parts besides the worksheets: content types, relationships, the workbook (its
    sheets named), the styles."""
    n = len(titles)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET_TYPE}"/>'
        for i in range(1, n + 1)
    )
    sheets = "".join(
        f'<sheet name="{_text(t)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, t in enumerate(titles, start=1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_NS_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return {
        "[Content_Types].xml": (
            f"{_XML_HEAD}<Types "
            'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
            f"{overrides}</Types>"
        ),
        "_rels/.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_NS_PKG}">'
            f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'{_XML_HEAD}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
            f"<sheets>{sheets}</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_NS_PKG}">{rels}'
            f'<Relationship Id="rId{n + 1}" Type="{_NS_REL}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": _XML_HEAD + _STYLES,
    }


def xlsx_chunks(sheets: Iterable[Sheet]) -> Iterator[bytes]:
    """The workbook in pieces as its rows are read: the first piece before the first rows
    are fetched past SIZED_BY, then one every FLUSH_ROWS rows; memory stays flat."""
    sheets = list(sheets)
    pieces = _Pieces()
    with zipfile.ZipFile(pieces, "w", compression=zipfile.ZIP_DEFLATED) as book:
        titles = _unique_titles([s.title for s in sheets])
        for name, xml in _package_parts(titles).items():
            book.writestr(name, xml)
        yield pieces.take()
        for i, sheet in enumerate(sheets, start=1):
            with book.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as part:
                for xml in _sheet_parts(sheet):
                    part.write(xml.encode("utf-8"))
                    yield pieces.take()
    yield pieces.take()


def _unique_titles(titles: list[str]) -> list[str]:
    """Excel's sheet names: at most 31 characters, none of []:*?/\\, no two alike."""
    seen: set[str] = set()
    out = []
    for title in titles:
        name, n = _safe_title(title), 1
        while name.lower() in seen:
            n += 1
            name = f"{_safe_title(title)[: 31 - len(str(n)) - 1]}~{n}"
        seen.add(name.lower())
        out.append(name)
    return out


def csv_chunks(sheet: Sheet) -> Iterator[bytes]:
    """The CSV in pieces of CHUNK_ROWS rows, the heading (after the byte-order mark) first:
    a streamed response sends it before the rows are read."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(sheet.headers)
    rows = iter(sheet.rows)
    while True:
        yield out.getvalue().encode("utf-8")
        out.seek(0)
        out.truncate()
        batch = list(islice(rows, CHUNK_ROWS))
        if not batch:
            return
        for row in batch:
            writer.writerow(["" if v is None else _csv_value(_cell(v)) for v in row])


def _csv_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # a cell starting with = + - @ (or a tab or CR before one) would run as a formula in a
    # spreadsheet (CSV injection)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def table_chunks(sheets: Sheet | Sequence[Sheet], fmt: str) -> Iterator[bytes]:
    """The file of an export (``fmt`` one of FORMATS) in pieces, for a streamed response;
    CSV takes the first sheet only."""
    if isinstance(sheets, Sheet):
        sheets = [sheets]
    if fmt == "csv":
        return csv_chunks(sheets[0])
    if fmt == "xlsx":
        return xlsx_chunks(sheets)
    raise ValueError(f"unknown export format {fmt!r}")
