"""A registered proposal's number, title and dates can be corrected by those who may
register, with the old and new values in the audit trail, so that a wrong date never
strands an item (issue 10, point 7)."""

from __future__ import annotations

from datetime import date

from tracker import current
from tracker.extensions import db
from tracker.models import Assignment, AuditEvent, Proposal, ReplyLetter, User
from tracker.services import drafting
from tracker.services import proposals as svc


def _user(name) -> User:
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one()


def _page(response) -> str:
    return response.get_data(as_text=True)


def _form(proposal: Proposal, **changes) -> dict:
    data = {
        "number": proposal.number,
        "title": proposal.title,
        "submitted_on": proposal.submitted_on.isoformat() if proposal.submitted_on else "",
    }
    if proposal.assigned_on:
        data["assigned_on"] = proposal.assigned_on.isoformat()
    return data | changes


def _current(app, pid) -> dict:
    with app.app_context():
        return _form(db.session.get(Proposal, pid))


def _dates(app, pid) -> list[tuple]:
    with app.app_context():
        return [
            (a.role, a.assigned_on, a.due_on, a.original_due_on, a.max_due_on, a.reassign_until)
            for a in db.session.execute(
                db.select(Assignment).where(Assignment.proposal_id == pid).order_by(Assignment.id)
            ).scalars()
        ]


def test_a_far_submitted_date_is_corrected_and_the_item_can_be_assigned(app, browser, people):
    with app.app_context():
        p = svc.register_proposal(
            _user("liaison"),
            session=svc.get_or_create_session("市十六届人大一次会议", year=2026),
            kind="建议",
            number="20262401",
            title="关于加强校园周边交通安全管理的建议",
            lead_proposer="曾志伟",
            submitted_on=date(9999, 12, 31),
        )
        db.session.commit()
        pid, edu = p.id, _user("clerk").unit_id
    assign = {
        "assign-mode": "lead",
        "assign-lead_units": str(edu),
        "assign-assigned_on": "2026-03-02",
    }
    browser.login("duban")
    stranded = browser.post(f"/proposals/{pid}/assign", assign)
    assert stranded.status_code == 400 and "交办日期不能早于提出日期" in _page(stranded)
    assert "更正登记信息" not in _page(browser.get(f"/proposals/{pid}"))

    browser.login("liaison")
    page = _page(browser.get(f"/proposals/{pid}"))
    assert f'href="/proposals/{pid}/edit"' in page and "更正登记信息" in page
    form = browser.get(f"/proposals/{pid}/edit")
    assert form.status_code == 200 and 'value="9999-12-31"' in _page(form)
    # a date after today is refused, with the reason
    refused = browser.post(
        f"/proposals/{pid}/edit", _current(app, pid) | {"submitted_on": "2027-01-20"}
    )
    assert refused.status_code == 400 and "提出日期不能晚于今天" in _page(refused)
    response = browser.post(
        f"/proposals/{pid}/edit",
        _current(app, pid) | {"submitted_on": "2026-01-20", "reason": "登记时误填年份"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = _page(response)
    assert "2026年1月20日" in page
    assert "更正登记信息：提出日期由9999年12月31日改为2026年1月20日（说明：登记时误填年份）" in page

    browser.login("duban")
    assert browser.post(f"/proposals/{pid}/assign", assign).status_code == 302
    assert [row[:2] for row in _dates(app, pid)] == [("lead", date(2026, 3, 2))]


def test_number_and_title_are_corrected_with_the_old_and_new_values(app, browser, make_proposal):
    pid = make_proposal("20262402", sign=True)
    other = make_proposal("20262403", lead=None)
    with app.app_context():
        letter_id = drafting.start_draft(
            _user("clerk"), db.session.get(Proposal, pid), today=current.today()
        ).id
        db.session.commit()
    browser.login("liaison")
    clash = browser.post(f"/proposals/{pid}/edit", _current(app, pid) | {"number": "20262403"})
    assert clash.status_code == 400
    assert "市十六届人大一次会议已有第20262403号建议，编号不能重复" in _page(clash)

    new_title = "关于进一步加强中小学生心理健康教育的建议"
    response = browser.post(
        f"/proposals/{pid}/edit",
        _current(app, pid) | {"number": "20262412", "title": new_title},
        follow_redirects=True,
    )
    page = _page(response)
    assert response.status_code == 200
    assert f"《{new_title}》" in page and "第20262412号" in page
    assert "编号由第20262402号改为第20262412号" in page
    with app.app_context():
        event = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "correct")
        ).scalar_one()
        assert event.proposal_id == pid
        assert event.data["old"]["number"] == "20262402"
        assert event.data["new"] == {"number": "20262412", "title": new_title}
        # the unsent draft refers to the corrected item; its checklist asks for the new number
        letter = db.session.get(ReplyLetter, letter_id)
        assert (letter.proposal_number, letter.proposal_title) == ("20262412", new_title)
        assert (
            "第20262412号" in drafting.checklist(letter, today=current.today()).errors[-1].message
        )
        assert db.session.get(Proposal, other).number == "20262403"


