"""Double submits make one record (issue 10, point 6).

A form posted several times at once (threads against one database file, as gunicorn's
workers would) or again right after (a double click, a retry) leaves one record, and every
answer is the ordinary success: the user sees that one record, not an error. Posting the
same content again after the repeat window is a new record."""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import Browser

from tracker import current
from tracker.extensions import db
from tracker.models import (
    Assignment,
    AuditEvent,
    Commitment,
    CommitmentUpdate,
    ContactLog,
    ExtensionRequest,
    Feedback,
    LetterVersion,
    Proposal,
    ReplyLetter,
    User,
)
from tracker.services import proposals as svc
from tracker.services import repeats

CONTACT = {
    "contact-contacted_on": "2026-04-28",
    "contact-channel": "电话",
    "contact-phase": "during",
    "contact-participants": "曾志伟代表",
    "contact-summary": "电话沟通办理思路，代表同意先开展调研。",
}
BODY = (
    "曾志伟代表：\n\n您提出的建议收悉。现答复如下：\n\n二、下一步工作安排\n\n"
    "今年底全市中小学专任教师持C证率达到80%。"
)


def _count(app, model, **where) -> int:
    with app.app_context():
        return len(db.session.execute(db.select(model).filter_by(**where)).scalars().all())


def _events(app, proposal_id, action) -> list[str]:
    """The audit messages of `action` (on that proposal, or anywhere when None)."""
    query = db.select(AuditEvent.message).where(AuditEvent.action == action)
    if proposal_id is not None:
        query = query.where(AuditEvent.proposal_id == proposal_id)
    with app.app_context():
        return list(db.session.execute(query).scalars())


def _age(app, model) -> None:
    """Make every row of `model` older than the repeat window (instead of waiting)."""
    with app.app_context():
        for row in db.session.execute(db.select(model)).scalars():
            row.created_at -= repeats.REPEAT_WINDOW + timedelta(seconds=5)
        db.session.commit()


def post_at_once(app, username, url, data, times=5) -> list[int]:
    """`times` browsers of `username` post the same form at the same moment, each in its own
    thread with its own session and CSRF token. Returns the status codes."""
    browsers = []
    for _ in range(times):
        b = Browser(app.test_client())
        assert b.login(username).status_code == 302
        b.token()
        browsers.append(b)
    start = threading.Barrier(times)
    codes: list[int] = [0] * times

    def post(i):
        start.wait()
        payload = {
            k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in data.items()
        }
        codes[i] = browsers[i].post(url, payload).status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def _page(response) -> str:
    return response.get_data(as_text=True)


# -- contacts ------------------------------------------------------------------------------


def test_contact_form_posted_five_times_at_once_makes_one_contact(app, browser, make_proposal):
    pid = make_proposal("20262101", sign=True)
    codes = post_at_once(app, "clerk", f"/proposals/{pid}/contacts", CONTACT)
    assert codes == [302] * 5
    assert _count(app, ContactLog, proposal_id=pid) == 1
    assert len(_events(app, pid, "contact")) == 1
    browser.login("clerk")
    page = _page(browser.get(f"/proposals/{pid}"))
    assert page.count("电话沟通办理思路，代表同意先开展调研。") == 1


def test_contact_form_posted_again_shows_the_one_contact(app, browser, make_proposal):
    pid = make_proposal("20262102", sign=True)
    browser.login("clerk")
    url = f"/proposals/{pid}/contacts"
    assert browser.post(url, CONTACT).status_code == 302
    again = browser.post(url, CONTACT, follow_redirects=True)
    assert again.status_code == 200
    assert "已记录沟通情况" in _page(again)
    assert _page(again).count("电话沟通办理思路，代表同意先开展调研。") == 1
    assert _count(app, ContactLog, proposal_id=pid) == 1
    # different content is another contact
    other = {**CONTACT, "contact-summary": "代表补充了两所学校的情况。"}
    assert browser.post(url, other).status_code == 302
    assert _count(app, ContactLog, proposal_id=pid) == 2
    # the same content again later is a new contact (the repeat window has passed)
    _age(app, ContactLog)
    assert browser.post(url, CONTACT).status_code == 302
    assert _count(app, ContactLog, proposal_id=pid) == 3


def test_two_people_logging_the_same_contact_make_two_records(app, browser, make_proposal):
    """The rule is per user: a colleague's identical entry is not a double submit."""
    pid = make_proposal("20262103", sign=True)
    for name in ("clerk", "supervisor"):
        browser.login(name)
        assert browser.post(f"/proposals/{pid}/contacts", CONTACT).status_code == 302
    assert _count(app, ContactLog, proposal_id=pid) == 2


# -- commitments: progress notes, confirming, report-backs ---------------------------------


@pytest.fixture
def commitment(app, make_proposal):
    """A confirmed commitment of a B-grade reply of 广州市教育局; returns its id."""
    pid = make_proposal("20262174", sign=True)
    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        p = db.session.get(Proposal, pid)
        letter = svc.record_reply(
            clerk,
            p.assignments[0],
            title="广州市教育局关于市十六届人大一次会议第20262174号建议答复的函",
            classification="B",
            doc_number="穗教案〔2026〕7号",
            letter_on=date(2026, 5, 7),
            disclosure="主动公开",
            body=BODY,
            today=current.today(),
        )
        db.session.commit()
        c = db.session.execute(
            db.select(Commitment).where(Commitment.letter_id == letter.id)
        ).scalar_one()
        return c.id


