"""The commitment tracker: candidates from imported and drafted letters, confirming,
merging and discarding, progress with evidence, status changes, the derived overdue
state, the report-back to the deputy, the list's filters and exports."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tracker import current
from tracker.commitments.views import source_in_letter
from tracker.extensions import db
from tracker.models import (
    AuditEvent,
    Commitment,
    CommitmentUpdate,
    ContactLog,
    Proposal,
    ReplyLetter,
    User,
)
from tracker.services import commitments as commitment_service
from tracker.services import proposals as svc

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_983cdb5ab656f1f2.txt"
C_CERT = "今年底全市中小学专任教师持C证率达到80%"

BODY = (
    "曾志伟代表：\n\n"
    "您提出的关于加强中小学生心理健康管理工作的建议收悉。现答复如下：\n\n"
    "一、目前工作推进情况\n\n"
    "我局建立了学生心理危机防控工作联席会议制度。\n\n"
    "二、下一步工作安排\n\n"
    "（一）各区推进全体教职员工的心理健康知识培训，今年底全市中小学专任教师持C证率达到80%。\n\n"
    "（二）力争2026年5月底前完成全市中小学心理辅导室建设，覆盖率达到100%。\n\n"
    "（三）逐步完善学生心理健康档案，做到一生一档。\n\n"
    "感谢您对教育工作的关心和支持。"
)


def _user(name) -> User:
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one()


@pytest.fixture
def replied(app, make_proposal):
    """20262174 answered by 广州市教育局 with a B-grade letter dated 7 May 2026 whose
    下一步 section promises three things (one due 31 May 2026: overdue on 15 June)."""
    pid = make_proposal("20262174", sign=True)
    with app.app_context():
        p = db.session.get(Proposal, pid)
        lead = next(a for a in p.assignments if a.role == "lead")
        letter = svc.record_reply(
            _user("clerk"),
            lead,
            title="广州市教育局关于市十六届人大一次会议第20262174号建议答复的函",
            classification="B",
            doc_number="穗教案〔2026〕7号",
            letter_on=date(2026, 5, 7),
            issued_on=date(2026, 5, 8),
            disclosure="主动公开",
            body=BODY,
            today=current.today(),
        )
        db.session.commit()
        return letter.id


def _candidates(app, letter_id) -> dict[str, Commitment]:
    with app.app_context():
        rows = db.session.execute(
            db.select(Commitment).where(Commitment.letter_id == letter_id)
        ).scalars()
        result = {}
        for c in rows:
            db.session.expunge(c)
            result[c.text] = c
        return result


def _by_start(items: dict[str, Commitment], start: str) -> Commitment:
    return next(c for text, c in items.items() if text.startswith(start))


def _get(app, cid) -> Commitment:
    with app.app_context():
        c = db.session.get(Commitment, cid)
        db.session.expunge(c)
        return c


# -- candidates ------------------------------------------------------------------------------


def test_a_recorded_reply_offers_its_promises_with_inferred_dates(app, replied):
    found = _candidates(app, replied)
    assert {(c.due_on, c.target) for c in found.values()} == {
        (date(2026, 12, 31), "80%"),
        (date(2026, 5, 31), "100%"),
        (None, None),
    }
    assert all(c.status == "candidate" for c in found.values())
    cert = _by_start(found, "各区推进")
    assert C_CERT in cert.text and cert.section == "二、下一步工作安排"


def test_the_seed_letter_candidates_on_the_review_page(app, browser, people, runner, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    assert runner.invoke(args=["import-letters", str(folder)]).exit_code == 0
    with app.app_context():
        letter = db.session.execute(db.select(ReplyLetter)).scalar_one()
        letter_id = letter.id
    browser.login("clerk")
    page = browser.get(f"/letters/{letter_id}/commitments").get_data(as_text=True)
    assert C_CERT in page and "2022年12月31日" in page and "80%" in page
    # the letter page links there
    assert f"/letters/{letter_id}/commitments" in browser.get(f"/letters/{letter_id}").get_data(
        as_text=True
    )
    # another unit's clerk cannot handle them
    browser.login("clerk-civil")
    assert browser.get(f"/letters/{letter_id}/commitments").status_code == 403


def test_drafts_refresh_their_candidates_and_confirming_waits_for_issue(app, browser, proposal):
    browser.login("clerk")
    response = browser.post(f"/proposals/{proposal}/draft")
    letter_id = int(response.location.rstrip("/").split("/")[-2])
    with app.app_context():
        letter = db.session.get(ReplyLetter, letter_id)
        from tracker.services import drafting

        drafting.save_draft(
            _user("clerk"),
            letter,
            values={"letter_on": date(2026, 5, 7)},
            body=BODY,
            base_version=letter.version,
            today=current.today(),
        )
        db.session.commit()
    first = _candidates(app, letter_id)
    assert len(first) == 3
    with app.app_context():
        letter = db.session.get(ReplyLetter, letter_id)
        drafting.save_draft(
            _user("clerk"),
            letter,
            values={},
            body=BODY.replace("（三）逐步完善学生心理健康档案，做到一生一档。\n\n", ""),
            base_version=letter.version,
            today=current.today(),
        )
        db.session.commit()
    second = _candidates(app, letter_id)
    assert len(second) == 2 and not any("心理健康档案" in t for t in second)
    # a draft's candidates cannot be confirmed yet
    cid = _by_start(second, "各区推进").id
    page = browser.get(f"/letters/{letter_id}/commitments").get_data(as_text=True)
    assert "答复函发出后即可确认" in page
    response = browser.post(f"/letters/{letter_id}/commitments", {"ids": cid, "action": "confirm"})
    assert response.status_code == 400
    assert "答复函发出后才能确认承诺事项" in response.get_data(as_text=True)
    assert _get(app, cid).status == "candidate"


@pytest.fixture
def proposal(app, make_proposal):
    return make_proposal("20262180", sign=True)


def test_bulk_confirm_merge_and_discard(app, browser, replied):
    found = _candidates(app, replied)
    cert, rooms, files = (
        _by_start(found, "各区推进"),
        _by_start(found, "力争"),
        _by_start(found, "逐步"),
    )
    browser.login("clerk")
    url = f"/letters/{replied}/commitments"
    # nothing ticked: a clear message
    response = browser.post(url, {"action": "confirm"})
    assert response.status_code == 400 and "请先勾选候选承诺" in response.get_data(as_text=True)
    # without the CSRF token nothing happens
    assert browser.post(url, {"ids": cert.id, "action": "confirm"}, csrf=False).status_code == 400
    assert _get(app, cert.id).status == "candidate"
    # merge two: texts joined, the later due date, the first target
    response = browser.post(url, {"ids": [rooms.id, files.id], "action": "merge"})
    assert response.status_code == 302
    merged, gone = _get(app, rooms.id), _get(app, files.id)
    assert merged.status == "candidate" and gone.status == "discarded"
    assert "心理辅导室" in merged.text and "心理健康档案" in merged.text
    assert (merged.due_on, merged.target) == (date(2026, 5, 31), "100%")
    # confirm as found: owned by the letter's unit
    assert browser.post(url, {"ids": cert.id, "action": "confirm"}).status_code == 302
    confirmed = _get(app, cert.id)
    assert confirmed.status == "open" and confirmed.confirmed_at is not None
    with app.app_context():
        assert db.session.get(Commitment, cert.id).unit.name == "广州市教育局"
    page = browser.get(url).get_data(as_text=True)
    assert "已确认的承诺事项" in page and C_CERT in page
    # a re-save of the letter does not bring discarded or confirmed sentences back
    with app.app_context():
        from tracker.services.commitments import refresh_commitments

        refresh_commitments(db.session.get(ReplyLetter, replied), today=current.today())
        db.session.commit()
    texts = [c.text for c in _candidates(app, replied).values()]
    assert texts.count(confirmed.text) == 1 and texts.count(gone.text) == 1


def test_edit_then_confirm_with_another_owner(app, browser, replied):
    cert = _by_start(_candidates(app, replied), "各区推进")
    browser.login("clerk")
    response = browser.post(
        f"/commitments/{cert.id}/confirm",
        {
            "confirm-text": "今年底全市中小学专任教师持C证率达到80%",
            "confirm-due_on": "2026-12-31",
            "confirm-target": "80%",
            "confirm-unit": _unit_id(app, "广州市卫生健康委员会"),
        },
    )
    assert response.status_code == 302
    c = _get(app, cert.id)
    assert (c.text, c.status) == (C_CERT, "open")
    with app.app_context():
        assert db.session.get(Commitment, cert.id).unit.name == "广州市卫生健康委员会"
        event = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "commitment_confirm")
        ).scalar_one()
        assert "责任单位广州市卫生健康委员会" in event.message and "（已修改）" in event.message
    # now the health commission owns it: the education clerk may look but not act
    assert browser.get(f"/commitments/{cert.id}").status_code == 403
    browser.login("clerk-health")
    assert browser.get(f"/commitments/{cert.id}").status_code == 200


def _unit_id(app, name) -> int:
    from tracker.models import Unit

    with app.app_context():
        return db.session.execute(db.select(Unit.id).filter_by(name=name)).scalar_one()


def _confirm_all(app, letter_id, skip: str | None = None):
    with app.app_context():
        from tracker.services import commitments

        clerk = _user("clerk")
        for c in db.session.execute(
            db.select(Commitment).where(
                Commitment.letter_id == letter_id, Commitment.status == "candidate"
            )
        ).scalars():
            if skip is None or not c.text.startswith(skip):
                commitments.confirm(clerk, c, keep_inferred=True)
        db.session.commit()


# -- following up ----------------------------------------------------------------------------


def test_the_commitment_page_shows_the_sentence_in_its_letter(app, browser, replied):
    _confirm_all(app, replied)
    cert = _by_start(_candidates(app, replied), "各区推进")
    browser.login("clerk")
    page = browser.get(f"/commitments/{cert.id}").get_data(as_text=True)
    assert f'<mark id="source">{cert.text}</mark>' in page
    assert "穗教案〔2026〕7号" in page and "2026年12月31日" in page and "剩余199天" in page


def test_progress_with_link_and_file_evidence(app, browser, replied):
    _confirm_all(app, replied)
    cert = _by_start(_candidates(app, replied), "各区推进")
    browser.login("clerk")
    url = f"/commitments/{cert.id}/updates"
    # a link that is not http(s) is refused with a message; nothing is written
    response = browser.post(
        url,
        {
            "update-noted_on": "2026-06-10",
            "update-note": "已完成第一期培训",
            "update-evidence_url": "javascript:alert(1)",
        },
    )
    assert response.status_code == 400
    assert "佐证链接须以 http:// 或 https:// 开头" in response.get_data(as_text=True)
    # a future date is refused
    response = browser.post(url, {"update-noted_on": "2026-07-01", "update-note": "培训"})
    assert "日期不能晚于今天" in response.get_data(as_text=True)
    # a file with a forbidden type is refused and not stored
    response = browser.post(
        url,
        {
            "update-noted_on": "2026-06-10",
            "update-note": "培训",
            "update-evidence": (io.BytesIO(b"MZ..."), "tool.exe"),
        },
        content_type="multipart/form-data",
    )
    assert "佐证文件格式不支持" in response.get_data(as_text=True)
    uploads = Path(app.config["UPLOAD_DIR"])
    assert not list(uploads.rglob("tool.exe"))
    # a note with a link and a PDF
    response = browser.post(
        url,
        {
            "update-noted_on": "2026-06-10",
            "update-note": "全市已有6512名专任教师取得C证，持证率72%。",
            "update-evidence_url": "https://jyj.gz.gov.cn/news/c-cert.html",
            "update-evidence": (io.BytesIO(b"%PDF-1.4 report"), "C证培训情况通报.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = browser.get(f"/commitments/{cert.id}").get_data(as_text=True)
    assert "持证率72%" in page and "https://jyj.gz.gov.cn/news/c-cert.html" in page
    assert "C证培训情况通报.pdf" in page
    assert _get(app, cert.id).status == "in_progress"  # the first progress note starts it
    with app.app_context():
        update = db.session.execute(db.select(CommitmentUpdate)).scalar_one()
        update_id = update.id
    download = browser.get(f"/commitment-updates/{update_id}/evidence")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 report"
    assert "filename*=UTF-8''C%E8%AF%81" in download.headers["Content-Disposition"]
    download.close()
    # another unit's clerk cannot fetch the evidence or add progress
    browser.login("clerk-civil")
    assert browser.get(f"/commitment-updates/{update_id}/evidence").status_code == 403
    assert (
        browser.post(url, {"update-noted_on": "2026-06-10", "update-note": "x"}).status_code == 403
    )


def test_status_changes_are_audited_and_dropping_needs_a_reason(app, browser, replied):
    _confirm_all(app, replied)
    cert = _by_start(_candidates(app, replied), "各区推进")
    browser.login("clerk")
    url = f"/commitments/{cert.id}/status"
    response = browser.post(url, {"status-status": "dropped"})
    assert response.status_code == 400
    assert "无法落实的承诺须说明原因" in response.get_data(as_text=True)
    assert _get(app, cert.id).status == "open"
    response = browser.post(
        url, {"status-status": "done", "status-done_on": "2026-06-12", "status-reason": ""}
    )
    assert response.status_code == 302
    c = _get(app, cert.id)
    assert (c.status, c.done_on) == ("done", date(2026, 6, 12))
    # reopening a finished item needs a reason too
    response = browser.post(url, {"status-status": "in_progress"})
    assert "须说明理由" in response.get_data(as_text=True)
    response = browser.post(
        url, {"status-status": "in_progress", "status-reason": "区里数据有误，需复核"}
    )
    assert response.status_code == 302
    page = browser.get(f"/commitments/{cert.id}").get_data(as_text=True)
    assert "状态由“未开始”改为“已完成”（完成日期2026-06-12）" in page
    assert "状态由“已完成”改为“推进中”，说明：区里数据有误，需复核" in page
    # the proposal's audit log has it too
    with app.app_context():
        pid = db.session.get(Commitment, cert.id).proposal_id
    assert "状态由“未开始”改为“已完成”" in browser.get(f"/proposals/{pid}").get_data(as_text=True)


def test_overdue_follows_from_the_due_date(app, browser, replied):
    _confirm_all(app, replied)
    rooms = _by_start(_candidates(app, replied), "力争")
    assert _get(app, rooms.id).status == "open"  # nobody set it overdue
    browser.login("clerk")
    page = browser.get(f"/commitments/{rooms.id}").get_data(as_text=True)
    assert "已逾期" in page and "逾期15天" in page
    proposal_page = browser.get(f"/proposals/{_proposal_of(app, replied)}").get_data(as_text=True)
    assert "心理辅导室" in proposal_page and "cstatus-overdue" in proposal_page
    listing = browser.get("/commitments?status=overdue").get_data(as_text=True)
    assert "心理辅导室" in listing and "持C证率" not in listing
    listing = browser.get("/commitments?status=open").get_data(as_text=True)
    assert "持C证率" in listing and "心理辅导室" not in listing
    # done in time: no longer overdue
    browser.post(
        f"/commitments/{rooms.id}/status",
        {"status-status": "done", "status-done_on": "2026-05-30"},
    )
    assert "心理辅导室" not in browser.get("/commitments?overdue=y").get_data(as_text=True)


def test_a_b_grade_result_is_reported_back_to_the_deputy(app, browser, replied):
    _confirm_all(app, replied)
    cert = _by_start(_candidates(app, replied), "各区推进")
    browser.login("clerk")
    # not finished yet: nothing to report
    response = browser.post(
        f"/commitments/{cert.id}/report",
        {"report-reported_on": "2026-06-14", "report-channel": "电话", "report-note": "已完成"},
    )
    assert "完成或确认无法落实后" in response.get_data(as_text=True)
    browser.post(
        f"/commitments/{cert.id}/status",
        {"status-status": "dropped", "status-reason": "省里调整了C证培训计划"},
    )
    page = browser.get(f"/commitments/{cert.id}").get_data(as_text=True)
    assert "须向曾志伟代表反馈结果" in page
    assert "待向代表反馈" in browser.get("/commitments?report=y").get_data(as_text=True)
    response = browser.post(
        f"/commitments/{cert.id}/report",
        {
            "report-reported_on": "2026-06-14",
            "report-channel": "电话",
            "report-note": "省里调整了培训计划，已向代表说明，代表表示理解。",
        },
    )
    assert response.status_code == 302
    c = _get(app, cert.id)
    assert c.reported_back_on == date(2026, 6, 14)
    with app.app_context():
        contact = db.session.execute(
            db.select(ContactLog).where(ContactLog.phase == "after")
        ).scalar_one()
        assert contact.channel == "电话" and "代表表示理解" in contact.summary
    assert "须向曾志伟代表反馈结果" not in browser.get(f"/commitments/{cert.id}").get_data(
        as_text=True
    )
    assert "持C证率" not in browser.get("/commitments?report=y").get_data(as_text=True)


def test_changing_a_confirmed_due_date_needs_a_reason(app, browser, replied):
    _confirm_all(app, replied)
    cert = _by_start(_candidates(app, replied), "各区推进")
    browser.login("clerk")
    data = {
        "edit-text": cert.text,
        "edit-due_on": "2027-06-30",
        "edit-target": "80%",
        "edit-unit": _unit_id(app, "广州市教育局"),
    }
    response = browser.post(f"/commitments/{cert.id}/edit", data)
    assert "修改已确认承诺的期限须说明理由" in response.get_data(as_text=True)
    assert _get(app, cert.id).due_on == date(2026, 12, 31)
    data["edit-reason"] = "经市政府同意延至明年上半年"
    assert browser.post(f"/commitments/{cert.id}/edit", data).status_code == 302
    assert _get(app, cert.id).due_on == date(2027, 6, 30)
    page = browser.get(f"/commitments/{cert.id}").get_data(as_text=True)
    assert "期限2026-12-31→2027-06-30" in page and "经市政府同意延至明年上半年" in page


# -- the list and its exports -----------------------------------------------------------------


def test_the_list_scopes_and_filters(app, browser, replied, people):
    _confirm_all(app, replied, skip="逐步")
    browser.login("clerk-civil")
    assert "持C证率" not in browser.get("/commitments").get_data(as_text=True)
    browser.login("duban")
    page = browser.get("/commitments").get_data(as_text=True)
    assert "持C证率" in page and "心理辅导室" in page
    assert "持C证率" not in browser.get(
        f"/commitments?unit={_unit_id(app, '广州市民政局')}"
    ).get_data(as_text=True)
    window = browser.get("/commitments?due_from=2026-12-01&due_to=2026-12-31").get_data(
        as_text=True
    )
    assert "持C证率" in window and "心理辅导室" not in window
    assert "持C证率" in browser.get("/commitments?grade=B").get_data(as_text=True)
    assert "持C证率" not in browser.get("/commitments?grade=A").get_data(as_text=True)
    with app.app_context():
        session_id = db.session.get(Proposal, _proposal_of(app, replied)).session_id
    assert "持C证率" in browser.get(f"/commitments?session={session_id}").get_data(as_text=True)
    assert "持C证率" in browser.get("/commitments?q=C证").get_data(as_text=True)
    # LIKE's wildcards in the words are plain characters: "_" matched every commitment
    assert "持C证率" not in browser.get("/commitments?q=_").get_data(as_text=True)
    assert "持C证率" not in browser.get("/commitments?q=C_率").get_data(as_text=True)
    assert "持C证率" in browser.get("/commitments?q=80%25").get_data(as_text=True)
    # candidates are not in the default list, but have their own status filter
    assert "心理健康档案" not in page
    assert "心理健康档案" in browser.get("/commitments?status=candidate").get_data(as_text=True)
    response = browser.get("/commitments?due_from=2026-13-01")
    assert response.status_code == 400 and "Not a valid date value" not in response.get_data(
        as_text=True
    )


def _proposal_of(app, letter_id) -> int:
    with app.app_context():
        return db.session.get(ReplyLetter, letter_id).proposal_id


def test_exports_apply_the_filters(app, browser, replied):
    _confirm_all(app, replied)
    browser.login("supervisor")
    response = browser.get("/commitments/export.xlsx?status=overdue")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.values)
    assert rows[0][:5] == ("承诺事项", "量化目标", "承诺期限", "状态", "责任单位")
    assert len(rows) == 2 and "心理辅导室" in rows[1][0]
    assert rows[1][3] == "已逾期" and rows[1][4] == "广州市教育局"
    assert rows[1][9] == "穗教案〔2026〕7号"
    response = browser.get("/commitments/export.csv")
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff承诺事项,")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(lines) == 4 and any("80%" in line for line in lines)
    assert browser.get("/commitments/export.pdf").status_code == 404
    browser.login("clerk-civil")
    lines = browser.get("/commitments/export.csv").data.decode("utf-8").strip().splitlines()
    assert len(lines) == 1  # the heading only


def test_the_export_streams_its_rows_a_batch_at_a_time(app, browser, replied, monkeypatch):
    from tracker.commitments import views
    from tracker.services import tabular

    _confirm_all(app, replied)
    monkeypatch.setattr(views, "EXPORT_BATCH", 1, raising=False)
    monkeypatch.setattr(tabular, "CHUNK_ROWS", 1, raising=False)
    browser.login("clerk")
    whole = browser.get("/commitments/export.csv").data
    response = browser.get("/commitments/export.csv", buffered=False)
    pieces = list(response.response)
    response.close()
    assert pieces[0].decode("utf-8-sig").startswith("承诺事项,") and len(pieces) == 4
    assert b"".join(pieces) == whole and C_CERT in whole.decode("utf-8")


def test_an_anonymous_visitor_is_sent_to_login(browser, replied):
    assert browser.get("/commitments").status_code == 302
    assert browser.get("/commitments/export.xlsx").status_code == 302


def test_my_todo_lists_candidates_due_commitments_and_reports_owed(app, browser, replied):
    browser.login("clerk")
    page = browser.get("/todo").get_data(as_text=True)
    assert "穗教案〔2026〕7号" in page and "3条待确认" in page
    _confirm_all(app, replied)
    rooms = _by_start(_candidates(app, replied), "力争")
    page = browser.get("/todo").get_data(as_text=True)
    assert "待确认" not in page.split('id="commitments"')[1]
    assert "心理辅导室" in page and "逾期15天" in page
    browser.post(
        f"/commitments/{rooms.id}/status",
        {"status-status": "done", "status-done_on": "2026-06-01"},
    )
    page = browser.get("/todo").get_data(as_text=True)
    assert "已完成，待向代表反馈" in page and "逾期15天" not in page
    browser.login("clerk-civil")
    assert "心理辅导室" not in browser.get("/todo").get_data(as_text=True)


def _finished(app, letter_id: int, count: int) -> int:
    """`count` finished commitments of the letter's B reply, not reported back yet (an
    archive's); returns the letter's unit."""
    with app.app_context():
        letter = db.session.get(ReplyLetter, letter_id)
        for n in range(count):
            db.session.add(
                Commitment(
                    letter_id=letter.id,
                    proposal_id=letter.proposal_id,
                    unit_id=letter.unit_id,
                    text=f"第{n + 1:02d}项已完成的承诺",
                    status="done",
                    done_on=date(2026, 1, 1) + timedelta(days=n),
                )
            )
        db.session.commit()
        return letter.unit_id


def test_my_todo_lists_the_first_reports_owed_and_counts_all_of_them(app, browser, replied):
    # an archive's finished promises of B replies: 我的待办 lists the first twenty, counts
    # all 23 and links to the rest (listing thousands made the page take seconds)
    _finished(app, replied, 23)
    browser.login("clerk")
    page = browser.get("/todo").get_data(as_text=True)
    section = page.split('id="commitments"')[1]
    assert '<span class="count">23</span>' in section
    assert section.count("已完成，待向代表反馈") == 20
    assert "第20项已完成的承诺" in section and "第21项已完成的承诺" not in section
    assert "另有3项已完成或无法落实的承诺待向代表反馈" in section
    listed = browser.get("/commitments?report=y").get_data(as_text=True)
    assert "第23项已完成的承诺" in listed


def test_beyond_the_counted_limit_my_todo_says_more_than(app, browser, replied, monkeypatch):
    # a unit's imported archive owes 20,000 reports: 我的待办 counts up to COUNTED_BEYOND
    # past the ones it lists and says "more than" beyond (counting them all cost the page)
    unit_id = _finished(app, replied, 6)
    monkeypatch.setattr("tracker.main.views.COMMITMENTS_SHOWN", 1)
    monkeypatch.setattr("tracker.services.todo.COUNTED_BEYOND", 2)
    browser.login("clerk")
    section = browser.get("/todo").get_data(as_text=True).split('id="commitments"')[1]
    # 6 owed, 1 listed: the 5 others are more than 2
    assert section.count("已完成，待向代表反馈") == 1
    assert '<span class="count">2多</span>' in section
    assert "另有2多项已完成或无法落实的承诺待向代表反馈" in section
    monkeypatch.setattr("tracker.services.todo.COUNTED_BEYOND", 5)
    section = browser.get("/todo").get_data(as_text=True).split('id="commitments"')[1]
    assert '<span class="count">5多</span>' in section and "另有5项已完成" in section
    monkeypatch.setattr("tracker.services.todo.COUNTED_BEYOND", 6)
    section = browser.get("/todo").get_data(as_text=True).split('id="commitments"')[1]
    assert '<span class="count">6</span>' in section and "另有5项已完成" in section
    with app.app_context():  # the count stops where it is told to; a digest counts all
        assert commitment_service.count_reports_owed(unit_id, most=3) == 3
        assert commitment_service.count_reports_owed(unit_id) == 6
        # dropped ones as well (counted a status at a time): the bound holds over both
        finished = db.select(Commitment).where(Commitment.status == "done").limit(2)
        for c in db.session.execute(finished).scalars():
            c.status, c.done_on = "dropped", None
        db.session.commit()
        counted = [commitment_service.count_reports_owed(unit_id, most=n) for n in (1, 2, 5, 7)]
        assert counted == [1, 2, 5, 6]
        assert commitment_service.count_reports_owed(unit_id) == 6


def test_my_todo_counts_every_letter_with_candidates_and_lists_the_newest(
    app, browser, make_proposal
):
    # ten replies with promises waiting: the newest eight listed, the other two counted
    for n in range(10):
        pid = make_proposal(f"2026300{n}", sign=True)
        with app.app_context():
            lead = next(a for a in db.session.get(Proposal, pid).assignments if a.role == "lead")
            svc.record_reply(
                _user("clerk"),
                lead,
                title=f"第2026300{n}号建议答复的函",
                classification="B",
                doc_number=f"穗教案〔2026〕{100 + n}号",
                letter_on=date(2026, 5, 1) + timedelta(days=n),
                issued_on=date(2026, 5, 20),
                disclosure="主动公开",
                body=BODY,
                today=current.today(),
            )
            db.session.commit()
    browser.login("clerk")
    section = browser.get("/todo").get_data(as_text=True).split('id="commitments"')[1]
    assert "穗教案〔2026〕109号" in section and "穗教案〔2026〕102号" in section
    assert "穗教案〔2026〕101号" not in section and "穗教案〔2026〕100号" not in section
    assert "另有2份答复函的候选承诺待确认" in section
    # a letter without a date (an import whose date was not read) comes after the dated
    # ones, however many are asked for
    with app.app_context():
        newest = db.session.execute(
            db.select(ReplyLetter).filter_by(doc_number="穗教案〔2026〕109号")
        ).scalar_one()
        newest.letter_on = None
        db.session.commit()
        unit_id = newest.unit_id
        dated = [f"穗教案〔2026〕{100 + n}号" for n in range(8, -1, -1)]
        for limit, want in ((None, [*dated, "穗教案〔2026〕109号"]), (9, dated), (3, dated[:3])):
            found = commitment_service.letters_to_confirm(unit_id, limit=limit)
            assert [letter.doc_number for letter, _ in found] == want, limit
        assert commitment_service.count_letters_to_confirm(unit_id) == 10
        assert commitment_service.count_letters_to_confirm(unit_id, most=4) == 4
    section = browser.get("/todo").get_data(as_text=True).split('id="commitments"')[1]
    assert "穗教案〔2026〕101号" in section and "穗教案〔2026〕109号" not in section


# -- ownership, hand-over and what other units see --------------------------------------------


def test_the_candidates_page_edit_and_confirm_form_works_as_rendered(app, browser, replied):
    cert = _by_start(_candidates(app, replied), "各区推进")
    browser.login("clerk")
    page = browser.get(f"/letters/{replied}/commitments").get_data(as_text=True)
    assert f'name="c{cert.id}-text"' in page and f'name="c{cert.id}-csrf_token"' in page
    token = browser.token()
    response = browser.post(
        f"/commitments/{cert.id}/confirm",
        {
            f"c{cert.id}-csrf_token": token,
            f"c{cert.id}-text": C_CERT,
            f"c{cert.id}-due_on": "2026-12-31",
            f"c{cert.id}-target": "80%",
            f"c{cert.id}-unit": _unit_id(app, "广州市教育局"),
        },
    )
    assert response.status_code == 302  # back to the letter's list, for the next one
    assert response.location.endswith(f"/letters/{replied}/commitments")
    assert (_get(app, cert.id).status, _get(app, cert.id).text) == ("open", C_CERT)


def test_owners_are_the_proposals_units_and_a_hand_over_needs_a_reason(
    app, browser, replied, people
):
    found = _candidates(app, replied)
    cert, rooms = _by_start(found, "各区推进"), _by_start(found, "力争")
    browser.login("clerk")
    civil = _unit_id(app, "广州市民政局")  # not a handling unit of this proposal
    response = browser.post(
        f"/commitments/{cert.id}/confirm",
        {"confirm-text": C_CERT, "confirm-unit": civil},
    )
    assert response.status_code == 400
    assert "不是有效的选择" in response.get_data(as_text=True)  # not offered, not accepted
    assert _get(app, cert.id).status == "candidate"
    with app.app_context():
        from tracker.services import commitments
        from tracker.services.errors import DomainError

        with pytest.raises(DomainError, match="责任单位须是答复单位或该件的承办单位"):
            commitments.confirm(
                _user("clerk"), db.session.get(Commitment, cert.id), text=C_CERT, unit_id=civil
            )
    # a candidate's owner is chosen when confirming, not by editing it
    response = browser.post(
        f"/commitments/{rooms.id}/edit",
        {"edit-text": rooms.text, "edit-unit": _unit_id(app, "广州市卫生健康委员会")},
    )
    assert "候选承诺的责任单位在确认时选择" in response.get_data(as_text=True)
    # a confirmed commitment moves to the co-handling unit only with a reason
    _confirm_all(app, replied)
    health = _unit_id(app, "广州市卫生健康委员会")
    data = {"edit-text": rooms.text, "edit-due_on": "2026-05-31", "edit-target": "100%"}
    response = browser.post(f"/commitments/{rooms.id}/edit", data | {"edit-unit": health})
    assert "更换责任单位须说明理由" in response.get_data(as_text=True)
    response = browser.post(
        f"/commitments/{rooms.id}/edit",
        data | {"edit-unit": health, "edit-reason": "心理辅导室建设由卫健委牵头"},
    )
    # the clerk no longer owns it: back to the letter's commitments, not to a 403
    assert response.status_code == 302
    assert response.location.endswith(f"/letters/{replied}/commitments")
    with app.app_context():
        assert db.session.get(Commitment, rooms.id).unit.name == "广州市卫生健康委员会"


def test_a_restricted_letter_stays_hidden_from_the_unit_a_commitment_went_to(app, browser, replied):
    with app.app_context():
        db.session.get(ReplyLetter, replied).disclosure = "不予公开"
        db.session.commit()
    cert = _by_start(_candidates(app, replied), "各区推进")
    browser.login("clerk")
    browser.post(
        f"/commitments/{cert.id}/confirm",
        {
            "confirm-text": cert.text,
            "confirm-unit": _unit_id(app, "广州市卫生健康委员会"),
        },
    )
    browser.login("clerk-health")
    assert browser.get(f"/letters/{replied}").status_code == 403
    page = browser.get(f"/commitments/{cert.id}").get_data(as_text=True)
    assert cert.text in page  # the promise itself
    assert "我局建立了学生心理危机防控工作联席会议制度" not in page  # not the letter
    assert "该答复函不对本单位公开" in page
    assert f"/letters/{replied}/commitments" not in page


def test_malformed_ids_in_the_query_are_ignored_not_a_crash(app, browser, replied):
    browser.login("clerk")
    for url in ("/commitments?unit=%C2%B2", "/commitments?session=%C2%B2"):
        assert browser.get(url).status_code == 200, url
    assert browser.get("/commitments/export.csv?unit=%C2%B2").status_code == 200
    assert browser.get("/proposals/export.csv?unit=%C2%B2").status_code == 200
    response = browser.post(f"/letters/{replied}/commitments", {"ids": "²", "action": "confirm"})
    assert response.status_code == 400 and "请先勾选候选承诺" in response.get_data(as_text=True)


def test_other_units_see_no_commitment_links_on_a_letter(app, browser, replied, people):
    browser.login("clerk-civil")
    page = browser.get(f"/letters/{replied}").get_data(as_text=True)
    assert f"/letters/{replied}/commitments" not in page
    browser.login("clerk")
    page = browser.get(f"/letters/{replied}").get_data(as_text=True)
    assert f"/letters/{replied}/commitments" in page


@pytest.mark.parametrize("sentence", ["class", "h1", "p", "amp", "sign"])
def test_the_source_mark_never_falls_inside_a_tag(app, sentence):
    """A commitment whose text also spells a tag or attribute name is marked in the text,
    or not at all — never inside `<p class="h1">`."""
    letter = ReplyLetter(
        title="答复函",
        body="一、工作情况\n\n我们将在R&D方面加强投入。\n\n下一步，我们将推进class建设。",
        source_file="imported.txt",
    )
    with app.test_request_context():
        html, found = source_in_letter(letter, sentence)
    html = str(html)
    assert "<p <mark" not in html and '="<mark' not in html and "&<mark" not in html
    if found:
        at = html.index('<mark id="source">')
        assert html.rfind("<", 0, at) < html.rfind(">", 0, at)  # the mark starts in text
    assert found == (sentence == "class")
    if found:
        assert f'推进<mark id="source">{sentence}</mark>建设' in html


def test_my_todo_lists_the_most_urgent_commitments_and_links_to_the_rest(app, browser, replied):
    """A unit with an archive's worth of overdue promises sees the twenty most overdue on
    我的待办, the count of all of them, and links to the full lists."""
    _confirm_all(app, replied)
    with app.app_context():
        first = db.session.execute(
            db.select(Commitment).where(Commitment.letter_id == replied).limit(1)
        ).scalar_one()
        for n in range(30):
            db.session.add(
                Commitment(
                    letter_id=replied,
                    proposal_id=first.proposal_id,
                    unit_id=first.unit_id,
                    text=f"第{n:02d}项：完成校园安全设施改造",
                    due_on=date(2026, 1, 1) + timedelta(days=n),
                    status="open",
                )
            )
        db.session.commit()
        due = db.session.execute(
            db.select(db.func.count(Commitment.id)).where(
                Commitment.unit_id == first.unit_id,
                Commitment.status.in_(("open", "in_progress")),
                Commitment.due_on <= date(2026, 6, 22),
            )
        ).scalar_one()
    browser.login("clerk")
    page = browser.get("/todo").get_data(as_text=True)
    section = page.split('id="commitments"')[1].split("</section>")[0]
    assert f'<span class="count">{due}</span>' in section
    assert section.count('href="/commitments/') == 20
    assert "第00项" in section and "第19项" in section and "第20项" not in section
    assert f"另有{due - 20}项" in section
    assert "/commitments?status=overdue" in section
    assert "due_from=2026-06-15" in section and "due_to=2026-06-22" in section
