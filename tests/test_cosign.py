"""会签: the co-handling units co-sign the lead unit's reply before its sign-off, in the
browser with CSRF on; and, with the policy switched off, the 会办意见-only path."""

from __future__ import annotations

from datetime import date

import pytest
from test_drafting import TITLE, _filled, _form, _letter, _start, _user  # noqa: F401

from tracker import current
from tracker.extensions import db
from tracker.models import AuditEvent, CoSignRequest, Proposal
from tracker.rules.deadlines import WORKING_DAYS, DeadlinePolicy, Period, WorkCalendar, co_sign_due
from tracker.services import proposals as svc

HEALTH = "广州市卫生健康委员会"
CIVIL = "广州市民政局"
LEAD_NOTE = "内部说明：按分管领导口头意见调整"
WARNING_REASON = "经督办同意延后成文"
RETURN_COMMENT = "请补充民政部门对困难家庭学生的心理援助措施"


@pytest.fixture
def proposal(app, make_proposal):
    """20222174: lead 广州市教育局; co 广州市卫生健康委员会 and 广州市民政局, both opinions in;
    a contact logged."""
    pid = make_proposal("20222174", title=TITLE, co=(HEALTH, CIVIL), sign=True)
    with app.app_context():
        p = db.session.get(Proposal, pid)
        svc.log_contact(
            _user("clerk"),
            p,
            contacted_on=date(2026, 4, 28),
            channel="微信",
            phase="during",
            summary="微信沟通",
            today=current.today(),
        )
        for username, a in (("clerk-health", p.assignments[1]), ("clerk-civil", p.assignments[2])):
            svc.submit_opinion(
                _user(username),
                a,
                text="支持。",
                opinion_on=date(2026, 3, 30),
                today=current.today(),
            )
        db.session.commit()
    return pid


def _draft(app, browser, pid) -> int:
    """The lead clerk's complete draft (saved with an internal note), not yet submitted."""
    browser.login("clerk")
    letter_id = _start(browser, pid)
    letter = _letter(app, letter_id)
    response = browser.post(
        f"/letters/{letter_id}/edit",
        _form(
            letter,
            body=_filled(letter.body),
            classification="B",
            letter_on="2026-06-10",  # after the reply's due date: a warning needing a reason
            cc="市府办公厅、市人大选联工委、市卫生健康委、市民政局",
            comment=LEAD_NOTE,
        ),
    )
    assert response.status_code == 302
    return letter_id


def _submit(browser, letter_id):
    reasons = {
        "reason-due": WARNING_REASON,
        "reason-co_opinions": "会办意见已电话确认",
        "reason-contact": "代表在外地，已书面联系",
    }
    return browser.post(f"/letters/{letter_id}/submit", reasons, follow_redirects=True)


def _requests(app, letter_id) -> list[tuple[str, int, str, str | None]]:
    with app.app_context():
        rows = db.session.execute(
            db.select(CoSignRequest)
            .where(CoSignRequest.letter_id == letter_id)
            .order_by(CoSignRequest.id)
        ).scalars()
        return [(r.unit.name, r.letter_version, r.status, r.comment) for r in rows]


def _decide(browser, letter_id, decision, comment=""):
    return browser.post(
        f"/letters/{letter_id}/cosign",
        {"decision": decision, "comment": comment},
        follow_redirects=True,
    )


def test_co_sign_period_is_five_working_days_on_the_official_calendar():
    policy = DeadlinePolicy()
    assert policy.co_sign == Period(5, WORKING_DAYS) and policy.co_sign_required
    # 2026-06-19 (Friday) is the Dragon Boat Festival: the fifth working day after Monday
    # 15 June is Tuesday 23 June, not Monday 22 June
    assert co_sign_due(date(2026, 6, 15), policy, WorkCalendar()).on == date(2026, 6, 23)
    off = DeadlinePolicy.from_mapping({"co_sign_required": "否", "co_sign": "3个工作日"})
    assert (off.co_sign_required, off.co_sign) == (False, Period(3, WORKING_DAYS))
    assert DeadlinePolicy.from_mapping(off.to_mapping()) == off


