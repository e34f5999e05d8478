"""批量导入 of a session's 交办清单 (issue 13, point 1): the reader, the plan and the save,
through the service, the 批量导入 page (CSRF on) and `tracker import-proposals`."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from tracker import current
from tracker.extensions import db
from tracker.models import AuditEvent, Proposal, Unit, User
from tracker.rules.proposal_sheet import SheetError, read_sheet, row_from_mapping
from tracker.services import proposal_batch
from tracker.services import proposals as svc
from tracker.services.errors import PermissionDenied

SESSION = "市十六届人大一次会议"
HEADINGS = [
    "编号", "标题", "类别", "领衔人", "附议人", "代表团", "届次", "提出日期",
    "主办单位", "会办单位", "交办日期", "是否重点", "内容",
]  # fmt: skip


def _row(number="20262101", title="关于加强校园周边交通安全管理的建议", **over) -> list:
    values = {
        "编号": number,
        "标题": title,
        "类别": "建议",
        "领衔人": "曾志伟",
        "附议人": "李明、王芳",
        "代表团": "海珠区代表团",
        "届次": SESSION,
        "提出日期": "2026-01-20",
        "主办单位": "市教育局",
        "会办单位": "广州市卫生健康委员会",
        "交办日期": "2026-03-02",
        "是否重点": "否",
        "内容": "建议在校园周边增设交通信号灯。",
    }
    values.update(over)
    return [values[h] for h in HEADINGS]


def workbook(rows, headings=HEADINGS, *, title_row=None) -> bytes:
    book = Workbook()
    ws = book.active
    if title_row:
        ws.append([title_row])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headings))
    ws.append(list(headings))
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, headings=HEADINGS, encoding="utf-8") -> bytes:
    lines = [",".join(headings)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _user(name) -> User:
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one()


def _plan(rows, actor="liaison", **kwargs):
    return proposal_batch.plan(
        _user(actor), rows, today=current.today(), policy=current.deadline_policy(), **kwargs
    )


def _save(plan, actor="liaison"):
    return proposal_batch.apply(
        _user(actor), plan, policy=current.deadline_policy(), today=current.today()
    )


def _proposal(number) -> Proposal | None:
    return db.session.execute(db.select(Proposal).filter_by(number=number)).scalar_one_or_none()


# -- the reader -------------------------------------------------------------------------


def test_reader_takes_merged_headers_blank_rows_numbers_dates_and_extra_columns():
    book = Workbook()
    ws = book.active
    ws.append(["市十六届人大一次会议代表建议交办清单"])  # a title row merged across the top
    ws.merge_cells("A1:H1")
    # a two-row header: 承办单位 merged over 主办/会办, the other headings merged downwards
    ws.append(["序号", "建议编号", "案由", "领衔代表", "承办单位", None, "交办时间", "备注"])
    ws.append([None, None, None, None, "主办单位", "会办单位", None, None])
    for col in "ABCDGH":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("E2:F2")
    ws.append([1, 20222174.0, "关于进一步加强中小学生心理健康管理工作的建议", "曾志伟",
               "市教育局", "市卫生健康委", datetime(2026, 3, 2), "备注不读"])  # fmt: skip
    ws.append([None] * 8)  # a blank row
    ws.append([2, 20222175, "关于加强校园周边交通安全的建议", "李明",
               "市教育局", None, "2026年3月3日", None])  # fmt: skip
    ws.append([3, "20222176", "关于学校食堂管理的建议", "王芳", "市教育局", None, 46084, None])
    out = io.BytesIO()
    book.save(out)

    sheet = read_sheet(out.getvalue(), "清单.xlsx")

    assert [r.number for r in sheet.rows] == ["20222174", "20222175", "20222176"]
    assert [r.line for r in sheet.rows] == [4, 6, 7]  # Excel's row numbers
    first = sheet.rows[0]
    assert first.title == "关于进一步加强中小学生心理健康管理工作的建议"
    assert first.lead_proposer == "曾志伟"
    assert first.lead_units == ["市教育局"] and first.co_units == ["市卫生健康委"]
    assert [r.assigned_on for r in sheet.rows] == [
        date(2026, 3, 2),
        date(2026, 3, 3),
        date(2026, 3, 3),  # an Excel serial day in a cell not formatted as a date
    ]
    assert "备注" in sheet.ignored and "序号" in sheet.ignored
    assert all(not r.problems for r in sheet.rows)


def test_reader_reads_gb18030_and_utf8_csv_with_variant_headings_in_any_order():
    headings = ["提案人", "题目", "案号", "界别", "类型", "协办单位", "主办单位", "重点提案"]
    row = ["民盟市委会", "关于发展夜间经济的提案", "第53号", "民盟", "提案", "", "市商务局", "是"]
    for encoding in ("gb18030", "utf-8-sig", "utf-8"):
        sheet = read_sheet(csv_bytes([row], headings, encoding), "交办清单.csv")
        (r,) = sheet.rows
        assert (r.number, r.title, r.kind, r.lead_proposer, r.delegation, r.is_key) == (
            "53",
            "关于发展夜间经济的提案",
            "提案",
            "民盟市委会",
            "民盟",
            True,
        )
        assert r.lead_units == ["市商务局"] and r.co_units is None


def test_reader_reports_bad_values_per_row_and_a_file_without_headings():
    sheet = read_sheet(csv_bytes([_row(交办日期="3月2日", 是否重点="也许")]), "a.csv")
    assert sheet.rows[0].problems == [
        "交办日期“3月2日”不是有效日期（应为年-月-日，如2026-03-02）。",
        "是否重点“也许”无法识别（应填“是”或“否”）。",
    ]
    # a cell a CSV export kept from running as a formula reads as it was written
    escaped = read_sheet(csv_bytes([_row(标题="'-关于减负的建议")]), "a.csv")
    assert escaped.rows[0].title == "-关于减负的建议"
    with pytest.raises(SheetError, match="表头"):
        read_sheet("甲,乙\n1,2\n".encode(), "a.csv")
    with pytest.raises(SheetError, match="标题"):
        read_sheet("编号,主办单位\n1,市教育局\n".encode(), "a.csv")
    with pytest.raises(SheetError, match="xlsx"):
        read_sheet(b"\xd0\xcf\x11\xe0 old excel", "a.xls")


def test_rows_come_from_json_objects_with_the_same_field_names():
    row = row_from_mapping(
        {
            "number": 20262101,
            "title": " 关于加强校园周边交通安全管理的建议 ",
            "lead_units": ["市教育局"],
            "co_units": "市卫生健康委、市民政局",
            "assigned_on": "2026-03-02",
            "is_key": True,
        },
        line=1,
    )
    assert row.number == "20262101" and row.title == "关于加强校园周边交通安全管理的建议"
    assert row.co_units == ["市卫生健康委", "市民政局"]
    assert row.assigned_on == date(2026, 3, 2) and row.is_key is True
    assert row.lead_proposer is None  # not given


# -- the plan and the save ----------------------------------------------------------------


def test_a_list_is_planned_without_writing_then_saved_with_assignments_and_audit(ctx, people):
    sheet = read_sheet(workbook([_row("20262101"), _row("20262102", "关于学校食堂的建议")]))
    plan = _plan(sheet.rows)
    assert [r.action for r in plan.rows] == ["new", "new"]
    assert plan.rows[0].due_on is not None
    assert plan.new_sessions == [SESSION]
    db.session.flush()
    assert _proposal("20262101") is None  # planning wrote nothing

    result = _save(plan)
    db.session.commit()
    assert len(result.created) == 2
    p = _proposal("20262101")
    assert plan.rows[0].as_dict() == {
        "line": 2,
        "action": "new",
        "number": "20262101",
        "session": SESSION,
        "proposal_id": p.id,
        "errors": [],
        "changes": [],
    }
    assert p.session.name == SESSION and p.status == "assigned"
    assert p.co_signers == ["李明", "王芳"] and p.delegation == "海珠区代表团"
    assert p.submitted_on == date(2026, 1, 20) and p.assigned_on == date(2026, 3, 2)
    roles = {(a.unit.name, a.role) for a in p.assignments}
    assert roles == {("广州市教育局", "lead"), ("广州市卫生健康委员会", "co")}
    lead = p.lead_assignment
    assert lead.due_on == plan.rows[0].due_on  # the deadline rules' date, as previewed
    assert lead.reassign_until is not None
    messages = [e.message for e in db.session.execute(
        db.select(AuditEvent).filter_by(proposal_id=p.id)).scalars()]  # fmt: skip
    assert any("登记建议第20262101号" in m and "批量导入" in m for m in messages)
    assert any(m.startswith("交办（2026年3月2日）") for m in messages)


def test_unknown_and_ambiguous_units_and_duplicates_are_reported_per_row(ctx, people):
    db.session.add(Unit(name="广州市教育研究院", short_names=["市教育局"]))  # shares a short name
    db.session.commit()
    rows = [
        _row("20262101", 主办单位="市交通局"),
        _row("20262102", 主办单位="市教育局"),
        _row("20262103", 主办单位="广州市教育局"),
        _row("20262103", "关于学校食堂的建议", 主办单位="广州市教育局"),
        _row("", 主办单位="广州市教育局"),
    ]
    plan = _plan(read_sheet(workbook(rows)).rows)
    errors = {r.line: r.errors for r in plan.rows}
    assert all(r.action == "error" for r in plan.rows)
    assert "主办单位“市交通局”：找不到该单位" in errors[2][0]
    assert errors[3] == [
        "主办单位“市教育局”有多个单位使用该简称（广州市教育局、广州市教育研究院），请填写全称。"
    ]
    assert errors[4] == ["编号20262103与第5行重复。"]
    assert errors[5] == ["编号20262103与第4行重复。"]
    assert "缺少编号。" in errors[6]


def test_a_number_on_thousands_of_rows_names_a_few_of_them_and_counts_the_rest(ctx, people):
    """Each row's error named every other row with its number: 2,000 rows of one number made
    4 million line numbers (and as many steps) in one request."""
    rows = [_row("20262103")] * 2000 + [_row("20262104"), _row("20262104")]
    plan = _plan(read_sheet(csv_bytes(rows), "交办清单.csv").rows)
    errors = {r.line: r.errors for r in plan.rows}
    assert errors[2] == ["编号20262103与第3、4、5、6、7等共1999行重复。"]
    assert errors[5] == ["编号20262103与第2、3、4、6、7等共1999行重复。"]
    assert errors[2001] == ["编号20262103与第2、3、4、5、6等共1999行重复。"]
    assert errors[2002] == ["编号20262104与第2003行重复。"]
    assert sum(len(e) for r in plan.rows for e in r.errors) < 60 * len(rows)


def test_importing_the_same_file_again_changes_nothing(ctx, people):
    data = workbook([_row("20262101"), _row("20262102", "关于学校食堂的建议")])
    _save(_plan(read_sheet(data).rows))
    db.session.commit()
    events = db.session.execute(db.select(db.func.count(AuditEvent.id))).scalar()

    again = _plan(read_sheet(data).rows)
    assert [r.action for r in again.rows] == ["unchanged", "unchanged"]
    result = _save(again)
    db.session.commit()
    assert result.created == [] and result.updated == []
    assert db.session.execute(db.select(db.func.count(AuditEvent.id))).scalar() == events


def test_a_changed_row_updates_its_proposal_with_the_audit_trail(ctx, people):
    _save(_plan(read_sheet(workbook([_row("20262101")])).rows))
    db.session.commit()
    changed = _row(
        "20262101",
        "关于加强校园周边交通安全设施建设的建议",
        主办单位="广州市民政局",
        会办单位="",
        交办日期="2026-03-05",
    )
    plan = _plan(read_sheet(workbook([changed])).rows)
    (row,) = plan.rows
    assert row.action == "update"
    assert row.changes[0] == (
        "标题由“关于加强校园周边交通安全管理的建议”改为“关于加强校园周边交通安全设施建设的建议”"
    )
    assert "重新交办（2026年3月5日）主办：广州市民政局" in row.changes
    _save(plan)
    db.session.commit()
    p = _proposal("20262101")
    assert p.title == "关于加强校园周边交通安全设施建设的建议"
    assert [(a.unit.name, a.role, a.assigned_on) for a in p.assignments] == [
        ("广州市民政局", "lead", date(2026, 3, 5))
    ]
    assert p.assigned_on == date(2026, 3, 5)
    event = db.session.execute(
        db.select(AuditEvent).filter_by(proposal_id=p.id, action="correct")
    ).scalar_one()
    assert event.data["old"]["title"] == "关于加强校园周边交通安全管理的建议"
    assert event.data["new"]["title"] == "关于加强校园周边交通安全设施建设的建议"


def test_a_row_of_a_proposal_past_assignment_is_reported_not_changed(ctx, people):
    _save(_plan(read_sheet(workbook([_row("20262101")])).rows))
    db.session.commit()
    p = _proposal("20262101")
    svc.sign_for(_user("clerk"), p.lead_assignment)
    db.session.commit()

    plan = _plan(read_sheet(workbook([_row("20262101", "另一个标题的建议")])).rows)
    (row,) = plan.rows
    assert row.action == "refused"
    assert row.errors == ["广州市教育局已签收，已过交办阶段，未更新（如需更正请在该件页面办理）。"]
    _save(plan)
    db.session.commit()
    assert _proposal("20262101").title == "关于加强校园周边交通安全管理的建议"
    # the same row unchanged is no refusal
    again = _plan(read_sheet(workbook([_row("20262101")])).rows)
    assert again.rows[0].action == "unchanged"


def test_clerks_may_not_import(ctx, people):
    with pytest.raises(PermissionDenied):
        _plan([], actor="clerk")
    assert (
        proposal_batch.plan(
            _user("duban"), [], today=current.today(), policy=current.deadline_policy()
        ).rows
        == []
    )


# -- the 批量导入 page ------------------------------------------------------------------------


def _upload(browser, data, filename="交办清单.xlsx", **fields):
    return browser.post(
        "/proposals/batch",
        {"file": (io.BytesIO(data), filename), "session_id": "0", **fields},
        content_type="multipart/form-data",
    )


def _expected(page: str) -> str:
    return re.search(r'name="expected" value="([^"]+)"', page).group(1)


def test_the_page_previews_errors_and_saves_valid_rows_on_confirm(app, browser, people):
    browser.login("liaison")
    listing = browser.get("/proposals").get_data(as_text=True)
    assert 'href="/proposals/batch"' in listing and "批量导入" in listing
    rows = [
        _row("20262101"),
        [None] * len(HEADINGS),
        _row("20262102", "关于学校食堂的建议", 主办单位="市交通局"),
        _row(20262103.0, "关于校园午休的建议", 交办日期=datetime(2026, 3, 3)),
    ]
    response = _upload(browser, workbook(rows, title_row="交办清单"))
    assert response.status_code == 302
    preview = browser.get(response.location)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "共3行：新增2，更新0，无变化0，不予更新0，有错误1" in page
    assert "主办单位“市交通局”：找不到该单位" in page
    assert "20262103" in page and "关于校园午休的建议" in page
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Proposal.id))).scalar() == 0

    confirmed = browser.post(response.location, {"expected": _expected(page)})
    assert confirmed.status_code == 302
    done = browser.get(confirmed.location).get_data(as_text=True)
    assert "已导入：新增2件，更新0件" in done
    with app.app_context():
        numbers = db.session.execute(db.select(Proposal.number).order_by(Proposal.number))
        assert list(numbers.scalars()) == ["20262101", "20262103"]
        p = _proposal("20262103")
        assert p.assigned_on == date(2026, 3, 3) and p.lead_assignment.unit.name == "广州市教育局"
    # the kept file went with the import: confirming again saves nothing twice
    again = browser.post(response.location, {"expected": _expected(page)})
    assert again.status_code == 302
    assert "已导入或已过期" in browser.get(again.location, follow_redirects=True).get_data(
        as_text=True
    )


def test_confirm_reads_the_list_again_and_stops_when_the_data_moved(app, browser, people):
    browser.login("liaison")
    response = _upload(browser, csv_bytes([_row("20262101")]), "清单.csv")
    page = browser.get(response.location).get_data(as_text=True)
    with app.app_context():  # someone registers the same number meanwhile
        svc.register_proposal(
            _user("liaison"),
            session=svc.get_or_create_session(SESSION, year=2026),
            kind="建议",
            number="20262101",
            title="关于另一件事的建议",
            lead_proposer="李明",
        )
        db.session.commit()
    refused = browser.post(response.location, {"expected": _expected(page)})
    assert refused.status_code == 302 and refused.location.endswith(response.location)
    page = browser.get(refused.location).get_data(as_text=True)
    assert "系统中的数据在预览后有变化" in page
    assert "共1行：新增0，更新1" in page  # the preview as it is now
    with app.app_context():
        assert _proposal("20262101").title == "关于另一件事的建议"


def test_the_kept_list_is_its_uploaders_alone_and_bad_files_are_refused(app, browser, people):
    browser.login("liaison")
    response = _upload(browser, workbook([_row("20262101")]))
    token = response.location.rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    browser.login("admin")
    other = browser.get(f"/proposals/batch/{token}")
    assert other.status_code == 302 and other.location.endswith("/proposals/batch")
    assert browser.post(f"/proposals/batch/{token}", {"expected": "x"}).status_code == 302
    with app.app_context():
        assert _proposal("20262101") is None

    refused = _upload(browser, b"\xd0\xcf\x11\xe0 old", "清单.xls")
    assert refused.status_code == 400
    assert "请上传 .xlsx 或 .csv 文件" in refused.get_data(as_text=True)
    garbled = _upload(browser, "甲,乙\n1,2\n".encode(), "清单.csv")
    assert garbled.status_code == 400 and "没有找到表头" in garbled.get_data(as_text=True)
    app.config["PROPOSAL_IMPORT_MAX_MB"] = 0.001
    big = _upload(browser, csv_bytes([_row(str(n)) for n in range(100)]), "清单.csv")
    assert big.status_code == 400 and "文件超过" in big.get_data(as_text=True)


def test_clerks_do_not_see_or_use_the_batch_import(app, browser, people):
    browser.login("clerk")
    assert "批量导入" not in browser.get("/proposals").get_data(as_text=True)
    assert _upload(browser, workbook([_row("20262101")])).status_code == 403


def test_an_edited_export_of_the_list_imports_back_as_updates(app, browser, people):
    browser.login("liaison")
    first = _upload(browser, workbook([_row("20262101"), _row("20262102", "关于学校食堂的建议")]))
    page = browser.get(first.location).get_data(as_text=True)
    browser.post(first.location, {"expected": _expected(page)})

    exported = browser.get("/proposals/export.xlsx")
    book = load_workbook(io.BytesIO(exported.data))
    ws = book.worksheets[0]
    headings = [c.value for c in ws[1]]
    for cells in ws.iter_rows(min_row=2):
        row = dict(zip(headings, cells, strict=True))
        if row["编号"].value == "20262102":
            row["标题"].value = "关于加强学校食堂食品安全管理的建议"
            row["重点"].value = "是"
    out = io.BytesIO()
    book.save(out)

    second = _upload(browser, out.getvalue(), "建议提案.xlsx")
    page = browser.get(second.location).get_data(as_text=True)
    assert "共2行：新增0，更新1，无变化1" in page
    browser.post(second.location, {"expected": _expected(page)})
    with app.app_context():
        p = _proposal("20262102")
        assert p.title == "关于加强学校食堂食品安全管理的建议" and p.is_key is True
        assert p.delegation == "海珠区代表团"  # a column the export has not: kept
        assert p.lead_assignment.unit.name == "广州市教育局"
        assert _proposal("20262101").title == "关于加强校园周边交通安全管理的建议"


# -- tracker import-proposals -------------------------------------------------------------


def test_the_command_previews_with_dry_run_then_saves_valid_rows_and_fails(
    app, runner, people, tmp_path
):
    headings = [h for h in HEADINGS if h not in ("届次", "交办日期")]
    rows = [
        [v for h, v in zip(HEADINGS, _row("20262101"), strict=True) if h in headings],
        [v for h, v in zip(HEADINGS, _row("20262102", 主办单位="市交通局"), strict=True)
         if h in headings],
    ]  # fmt: skip
    path = tmp_path / "交办清单.csv"
    path.write_bytes(csv_bytes(rows, headings, "gb18030"))
    args = ["import-proposals", str(path), "--session", SESSION, "--assign-on", "2026-03-02"]

    dry = runner.invoke(args=[*args, "--dry-run", "--user", "liaison"])
    assert dry.exit_code == 1
    assert "第2行\t新增\t20262101" in dry.output
    assert "第3行\t有错误\t20262102" in dry.output and "市交通局" in dry.output
    assert "试运行，未保存。共2行：新增1" in dry.output
    with app.app_context():
        assert _proposal("20262101") is None

    saved = runner.invoke(args=[*args, "--user", "duban"])
    assert saved.exit_code == 1  # a row failed; the valid one is saved
    assert "已导入：新增1件" in saved.output
    with app.app_context():
        p = _proposal("20262101")
        assert p.session.name == SESSION and p.assigned_on == date(2026, 3, 2)
        assert p.lead_assignment.unit.name == "广州市教育局"

    path.write_bytes(csv_bytes(rows[:1], headings, "gb18030"))
    again = runner.invoke(args=[*args, "--user", "duban"])
    assert again.exit_code == 0, again.output
    assert "共1行：新增0，更新0，无变化1" in again.output

    clerk = runner.invoke(args=[*args, "--user", "clerk"])
    assert clerk.exit_code == 1 and "无权批量导入" in clerk.output


def test_the_csv_export_imports_back_unchanged_and_the_page_shows_the_delegation(
    app, browser, people
):
    browser.login("liaison")
    first = _upload(browser, workbook([_row("20262101"), _row("20262102", "关于学校食堂的建议")]))
    page = browser.get(first.location).get_data(as_text=True)
    browser.post(first.location, {"expected": _expected(page)})
    with app.app_context():
        pid = _proposal("20262101").id
    assert "海珠区代表团" in browser.get(f"/proposals/{pid}").get_data(as_text=True)

    exported = browser.get("/proposals/export.csv").data
    again = _upload(browser, exported, "建议提案.csv")
    page = browser.get(again.location).get_data(as_text=True)
    assert "共2行：新增0，更新0，无变化2，不予更新0，有错误0" in page


def test_separate_units_a_cppcc_list_and_the_units_todo(app, browser, people):
    headings = ["提案号", "提案标题", "提案人", "界别", "分办单位", "交办日期"]
    rows = [["D101", "关于发展社区托育服务的提案", "民盟市委会", "民盟", "市教育局、市民政局",
             "2026-03-02"]]  # fmt: skip
    with app.app_context():
        plan = _plan(read_sheet(csv_bytes(rows, headings)).rows, session="市政协十四届五次会议")
        assert [r.action for r in plan.rows] == ["new"], plan.rows[0].errors
        _save(plan)
        db.session.commit()
        p = _proposal("D101")
        assert (p.kind, p.proposer_kind, p.delegation) == ("提案", "单位", "民盟")
        assert p.session.name == "市政协十四届五次会议" and p.session.year == 2026
        assert sorted((a.unit.name, a.role) for a in p.assignments) == [
            ("广州市教育局", "separate"),
            ("广州市民政局", "separate"),
        ]
    # the units find it to sign for, as after a 交办 on the item's page
    browser.login("clerk-civil")
    assert "关于发展社区托育服务的提案" in browser.get("/todo").get_data(as_text=True)
