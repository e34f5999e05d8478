"""A co-handling unit sees the lead unit's letter on the proposal page only once it is
sent, without its internal reasons; a 不予公开 letter only as "a reply was sent" (issue 10,
point 8). The lead unit and the see-all roles see everything."""

from __future__ import annotations

from datetime import date

import pytest

from tracker import current
from tracker.extensions import db
from tracker.models import Proposal, ReplyLetter, User
from tracker.services import drafting

NUMBER = "20262301"
TITLE = "关于进一步加强广州市中小学生心理健康管理工作的建议"
LETTER_TITLE = f"广州市教育局关于市十六届人大一次会议第{NUMBER}号建议答复的函"
REASON = "代表出差在外，已约定回穗后当面沟通"
BODY = (
    f"您提出的《{TITLE}》（第{NUMBER}号）收悉。现答复如下：\n\n"
    "一、目前工作推进情况\n\n我局建立了学生心理危机防控工作联席会议制度。\n\n"
    "感谢您对教育工作的关心和支持。"
)


def _user(name) -> User:
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one()


@pytest.fixture
def signed_off(app, make_proposal):
    """The lead unit's reply to NUMBER, submitted with written reasons for the checklist's
    warnings and signed off (a document number allocated), but not sent yet."""

    def make(disclosure="主动公开") -> tuple[int, int]:
        pid = make_proposal(NUMBER, title=TITLE, sign=True)
        with app.app_context():
            clerk = _user("clerk")
            letter = drafting.start_draft(
                clerk, db.session.get(Proposal, pid), today=current.today()
            )
            drafting.save_draft(
                clerk,
                letter,
                values={
                    "title": LETTER_TITLE,
                    "classification": "A",
                    "disclosure": disclosure,
                    "disclosure_reason": None if disclosure == "主动公开" else "涉及未成年人信息",
                    "cc": ["市府办公厅", "市人大选联工委"],
                    "letter_on": date(2026, 5, 7),
                },
                body=BODY,
                base_version=letter.version,
                today=current.today(),
            )
            warnings = drafting.checklist(letter, today=current.today()).warnings
            assert warnings, "the checklist should ask for reasons"
            drafting.submit(
                clerk, letter, {c.code: REASON for c in warnings}, today=current.today()
            )
            drafting.approve(_user("supervisor"), letter, today=current.today())
            db.session.commit()
            return pid, letter.id

    return make


def _page(browser, username, pid) -> str:
    browser.login(username)
    response = browser.get(f"/proposals/{pid}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _doc_number(app, letter_id) -> str:
    with app.app_context():
        return db.session.get(ReplyLetter, letter_id).doc_number


def _issue(app, letter_id, on=date(2026, 5, 8)) -> None:
    with app.app_context():
        drafting.issue(
            _user("clerk"), db.session.get(ReplyLetter, letter_id), on, today=current.today()
        )
        db.session.commit()


def test_co_unit_does_not_see_a_signed_off_letter_before_it_is_sent(app, browser, signed_off):
    pid, letter_id = signed_off()
    number = _doc_number(app, letter_id)
    page = _page(browser, "clerk-health", pid)
    for secret in (LETTER_TITLE, number, REASON, "签发答复函", "提交答复函签发", "开始起草"):
        assert secret not in page
    assert "答复（" not in page  # no 答复 entry on the timeline either
    # the co-unit's own letter page stays closed, as before
    assert browser.get(f"/letters/{letter_id}").status_code == 403
    # the lead unit and the see-all roles keep seeing all of it
    for username in ("clerk", "supervisor", "duban", "liaison"):
        page = _page(browser, username, pid)
        assert LETTER_TITLE in page and number in page and REASON in page


def test_co_unit_sees_the_sent_letter_without_the_internal_reasons(app, browser, signed_off):
    pid, letter_id = signed_off()
    number = _doc_number(app, letter_id)
    _issue(app, letter_id)
    page = _page(browser, "clerk-health", pid)
    assert LETTER_TITLE in page and number in page and "A类" in page
    assert "2026-05-08发出" in page
    for secret in (REASON, "提交答复函签发", "签发答复函，文号", "开始起草"):
        assert secret not in page
    page = _page(browser, "clerk", pid)
    assert REASON in page and "签发答复函，文号" in page


def test_a_letter_not_to_be_published_shows_only_that_a_reply_was_sent(app, browser, signed_off):
    pid, letter_id = signed_off("不予公开")
    number = _doc_number(app, letter_id)
    _issue(app, letter_id)
    page = _page(browser, "clerk-health", pid)
    assert "广州市教育局已答复（答复函不予公开）" in page
    for secret in (LETTER_TITLE, number, "A类", "涉及未成年人信息", REASON, "答复类别"):
        assert secret not in page
    assert browser.get(f"/letters/{letter_id}").status_code == 403
    for username in ("clerk", "duban", "liaison"):
        page = _page(browser, username, pid)
        assert LETTER_TITLE in page and number in page and "A类" in page and REASON in page
        assert "已答复（答复函不予公开）" not in page