def test_correcting_the_assignment_date_counts_the_deadlines_again(app, browser, make_proposal):
    pid = make_proposal("20262404", assigned_on=date(2026, 3, 2))
    same_day = make_proposal("20262405", assigned_on=date(2026, 3, 9))
    before = _dates(app, pid)
    browser.login("liaison")
    response = browser.post(
        f"/proposals/{pid}/edit", _current(app, pid) | {"assigned_on": "2026-03-09"}
    )
    assert response.status_code == 302
    # every clock now runs as for an item assigned on 9 March
    assert _dates(app, pid) == _dates(app, same_day) != before
    page = _page(browser.get(f"/proposals/{pid}"))
    assert "交办日期由2026年3月2日改为2026年3月9日" in page
    assert "各承办单位的期限已按更正后的交办日期重新计算" in page


def test_the_assignment_date_cannot_pass_what_units_already_did(app, browser, make_proposal):
    pid = make_proposal("20262406", assigned_on=date(2026, 3, 2))
    with app.app_context():
        co = db.session.execute(
            db.select(Assignment).where(Assignment.proposal_id == pid, Assignment.role == "co")
        ).scalar_one()
        svc.submit_opinion(
            _user("clerk-health"),
            co,
            text="同意",
            opinion_on=date(2026, 3, 30),
            today=current.today(),
        )
        db.session.commit()
    browser.login("admin")
    response = browser.post(
        f"/proposals/{pid}/edit", _current(app, pid) | {"assigned_on": "2026-04-01"}
    )
    assert response.status_code == 400
    assert "广州市卫生健康委员会已于2026年3月30日提交会办意见，交办日期不能晚于该日期" in _page(
        response
    )
    assert _dates(app, pid)[0][1] == date(2026, 3, 2)


def test_a_granted_extension_keeps_its_due_date(app, browser, make_proposal):
    pid = make_proposal("20262407", assigned_on=date(2026, 3, 2), sign=True)
    with app.app_context():
        lead = db.session.execute(
            db.select(Assignment).where(Assignment.proposal_id == pid, Assignment.role == "lead")
        ).scalar_one()
        extension = svc.request_extension(
            _user("clerk"), lead, requested_due_on=date(2026, 7, 31), reason="需现场调研"
        )
        svc.decide_extension(_user("supervisor"), extension, grant=True)
        db.session.commit()
    before = _dates(app, pid)[0]
    browser.login("liaison")
    response = browser.post(
        f"/proposals/{pid}/edit",
        _current(app, pid) | {"assigned_on": "2026-03-04"},
        follow_redirects=True,
    )
    assert "广州市教育局已批准延期的期限不变" in _page(response)
    role, assigned_on, due_on, original_due_on, _max, _window = _dates(app, pid)[0]
    assert (assigned_on, due_on) == (date(2026, 3, 4), date(2026, 7, 31))
    assert original_due_on != before[3]
