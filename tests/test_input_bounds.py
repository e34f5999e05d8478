"""Input no office could mean is answered, never a server error: ids and page numbers out of
range, dates outside a plausible window, document numbers with an impossible year or serial,
deadlines from far dates, evidence files with long names or that cannot be saved."""

from __future__ import annotations

import errno
import io
import shutil
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from unittest.mock import Mock
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from test_commitments import _by_start, _candidates, _confirm_all, replied  # noqa: F401
from test_drafting import _filled, _form, _letter, _start, proposal  # noqa: F401
from test_form_rules import proposal_form
from test_route_permissions import world  # noqa: F401

from tracker import current
from tracker.extensions import db
from tracker.models import (
    Assignment,
    CommitmentUpdate,
    ContactLog,
    Job,
    Proposal,
    ReplyLetter,
    Unit,
    User,
)
from tracker.services import proposals
from tracker.services.errors import DomainError


def _page(response) -> str:
    return response.get_data(as_text=True)


def _unit_id(app, name: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(Unit.id).filter_by(name=name)).scalar_one()


# -- dates ------------------------------------------------------------------------------


def test_assigning_on_a_far_date_is_refused_with_a_message(app, browser, make_proposal):
    pid = make_proposal("20262002", lead=None)
    browser.login("duban")
    edu = _unit_id(app, "广州市教育局")
    for day, message in (
        ("9999-12-31", "交办日期不能晚于今天（2026年6月15日）。"),
        ("0001-01-01", "交办日期不能早于1990年1月1日。"),
    ):
        response = browser.post(
            f"/proposals/{pid}/assign",
            {"assign-mode": "lead", "assign-lead_units": str(edu), "assign-assigned_on": day},
        )
        assert response.status_code == 400 and message in _page(response)
    with app.app_context():
        assert db.session.execute(db.select(Assignment)).first() is None
    response = browser.post(
        f"/proposals/{pid}/assign",
        {"assign-mode": "lead", "assign-lead_units": str(edu), "assign-assigned_on": "2026-06-15"},
    )
    assert response.status_code == 302


def test_a_far_assignment_date_from_outside_a_form_is_a_message_not_a_crash(app, make_proposal):
    """A script or import calling the service with 9999-12-31 gets the reason in Chinese
    (the deadlines would fall past the last day there is), and nothing is assigned."""
    pid = make_proposal("20262003", lead=None)
    with app.app_context():
        duban = db.session.execute(db.select(User).filter_by(username="duban")).scalar_one()
        edu = db.session.execute(db.select(Unit).filter_by(name="广州市教育局")).scalar_one()
        with pytest.raises(DomainError, match="超出可计算的日期范围"):
            proposals.assign_units(
                duban,
                db.session.get(Proposal, pid),
                lead_units=[edu],
                assigned_on=date(9999, 12, 31),
                policy=current.deadline_policy(),
            )
        db.session.rollback()
        assert db.session.execute(db.select(Assignment)).first() is None


def test_a_proposal_submitted_on_a_far_date_is_refused(app, browser, people):
    browser.login("liaison")
    response = browser.post("/proposals/new", proposal_form(submitted_on="9999-12-31"))
    assert response.status_code == 400
    assert "提出日期不能晚于今天（2026年6月15日）。" in _page(response)
    with app.app_context():
        assert db.session.execute(db.select(Proposal)).first() is None


def test_a_contact_on_the_first_day_of_year_one_is_refused(app, browser, make_proposal):
    pid = make_proposal("20262003", sign=True)
    browser.login("clerk")
    response = browser.post(
        f"/proposals/{pid}/contacts",
        {
            "contact-contacted_on": "0001-01-01",
            "contact-channel": "电话",
            "contact-phase": "during",
            "contact-summary": "电话沟通",
        },
    )
    assert response.status_code == 400
    assert "沟通日期不能早于1990年1月1日。" in _page(response)
    with app.app_context():
        assert db.session.execute(db.select(ContactLog)).first() is None


