"""Spreadsheets as the exports write them (tracker/services/tabular.py): the workbook read
back by openpyxl as a clerk's spreadsheet would show it, and written as its rows are read."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from tracker.services import tabular


def _rows(count: int, taken: list[int]):
    for i in range(count):
        taken[0] = i + 1
        yield [
            20222174 + i,
            f"关于进一步加强广州市中小学生心理健康管理工作的建议（{i}）",
            date(2022, 6, 8),
            datetime(2022, 6, 8, 9, 30),
            '=HYPERLINK("http://example.com","点此")',
            None,
            True,
            ["市教育局", "市卫生健康委"],
            "第一行\x0c第二行",
        ]


HEADERS = ["编号", "标题", "办结日期", "答复时间", "备注", "空列", "重点", "会办单位", "说明"]


def test_the_workbook_reads_back_as_a_clerk_sees_it():
    taken = [0]
    sheets = [
        tabular.Sheet("建议[2022]", HEADERS, _rows(3, taken)),
        tabular.Sheet("建议[2022]", ["单位"], [["广州市教育局"]]),
    ]
    data = b"".join(tabular.xlsx_chunks(sheets))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["建议 2022 ", "建议 2022 ~2"]  # Excel's rules for names
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet["A1"].font.b and sheet["A1"].fill.fgColor.rgb == "FFE8EEF7"
    assert sheet.freeze_panes == "A2"
    number, title, day, when, note, empty, key, units, text = sheet[2]
    assert number.value == 20222174 and number.data_type == "n"
    assert title.value == "关于进一步加强广州市中小学生心理健康管理工作的建议（0）"
    assert day.value == datetime(2022, 6, 8) and day.number_format == "yyyy-mm-dd"
    assert when.value == datetime(2022, 6, 8, 9, 30)
    assert note.value.startswith("=HYPERLINK") and note.data_type == "s"  # text, not a formula
    assert empty.value is None
    assert key.value == "是" and units.value == "市教育局、市卫生健康委"
    assert text.value == "第一行第二行"  # a form feed no spreadsheet takes
    # Chinese titles are about two Latin characters wide a character
    assert sheet.column_dimensions["B"].width >= 2 * len(title.value)
    assert book.worksheets[1]["A2"].value == "广州市教育局"


def test_the_workbook_leaves_in_pieces_as_its_rows_are_read():
    """The first bytes go before any row is read, and every piece after follows the rows by
    no more than the rows that size the columns plus one flush: a 100,000-row export starts
    at once and holds no more than that in memory."""
    taken = [0]
    total = 3 * tabular.SIZED_BY
    ahead = []
    pieces = []
    for piece in tabular.xlsx_chunks([tabular.Sheet("提案", HEADERS, _rows(total, taken))]):
        ahead.append(taken[0])
        pieces.append(piece)
    assert ahead[0] == 0 and pieces[0].startswith(b"PK")
    assert len(pieces) >= total // tabular.FLUSH_ROWS
    reading = [n for n in ahead if 0 < n < total]
    assert reading and reading[0] <= tabular.SIZED_BY + tabular.FLUSH_ROWS
    book = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert book.testzip() is None
    sheet = load_workbook(io.BytesIO(b"".join(pieces)), read_only=True).worksheets[0]
    rows = list(sheet.values)
    assert len(rows) == total + 1 and rows[-1][0] == 20222174 + total - 1


def test_columns_are_named_as_excel_names_them():
    from openpyxl.utils import get_column_letter

    assert [tabular.column_letter(n) for n in (1, 26, 27, 52, 53, 702, 703, 16384)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
        "XFD",
    ]
    assert all(tabular.column_letter(n) == get_column_letter(n) for n in range(1, 18279))


@pytest.mark.slow  # a Python process of its own
def test_starting_the_app_does_not_import_openpyxl(tmp_path):
    """openpyxl (a sixth of a second) is imported by what reads or checks a workbook, not by
    every worker and command at its start."""
    import subprocess
    import sys

    code = (
        "import sys; from tracker import cli, create_app; "
        f"create_app({{'TESTING': True, 'SECRET_KEY': 'x', 'DATABASE_URL': "
        f"'sqlite:///{tmp_path}/t.db', 'INDEX_DIR': '{tmp_path}/index'}}); "
        "print('openpyxl' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_csv_cell_that_a_spreadsheet_would_run_stays_text():
    """OWASP's list of a formula's first characters, the tab and the carriage return
    included (a spreadsheet trims them and runs what follows); numbers stay numbers."""
    values = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "-5", "+3.5", "关于=的建议"]
    sheet = tabular.Sheet("提案", ["值"], [[v] for v in values])
    text = b"".join(tabular.csv_chunks(sheet)).decode("utf-8-sig")
    read = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert read == [
        "'=1+1",
        "'+1+1",
        "'-1+1",
        "'@SUM(A1)",
        "'\t=1+1",
        "'\r=1+1",
        "-5",
        "+3.5",
        "关于=的建议",
    ]