def test_submitting_sends_the_draft_to_each_co_unit_and_sign_off_waits(app, browser, proposal):
    letter_id = _draft(app, browser, proposal)
    page = browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
    assert "提交会签" in page and "会签：广州市民政局（未送会签）" in page
    page = _submit(browser, letter_id).get_data(as_text=True)
    assert "已送会办单位会签" in page
    letter = _letter(app, letter_id)
    assert letter.status == "cosigning"
    assert _requests(app, letter_id) == [
        (HEALTH, letter.version, "requested", None),
        (CIVIL, letter.version, "requested", None),
    ]
    with app.app_context():
        dues = db.session.execute(
            db.select(CoSignRequest.due_on).where(CoSignRequest.letter_id == letter_id)
        ).scalars()
        assert set(dues) == {date(2026, 6, 23)}
    # the supervisor cannot sign off while co-signing goes on; the checklist says why
    browser.login("supervisor")
    page = browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
    assert "会签：广州市卫生健康委员会（待会签）" in page
    assert "会签未完成：会办单位全部同意后才能签发" in page
    response = browser.post(
        f"/letters/{letter_id}/approve", {"letter_on": "2026-06-15"}, follow_redirects=True
    )
    assert "答复函正在会签" in response.get_data(as_text=True)
    assert _letter(app, letter_id).status == "cosigning"


def test_a_co_unit_reads_the_letter_only_and_a_unit_not_asked_nothing(app, browser, make_proposal):
    pid = make_proposal("20222175", title=TITLE, co=(HEALTH,), sign=True)
    letter_id = _draft(app, browser, pid)
    _submit(browser, letter_id)
    browser.login("clerk-health")
    # 我的待办 lists the request with the letter, the lead unit and the version asked
    todo = browser.get("/todo").get_data(as_text=True)
    row = todo[todo.index(f"/letters/{letter_id}/cosign") :].split("</tr>")[0]
    version = _letter(app, letter_id).version
    assert f"待会签（市教育局主办，第{version}版）" in row and "2026年6月23日" in row
    page = browser.get(f"/letters/{letter_id}/cosign").get_data(as_text=True)
    assert "建立了学生心理危机防控工作联席会议制度" in page  # the letter's text
    assert "请于2026年6月23日前会签" in page
    # none of the lead unit's internal notes: the save's note, the warnings' reasons, the
    # checklist, the versions
    for internal in (LEAD_NOTE, WARNING_REASON, "签发前检查", "历史版本"):
        assert internal not in page
    assert browser.get(f"/letters/{letter_id}/edit").status_code == 403
    assert browser.get(f"/letters/{letter_id}/versions").status_code == 403
    proposal_page = browser.get(f"/proposals/{pid}").get_data(as_text=True)
    assert f"/letters/{letter_id}/cosign" in proposal_page
    assert LEAD_NOTE not in proposal_page and WARNING_REASON not in proposal_page
    # a unit that was not asked sees nothing, and may not decide
    browser.login("clerk-civil")
    assert f"/letters/{letter_id}/cosign" not in browser.get("/todo").get_data(as_text=True)
    assert browser.get(f"/letters/{letter_id}/cosign").status_code == 403
    assert _decide(browser, letter_id, "agree").status_code == 403
    # the lead unit's supervisor has the editor, not the co-sign page
    browser.login("supervisor")
    assert browser.get(f"/letters/{letter_id}/cosign").status_code == 403
    assert _requests(app, letter_id)[0][2] == "requested"