def test_progress_and_done_dates_of_year_one_are_refused(app, browser, replied):  # noqa: F811
    _confirm_all(app, replied)
    cert = _by_start(_candidates(app, replied), "各区推进")
    browser.login("clerk")
    response = browser.post(
        f"/commitments/{cert.id}/updates",
        {"update-noted_on": "0001-01-01", "update-note": "已完成第一期培训"},
    )
    assert response.status_code == 400 and "日期不能早于1990年1月1日。" in _page(response)
    response = browser.post(
        f"/commitments/{cert.id}/status", {"status-status": "done", "status-done_on": "0001-01-01"}
    )
    assert response.status_code == 400 and "完成日期不能早于1990年1月1日。" in _page(response)
    with app.app_context():
        assert db.session.execute(db.select(CommitmentUpdate)).first() is None
    assert _candidates(app, replied)[cert.text].status == "open"


def test_a_due_date_more_than_ten_years_ahead_is_refused(app, browser, replied):  # noqa: F811
    _confirm_all(app, replied)
    cert = _by_start(_candidates(app, replied), "各区推进")
    browser.login("clerk")
    edu = _unit_id(app, "广州市教育局")
    data = {"edit-text": cert.text, "edit-unit": str(edu), "edit-reason": "调整计划"}
    response = browser.post(f"/commitments/{cert.id}/edit", {**data, "edit-due_on": "2036-06-16"})
    assert response.status_code == 400
    assert "承诺期限不能晚于2036年6月15日（10年以后的日期不能填写）。" in _page(response)
    assert _candidates(app, replied)[cert.text].due_on == date(2026, 12, 31)
    response = browser.post(f"/commitments/{cert.id}/edit", {**data, "edit-due_on": "2036-06-15"})
    assert response.status_code == 302
    assert _candidates(app, replied)[cert.text].due_on == date(2036, 6, 15)


def test_a_letter_dated_9999_is_refused_in_the_editor(app, browser, proposal):  # noqa: F811
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    letter = _letter(app, letter_id)
    response = browser.post(
        f"/letters/{letter_id}/edit",
        _form(letter, body=_filled(letter.body), letter_on="9999-12-31"),
    )
    assert response.status_code == 400
    assert "成文日期不能晚于今天（2026年6月15日）。" in _page(response)
    assert _letter(app, letter_id).letter_on is None


# -- ids and page numbers -----------------------------------------------------------------


def test_ids_past_a_64_bit_integer_are_not_found(app, browser, make_proposal):
    pid = make_proposal("20262001")
    for url in (
        "/public/letters/99999999999999999999",
        "/public/letters/9223372036854775808/export/html",
    ):
        assert browser.client.get(url).status_code == 404, url  # anonymously
    browser.login("liaison")
    assert browser.get(f"/proposals/{pid}").status_code == 200
    for url in (
        "/proposals/9223372036854775808",
        "/proposals/18446744073709551616",
        "/proposals/9223372036854775807",
        "/proposals/2147483648",  # past the id columns (INTEGER, 32 bits on PostgreSQL)
        "/commitments/" + "9" * 5000,
        "/letters/99999999999999999999/export/html",
        "/proposals/-1",
    ):
        assert browser.get(url).status_code == 404, url[:60]


def test_filters_by_ids_past_the_id_columns_find_nothing(app, browser, make_proposal):
    """An id in a query string that no id column can hold filters nothing (PostgreSQL
    refused it with a server error: its INTEGER has 32 bits)."""
    make_proposal("20262001")
    browser.login("duban")
    # the proposal list checks its filters: no such unit, and it says so
    assert browser.get("/proposals?unit=2147483648").status_code == 400
    assert browser.get("/proposals?unit=2147483647").status_code == 400
    # the commitment list reads the ids as given: none such
    response = browser.get("/commitments?unit=2147483648&session=9999999999")
    assert response.status_code == 200
    assert "没有" in response.get_data(as_text=True)


