"""Tables as spreadsheets: .xlsx (openpyxl) and .csv, with Chinese column headings.

Every export in the tracker goes through here, so lists, the dashboard and the commitment
tracker write the same way: a header row, dates as dates, a frozen header, columns wide
enough for Chinese text. CSV is UTF-8 with a byte-order mark so that Excel on a Chinese
Windows desktop reads it without garbling.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, islice

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass
class Sheet:
    title: str  # sheet name (Excel allows 31 characters, no []:*?/\)
    headers: Sequence[str]
    # a list, or an iterator read once (a streamed export: rows fetched as they are written)
    rows: Iterable[Sequence] = field(default_factory=list)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@")


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


def _write_xlsx(sheets: Iterable[Sheet], target) -> None:
    """A workbook built in openpyxl's write-only mode, rows taken as they come (memory
    stays flat for 100,000 rows). Text is always text: "=HYPERLINK(…)" in a title never
    becomes a live formula."""
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    for sheet in sheets:
        ws = book.create_sheet(_safe_title(sheet.title))
        cells = ([_cell(v) for v in row] for row in sheet.rows)
        first = list(islice(cells, SIZED_BY))
        rows = chain(first, cells)
        widths = [_width(h) for h in sheet.headers]
        for row in first:
            for i, value in enumerate(row[: len(widths)]):
                widths[i] = max(widths[i], min(_width(value), 80))
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(6, width + 2)
        ws.freeze_panes = "A2"
        header = []
        for title in sheet.headers:
            cell = WriteOnlyCell(ws, value=title)
            cell.font, cell.fill = bold, fill
            header.append(cell)
        ws.append(header)
        for row in rows:
            out = []
            for i, value in enumerate(row):
                if isinstance(value, str) and value.startswith(_FORMULA_START):
                    cell = WriteOnlyCell(ws, value=value)
                    cell.data_type = "s"  # text, not a formula
                elif i < len(widths) and (widths[i] >= 60 or isinstance(value, date)):
                    cell = WriteOnlyCell(ws, value=value)
                    if isinstance(value, date):
                        cell.number_format = "yyyy-mm-dd"
                    else:
                        cell.alignment = wrap
                else:
                    out.append(value)
                    continue
                out.append(cell)
            ws.append(out)
    book.save(target)


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    out_buffer = io.BytesIO()
    _write_xlsx(sheets, out_buffer)
    return out_buffer.getvalue()


def xlsx_chunks(sheets: Iterable[Sheet], size: int = 1 << 16) -> Iterator[bytes]:
    """The workbook written to a temporary file, then read out in pieces: memory stays
    flat; the first piece comes when the last row is written (a zip's directory needs
    every part)."""
    with tempfile.TemporaryFile() as spool:
        _write_xlsx(sheets, spool)
        spool.seek(0)
        while piece := spool.read(size):
            yield piece


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


def csv_bytes(sheet: Sheet) -> bytes:
    return b"".join(csv_chunks(sheet))


def _csv_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # a cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection)
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


def table_bytes(sheets: Sheet | Sequence[Sheet], fmt: str) -> bytes:
    """The file of an export (``fmt`` one of FORMATS); CSV takes the first sheet only."""
    return b"".join(table_chunks(sheets, fmt))