def test_a_return_goes_back_to_the_lead_clerk_and_only_that_unit_is_asked_again(
    app, browser, proposal
):
    letter_id = _draft(app, browser, proposal)
    _submit(browser, letter_id)
    first = _letter(app, letter_id).version
    browser.login("clerk-health")
    assert "已会签同意" in _decide(browser, letter_id, "agree").get_data(as_text=True)
    browser.login("clerk-civil")
    # a return needs its comments
    refused = _decide(browser, letter_id, "return")
    assert refused.status_code == 400 and "退回时请写明修改意见" in refused.get_data(as_text=True)
    assert "已退回主办单位修改" in _decide(browser, letter_id, "return", RETURN_COMMENT).get_data(
        as_text=True
    )
    assert _letter(app, letter_id).status == "draft"
    # the lead clerk sees each unit's 会签 and every comment beside the draft
    browser.login("clerk")
    page = browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
    cosign_card = page.split('id="cosign"')[1].split("</section>")[0]
    assert HEALTH in cosign_card and "已同意" in cosign_card
    assert CIVIL in cosign_card and "已退回" in cosign_card and RETURN_COMMENT in cosign_card
    assert "会签：广州市民政局（已退回）" in page
    todo = browser.get("/todo").get_data(as_text=True)
    assert "会签退回" in todo and f"/letters/{letter_id}/edit" in todo
    # revise and resubmit: a new version, asked again of 民政局 only
    letter = _letter(app, letter_id)
    browser.post(
        f"/letters/{letter_id}/edit",
        _form(
            letter,
            body=letter.body + "\n\n市民政局将对困难家庭学生提供心理援助。",
            cc="、".join(letter.cc),
        ),
    )
    _submit(browser, letter_id)
    second = _letter(app, letter_id)
    assert second.status == "cosigning" and second.version > first
    assert _requests(app, letter_id) == [
        (HEALTH, first, "agreed", None),
        (CIVIL, first, "returned", RETURN_COMMENT),
        (CIVIL, second.version, "requested", None),
    ]
    browser.login("clerk-health")
    assert f"/letters/{letter_id}/cosign" not in browser.get("/todo").get_data(as_text=True)
    browser.login("clerk-civil")
    todo = browser.get("/todo").get_data(as_text=True)
    assert f"/letters/{letter_id}/cosign" in todo and "2026年6月23日" in todo
    page = browser.get(f"/letters/{letter_id}/cosign").get_data(as_text=True)
    assert "市民政局将对困难家庭学生提供心理援助" in page and RETURN_COMMENT in page
    _decide(browser, letter_id, "agree")
    assert _letter(app, letter_id).status == "submitted"
    # each co-unit finds its own 会签 in the proposal's 操作记录, not the other's comments
    record = browser.get(f"/proposals/{proposal}").get_data(as_text=True)
    assert f"广州市民政局退回答复函（第{first}版）：{RETURN_COMMENT}" in record
    browser.login("clerk-health")
    record = browser.get(f"/proposals/{proposal}").get_data(as_text=True)
    assert f"广州市卫生健康委员会会签同意答复函（第{first}版）" in record
    assert RETURN_COMMENT not in record and WARNING_REASON not in record
    # every co-unit agreed: the supervisor signs off
    browser.login("supervisor")
    page = browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
    assert "会签：广州市民政局（已同意）" in page and "会签未完成" not in page
    browser.post(f"/letters/{letter_id}/approve", {"letter_on": "2026-06-15"})
    assert _letter(app, letter_id).status == "approved"
    with app.app_context():
        trail = [
            (e.action, e.message)
            for e in db.session.execute(
                db.select(AuditEvent)
                .where(AuditEvent.action.like("cosign%"))
                .order_by(AuditEvent.id)
            ).scalars()
        ]
    assert [action for action, _ in trail] == [
        "cosign_agree",
        "cosign_return",
        "cosign_agree",
        "cosign_done",
    ]
    assert RETURN_COMMENT in trail[1][1]


def test_sign_off_is_blocked_until_every_co_unit_agreed(app, browser, proposal):
    """A letter submitted while 会签 was off, then the policy switched on: the supervisor's
    sign-off waits for the co-units."""
    app.config["CO_SIGN_REQUIRED"] = False
    letter_id = _draft(app, browser, proposal)
    _submit(browser, letter_id)
    assert _letter(app, letter_id).status == "submitted"
    app.config["CO_SIGN_REQUIRED"] = True
    browser.login("supervisor")
    page = browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
    assert "会签未完成" in page and "会签：广州市卫生健康委员会（未送会签）" in page
    response = browser.post(
        f"/letters/{letter_id}/approve", {"letter_on": "2026-06-15"}, follow_redirects=True
    )
    assert "会签未完成，不能签发" in response.get_data(as_text=True)
    assert _letter(app, letter_id).status == "submitted"