def test_a_commitment_grade_filter_that_is_no_grade_is_refused(app, browser, people):
    """The grade filter takes one of the classification codes: a NUL in it (which
    PostgreSQL refuses in any text) never reaches the query."""
    browser.login("duban")
    response = browser.get("/commitments?grade=A%00B")
    assert response.status_code == 400
    assert browser.get("/commitments?grade=A").status_code == 200


@pytest.mark.parametrize(
    "versions", ["a=9223372036854775808&b=1", "a=1&b=" + "9" * 30, "a=-1&b=1", "a=1&b=²"]
)
def test_versions_to_compare_past_a_64_bit_integer_are_not_found(
    app,
    browser,
    proposal,  # noqa: F811
    versions,
):
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    assert browser.get(f"/letters/{letter_id}/compare?a=1&b=1").status_code == 200
    assert browser.get(f"/letters/{letter_id}/compare?{versions}").status_code == 404


@pytest.mark.parametrize("page", ["9223372036854775808", "99", "9" * 5000])
def test_a_page_past_the_end_of_a_list_is_its_last_page(app, browser, make_proposal, page):
    for n in range(27):  # two pages of 25
        make_proposal(f"3{n:03d}", title=f"关于校园安全的建议{n:02d}", lead=None)
    browser.login("liaison")
    shown = _page(browser.get(f"/proposals?page={page}"))
    assert '<span class="current">2</span>' in shown and "共 27 条" in shown
    assert "关于校园安全的建议00" in shown and "关于校园安全的建议26" not in shown


def test_a_search_page_past_the_end_is_its_last_page(app, browser, world):  # noqa: F811
    browser.login("liaison")
    shown = _page(browser.get("/search?q=心理&page=9223372036854775808"))
    assert "答复函119" in shown and "答复函120" in shown
    shown = _page(browser.get("/public/?q=心理&page=99"))
    assert "答复函119" in shown and "答复函120" not in shown  # 不予公开: not public


@pytest.mark.parametrize("page", ["-3", "0", "abc", "²"])
def test_a_page_that_is_not_a_number_is_the_first(app, browser, make_proposal, page):
    make_proposal("3001", title="关于校园安全的建议", lead=None)
    browser.login("liaison")
    response = browser.get(f"/proposals?page={page}")
    assert response.status_code == 200 and "关于校园安全的建议" in _page(response)


# -- document numbers ---------------------------------------------------------------------


RECORDED = {
    "reply-title": "广州市教育局关于市十六届人大一次会议第20262301号建议答复的函",
    "reply-classification": "A",
    "reply-letter_on": "2026-05-07",
    "reply-disclosure": "主动公开",
}


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("穗教案〔9999〕99999999999999999999号", "文号年份应为成文年份2026。"),
        ("穗教案〔2025〕12号", "文号年份应为成文年份2026。"),
        ("穗教案〔2026〕99999999999999999999号", "文号序号最多6位数字"),
    ],
)
def test_a_recorded_letter_number_must_fit_the_letter(app, browser, make_proposal, number, message):
    pid = make_proposal("20262301", sign=True)
    with app.app_context():
        lead = db.session.execute(
            db.select(Assignment.id).filter_by(proposal_id=pid, role="lead")
        ).scalar_one()
    browser.login("clerk")
    response = browser.post(f"/assignments/{lead}/reply", {**RECORDED, "reply-doc_number": number})
    assert response.status_code == 400 and message in _page(response)
    with app.app_context():
        assert db.session.execute(db.select(ReplyLetter)).first() is None


@pytest.mark.parametrize("number", ["穗卫函〔2026〕30-17号", "穗教案[2026]119号", ""])
def test_a_recorded_letter_keeps_a_number_as_its_office_prints_it(
    app, browser, make_proposal, number
):
    pid = make_proposal("20262302", sign=True)
    with app.app_context():
        lead = db.session.execute(
            db.select(Assignment.id).filter_by(proposal_id=pid, role="lead")
        ).scalar_one()
    browser.login("clerk")
    response = browser.post(f"/assignments/{lead}/reply", {**RECORDED, "reply-doc_number": number})
    assert response.status_code == 302
    with app.app_context():
        letter = db.session.execute(db.select(ReplyLetter)).scalar_one()
        assert letter.doc_number == (number or None)


