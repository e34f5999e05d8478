"""Tables as spreadsheets: .xlsx (openpyxl) and .csv, with Chinese column headings.

Every export in the tracker goes through here, so lists, the dashboard and the commitment
tracker write the same way: a header row, dates as dates, a frozen header, columns wide
enough for Chinese text. CSV is UTF-8 with a byte-order mark so that Excel on a Chinese
Windows desktop reads it without garbling.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
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
    rows: list[Sequence] = field(default_factory=list)


def _cell(value):
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
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


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF7")
    for sheet in sheets:
        ws = book.create_sheet(_safe_title(sheet.title))
        ws.append(list(sheet.headers))
        for cell in ws[1]:
            cell.font = bold
            cell.fill = fill
        widths = [_width(h) for h in sheet.headers]
        for row in sheet.rows:
            values = [_cell(v) for v in row]
            ws.append(values)
            for i, value in enumerate(values[: len(widths)]):
                widths[i] = max(widths[i], min(_width(value), 80))
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(6, width + 2)
            if width >= 60:
                for cell in ws[get_column_letter(i)][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            if any(isinstance(r[i - 1], date) for r in sheet.rows[:50] if len(r) >= i):
                for cell in ws[get_column_letter(i)][1:]:
                    cell.number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(sheet: Sheet) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(sheet.headers)
    for row in sheet.rows:
        writer.writerow(["" if v is None else _csv_value(_cell(v)) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # a cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection)
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def download(sheets: Sheet | Sequence[Sheet], fmt: str, filename: str) -> Response:
    """A download response; ``filename`` without extension, may be Chinese. CSV takes the
    first sheet only."""
    if isinstance(sheets, Sheet):
        sheets = [sheets]
    if fmt == "csv":
        data = csv_bytes(sheets[0])
    elif fmt == "xlsx":
        data = xlsx_bytes(sheets)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    name = f"{filename}.{fmt}"
    ascii_name = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in name)
    response = Response(data, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    return response
