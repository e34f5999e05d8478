"""The admin area through the browser, with CSRF on: users, units, vocabularies, the
deadline policy and the working-day calendar; and that nobody but an admin gets in.

Calendar facts used (hand-checked against the State Council notice and cross-checked with
the chinese_calendar package, which has 2026 but not 2027):
- 2026 Labour Day: off Fri 2026-05-01 .. Tue 2026-05-05; make-up working day Sat 2026-05-09
  (Sun 2026-04-26 is an ordinary day off). So 2026-03-02 + 2 months = Sat 2026-05-02, and
  rolled forward: 2 Sat, 3 Sun, 4 Mon, 5 Tue are off -> Wed 2026-05-06.
- 2027: 2027-01-01 is a Friday, so Wed 2027-01-06, Mon 2027-02-01, Fri 2027-02-05,
  Sat 2027-02-06, Mon 2027-02-08, Sat 2027-02-13, Mon 2027-02-15, Sat 2027-02-20,
  Sun 2027-02-21, Tue 2027-04-06. The 2027 holidays below are test data entered by the
  admin (the official notice is not out yet).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import PASSWORD, Browser

from tracker import current
from tracker.extensions import db
from tracker.models import (
    Assignment,
    AuditEvent,
    CalendarDay,
    Setting,
    Unit,
    User,
    VocabularyTerm,
)
from tracker.rules.deadlines import MONTHS, Period
from tracker.services import settings, users, vocab


def text(response) -> str:
    return response.get_data(as_text=True)


def row(html: str, needle: str) -> str:
    """The table row (<tr>…</tr>) that contains ``needle``."""
    for found in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        if needle in found:
            return found
    raise AssertionError(f"no table row contains {needle!r}")


def one(model, **where):
    return db.session.execute(db.select(model).filter_by(**where)).scalar_one()


def count(model, **where) -> int:
    query = db.select(db.func.count()).select_from(model).filter_by(**where)
    return db.session.execute(query).scalar_one()


def audit_events(entity: str) -> list[AuditEvent]:
    query = db.select(AuditEvent).filter_by(entity=entity).order_by(AuditEvent.id)
    return list(db.session.execute(query).scalars())


@pytest.fixture
def admin(browser, people):
    browser.login("admin")
    return browser


@pytest.fixture
def ids(app, people):
    """Ids of rows the admin pages act on, plus one calendar row (to delete)."""
    with app.app_context():
        day = CalendarDay(day=date(2030, 1, 1), is_workday=False, note="元旦")
        db.session.add(day)
        db.session.commit()
        three_b = one(VocabularyTerm, vocabulary="classification", scheme="three", code="B")
        return {
            "clerk": people["clerk"],
            "admin": people["admin"],
            "edu": one(Unit, name="广州市教育局").id,
            "health": one(Unit, name="广州市卫生健康委员会").id,
            "term": three_b.id,
            "day": day.id,
        }


def login_as(app, username: str, password: str = PASSWORD) -> Browser:
    browser = Browser(app.test_client())
    browser.login(username, password)
    return browser


# -- users -------------------------------------------------------------------------------


def test_admin_creates_a_user_who_can_then_log_in(app, admin, ids):
    form = admin.get("/admin/users/new")
    assert form.status_code == 200
    assert "新建用户" in text(form)

    response = admin.post(
        "/admin/users/new",
        {
            "username": "zhang.san",
            "display_name": "张三",
            "role": "clerk",
            "unit_id": ids["health"],
            "email": "zhangsan@example.cn",
            "password": "initial-pass-1",
        },
    )
    assert response.status_code == 302
    listing = text(admin.get(response.headers["Location"]))
    assert "已创建用户zhang.san。" in listing
    line = row(listing, "zhang.san")
    assert "张三" in line and "承办人" in line and "广州市卫生健康委员会" in line
    assert "从未登录" in line

    with app.app_context():
        user = one(User, username="zhang.san")
        assert (user.role, user.unit.name, user.email) == (
            "clerk",
            "广州市卫生健康委员会",
            "zhangsan@example.cn",
        )
        assert audit_events("user")[-1].action == "user_create"

    newcomer = login_as(app, "zhang.san", "initial-pass-1")
    todo = newcomer.get("/todo")
    assert todo.status_code == 200
    assert "张三 · 承办人" in text(todo)
    assert "从未登录" not in row(text(admin.get("/admin/users")), "zhang.san")


def test_a_clerk_without_a_unit_is_refused_and_nothing_is_created(app, admin):
    response = admin.post(
        "/admin/users/new",
        {
            "username": "li.si",
            "display_name": "李四",
            "role": "clerk",
            "unit_id": 0,
            "password": "initial-pass-1",
        },
    )
    assert response.status_code == 400
    assert "承办人和负责人须属于一个单位。" in text(response)
    with app.app_context():
        assert count(User, username="li.si") == 0


def test_a_short_initial_password_is_refused(app, admin, ids):
    response = admin.post(
        "/admin/users/new",
        {"username": "wang", "role": "liaison", "unit_id": 0, "password": "short"},
    )
    assert response.status_code == 400
    assert "密码至少8位。" in text(response)
    with app.app_context():
        assert count(User, username="wang") == 0


def test_admin_edits_a_user_and_a_deactivated_user_cannot_log_in(app, admin, ids):
    edit = admin.get(f"/admin/users/{ids['clerk']}")
    assert edit.status_code == 200
    assert f'<option selected value="{ids["edu"]}">' in text(edit)

    response = admin.post(
        f"/admin/users/{ids['clerk']}",
        {
            "display_name": "陈承办",
            "role": "supervisor",
            "unit_id": ids["health"],
            "email": "",
        },  # "active" left unticked
    )
    assert response.status_code == 302
    listing = text(admin.get("/admin/users"))
    assert "已保存用户clerk" in listing
    line = row(listing, "陈承办")
    assert "负责人/督办" in line and "广州市卫生健康委员会" in line and "已停用" in line
    with app.app_context():
        user = db.session.get(User, ids["clerk"])
        assert (user.role, user.unit_id, user.active) == ("supervisor", ids["health"], False)
        assert "停用账号" in audit_events("user")[-1].message

    refused = Browser(app.test_client()).login("clerk")
    assert refused.status_code == 200 and "用户名或密码错误。" in text(refused)


def test_supervisor_without_unit_is_refused_on_edit(app, admin, ids):
    response = admin.post(
        f"/admin/users/{ids['clerk']}",
        {"display_name": "clerk", "role": "supervisor", "unit_id": 0, "active": "y"},
    )
    assert response.status_code == 400
    assert "承办人和负责人须属于一个单位。" in text(response)
    with app.app_context():
        assert db.session.get(User, ids["clerk"]).unit_id == ids["edu"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": "liaison", "active": "y"}, "不能取消自己的系统管理员角色"),
        ({"role": "admin"}, "不能停用自己的账号"),  # "active" unticked
    ],
)
def test_an_admin_cannot_demote_or_deactivate_themselves(app, admin, ids, change, message):
    response = admin.post(
        f"/admin/users/{ids['admin']}", {"display_name": "admin", "unit_id": 0, **change}
    )
    assert response.status_code == 400
    assert message in text(response)
    with app.app_context():
        me = db.session.get(User, ids["admin"])
        assert (me.role, me.active) == ("admin", True)
    assert admin.get("/admin/users").status_code == 200


def test_admin_resets_a_password(app, admin, ids):
    short = admin.post(
        f"/admin/users/{ids['clerk']}/password", {"password": "1234567", "confirm": "1234567"}
    )
    assert short.status_code == 400
    assert "密码至少8位。" in text(short)

    response = admin.post(
        f"/admin/users/{ids['clerk']}/password",
        {"password": "brand-new-pass-7", "confirm": "brand-new-pass-7"},
    )
    assert response.status_code == 302
    assert "已重置用户clerk的密码" in text(admin.get(response.headers["Location"]))

    old = Browser(app.test_client()).login("clerk")
    assert "用户名或密码错误。" in text(old)
    new = login_as(app, "clerk", "brand-new-pass-7")
    assert new.get("/todo").status_code == 200
    with app.app_context():
        [event] = [e for e in audit_events("user") if e.action == "user_password"]
        assert event.entity_id == ids["clerk"] and "brand-new" not in str(event.data)


# -- who gets in ------------------------------------------------------------------------

GET_PAGES = [
    "/admin/",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{clerk}",
    "/admin/units",
    "/admin/units/new",
    "/admin/units/{edu}",
    "/admin/vocabularies",
    "/admin/vocabularies/terms/{term}",
    "/admin/vocabularies/classification/new",
    "/admin/settings",
    "/admin/calendar",
    "/admin/calendar/2027",
]

POSTS = [
    (
        "/admin/users/new",
        {"username": "intruder", "role": "admin", "unit_id": 0, "password": "intruder-pass"},
    ),
    ("/admin/users/{clerk}", {"display_name": "x", "role": "admin", "unit_id": 0, "active": "y"}),
    ("/admin/users/{admin}/password", {"password": "taken-over-1", "confirm": "taken-over-1"}),
    ("/admin/units/new", {"name": "某某局", "active": "y"}),
    ("/admin/units/{edu}", {"name": "广州市教育局", "doc_prefix": "X", "active": "y"}),
    ("/admin/vocabularies/scheme", {"scheme": "npc"}),
    ("/admin/vocabularies/terms/{term}", {"label": "X", "sort_order": "1", "active": "y"}),
    (
        "/admin/vocabularies/contact_channel/new",
        {"code": "X", "label": "X", "sort_order": "1", "active": "y"},
    ),
    (
        "/admin/settings",
        {
            "reply": "1个月",
            "reply_max": "2个月",
            "co_opinion": "5天",
            "reassignment_window": "1个工作日",
            "re_answer": "1个月",
        },
    ),
    ("/admin/calendar/2027", {"lines": "2027-02-05 休"}),
    ("/admin/calendar/days/{day}/delete", {}),
]


def _snapshot() -> dict:
    return {
        "users": count(User),
        "units": count(Unit),
        "terms": count(VocabularyTerm),
        "settings": count(Setting),
        "days": count(CalendarDay),
        "events": count(AuditEvent),
        "clerk": one(User, username="clerk").display_name,
        "edu": one(Unit, name="广州市教育局").doc_prefix,
    }


@pytest.mark.parametrize("username", ["clerk", "supervisor", "liaison", "duban"])
def test_other_roles_get_403_on_every_admin_page_and_post(app, browser, ids, username):
    browser.login(username)
    assert "系统管理" not in text(browser.get("/todo"))
    for url in GET_PAGES:
        assert browser.get(url.format(**ids)).status_code == 403, url
    with app.app_context():
        before = _snapshot()
    for url, data in POSTS:
        assert browser.post(url.format(**ids), data).status_code == 403, url
    with app.app_context():
        assert _snapshot() == before  # a 403 writes nothing, not even an audit event


def test_anonymous_visitors_are_sent_to_login(app, browser, ids):
    for url in GET_PAGES:
        response = browser.get(url.format(**ids))
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url
    with app.app_context():
        before = _snapshot()
    for url, data in POSTS:
        response = browser.post(url.format(**ids), data)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url
    with app.app_context():
        assert _snapshot() == before


def test_admin_pages_show_and_never_write_on_get(app, admin, ids):
    with app.app_context():
        before = _snapshot()
    for url in GET_PAGES:
        response = admin.get(url.format(**ids), follow_redirects=True)
        assert response.status_code == 200, url
        html = text(response)
        assert 'class="subnav"' in html and "工作日历" in html, url
    with app.app_context():
        assert _snapshot() == before


# -- units --------------------------------------------------------------------------------


def test_admin_edits_a_units_short_names_and_document_prefix(app, admin, ids):
    page = text(admin.get(f"/admin/units/{ids['edu']}"))
    assert 'value="市教育局"' in page and 'value="穗教案"' in page

    response = admin.post(
        f"/admin/units/{ids['edu']}",
        {
            "name": "广州市教育局",
            "short_names": "市教育局、教育局, 市教委",
            "doc_prefix": "穗教函",
            "active": "y",
        },
    )
    assert response.status_code == 302
    listing = text(admin.get("/admin/units"))
    line = row(listing, "广州市教育局")
    assert "市教育局、教育局、市教委" in line and "穗教函" in line
    with app.app_context():
        unit = db.session.get(Unit, ids["edu"])
        assert unit.short_names == ["市教育局", "教育局", "市教委"]
        assert unit.doc_prefix == "穗教函"
        assert users.find_unit("市教委").id == ids["edu"]
        assert audit_events("unit")[-1].action == "unit_update"


def test_admin_adds_a_unit(app, admin, ids):
    response = admin.post(
        "/admin/units/new",
        {"name": "广州市规划和自然资源局", "short_names": "市规划和自然资源局", "active": "y"},
    )
    assert response.status_code == 302
    assert "已新增单位广州市规划和自然资源局。" in text(admin.get("/admin/units"))
    with app.app_context():
        unit = one(Unit, name="广州市规划和自然资源局")
        assert (unit.short_names, unit.doc_prefix, unit.active) == (
            ["市规划和自然资源局"],
            None,
            True,
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "广州市教育局"}, "单位名称“广州市教育局”已被广州市教育局使用。"),
        ({"name": "市教育局"}, "单位名称“市教育局”已被广州市教育局使用。"),
        (
            {"name": "广州市卫生局", "short_names": "卫生局、市卫生健康委"},
            "简称“市卫生健康委”已被广州市卫生健康委员会使用。",
        ),
    ],
)
def test_a_duplicate_unit_name_or_short_name_is_refused(app, admin, ids, data, message):
    with app.app_context():
        units_before = count(Unit)
    response = admin.post("/admin/units/new", {"active": "y", **data})
    assert response.status_code == 400
    assert message in text(response)
    with app.app_context():
        assert count(Unit) == units_before


def test_renaming_a_unit_to_another_units_name_is_refused(app, admin, ids):
    response = admin.post(
        f"/admin/units/{ids['health']}",
        {"name": "广州市教育局", "short_names": "市卫生健康委", "active": "y"},
    )
    assert response.status_code == 400
    assert "单位名称“广州市教育局”已被广州市教育局使用。" in text(response)
    with app.app_context():
        assert db.session.get(Unit, ids["health"]).name == "广州市卫生健康委员会"


# -- vocabularies -----------------------------------------------------------------------


def test_admin_edits_a_classification_terms_description(app, admin, ids):
    form = text(admin.get(f"/admin/vocabularies/terms/{ids['term']}"))
    assert "<code>B</code>" in form and 'name="code"' not in form  # the code is fixed
    assert "须跟踪落实答复中的承诺事项" in form

    response = admin.post(
        f"/admin/vocabularies/terms/{ids['term']}",
        {
            "label": "B类",
            "description": "已列入年度工作计划，分步实施",
            "aliases": "乙类、二类",
            "sort_order": "5",
            "active": "y",
            "flag": "y",
        },
    )
    assert response.status_code == 302
    listing = text(admin.get(response.headers["Location"]))
    line = row(listing, "已列入年度工作计划，分步实施")
    assert "乙类、二类" in line and "<code>B</code>" in line
    with app.app_context():
        term = db.session.get(VocabularyTerm, ids["term"])
        assert (term.code, term.description, term.aliases, term.sort_order) == (
            "B",
            "已列入年度工作计划，分步实施",
            ["乙类", "二类"],
            5,
        )
        assert term.needs_followup is True
        assert audit_events("vocabulary")[-1].entity_id == ids["term"]


def test_the_last_active_term_cannot_be_deactivated(app, admin):
    with app.app_context():
        disclosure = vocab.terms("disclosure")
        for term in disclosure[1:]:
            term.active = False
        db.session.commit()
        last = disclosure[0].id
    response = admin.post(
        f"/admin/vocabularies/terms/{last}", {"label": "主动公开", "sort_order": "0"}
    )
    assert response.status_code == 400
    assert "至少须保留一个启用的词条。" in text(response)
    with app.app_context():
        assert db.session.get(VocabularyTerm, last).active is True


def test_admin_adds_a_contact_channel_and_a_duplicate_code_is_refused(app, admin):
    response = admin.post(
        "/admin/vocabularies/contact_channel/new",
        {"code": "视频会议", "label": "视频会议", "sort_order": "50", "active": "y"},
    )
    assert response.status_code == 302
    with app.app_context():
        assert ("视频会议", "视频会议") in vocab.choices("contact_channel")

    duplicate = admin.post(
        "/admin/vocabularies/contact_channel/new",
        {"code": "电话", "label": "打电话", "sort_order": "1", "active": "y"},
    )
    assert duplicate.status_code == 400
    assert "代码“电话”在该词表中已存在" in text(duplicate)
    with app.app_context():
        assert count(VocabularyTerm, vocabulary="contact_channel", code="电话") == 1


def test_switching_to_the_npc_scheme_offers_d_in_the_reply_form(app, admin, make_proposal):
    proposal_id = make_proposal(sign=True)
    clerk = login_as(app, "clerk")
    before = text(clerk.get(f"/proposals/{proposal_id}"))
    assert '<option value="C">C类</option>' in before
    assert "D类" not in before

    response = admin.post("/admin/vocabularies/scheme", {"scheme": "npc"})
    assert response.status_code == 302
    listing = text(admin.get("/admin/vocabularies"))
    assert "答复类别体系已设为全国人大四级（A/B/C/D）。" in listing
    assert re.search(r"全国人大四级（A/B/C/D）\s*<span class=\"badge ok\">使用中", listing)

    after = text(clerk.get(f"/proposals/{proposal_id}"))
    assert '<option value="D">D类</option>' in after
    with app.app_context():
        assert vocab.classification_scheme() == "npc"
        assert audit_events("setting")[-1].data["new"] == "npc"


# -- deadline policy --------------------------------------------------------------------

POLICY = {
    "reply": "2个月",
    "reply_max": "6个月",
    "co_opinion": "1个月",
    "reassignment_window": "5个工作日",
    "re_answer": "1个月",
    "co_sign": "5个工作日",
    "co_sign_required": "y",
}


def lead_assignment(proposal_id: int) -> Assignment:
    query = db.select(Assignment).filter_by(proposal_id=proposal_id, role="lead")
    return db.session.execute(query).scalar_one()


def test_the_settings_page_shows_the_current_policy(admin, people):
    page = text(admin.get("/admin/settings"))
    assert 'value="3个月"' in page and 'value="5个工作日"' in page
    assert "已交办件的期限不会重新计算" in page


def test_a_shorter_reply_period_applies_to_new_assignments(app, admin, make_proposal):
    old = make_proposal("20260001")  # assigned 2026-03-02 under the default 3 months

    response = admin.post("/admin/settings", POLICY)  # roll_forward unticked
    assert response.status_code == 302
    page = text(admin.get("/admin/settings"))
    assert "答复期限由3个月改为2个月" in page and 'value="2个月"' in page
    with app.app_context():
        assert settings.get_setting(settings.POLICY_SETTING)["reply"] == "2 months"
        assert current.deadline_policy().roll_forward is False

    no_roll = make_proposal("20260002")
    with app.app_context():
        assert lead_assignment(no_roll).due_on == date(2026, 5, 2)  # a Saturday, May Day
    assert "2026年5月2日" in text(admin.get(f"/proposals/{no_roll}"))

    assert admin.post("/admin/settings", {**POLICY, "roll_forward": "y"}).status_code == 302
    rolled = make_proposal("20260003")
    with app.app_context():
        assert lead_assignment(rolled).due_on == date(2026, 5, 6)  # first working day after
        assert lead_assignment(no_roll).due_on == date(2026, 5, 2)  # not recomputed
        assert lead_assignment(old).due_on == date(2026, 6, 2)  # not recomputed
        assert [e.action for e in audit_events("setting")] == ["setting_update"] * 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reply": "三个星期"}, "无法识别的期限：“三个星期”"),
        ({"reply": "7个月"}, "延期后最长答复期限（6个月）不能短于答复期限（7个月）"),
        ({"reply_max": "1天"}, "延期后最长答复期限（1天）不能短于答复期限（2个月）"),
        ({"reply_max": "40个工作日"}, "延期后最长答复期限（40个工作日）不能短于答复期限（2个月）"),
        ({"reassignment_window": ""}, "请填写期限。"),
    ],
)
def test_a_bad_period_is_shown_and_nothing_is_saved(app, admin, changes, message):
    response = admin.post("/admin/settings", {**POLICY, **changes})
    assert response.status_code == 400
    assert message in text(response)
    with app.app_context():
        assert settings.get_setting(settings.POLICY_SETTING) is None
        assert current.deadline_policy().reply == Period(3, MONTHS)
        assert audit_events("setting") == []


# -- working-day calendar ---------------------------------------------------------------

SPRING_FESTIVAL_2027 = """
2027-02-05~2027-02-13 休 春节
2027-02-20 班 春节调休
"""


def test_bulk_entered_2027_holidays_make_2027_deadlines_exact(app, admin, make_proposal):
    listing = text(admin.get("/admin/calendar"))
    assert "未覆盖：按周一至周五计算，相关期限将显示警告" in row(listing, "2027年")
    assert "官方数据" in row(listing, "2026年")
    assert "官方数据" in row(listing, "2004年")

    guessed = make_proposal("20270001", assigned_on=date(2027, 1, 6))
    with app.app_context():
        co = one(Assignment, proposal_id=guessed, role="co")
        # 1 month -> Sat 6 Feb, rolled forward on Mon-Fri alone -> Mon 8 Feb
        assert (co.due_on, co.due_estimated) == (date(2027, 2, 8), True)

    response = admin.post("/admin/calendar/2027", {"lines": SPRING_FESTIVAL_2027})
    assert response.status_code == 302
    page = text(admin.get(response.headers["Location"]))
    assert "已保存2027年工作日历：新增10天，修改0天。" in page
    line = row(page, "2027-02-20")
    assert "周六" in line and "上班" in line and "春节调休" in line
    assert "放假9天，调休上班1天" in row(text(admin.get("/admin/calendar")), "2027年")

    with app.app_context():
        calendar = settings.work_calendar()
        assert not calendar.is_workday(date(2027, 2, 5))  # Friday, entered as holiday
        assert not calendar.is_workday(date(2027, 2, 8))  # Monday, entered as holiday
        assert calendar.is_workday(date(2027, 2, 20))  # Saturday, make-up working day
        assert calendar.is_workday(date(2027, 2, 15))  # Monday after the holiday
        assert not calendar.is_workday(date(2027, 2, 21))  # an ordinary Sunday
        assert calendar.is_covered(2027)
        assert audit_events("calendar")[-1].action == "calendar_enter"

    exact = make_proposal("20270002", assigned_on=date(2027, 1, 6))
    with app.app_context():
        lead = lead_assignment(exact)
        co = one(Assignment, proposal_id=exact, role="co")
        assert (lead.due_on, lead.due_estimated) == (date(2027, 4, 6), False)
        # Sat 6 Feb .. Sun 14 Feb are off -> Mon 15 Feb
        assert (co.due_on, co.due_estimated) == (date(2027, 2, 15), False)
    assert "无官方日历数据" not in text(admin.get(f"/proposals/{exact}"))
    assert "无官方日历数据" in text(admin.get(f"/proposals/{guessed}"))


def test_deleting_a_calendar_row(app, admin, ids):
    admin.post("/admin/calendar/2027", {"lines": "2027-02-20 班 春节调休"})
    with app.app_context():
        day_id = one(CalendarDay, day=date(2027, 2, 20)).id
        assert settings.work_calendar().is_workday(date(2027, 2, 20))
    response = admin.post(f"/admin/calendar/days/{day_id}/delete")
    assert response.status_code == 302
    assert "已删除2027年2月20日。" in text(admin.get(response.headers["Location"]))
    with app.app_context():
        assert count(CalendarDay, day=date(2027, 2, 20)) == 0
        assert not settings.work_calendar().is_workday(date(2027, 2, 20))
        assert audit_events("calendar")[-1].action == "calendar_delete"


def test_a_bulk_entry_with_a_bad_line_saves_nothing_and_names_the_line(app, admin, people):
    lines = "\n".join(
        [
            "2027-02-05 休 春节",
            "2027-02-06 假",
            "2027-02-30 休",
            "2027-02-20 上班",
            "2026-10-01 休 国庆",
            "2027-02-21 放",
            "2027-02-07~2027-02-05 休",
            "2027-02-09",
            "二月八日 休",
        ]
    )
    response = admin.post("/admin/calendar/2027", {"lines": lines})
    assert response.status_code == 400
    page = text(response)
    assert "有6处错误，本次录入未保存任何内容" in page
    assert "第3行：日期无效" in page
    assert "第5行：日期不在2027年内" in page
    assert "第6行：“放”应为“休”（放假）或“班”（调休上班）" in page
    assert "第7行：结束日期早于开始日期" in page
    assert "第8行：格式无法识别" in page
    assert "第9行：日期无效（“二月八日”" in page
    assert "第1行" not in page and "第2行" not in page and "第4行" not in page
    assert "2027-02-30 休" in page  # what was typed stays in the box
    with app.app_context():
        assert count(CalendarDay) == 0
        assert audit_events("calendar") == []
        assert not settings.work_calendar().is_covered(2027)


def test_the_same_date_twice_is_refused(app, admin, people):
    response = admin.post(
        "/admin/calendar/2027", {"lines": "2027-02-05~2027-02-13 休\n2027-02-13 班"}
    )
    assert response.status_code == 400
    assert "第2行：2027-02-13与第1行重复" in text(response)
    with app.app_context():
        assert count(CalendarDay) == 0