def _confirm(app, commitment_id):
    from tracker.services import commitments

    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        commitments.confirm(clerk, db.session.get(Commitment, commitment_id), keep_inferred=True)
        db.session.commit()


def test_progress_note_posted_five_times_at_once_makes_one_note(app, browser, commitment):
    _confirm(app, commitment)
    data = {"update-noted_on": "2026-06-10", "update-note": "已完成第一期培训，持证率72%。"}
    codes = post_at_once(app, "clerk", f"/commitments/{commitment}/updates", data)
    assert codes == [302] * 5
    assert _count(app, CommitmentUpdate, commitment_id=commitment) == 1
    browser.login("clerk")
    page = _page(browser.get(f"/commitments/{commitment}"))
    assert page.count("已完成第一期培训，持证率72%。") == 1


def test_progress_note_with_a_file_posted_twice_keeps_one_note_and_one_file(
    app, browser, commitment
):
    _confirm(app, commitment)
    browser.login("clerk")
    url = f"/commitments/{commitment}/updates"

    def data():
        return {
            "update-noted_on": "2026-06-10",
            "update-note": "培训情况通报",
            "update-evidence": (io.BytesIO(b"%PDF-1.4 report"), "通报.pdf"),
        }

    assert browser.post(url, data()).status_code == 302
    again = browser.post(url, data(), follow_redirects=True)
    assert again.status_code == 200 and "已记录进展" in _page(again)
    assert _count(app, CommitmentUpdate, commitment_id=commitment) == 1
    stored = list((Path(app.config["UPLOAD_DIR"]) / "commitments").rglob("*.pdf"))
    assert len(stored) == 1
    # the same note with another file is another note
    other = {**data(), "update-evidence": (io.BytesIO(b"%PDF-1.4 photos"), "照片.pdf")}
    assert browser.post(url, other).status_code == 302
    assert _count(app, CommitmentUpdate, commitment_id=commitment) == 2


def test_confirming_a_candidate_twice_is_no_error(app, browser, commitment):
    browser.login("clerk")
    with app.app_context():
        c = db.session.get(Commitment, commitment)
        data = {
            "confirm-text": c.text,
            "confirm-due_on": c.due_on.isoformat(),
            "confirm-target": c.target or "",
            "confirm-unit": str(c.unit_id),
        }
    url = f"/commitments/{commitment}/confirm"
    assert browser.post(url, data).status_code == 302
    again = browser.post(url, data, follow_redirects=True)
    assert again.status_code == 200 and "已确认为承诺事项" in _page(again)
    assert len(_events(app, None, "commitment_confirm")) == 1


def test_report_back_posted_twice_makes_one_contact(app, browser, commitment):
    _confirm(app, commitment)
    browser.login("clerk")
    browser.post(
        f"/commitments/{commitment}/status",
        {"status-status": "done", "status-done_on": "2026-06-10"},
    )
    data = {
        "report-reported_on": "2026-06-14",
        "report-channel": "电话",
        "report-note": "已电话告知代表持证率达到80%。",
    }
    codes = post_at_once(app, "clerk", f"/commitments/{commitment}/report", data, times=3)
    assert codes == [302] * 3
    assert browser.post(f"/commitments/{commitment}/report", data).status_code == 302
    assert _count(app, ContactLog, phase="after") == 1
    assert len(_events(app, None, "commitment_report")) == 1


# -- the handling actions on the proposal page --------------------------------------------


def test_co_unit_opinion_posted_twice_is_sent_once(app, browser, make_proposal):
    pid = make_proposal("20262104")
    co = _count_assignments(app, pid)["co"]
    data = {"opinion-opinion_on": "2026-03-30", "opinion-text": "支持加强心理健康服务。"}
    codes = post_at_once(app, "clerk-health", f"/assignments/{co}/opinion", data, times=3)
    assert codes == [302] * 3
    assert _events(app, pid, "opinion") == ["广州市卫生健康委员会提交会办意见"]


def _count_assignments(app, pid) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            db.select(Assignment).where(Assignment.proposal_id == pid).order_by(Assignment.id)
        ).scalars()
        return {a.role: a.id for a in rows}


def _replied(app, make_proposal, number) -> int:
    pid = make_proposal(number, sign=True)
    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        svc.record_reply(
            clerk,
            db.session.get(Proposal, pid).assignments[0],
            title=f"广州市教育局关于第{number}号建议答复的函",
            classification="A",
            doc_number="",
            letter_on=date(2026, 5, 7),
            disclosure="主动公开",
            today=current.today(),
        )
        db.session.commit()
    return pid