def test_an_undated_draft_takes_only_a_number_of_this_year(app, browser, proposal):  # noqa: F811
    browser.login("clerk")
    letter_id = _start(browser, proposal)
    letter = _letter(app, letter_id)
    response = browser.post(
        f"/letters/{letter_id}/edit",
        _form(letter, body=_filled(letter.body), letter_on="", doc_number="穗教案〔9999〕1号"),
    )
    assert response.status_code == 400
    assert "文号年份应为成文年份2026。" in _page(response)
    assert _letter(app, letter_id).doc_number is None


# -- file names and failed uploads -------------------------------------------------------

LONG_NAME = "关于进一步加强广州市中小学生心理健康管理工作的建议办理情况" * 4  # 116 characters


def _evidence_form(name: str, data: bytes = b"%PDF-1.4 report") -> dict:
    return {
        "update-noted_on": "2026-06-10",
        "update-note": "全市已有6512名专任教师取得C证。",
        "update-evidence": (io.BytesIO(data), name),
    }


def _left_in(folder: Path) -> list[str]:
    """What uploads left under UPLOAD_DIR's areas (commitments/, imports/): files and
    folders, empty ones too."""
    found = (p.relative_to(folder) for p in folder.rglob("*"))
    return sorted(str(p) for p in found if len(p.parts) > 1)


@pytest.fixture
def commitment(app, replied):  # noqa: F811
    _confirm_all(app, replied)
    return _by_start(_candidates(app, replied), "各区推进").id