def test_co_signing_shows_in_the_reminders(app, browser, runner, proposal):
    letter_id = _draft(app, browser, proposal)
    _submit(browser, letter_id)
    result = runner.invoke(args=["remind", "--dry-run", "--user", "clerk-health"])
    assert "【待会签】广州市教育局对市十六届人大一次会议第20222174号建议" in result.output
    assert "还剩8天到期（期限2026年6月23日）" in result.output
    late = runner.invoke(
        args=["remind", "--dry-run", "--user", "clerk-health", "--date", "2026-06-24"]
    )
    assert "【会签逾期】" in late.output and "已逾期1天" in late.output
    browser.login("clerk-civil")
    _decide(browser, letter_id, "return", RETURN_COMMENT)
    result = runner.invoke(args=["remind", "--dry-run", "--user", "clerk"])
    assert "【会签退回】" in result.output and "被市民政局退回" in result.output
    # nothing left for the co-units while the lead clerk revises
    result = runner.invoke(args=["remind", "--dry-run", "--user", "clerk-health"])
    assert "会签" not in result.output


def test_with_co_signing_switched_off_the_draft_goes_straight_to_sign_off(app, browser, proposal):
    browser.login("admin")
    page = browser.get("/admin/settings").get_data(as_text=True)
    assert "主办单位的答复函须经会办单位会签后签发" in page and "5个工作日" in page
    data = {
        "reply": "3个月",
        "reply_max": "6个月",
        "co_opinion": "1个月",
        "reassignment_window": "5个工作日",
        "re_answer": "1个月",
        "co_sign": "5个工作日",
        "roll_forward": "y",
    }  # co_sign_required unchecked
    response = browser.post("/admin/settings", data, follow_redirects=True)
    assert "会签由是改为否" in response.get_data(as_text=True)
    letter_id = _draft(app, browser, proposal)
    page = browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
    assert "会签：" not in page and "提交会签" not in page
    assert "已收到全部会办单位意见" in page  # the 会办意见 check, as before
    assert "已提交负责人签发" in _submit(browser, letter_id).get_data(as_text=True)
    assert _letter(app, letter_id).status == "submitted"
    browser.login("supervisor")
    assert "会签未完成" not in browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
    browser.post(f"/letters/{letter_id}/approve", {"letter_on": "2026-06-15"})
    assert _letter(app, letter_id).status == "approved"
    assert _requests(app, letter_id) == []
    browser.login("clerk-health")
    assert browser.get(f"/letters/{letter_id}/cosign").status_code == 403
    browser.login("supervisor")
    browser.post(f"/letters/{letter_id}/approve", {"letter_on": "2026-06-15"})
    assert _letter(app, letter_id).status == "approved"


def test_the_supervisor_pulls_back_a_letter_in_co_signing(app, browser, proposal):
    """A co-unit that does not answer cannot hold the letter: its supervisor returns it to
    the clerk, and once 会签 is switched off the resubmission goes straight to sign-off."""
    letter_id = _draft(app, browser, proposal)
    _submit(browser, letter_id)
    browser.login("supervisor")
    assert "撤回会签，退回修改" in browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
    browser.post(f"/letters/{letter_id}/return", {"comment": "市民政局长期未会签，先行撤回"})
    assert _letter(app, letter_id).status == "draft"
    browser.login("clerk-civil")
    page = browser.get(f"/letters/{letter_id}/cosign").get_data(as_text=True)
    assert "主办单位正在修改答复函" in page and 'value="agree"' not in page
    assert f"/letters/{letter_id}/cosign" not in browser.get("/todo").get_data(as_text=True)
    app.config["CO_SIGN_REQUIRED"] = False
    browser.login("clerk")
    assert "已提交负责人签发" in _submit(browser, letter_id).get_data(as_text=True)
    assert _letter(app, letter_id).status == "submitted"