def test_unsatisfied_rating_posted_at_once_opens_one_new_round(app, browser, make_proposal):
    pid = _replied(app, make_proposal, "20262105")
    data = {
        "rating-satisfaction": "不满意",
        "rating-rated_on": "2026-06-01",
        "rating-comment": "未说明具体措施",
    }
    codes = post_at_once(app, "liaison", f"/proposals/{pid}/rating", data, times=3)
    assert codes == [302] * 3
    assert _count(app, Feedback, proposal_id=pid) == 1
    with app.app_context():
        assert db.session.get(Proposal, pid).round == 2
    browser.login("liaison")
    again = browser.post(f"/proposals/{pid}/rating", data, follow_redirects=True)
    assert again.status_code == 200
    assert "进入第2轮重新办理" in _page(again)
    assert _count(app, Feedback, proposal_id=pid) == 1


def test_satisfied_rating_posted_twice_closes_once(app, browser, make_proposal):
    pid = _replied(app, make_proposal, "20262106")
    browser.login("liaison")
    data = {"rating-satisfaction": "满意", "rating-rated_on": "2026-06-01"}
    assert browser.post(f"/proposals/{pid}/rating", data).status_code == 302
    again = browser.post(f"/proposals/{pid}/rating", data, follow_redirects=True)
    assert again.status_code == 200 and "已登记评价，该件办结" in _page(again)
    assert _count(app, Feedback, proposal_id=pid) == 1
    assert len(_events(app, pid, "close")) == 1


def test_reply_record_posted_twice_makes_one_letter(app, browser, make_proposal):
    pid = make_proposal("20262107", sign=True)
    lead = _count_assignments(app, pid)["lead"]
    data = {
        "reply-title": "广州市教育局关于市十六届人大一次会议第20262107号建议答复的函",
        "reply-classification": "A",
        "reply-doc_number": "穗教案〔2026〕88号",
        "reply-letter_on": "2026-05-07",
        "reply-disclosure": "主动公开",
    }
    codes = post_at_once(app, "clerk", f"/assignments/{lead}/reply", data, times=3)
    assert codes == [302] * 3
    assert _count(app, ReplyLetter, proposal_id=pid) == 1


def test_extension_and_reassignment_requests_posted_twice(app, browser, make_proposal):
    pid = make_proposal("20262108", sign=True)
    lead = _count_assignments(app, pid)["lead"]
    browser.login("clerk")
    data = {"extension-requested_due_on": "2026-07-31", "extension-reason": "需现场调研"}
    for _ in range(2):
        assert browser.post(f"/assignments/{lead}/extension", data).status_code == 302
    assert _count(app, ExtensionRequest, assignment_id=lead) == 1

    other = make_proposal("20262109", assigned_on=date(2026, 6, 12))
    lead = _count_assignments(app, other)["lead"]
    data = {"reassign-reason": "该事项属于市卫生健康委职责"}
    for _ in range(2):
        assert browser.post(f"/assignments/{lead}/reassign", data).status_code == 302
    assert len(_events(app, other, "reassign_request")) == 1


def test_sign_for_pressed_twice(app, browser, make_proposal):
    pid = make_proposal("20262110")
    lead = _count_assignments(app, pid)["lead"]
    codes = post_at_once(app, "clerk", f"/assignments/{lead}/sign", {}, times=3)
    assert codes == [302] * 3
    assert len(_events(app, pid, "sign_for")) == 1


def test_registering_and_assigning_posted_twice(app, browser, people):
    browser.login("liaison")
    data = {
        "session_id": "0",
        "new_session": "市十六届人大一次会议",
        "new_session_year": "2026",
        "kind": "建议",
        "number": "20262111",
        "title": "关于加强学校心理辅导室建设的建议",
        "lead_proposer": "曾志伟",
        "proposer_kind": "代表",
        "submitted_on": "2026-01-20",
    }
    first = browser.post("/proposals/new", data)
    again = browser.post("/proposals/new", data)
    assert first.status_code == again.status_code == 302
    assert again.location == first.location
    assert _count(app, Proposal, number="20262111") == 1
    pid = int(first.location.rsplit("/", 1)[-1])

    browser.login("duban")
    with app.app_context():
        unit = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one().unit_id
    data = {
        "assign-mode": "lead",
        "assign-lead_units": str(unit),
        "assign-assigned_on": "2026-03-02",
    }
    codes = [browser.post(f"/proposals/{pid}/assign", data).status_code for _ in range(2)]
    assert codes == [302, 302]
    assert _count(app, Assignment, proposal_id=pid) == 1
    assert len(_events(app, pid, "assign")) == 1


def test_saving_the_draft_twice_is_not_a_conflict(app, browser, make_proposal):
    pid = make_proposal("20262112", sign=True)
    browser.login("clerk")
    editor = browser.post(f"/proposals/{pid}/draft")
    assert editor.status_code == 302
    url = editor.location
    data = {
        "title": "广州市教育局关于市十六届人大一次会议第20262112号建议答复的函",
        "addressee": "曾志伟代表：",
        "body": BODY,
        "disclosure": "主动公开",
        "base_version": "1",
    }
    assert browser.post(url, data).status_code == 302
    again = browser.post(url, data)
    assert again.status_code == 302, _page(again)
    with app.app_context():
        assert len(db.session.execute(db.select(LetterVersion)).scalars().all()) == 2
