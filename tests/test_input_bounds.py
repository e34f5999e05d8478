"""Input no office could mean is answered, never a server error: ids and page numbers out of
range, dates outside a plausible window, document numbers with an impossible year or serial,
deadlines from far dates, evidence files with long names or that cannot be saved."""

from __future__ import annotations

from datetime import date

import pytest
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
        "/proposals/9223372036854775807",  # the largest id there can be: none such
        "/commitments/" + "9" * 5000,
        "/letters/99999999999999999999/export/html",
        "/proposals/-1",
    ):
        assert browser.get(url).status_code == 404, url[:60]


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