def test_an_evidence_file_with_a_long_chinese_name_is_kept_cut_by_bytes(app, browser, commitment):
    browser.login("clerk")
    response = browser.post(
        f"/commitments/{commitment}/updates",
        _evidence_form(LONG_NAME + ".pdf"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        update = db.session.execute(db.select(CommitmentUpdate)).scalar_one()
        update_id = update.id
    [stored] = (Path(app.config["UPLOAD_DIR"]) / "commitments").glob("*/*")
    assert stored.name.endswith(".pdf") and LONG_NAME.startswith(stored.name[:-4])
    assert 250 < len(stored.name.encode("utf-8")) <= 255
    assert stored.name in _page(browser.get(f"/commitments/{commitment}"))
    download = browser.get(f"/commitment-updates/{update_id}/evidence")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 report"
    assert quote(stored.name) in download.headers["Content-Disposition"]
    download.close()


def _evidence_not_stored(app, browser, commitment) -> None:
    """Post a progress note with a file the server fails to store: the user is told, and
    neither the note nor any file or folder is left."""
    browser.login("clerk")
    response = browser.post(
        f"/commitments/{commitment}/updates",
        _evidence_form("通报.pdf"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "文件未能保存（服务器存储出错），请稍后再试或联系管理员。" in _page(response)
    assert _left_in(Path(app.config["UPLOAD_DIR"])) == []
    with app.app_context():
        assert db.session.execute(db.select(CommitmentUpdate)).first() is None


def test_evidence_that_cannot_be_written_leaves_nothing_behind(
    app, browser, commitment, monkeypatch
):
    def disk_full(source, target, *args):
        target.write(source.read(4))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", disk_full)
    _evidence_not_stored(app, browser, commitment)


def test_evidence_when_the_upload_folder_cannot_be_made_says_so(app, browser, commitment, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")
    app.config["UPLOAD_DIR"] = str(blocked / "uploads")  # below a file: no folder there
    _evidence_not_stored(app, browser, commitment)


@contextmanager
def _commit_fails(app):
    """Inside, the next commit of the web app's session fails as a database that went away
    would fail it."""

    def fail(session):
        event.remove(Session, "before_commit", fail)
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    event.listen(Session, "before_commit", fail)
    try:
        yield
    finally:
        if event.contains(Session, "before_commit", fail):
            event.remove(Session, "before_commit", fail)


def test_evidence_of_a_note_the_database_refused_leaves_nothing_behind(app, browser, commitment):
    browser.login("clerk")
    with _commit_fails(app):
        response = browser.post(
            f"/commitments/{commitment}/updates",
            _evidence_form("通报.pdf"),
            content_type="multipart/form-data",
        )
    assert response.status_code == 500
    assert _left_in(Path(app.config["UPLOAD_DIR"])) == []
    with app.app_context():
        assert db.session.execute(db.select(CommitmentUpdate)).first() is None


def test_an_import_the_database_refused_leaves_no_uploaded_files(app, browser, people):
    browser.login("liaison")
    browser.get("/imports")
    with _commit_fails(app):
        response = browser.post(
            "/imports",
            {"files": [(io.BytesIO(b"letter one"), "a.txt"), (io.BytesIO(b"two"), "b.txt")]},
            content_type="multipart/form-data",
        )
    assert response.status_code == 500
    assert _left_in(Path(app.config["UPLOAD_DIR"])) == []
    with app.app_context():
        assert db.session.execute(db.select(Job)).first() is None


def test_an_import_that_cannot_be_written_says_so_and_leaves_nothing(
    app, browser, people, monkeypatch
):
    monkeypatch.setattr(
        shutil, "copyfileobj", Mock(side_effect=OSError(errno.EDQUOT, "Disk quota exceeded"))
    )
    browser.login("liaison")
    browser.get("/imports")
    response = browser.post(
        "/imports",
        {"files": [(io.BytesIO(b"letter one"), "a.txt")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "文件未能保存（服务器存储出错），请稍后再试或联系管理员。" in _page(response)
    assert _left_in(Path(app.config["UPLOAD_DIR"])) == []
    with app.app_context():
        assert db.session.execute(db.select(Job)).first() is None


def test_a_letter_with_a_long_title_downloads_under_a_name_cut_by_bytes(app, browser, people):
    with app.app_context():
        letter = ReplyLetter(status="imported", title=LONG_NAME, body="心理健康教育工作")
        db.session.add(letter)
        db.session.commit()
        letter_id = letter.id
    browser.login("liaison")
    response = browser.get(f"/letters/{letter_id}/export/docx")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    name = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert name.endswith(".docx") and LONG_NAME.startswith(name[:-5])
    assert 250 < len(name.encode("utf-8")) <= 255
    response.close()


# -- list filters ------------------------------------------------------------------------


def test_a_list_filter_over_its_length_is_shown_and_not_applied(app, browser, make_proposal):
    make_proposal("3001", title="关于校园安全的建议", lead=None)
    make_proposal("3002", title="关于心理健康的建议", lead=None)
    browser.login("liaison")
    words = "心理" * 20_000  # 40,000 characters, 120,000 bytes: past SQLite's LIKE limit
    response = browser.get(f"/proposals?q={words}&kind=建议")
    shown = _page(response)
    assert response.status_code == 400  # as a form with an error
    assert '<div class="error">不能超过100个字（现有40000个）。</div>' in shown
    assert "关于校园安全的建议" in shown and "关于心理健康的建议" in shown
    assert words not in shown  # nor in the export links
    assert "/proposals/export.csv?kind=" in shown
    export = browser.get(f"/proposals/export.csv?q={words}")
    assert export.status_code == 200 and "关于校园安全的建议" in export.get_data(as_text=True)


def test_a_commitment_filter_over_its_length_is_shown_and_not_applied(
    app,
    browser,
    replied,  # noqa: F811
):
    _confirm_all(app, replied)
    browser.login("clerk")
    response = browser.get("/commitments?q=" + "培训" * 20_000)
    shown = _page(response)
    assert response.status_code == 400
    assert '<div class="error">不能超过100个字（现有40000个）。</div>' in shown
    assert "各区推进全体教职员工的心理健康知识培训" in shown
