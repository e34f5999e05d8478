"""The handling workflow in the browser: register → assign → sign for → contact → co-unit
opinion → reply → rating → re-handling, with extensions, reassignment and the 待办 page."""

from __future__ import annotations

import logging
import re
from datetime import date

from conftest import PASSWORD

from tracker.extensions import db
from tracker.models import Assignment, AuditEvent, Proposal, User


def _page(response) -> str:
    return response.get_data(as_text=True)


def _assignments(app, proposal_id):
    with app.app_context():
        rows = (
            db.session.execute(
                db.select(Assignment)
                .where(Assignment.proposal_id == proposal_id)
                .order_by(Assignment.id)
            )
            .scalars()
            .all()
        )
        return [(a.id, a.unit.name, a.role, a.round, a.due_on, a.active) for a in rows]


def _titles(page: str) -> list[str]:
    """The proposal titles a list page shows."""
    return re.findall(r'<td><a href="/proposals/\d+">(关于[^<]+)</a>', page)


def test_whole_lifecycle_in_the_browser(app, browser, people):
    # The liaison registers the proposal.
    browser.login("liaison")
    response = browser.post(
        "/proposals/new",
        {
            "session_id": "0",
            "new_session": "市十六届人大一次会议",
            "new_session_year": "2026",
            "kind": "建议",
            "number": "20222174",
            "title": "关于进一步加强广州市中小学生心理健康管理工作的建议",
            "lead_proposer": "曾志伟",
            "proposer_kind": "代表",
            "co_signers": "王小明、李华",
            "submitted_on": "2026-01-20",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        p = db.session.execute(db.select(Proposal)).scalar_one()
        pid = p.id
        assert p.co_signers == ["王小明", "李华"]
        assert p.status == "registered"

    # The coordinating office assigns it: lead 教育局, co 卫健委, on 2 March 2026.
    browser.login("duban")
    with app.app_context():
        units = {
            u: db.session.execute(db.select(User).filter_by(username=n)).scalar_one().unit_id
            for u, n in (("edu", "clerk"), ("health", "clerk-health"))
        }
    response = browser.post(
        f"/proposals/{pid}/assign",
        {
            "assign-mode": "lead",
            "assign-lead_units": str(units["edu"]),
            "assign-co_units": str(units["health"]),
            "assign-assigned_on": "2026-03-02",
        },
    )
    assert response.status_code == 302
    rows = _assignments(app, pid)
    # reply due 3 months after assignment; co-unit opinion 1 month after
    assert rows[0][1:5] == ("广州市教育局", "lead", 1, date(2026, 6, 2))
    assert rows[1][1:5] == ("广州市卫生健康委员会", "co", 1, date(2026, 4, 2))
    lead_id, co_id = rows[0][0], rows[1][0]

    # The clerk sees it on 我的待办 (as today, 15 June 2026, it is overdue) and signs for it.
    browser.login("clerk")
    todo = _page(browser.get("/todo"))
    assert "20222174" in todo and "逾期13天" in todo
    assert browser.post(f"/assignments/{lead_id}/sign").status_code == 302
    assert "已签收" in _page(browser.get(f"/proposals/{pid}"))

    # Contacts: a future date is refused with a clear message, a real one is logged.
    bad = browser.post(
        f"/proposals/{pid}/contacts",
        {
            "contact-contacted_on": "2026-07-01",
            "contact-channel": "微信",
            "contact-phase": "during",
            "contact-summary": "沟通",
        },
    )
    assert bad.status_code == 400 and "沟通日期不能晚于今天" in _page(bad)
    ok = browser.post(
        f"/proposals/{pid}/contacts",
        {
            "contact-contacted_on": "2026-04-28",
            "contact-channel": "微信",
            "contact-phase": "during",
            "contact-participants": "曾志伟代表",
            "contact-summary": "通过微信沟通办理思路",
        },
    )
    assert ok.status_code == 302

    # The co-handling unit sends its opinion.
    browser.login("clerk-health")
    response = browser.post(
        f"/assignments/{co_id}/opinion",
        {
            "opinion-opinion_on": "2026-03-30",
            "opinion-text": "支持加强心理健康服务，做好转介衔接。",
        },
    )
    assert response.status_code == 302

    # The lead unit records its reply.
    browser.login("clerk")
    response = browser.post(
        f"/assignments/{lead_id}/reply",
        {
            "reply-title": "广州市教育局关于市十六届人大一次会议第20222174号建议答复的函",
            "reply-classification": "B",
            "reply-doc_number": "穗教案〔2026〕119号",
            "reply-letter_on": "2026-05-07",
            "reply-disclosure": "主动公开",
            "reply-body": "二、下一步工作安排\n\n今年底全市中小学专任教师持C证率达到80%。",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Proposal, pid).status == "replied"

    # The liaison records 不满意: a comment is required; then a new round starts.
    browser.login("liaison")
    response = browser.post(
        f"/proposals/{pid}/rating",
        {
            "rating-satisfaction": "不满意",
            "rating-rated_on": "2026-06-01",
        },
    )
    assert response.status_code == 400 and "不满意时请填写代表的意见" in _page(response)
    response = browser.post(
        f"/proposals/{pid}/rating",
        {
            "rating-satisfaction": "不满意",
            "rating-rated_on": "2026-06-01",
            "rating-comment": "未说明具体措施",
        },
    )
    assert response.status_code == 302
    rows = _assignments(app, pid)
    # round 2: a new reply is due one month after the rating
    assert rows[-1][1:5] == ("广州市教育局", "lead", 2, date(2026, 7, 1))
    page = _page(browser.get(f"/proposals/{pid}"))
    assert "重新办理" in page and "第2轮" in page
    assert "代表评价：不满意" in page

    # Round 2: reply again, rated 满意 → 办结; the page shows both rounds.
    browser.login("clerk")
    response = browser.post(
        f"/assignments/{rows[-1][0]}/reply",
        {
            "reply-title": "广州市教育局关于市十六届人大一次会议第20222174号建议的再次答复",
            "reply-classification": "A",
            "reply-doc_number": "穗教案〔2026〕160号",
            "reply-letter_on": "2026-06-12",
            "reply-disclosure": "主动公开",
        },
    )
    assert response.status_code == 302
    browser.login("liaison")
    response = browser.post(
        f"/proposals/{pid}/rating",
        {
            "rating-satisfaction": "满意",
            "rating-rated_on": "2026-06-14",
        },
    )
    assert response.status_code == 302
    page = _page(browser.get(f"/proposals/{pid}"))
    assert "已办结" in page and "第1轮" in page and "第2轮" in page
    with app.app_context():
        actions = [
            e.action
            for e in db.session.execute(
                db.select(AuditEvent).where(AuditEvent.proposal_id == pid).order_by(AuditEvent.id)
            ).scalars()
        ]
    assert actions == [
        "register",
        "assign",
        "sign_for",
        "contact",
        "opinion",
        "reply",
        "rating",
        "rehandle",
        "reply",
        "rating",
        "close",
    ]


def test_duplicate_number_in_a_session_is_refused(app, browser, make_proposal):
    make_proposal("20222174")
    browser.login("liaison")
    with app.app_context():
        session_id = db.session.execute(db.select(Proposal.session_id)).scalar_one()
    response = browser.post(
        "/proposals/new",
        {
            "session_id": str(session_id),
            "kind": "建议",
            "number": "20222174",
            "title": "另一件建议",
            "lead_proposer": "张三",
            "proposer_kind": "代表",
        },
    )
    assert response.status_code == 400
    assert "已有第20222174号建议，编号不能重复" in _page(response)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Proposal.id))).scalar() == 1


