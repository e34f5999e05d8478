"""A session's 交办清单 (the list of proposals and the units they go to) read into rows.

Pure Python (openpyxl and the standard library; no Flask, no database): `read_sheet` turns
the bytes of an .xlsx or .csv file (UTF-8, with or without BOM, or GB18030) into
`ProposalRow`s; `row_from_mapping` makes one row from a mapping keyed by the English field
names (the JSON API's objects, or what the reader found under the Chinese headings).

Columns are matched by their headings, in any order, with the common variants of each
(HEADINGS); other columns are ignored. The header need not be the first row (a title row
above it is common) and may be two rows with merged cells. A cell left blank gives None:
the field is "not given", and an existing proposal keeps what it has.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

# field -> its headings as offices print them (compared without spaces, "*" marks and
# the part in brackets: 主办单位（部门） is 主办单位)
# fmt: off
HEADINGS: dict[str, tuple[str, ...]] = {
    "number": (
        "编号", "案号", "建议编号", "提案编号", "议案编号", "建议号", "提案号", "件号",
        "建议案号", "提案案号", "流水号",
    ),
    "title": (
        "标题", "题目", "案由", "建议标题", "提案标题", "建议题目", "提案题目", "建议名称",
        "提案名称", "名称", "建议案由", "提案案由",
    ),
    "kind": ("类别", "类型", "件别", "建议类型", "提案类型", "案件类型"),
    "lead_proposer": (
        "领衔人", "提案人", "领衔代表", "领衔委员", "提出人", "建议人", "第一提案人",
        "领衔提出人", "代表姓名", "委员姓名", "提案者", "领衔", "提出者", "代表", "委员",
    ),
    "co_signers": (
        "附议人", "联名人", "联名代表", "附议代表", "联名委员", "附议委员", "联名",
        "附议", "联名提出人", "附议者",
    ),
    "delegation": (
        "代表团", "界别", "党派", "代表团/界别/党派", "所在代表团", "所属代表团", "所属界别",
        "界别/党派", "代表团/界别", "团组", "党派团体",
    ),
    "session": ("届次", "会议", "届次会议", "会次", "会议名称", "届别"),
    "submitted_on": ("提出日期", "提交日期", "提出时间", "提交时间", "立案日期", "立案时间"),
    "lead_units": ("主办单位", "主办", "主办部门", "牵头单位", "牵头部门"),
    "co_units": ("会办单位", "协办单位", "会办", "协办", "会办部门", "协办部门"),
    "separate_units": ("分办单位", "分办", "分别办理单位", "分办部门"),
    "assigned_on": ("交办日期", "交办时间"),
    "is_key": (
        "是否重点", "重点", "重点建议", "重点提案", "重点督办", "是否重点督办",
        "是否重点建议", "是否重点提案",
    ),
    "content": ("内容", "建议内容", "提案内容", "主要内容", "内容摘要", "正文", "摘要"),
}
# fmt: on
# read only when no column has one of the field's own headings (承办单位 is the lead unit
# in a list without a 主办单位 column)
FALLBACK_HEADINGS = {"承办单位": "lead_units", "承办部门": "lead_units"}

LABELS = {
    "number": "编号",
    "title": "标题",
    "kind": "类别",
    "lead_proposer": "领衔人",
    "co_signers": "附议人",
    "delegation": "代表团/界别/党派",
    "session": "届次",
    "submitted_on": "提出日期",
    "lead_units": "主办单位",
    "co_units": "会办单位",
    "separate_units": "分办单位",
    "assigned_on": "交办日期",
    "is_key": "是否重点",
    "content": "内容",
}
TEXT_FIELDS = ("number", "title", "lead_proposer", "delegation", "session", "content")
LIST_FIELDS = ("co_signers", "lead_units", "co_units", "separate_units")
DATE_FIELDS = ("submitted_on", "assigned_on")
KINDS = ("建议", "提案", "议案")
YES = {"是", "重点", "y", "yes", "true", "1", "√", "✓", "✔", "★", "是重点"}
NO = {"否", "不是", "非重点", "n", "no", "false", "0", "×", "一般"}

HEADER_SCAN_ROWS = 15  # the header is looked for in the first rows
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # an .xlsx unpacked (a zip bomb is refused)
EXCEL_EPOCH = date(1899, 12, 30)


class SheetError(ValueError):
    """The file cannot be read as a list of proposals (the message says why, in Chinese)."""


@dataclass
class ProposalRow:
    """One proposal of the list, as given: None is "not given" (a blank cell, a missing
    column, a key absent from the JSON object). ``problems`` are the values that could not
    be read (a date that is no date); ``line`` is the row in the file (Excel's row number),
    or the position in the API's list."""

    line: int
    number: str | None = None
    title: str | None = None
    kind: str | None = None
    lead_proposer: str | None = None
    co_signers: list[str] | None = None
    delegation: str | None = None
    session: str | None = None
    submitted_on: date | None = None
    lead_units: list[str] | None = None
    co_units: list[str] | None = None
    separate_units: list[str] | None = None
    assigned_on: date | None = None
    is_key: bool | None = None
    content: str | None = None
    problems: list[str] = field(default_factory=list)


FIELD_NAMES = tuple(f.name for f in fields(ProposalRow) if f.name not in ("line", "problems"))


@dataclass
class SheetRows:
    """What a file gave: its rows, the heading each field was read from, and the headings
    that were not read (extra columns)."""

    rows: list[ProposalRow]
    columns: dict[str, str]
    ignored: list[str]


# -- values ---------------------------------------------------------------------------------

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NAME_SEPARATORS = re.compile(r"[、，,；;／/\s]+")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 20222174.0: a number stored as a number
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    text = _CONTROLS.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n")).strip()
    return text or None


def _number(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    return proposal_number(text) or None


def proposal_number(text: str) -> str:
    """A proposal's number as typed or printed, as it is stored: full-width digits and
    letters as ASCII (an input method's ２０２２２１７４ is 20222174, or the letter that
    answers it would not find it, and the same number could be registered twice), without
    第…号 around it."""
    text = unicodedata.normalize("NFKC", text).strip()
    return re.sub(r"^第\s*(.+?)\s*号$", r"\1", text)


def _names(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = value if isinstance(value, list | tuple) else [value]
    names: list[str] = []
    for item in items:
        text = _text(item)
        for name in _NAME_SEPARATORS.split(text or ""):
            if name and name not in names:
                names.append(name)
    return names or None


def _date(value: Any, label: str, problems: list[str]) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # an Excel serial day not formatted as a date
            return EXCEL_EPOCH + timedelta(days=int(value))
        problems.append(f"{label}“{value}”不是有效日期。")
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    text = re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", text)  # 2026-03-02 00:00:00
    match = _DATE_TEXT.match(text) or _DATE_DIGITS.match(text)
    if match:
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    problems.append(f"{label}“{text}”不是有效日期（应为年-月-日，如2026-03-02）。")
    return None


def _flag(value: Any, problems: list[str]) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    if not text:
        return None
    if text in YES:
        return True
    if text in NO:
        return False
    problems.append(f"是否重点“{text}”无法识别（应填“是”或“否”）。")
    return None


def _kind(value: Any, problems: list[str]) -> str | None:
    text = _text(value)
    if text is None:
        return None
    found = [k for k in KINDS if k in text]
    if len(found) == 1:
        return found[0]
    problems.append(f"类别“{text}”无法识别（应为建议、提案或议案）。")
    return None


def row_from_mapping(values: Mapping[str, Any], line: int) -> ProposalRow:
    """A row from a mapping keyed by the field names (FIELD_NAMES); unknown keys are
    ignored, values may be text, numbers, dates (or ISO text), lists (or text with 、
    between names) and booleans."""
    row = ProposalRow(line=line)
    row.number = _number(values.get("number"))
    for name in ("title", "lead_proposer", "delegation", "session", "content"):
        setattr(row, name, _text(values.get(name)))
    for name in LIST_FIELDS:
        setattr(row, name, _names(values.get(name)))
    for name in DATE_FIELDS:
        setattr(row, name, _date(values.get(name), LABELS[name], row.problems))
    row.kind = _kind(values.get("kind"), row.problems)
    row.is_key = _flag(values.get("is_key"), row.problems)
    return row


# -- headings -------------------------------------------------------------------------------


def _plain_heading(value: Any) -> str:
    text = unicodedata.normalize("NFKC", _text(value) or "")
    return re.sub(r"[\s*:：]", "", text)


_OWN = {heading: name for name, variants in HEADINGS.items() for heading in variants}


def heading_field(value: Any) -> tuple[str | None, bool]:
    """The field a heading names (None: not one of ours) and whether it is a fallback
    heading (read only when no column has the field's own heading)."""
    text = _plain_heading(value)
    if not text:
        return None, False
    candidates = [text, re.sub(r"\(.*?\)", "", text)]
    candidates += [part for part in re.split(r"[/、]", candidates[-1]) if part]
    for candidate in candidates:
        if candidate in _OWN:
            return _OWN[candidate], False
    for candidate in candidates:
        if candidate in FALLBACK_HEADINGS:
            return FALLBACK_HEADINGS[candidate], True
    return None, False


def _columns(header: list[Any]) -> tuple[dict[str, int], list[str]]:
    own: dict[str, int] = {}
    fallback: dict[str, int] = {}
    ignored: list[str] = []
    for index, value in enumerate(header):
        name, weak = heading_field(value)
        target = fallback if weak else own
        if name is None or name in target:
            if _text(value):
                ignored.append(_text(value) or "")
            continue
        target[name] = index
    for name, index in fallback.items():
        if name in own:
            ignored.append(_text(header[index]) or "")
        else:
            own[name] = index
    return own, ignored


def _rows_from_grid(grid: list[list[Any]], first_line: int = 1) -> SheetRows | None:
    """Find the header among the first rows (the one naming most fields; the lower one of
    equals, under a merged group heading) and read the rows below it."""
    best, best_score = None, 1
    for index, row in enumerate(grid[:HEADER_SCAN_ROWS]):
        score = len(_columns(row)[0])
        if score >= best_score and score >= 2:
            best, best_score = index, score
    if best is None:
        return None
    columns, ignored = _columns(grid[best])
    missing = [LABELS[f] for f in ("number", "title") if f not in columns]
    if missing:
        raise SheetError(f"表头中没有“{'”“'.join(missing)}”列，无法导入。")
    rows = []
    for offset, cells in enumerate(grid[best + 1 :], start=best + 1):
        values = {
            name: (cells[index] if index < len(cells) else None) for name, index in columns.items()
        }
        values = {k: v for k, v in values.items() if _text(v) is not None}
        if not values:
            continue  # a blank row
        rows.append(row_from_mapping(values, first_line + offset))
    headings = {name: _text(grid[best][index]) or "" for name, index in columns.items()}
    return SheetRows(rows, headings, ignored)


# -- files ----------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SheetError(
            "无法识别文件的编码：请保存为 UTF-8 或 GB18030（GBK）编码的 CSV。"
        ) from None


def _csv_grid(data: bytes) -> list[list[Any]]:
    text = _decode(data)
    head = text.split("\n", 1)[0]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [[_unescaped(cell) for cell in row] for row in reader]


def _unescaped(cell: str) -> str:
    """A cell as written before a CSV export kept it from running as a formula ('=…)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def _xlsx_grids(data: bytes) -> list[list[list[Any]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise SheetError("工作簿解压后过大，无法读取。")
        book = load_workbook(io.BytesIO(data), data_only=True)
    except SheetError:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise SheetError("无法读取该 Excel 文件：请确认是 .xlsx 格式且未加密、未损坏。") from None
    grids = []
    sheets = [book.active, *(ws for ws in book.worksheets if ws is not book.active)]
    for ws in sheets:
        if ws is None:
            continue
        grid = [list(row) for row in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
        for merged in ws.merged_cells.ranges:  # a merged cell's value in every cell it covers
            value = grid[merged.min_row - 1][merged.min_col - 1]
            for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
                for c in range(merged.min_col - 1, min(merged.max_col, len(grid[r]))):
                    grid[r][c] = value
        grids.append(grid)
    book.close()
    return grids


def read_sheet(data: bytes, filename: str = "") -> SheetRows:
    """The rows of a 交办清单: .xlsx (the active sheet, else the first sheet with a header)
    or .csv / .txt (UTF-8 or GB18030, comma- or tab-separated). Raises SheetError."""
    name = filename.lower()
    if data.startswith(b"PK\x03\x04"):
        grids = _xlsx_grids(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        raise SheetError("不支持旧版 .xls 文件：请在 Excel 中另存为 .xlsx 或 CSV 后导入。")
    elif name.endswith((".csv", ".txt", ".tsv")) or not name:
        grids = [_csv_grid(data)]
    else:
        raise SheetError("请上传 .xlsx 或 .csv 文件。")
    for grid in grids:
        found = _rows_from_grid(grid)
        if found is not None:
            return found
    raise SheetError("没有找到表头：第一行（或标题行下面一行）应是“编号”“标题”“主办单位”等列名。")