def test_extension_granted_moves_the_due_date_and_is_audited(app, browser, make_proposal):
    pid = make_proposal(assigned_on=date(2026, 4, 1), sign=True)
    lead_id = _assignments(app, pid)[0][0]
    browser.login("clerk")
    too_late = browser.post(
        f"/assignments/{lead_id}/extension",
        {
            "extension-requested_due_on": "2026-12-31",
            "extension-reason": "需要调研",
        },
    )
    assert too_late.status_code == 400 and "延期后的期限最迟为2026年10月8日" in _page(too_late)
    response = browser.post(
        f"/assignments/{lead_id}/extension",
        {
            "extension-requested_due_on": "2026-08-31",
            "extension-reason": "需会同规划部门现场调研",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        ext_id = db.session.get(Assignment, lead_id).extensions[0].id

    # the clerk cannot decide; the unit's supervisor can
    assert (
        browser.post(f"/extensions/{ext_id}/decide", {"extdecide-decision": "grant"}).status_code
        == 403
    )
    browser.login("supervisor")
    assert "待审批的延期申请" in _page(browser.get("/todo"))
    response = browser.post(f"/extensions/{ext_id}/decide", {"extdecide-decision": "grant"})
    assert response.status_code == 302
    with app.app_context():
        a = db.session.get(Assignment, lead_id)
        assert (a.original_due_on, a.due_on) == (date(2026, 7, 1), date(2026, 8, 31))
    page = _page(browser.get(f"/proposals/{pid}"))
    assert "答复期限由2026年7月1日改为2026年8月31日" in page
    with app.app_context():
        events = db.session.execute(
            db.select(AuditEvent.action, AuditEvent.message, AuditEvent.actor_id)
            .where(AuditEvent.proposal_id == pid)
            .order_by(AuditEvent.id)
        ).all()
        supervisor = db.session.execute(db.select(User.id).filter_by(username="supervisor"))
        decided = [e for e in events if "答复期限由2026年7月1日改为2026年8月31日" in e.message]
        assert [e.actor_id for e in decided] == [supervisor.scalar_one()]


def test_refusing_an_extension_needs_a_reason(app, browser, make_proposal):
    pid = make_proposal(assigned_on=date(2026, 4, 1), sign=True)
    lead_id = _assignments(app, pid)[0][0]
    browser.login("clerk")
    browser.post(
        f"/assignments/{lead_id}/extension",
        {
            "extension-requested_due_on": "2026-08-31",
            "extension-reason": "调研",
        },
    )
    with app.app_context():
        ext_id = db.session.get(Assignment, lead_id).extensions[0].id
    browser.login("duban")
    response = browser.post(f"/extensions/{ext_id}/decide", {"extdecide-decision": "refuse"})
    assert response.status_code == 400 and "不批准延期时请说明理由" in _page(response)
    response = browser.post(
        f"/extensions/{ext_id}/decide",
        {"extdecide-decision": "refuse", "extdecide-note": "期限内可以完成"},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Assignment, lead_id).due_on == date(2026, 7, 1)


def test_reassignment_within_the_window_then_to_another_unit(app, browser, make_proposal):
    # assigned Wednesday 10 June 2026: 5 working days → Wednesday 17 June (today is 15 June)
    pid = make_proposal(assigned_on=date(2026, 6, 10), co=())
    lead_id = _assignments(app, pid)[0][0]
    browser.login("clerk")
    assert "2026年6月17日" in _page(browser.get(f"/proposals/{pid}"))
    response = browser.post(
        f"/assignments/{lead_id}/reassign",
        {"reassign-reason": "属民政部门职责", "reassign-suggested_unit": "广州市民政局"},
    )
    assert response.status_code == 302
    browser.login("duban")
    with app.app_context():
        civil = (
            db.session.execute(db.select(User).filter_by(username="clerk-civil"))
            .scalar_one()
            .unit_id
        )
    response = browser.post(
        f"/assignments/{lead_id}/reassign/decide",
        {"decide-decision": "approve", "decide-new_unit": str(civil), "decide-note": "同意"},
    )
    assert response.status_code == 302
    rows = _assignments(app, pid)
    assert [(r[1], r[2], r[5]) for r in rows] == [
        ("广州市教育局", "lead", False),
        ("广州市民政局", "lead", True),
    ]
    browser.login("clerk-civil")
    assert "20222174" in _page(browser.get("/todo"))


def test_reassignment_after_the_window_is_refused(app, browser, make_proposal):
    pid = make_proposal(assigned_on=date(2026, 6, 1), co=())  # window ended 8 June
    lead_id = _assignments(app, pid)[0][0]
    browser.login("clerk")
    response = browser.post(f"/assignments/{lead_id}/reassign", {"reassign-reason": "非本单位职责"})
    assert response.status_code == 400
    assert "申请调整的期限已于2026年6月8日届满" in _page(response)


def test_todo_lists_each_kind_with_days(app, browser, make_proposal):
    make_proposal("1001", title="待签收的建议", assigned_on=date(2026, 6, 12), co=())
    make_proposal("1002", title="快到期的建议", assigned_on=date(2026, 3, 18), co=(), sign=True)
    make_proposal("1003", title="已逾期的建议", assigned_on=date(2026, 2, 2), co=(), sign=True)
    make_proposal(
        "1004",
        title="教育局会办的建议",
        lead="广州市卫生健康委员会",
        co=("广州市教育局",),
        assigned_on=date(2026, 6, 1),
    )
    make_proposal("1005", title="刚签收的建议", assigned_on=date(2026, 6, 1), co=(), sign=True)
    browser.login("clerk")
    page = _page(browser.get("/todo"))
    in_hand = page.split('id="in-hand"')[1].split("</section>")[0]
    assert "刚签收的建议" in in_hand and "剩余78天" in in_hand  # due 1 September
    to_sign = page.split('id="to-sign"')[1].split("</section>")[0]
    due_soon = page.split('id="due-soon"')[1].split("</section>")[0]
    overdue = page.split('id="overdue"')[1].split("</section>")[0]
    opinions = page.split('id="opinions"')[1].split("</section>")[0]
    assert "待签收的建议" in to_sign and "剩余" in to_sign
    assert "快到期的建议" in due_soon and "剩余3天" in due_soon  # due 18 June
    # due 2 May, a Saturday in the May Day holiday (1–5 May): rolls to Wednesday 6 May
    assert "已逾期的建议" in overdue and "逾期40天" in overdue
    assert "教育局会办的建议" in opinions and "剩余16天" in opinions  # opinion due 1 July


def test_clerk_sees_only_their_units_items(app, browser, make_proposal):
    make_proposal("1001", title="教育局主办的建议")
    make_proposal("1002", title="民政局主办的建议", lead="广州市民政局", co=())
    browser.login("clerk")
    page = _page(browser.get("/proposals"))
    assert "教育局主办的建议" in page and "民政局主办的建议" not in page
    browser.login("liaison")
    page = _page(browser.get("/proposals"))
    assert "教育局主办的建议" in page and "民政局主办的建议" in page


def test_list_filters_and_pagination(app, browser, make_proposal):
    for n in range(30):
        make_proposal(
            f"30{n:02d}", title=f"关于校园安全的建议{n}", co=(), assigned_on=date(2026, 6, 1)
        )
    make_proposal("4001", title="关于公厕改造的建议", co=(), assigned_on=date(2026, 2, 2))
    make_proposal(
        "4002",
        title="关于电梯加装的提案",
        kind="提案",
        lead="广州市民政局",
        co=(),
        assigned_on=date(2026, 6, 1),
    )
    browser.login("liaison")
    first = _page(browser.get("/proposals"))
    assert "共 32 条" in first and "下一页" in first
    second = _page(browser.get("/proposals?page=2"))
    assert '<span class="current">2</span>' in second and "下一页" not in second
    # 25 a page: the two pages list each of the 32 once
    shown = [_titles(first), _titles(second)]
    assert [len(titles) for titles in shown] == [25, 7]
    assert len(set(shown[0] + shown[1])) == 32
    page = _page(browser.get("/proposals?q=公厕"))
    assert "关于公厕改造的建议" in page and "共 1 条" in page
    # a % or _ in the words is that character, not LIKE's wildcard (they matched every title)
    for wildcard in ("%25", "_", "公%25厕", "公_改"):
        assert "共 0 条" in _page(browser.get(f"/proposals?q={wildcard}")), wildcard
    page = _page(browser.get("/proposals?overdue=y"))
    assert "关于公厕改造的建议" in page and "共 1 条" in page
    page = _page(browser.get("/proposals?kind=提案"))
    assert "关于电梯加装的提案" in page and "共 1 条" in page
    with app.app_context():
        civil = (
            db.session.execute(db.select(User).filter_by(username="clerk-civil"))
            .scalar_one()
            .unit_id
        )
    page = _page(browser.get(f"/proposals?unit={civil}"))
    assert "关于电梯加装的提案" in page and "共 1 条" in page
    page = _page(browser.get("/proposals?status=replied"))
    assert "没有符合条件的建议提案" in page


def test_deadline_in_a_year_without_calendar_shows_a_warning(app, browser, make_proposal, caplog):
    # assigned 28 December 2026: the 5-working-day window runs into 2027, which the
    # official calendar package does not cover yet
    with caplog.at_level(logging.WARNING):
        pid = make_proposal(assigned_on=date(2026, 12, 28), co=())
    assert any("2027" in r.getMessage() for r in caplog.records)
    browser.login("clerk")
    assert "按周一至周五估算" in _page(browser.get(f"/proposals/{pid}"))


def test_login_next_is_validated(app, browser, people):
    browser.get("/login")
    for target, expected in [
        ("/proposals", "/proposals"),
        ("//evil.example/x", "/todo"),
        ("https://evil.example/", "/todo"),
        ("/\\evil.example", "/todo"),
    ]:
        browser.client.get("/logout")
        browser._token = None
        browser.get(f"/login?next={target}")
        response = browser.post(
            "/login", {"username": "clerk", "password": PASSWORD, "next": target}
        )
        assert response.status_code == 302
        assert response.location == expected
        browser.logout()


def test_wrong_password_is_refused_in_chinese(app, browser, people):
    response = browser.post("/login", {"username": "clerk", "password": "wrong"})
    assert response.status_code == 200 and "用户名或密码错误" in _page(response)
    with app.app_context():
        stored = db.session.execute(
            db.select(User.password_hash).filter_by(username="clerk")
        ).scalar_one()
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_error_pages_are_chinese_without_trace(app, browser, people):
    browser.login("clerk")
    response = browser.get("/proposals/999")
    assert response.status_code == 404 and "页面不存在" in _page(response)
    browser.login("clerk-civil")
    response = browser.get("/nope")
    assert response.status_code == 404 and "找不到您要访问的页面" in _page(response)


def test_server_error_page_hides_the_trace(tmp_path, monkeypatch):
    from tracker import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'e.db'}",
            "INDEX_DIR": str(tmp_path / "index"),
        }
    )

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret detail")

    monkeypatch.setattr(app.logger, "disabled", True)  # the logger is every app's
    response = app.test_client().get("/boom")
    page = _page(response)
    assert response.status_code == 500 and "系统错误" in page
    assert "secret detail" not in page and "Traceback" not in page
