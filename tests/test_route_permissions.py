"""Every registered route, for every role and for anonymous visitors, against a written table.

A route added without a row here fails `test_every_route_has_a_rule`. POSTs send only the
CSRF token: a permitted user gets a form error (400) or, for button-only actions, the
action's redirect (302); everyone else gets 403. Anonymous visitors are sent to the login
page.

The API's routes (endpoints ``api.*``) are called as another system calls them: with the
role's personal API token and no CSRF token (a POST sends its row's JSON body from
API_BODIES); without a token (anonymous) they answer 401."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import PASSWORD, proposal_maker

from tracker import current
from tracker.extensions import db
from tracker.models import (
    Assignment,
    CalendarDay,
    Commitment,
    CommitmentUpdate,
    ContactLog,
    CoSignRequest,
    Job,
    LoginThrottle,
    Notification,
    Proposal,
    ReplyLetter,
    User,
    VocabularyTerm,
)
from tracker.services import drafting, users
from tracker.services import proposals as svc

pytestmark = pytest.mark.long  # every route for every role

STAFF = ["admin", "liaison", "supervisor", "duban", "clerk", "clerk-health", "clerk-civil"]
# the deputy (代表/委员) 曾志伟, proposer of P1: their own pages, their account and
# notifications, the public replies; every other route answers 403
ROLES = [*STAFF, "deputy"]
ALL = set(STAFF)  # every staff role
EVERYONE = set(ROLES)  # staff and the deputy
DEPUTY = {"deputy"}


def rule(method, path, allowed, ok=200, denied=403, anonymous=302):
    """allowed: roles that may use the route and get `ok`; the rest get `denied`."""
    return (
        method,
        path,
        {r: (ok if r in allowed else denied) for r in ROLES} | {"anonymous": anonymous},
    )


def by_role(method, path, outcomes, anonymous=302):
    return method, path, {**outcomes, "anonymous": anonymous}


HANDLERS_P1 = {"supervisor", "clerk"}  # 广州市教育局, the lead unit of P1
SEES_ALL = {"admin", "liaison", "duban"}
SEES_P1 = ALL - {"clerk-civil"}
ADMIN = {"admin"}
DASHBOARD = {"admin", "liaison", "supervisor", "duban"}
REGISTERS = {"admin", "liaison"}


def api(method, path, allowed, ok=200, denied=403):
    """An API route: the role's token gets `ok` or `denied`; no token, 401."""
    return rule(method, path, allowed, ok=ok, denied=denied, anonymous=401)


NEW_PROPOSAL = {
    "session": "市十六届人大一次会议",
    "kind": "建议",
    "number": "20269001",
    "title": "关于增设社区托育点的建议",
    "lead_proposer": "王敏",
}
API_BODIES = {
    "api.proposal_create": NEW_PROPOSAL,
    "api.proposal_batch_create": {"rows": [NEW_PROPOSAL]},
}

TABLE = {
    "static": by_role("GET", "/static/css/app.css", dict.fromkeys(ROLES, 200), anonymous=200),
    "main.index": rule("GET", "/", EVERYONE, ok=302),
    # the deputy's 我的待办 (where a reminder's e-mail links) is 我的建议
    "main.todo": by_role("GET", "/todo", dict.fromkeys(STAFF, 200) | {"deputy": 302}),
    "auth.login": by_role("GET", "/login", dict.fromkeys(ROLES, 302), anonymous=200),
    "health.healthz": by_role("GET", "/healthz", dict.fromkeys(ROLES, 200), anonymous=200),
    "auth.logout": rule("POST", "/logout", EVERYONE, ok=302),
    "auth.password": rule("GET", "/account/password", EVERYONE),
    "auth.session_list": rule("GET", "/account/sessions", EVERYONE),
    # ending another user's (or no) session: not found, for everyone
    "auth.session_end": rule("POST", "/account/sessions/999999/end", set(), denied=404),
    "auth.session_end_all": rule("POST", "/account/sessions/end-all", EVERYONE, ok=302),
    "proposals.index": rule("GET", "/proposals", ALL),
    "proposals.detail": rule("GET", "/proposals/{p1}", SEES_P1),
    "proposals.new": rule("GET", "/proposals/new", {"admin", "liaison"}),
    # 更正登记信息: those who may register (a POST without the number is a form error)
    "proposals.edit": rule("GET", "/proposals/{p1}/edit", {"admin", "liaison"}),
    # 批量导入: the liaison, the coordinating office and the admin; a token not the user's
    # (or none at all) is sent back to the upload page
    "proposals.batch": rule("GET", "/proposals/batch", SEES_ALL),
    "proposals.batch#post": rule("POST", "/proposals/batch", SEES_ALL, ok=400),
    "proposals.batch_preview": rule("GET", f"/proposals/batch/{'0' * 32}", SEES_ALL, ok=302),
    "proposals.batch_preview#bad-token": rule("GET", "/proposals/batch/..etc", SEES_ALL, ok=302),
    "proposals.batch_confirm": rule("POST", f"/proposals/batch/{'0' * 32}", SEES_ALL, ok=302),
    "proposals.edit#post": rule("POST", "/proposals/{p1}/edit", {"admin", "liaison"}, ok=400),
    "proposals.assign": rule("POST", "/proposals/{p1}/assign", {"admin", "duban"}, ok=400),
    # P1's lead assignment is already signed for: a handler is told so (400)
    "proposals.sign": rule("POST", "/assignments/{lead}/sign", HANDLERS_P1, ok=400),
    "proposals.reassign_request": rule("POST", "/assignments/{lead}/reassign", HANDLERS_P1, ok=400),
    "proposals.reassign_decide": rule(
        "POST", "/assignments/{lead}/reassign/decide", {"admin", "duban"}, ok=400
    ),
    "proposals.contact": rule(
        "POST", "/proposals/{p1}/contacts", HANDLERS_P1 | {"clerk-health"}, ok=400
    ),
    "proposals.opinion": rule("POST", "/assignments/{co}/opinion", {"clerk-health"}, ok=400),
    "proposals.reply": rule("POST", "/assignments/{lead}/reply", HANDLERS_P1, ok=400),
    "proposals.rating": rule("POST", "/proposals/{p1}/rating", {"admin", "liaison"}, ok=400),
    "proposals.extension_request": rule(
        "POST", "/assignments/{lead}/extension", HANDLERS_P1, ok=400
    ),
    "proposals.extension_decide": rule(
        "POST", "/extensions/{ext}/decide", {"supervisor", "duban"}, ok=400
    ),
    # the reply corpus: a 不予公开 letter stays in its unit; the review queue is for see-all roles
    "replies.search_view": rule("GET", "/search?q=心理", ALL),
    "replies.letter": rule("GET", "/letters/{secret}", HANDLERS_P1 | SEES_ALL),
    "replies.review": rule("GET", "/letters/review", SEES_ALL),
    "replies.review_letter": rule("POST", "/letters/{public}/review", SEES_ALL, ok=400),
    # 导入答复函: the see-all roles upload; a job's report is its uploader's and the admin's
    "imports.index": rule("GET", "/imports", SEES_ALL),
    "imports.index#post": rule("POST", "/imports", SEES_ALL, ok=400),
    "imports.job": rule("GET", "/imports/{job}", {"liaison", "admin"}),
    "imports.status": rule("GET", "/imports/{job}/status", {"liaison", "admin"}),
    "public.index": by_role("GET", "/public/?q=心理", dict.fromkeys(ROLES, 200), anonymous=200),
    "public.letter": by_role(
        "GET", "/public/letters/{secret}", dict.fromkeys(ROLES, 404), anonymous=404
    ),
    "public.letter#published": by_role(
        "GET", "/public/letters/{public}", dict.fromkeys(ROLES, 200), anonymous=200
    ),
    # the reply letter: its unit drafts; see-all roles read; the unit's supervisor signs off
    "drafting.start": rule("POST", "/proposals/{p1}/draft", HANDLERS_P1, ok=302),
    "drafting.edit": rule("GET", "/letters/{draft}/edit", HANDLERS_P1 | SEES_ALL),
    "drafting.preview": rule("POST", "/letters/{draft}/preview", HANDLERS_P1 | SEES_ALL),
    "drafting.versions": rule("GET", "/letters/{draft}/versions", HANDLERS_P1 | SEES_ALL),
    "drafting.compare": rule("GET", "/letters/{draft}/compare?a=1&b=1", HANDLERS_P1 | SEES_ALL),
    "drafting.submit": rule("POST", "/letters/{draft}/submit", HANDLERS_P1, ok=302),
    "drafting.approve": rule("POST", "/letters/{draft}/approve", {"supervisor"}, ok=302),
    "drafting.return_": rule("POST", "/letters/{draft}/return", {"supervisor"}, ok=302),
    "drafting.issue": rule("POST", "/letters/{draft}/issue", HANDLERS_P1, ok=302),
    # 会签: the co-unit asked (卫健委) reads the letter and decides (a POST without the
    # decision is a form error); the lead unit has the editor; others see nothing
    "drafting.cosign_letter": rule("GET", "/letters/{cosigning}/cosign", {"clerk-health"}),
    "drafting.cosign_letter#post": rule(
        "POST", "/letters/{cosigning}/cosign", {"clerk-health"}, ok=400
    ),
    "drafting.publish": rule("POST", "/letters/{draft}/publish", HANDLERS_P1, ok=302),
    "replies.export": rule("GET", "/letters/{public}/export/html", ALL),
    "replies.disclosure": rule(
        "POST", "/letters/{secret}/disclosure", HANDLERS_P1 | SEES_ALL, ok=302
    ),
    "public.export": by_role(
        "GET", "/public/letters/{public}/export/html", dict.fromkeys(ROLES, 200), anonymous=200
    ),
    "public.export#unpublished": by_role(
        "GET", "/public/letters/{secret}/export/html", dict.fromkeys(ROLES, 404), anonymous=404
    ),
    # commitments: the owning unit handles; see-all roles read; other units see nothing
    "commitments.index": rule("GET", "/commitments", ALL),
    "commitments.export": rule("GET", "/commitments/export.csv", ALL),
    "commitments.detail": rule("GET", "/commitments/{cm}", HANDLERS_P1 | SEES_ALL),
    "commitments.confirm": rule("POST", "/commitments/{cand}/confirm", HANDLERS_P1, ok=400),
    "commitments.edit": rule("POST", "/commitments/{cm}/edit", HANDLERS_P1, ok=400),
    "commitments.add_update": rule("POST", "/commitments/{cm}/updates", HANDLERS_P1, ok=400),
    "commitments.set_status": rule("POST", "/commitments/{cm}/status", HANDLERS_P1, ok=400),
    "commitments.report_back": rule("POST", "/commitments/{cm}/report", HANDLERS_P1, ok=400),
    "commitments.evidence": rule(
        "GET", "/commitment-updates/{upd}/evidence", HANDLERS_P1 | SEES_ALL
    ),
    "commitments.review": rule("GET", "/letters/{public}/commitments", HANDLERS_P1 | SEES_ALL),
    "commitments.review#post": rule("POST", "/letters/{public}/commitments", HANDLERS_P1, ok=400),
    # list exports: the list's scope; an unknown format is not found
    "proposals.export": rule("GET", "/proposals/export.xlsx", ALL),
    "proposals.export#csv": rule("GET", "/proposals/export.csv?status=handling", ALL),
    "proposals.export#unknown-format": by_role(
        "GET", "/proposals/export.pdf", dict.fromkeys(STAFF, 404) | {"deputy": 403}
    ),
    "replies.search_export": rule("GET", "/search/export.xlsx?q=心理", ALL),
    "replies.search_export#csv": rule("GET", "/search/export.csv?q=心理", ALL),
    "replies.search_export#no-query": by_role(
        "GET", "/search/export.xlsx", dict.fromkeys(STAFF, 400) | {"deputy": 403}
    ),
    # in-app reminders: everyone reads their own; another user's notification is not found
    "notifications.index": rule("GET", "/notifications", EVERYONE),
    "notifications.open": by_role(
        "GET", "/notifications/{notice}/open", dict.fromkeys(ROLES, 404) | {"clerk": 302}
    ),
    "notifications.open#missing": by_role(
        "GET", "/notifications/999999/open", dict.fromkeys(ROLES, 404)
    ),
    "notifications.read_all": rule("POST", "/notifications/read-all", EVERYONE, ok=302),
    # 督办统计: supervisors (their own unit), the coordinating office, liaisons and the admin
    "dashboard.index": rule("GET", "/dashboard", DASHBOARD),
    "dashboard.index#own-unit": rule("GET", "/dashboard?unit={unit_id}", DASHBOARD),
    "dashboard.items": rule("GET", "/dashboard/items?metric=late", DASHBOARD),
    "dashboard.export": rule("GET", "/dashboard/export.xlsx", DASHBOARD),
    "dashboard.items_export": rule("GET", "/dashboard/items/export.csv?metric=late", DASHBOARD),
    # 考评: as 督办统计 (a unit's supervisor sees their own unit's row and items); the
    # coordinating office and the admin finalize a year; the admin edits the scheme
    "assessment.index": rule("GET", "/dashboard/assessment?year=2025", DASHBOARD),
    "assessment.export": rule("GET", "/dashboard/assessment/export.xlsx", DASHBOARD),
    "assessment.items": rule(
        "GET", "/dashboard/assessment/items?kind=contact_before&unit={unit_id}", DASHBOARD
    ),
    "assessment.finalize": rule(
        "POST", "/dashboard/assessment/2020/finalize", {"admin", "duban"}, ok=302
    ),
    "assessment.scheme": rule("GET", "/admin/assessment", ADMIN),
    "assessment.scheme#post": rule("POST", "/admin/assessment", ADMIN, ok=400),
    # administration: the admin alone
    "admin.index": rule("GET", "/admin/", ADMIN, ok=302),
    "admin.users": rule("GET", "/admin/users", ADMIN),
    "admin.user_new": rule("POST", "/admin/users/new", ADMIN, ok=400),
    "admin.user_edit": rule("POST", "/admin/users/{clerk_id}", ADMIN, ok=400),
    "admin.user_password": rule("POST", "/admin/users/{clerk_id}/password", ADMIN, ok=400),
    "admin.login_unlock": rule("POST", "/admin/login-locks/{lock}/unlock", ADMIN, ok=302),
    "admin.units": rule("GET", "/admin/units", ADMIN),
    "admin.unit_new": rule("POST", "/admin/units/new", ADMIN, ok=400),
    "admin.unit_edit": rule("POST", "/admin/units/{unit_id}", ADMIN, ok=400),
    "admin.vocabularies": rule("GET", "/admin/vocabularies", ADMIN),
    "admin.vocab_scheme": rule("POST", "/admin/vocabularies/scheme", ADMIN, ok=400),
    "admin.term_edit": rule("POST", "/admin/vocabularies/terms/{term_id}", ADMIN, ok=400),
    "admin.term_new": rule("POST", "/admin/vocabularies/contact_channel/new", ADMIN, ok=400),
    "admin.settings": rule("POST", "/admin/settings", ADMIN, ok=400),
    "admin.calendar": rule("GET", "/admin/calendar", ADMIN),
    "admin.calendar_year": rule("POST", "/admin/calendar/2027", ADMIN, ok=400),
    "admin.calendar_day_delete": rule(
        "POST", "/admin/calendar/days/{day_id}/delete", ADMIN, ok=302
    ),
    # personal API tokens: everyone their own; another user's (or no) token is not found
    "auth.token_list": rule("GET", "/account/tokens", ALL),
    "auth.token_create": rule("POST", "/account/tokens/new", ALL, ok=400),
    "auth.token_revoke": by_role(
        "POST", "/account/tokens/999999/revoke", dict.fromkeys(STAFF, 404) | {"deputy": 403}
    ),
    # the API, with the role's token: the scope of the pages it mirrors (a deputy has no
    # token, and their signed-in session reaches no API route)
    "api.units": api("GET", "/api/v1/units", ALL),
    "api.proposal_list": api("GET", "/api/v1/proposals?overdue=true", ALL),
    "api.proposal_detail": api("GET", "/api/v1/proposals/{p1}", SEES_P1),
    "api.proposal_create": api("POST", "/api/v1/proposals", REGISTERS, ok=201),
    # a 交办清单 pushed by the congress office's system: those who may 批量导入
    "api.proposal_batch_create": api("POST", "/api/v1/proposals/batch?dry_run=true", SEES_ALL),
    "api.letter_list": api("GET", "/api/v1/letters?updated_since=2020-01-01T00:00:00Z", ALL),
    "api.letter_detail": api("GET", "/api/v1/letters/{secret}", HANDLERS_P1 | SEES_ALL),
    "api.letter_detail#public": api("GET", "/api/v1/letters/{public}", ALL),
    "api.letter_export": api("GET", "/api/v1/letters/{public}/export/docx", ALL),
    "api.letter_export#secret": api(
        "GET", "/api/v1/letters/{secret}/export/pdf", HANDLERS_P1 | SEES_ALL
    ),
    "api.search_letters": api("GET", "/api/v1/search?q=心理", ALL),
    "api.commitment_list": api("GET", "/api/v1/commitments?status=open", ALL),
    "api.commitment_detail": api("GET", "/api/v1/commitments/{cm}", HANDLERS_P1 | SEES_ALL),
    # a candidate is not a commitment yet: the API does not show it
    "api.commitment_detail#candidate": by_role(
        "GET",
        "/api/v1/commitments/{cand}",
        dict.fromkeys(STAFF, 404) | {"deputy": 403},
        anonymous=401,
    ),
    # the contract is public: it describes the API and holds no data
    "api_docs.openapi": by_role(
        "GET", "/api/v1/openapi.json", dict.fromkeys(ROLES, 200), anonymous=200
    ),
    "api_docs.reference": by_role("GET", "/api/v1/docs", dict.fromkeys(ROLES, 200), anonymous=200),
    # 我的建议: the deputy alone, and only their own proposals (another's is not found)
    "deputy.index": rule("GET", "/my/", DEPUTY),
    "deputy.detail": rule("GET", "/my/proposals/{p1}", DEPUTY),
    "deputy.detail#not-theirs": by_role(
        "GET", "/my/proposals/{other}", dict.fromkeys(STAFF, 403) | {"deputy": 404}
    ),
    "deputy.contact": rule("POST", "/my/contacts/{contact}", DEPUTY, ok=400),
    "deputy.rate": rule("GET", "/my/proposals/{p1}/rate", DEPUTY),
    "deputy.rate#post": rule("POST", "/my/proposals/{p1}/rate", DEPUTY, ok=400),
    # a 不予公开 reply is addressed to the deputy: they read it
    "deputy.letter": rule("GET", "/my/letters/{to_deputy}", DEPUTY),
}


def api_token(username: str) -> str:
    """A new personal API token of this user (inside an app context)."""
    from tracker.services import api_tokens

    user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one()
    token = api_tokens.create(user, name="对接测试", last_day=None, today=current.today()).token
    db.session.commit()
    return token


def call(browser, endpoint: str, method: str, url: str, token: str | None):
    """A request as the table's row makes it: the API with the role's token (None: none),
    pages with the browser's session and CSRF token."""
    if endpoint.startswith("api."):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return browser.client.open(
            url, method=method, headers=headers, json=API_BODIES.get(endpoint.split("#")[0])
        )
    if method == "GET":
        return browser.client.get(url)
    return browser.client.post(url, data={"csrf_token": browser.token()})


ENDS_SESSION = ("auth.logout", "auth.session_end_all")  # each signs the user out


@pytest.fixture
def world(app, people, template):
    """An item of every kind (build_world), built once in the session: the test's database
    is a copy of the world's template (conftest.standard_template); an app of other
    settings builds it."""
    if isinstance(template.data, dict) and "p1" in template.data:
        return dict(template.data)
    return build_world(app)


def build_world(app) -> dict[str, int]:
    """P1: lead 广州市教育局, co 广州市卫生健康委员会, with a pending extension request."""
    make_proposal = proposal_maker(app)
    p1 = make_proposal("20262001", assigned_on=date(2026, 3, 2), sign=True)
    p2_id = make_proposal("20262002", sign=True)
    with app.app_context():
        lead, co = db.session.execute(
            db.select(Assignment).where(Assignment.proposal_id == p1).order_by(Assignment.id)
        ).scalars()
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        # signed for a while ago (pressing 签收 again right after one's own sign-for is a
        # double submit, answered as a success)
        lead.signed_for_at -= timedelta(hours=1)
        ext = svc.request_extension(
            clerk, lead, requested_due_on=date(2026, 7, 31), reason="需会同规划部门现场调研"
        )
        db.session.commit()
        ids = {
            "p1": p1,
            "lead": lead.id,
            "co": co.id,
            "ext": ext.id,
            "clerk_id": clerk.id,
            "unit_id": clerk.unit_id,
        }
        ids["term_id"] = db.session.execute(db.select(VocabularyTerm.id)).scalars().first()
        day = CalendarDay(day=date(2027, 1, 1), is_workday=False, note="元旦")
        db.session.add(day)
        # two imported replies of 广州市教育局: one 主动公开, one 不予公开
        for key, disclosure, number in (("public", "主动公开", 119), ("secret", "不予公开", 120)):
            letter = ReplyLetter(
                status="imported",
                title=f"答复函{number}",
                unit_id=clerk.unit_id,
                issuer="广州市教育局",
                disclosure=disclosure,
                body="心理健康教育工作",
                source_file=f"{key}.txt",
                doc_number=f"穗教案〔2022〕{number}号",
            )
            db.session.add(letter)
            db.session.flush()
            ids[key] = letter.id
        ids["day_id"] = day.id
        notice = Notification(
            user_id=clerk.id, key="test:1:2026-06-15", text="提醒", url=f"/proposals/{p1}"
        )
        db.session.add(notice)
        db.session.flush()
        ids["notice"] = notice.id
        ids["draft"] = drafting.start_draft(
            clerk, db.session.get(Proposal, p1), today=current.today()
        ).id
        # a second proposal's draft, sent to its co-unit 卫健委 for 会签
        p2 = db.session.get(Proposal, p2_id)
        health = next(a.unit for a in p2.assignments if a.is_co)
        cosigning = ReplyLetter(
            proposal=p2, unit_id=clerk.unit_id, status="cosigning", title="会签中的答复函"
        )
        db.session.add(
            CoSignRequest(letter=cosigning, unit=health, letter_version=1, due_on=date(2026, 6, 23))
        )
        db.session.flush()
        ids["cosigning"] = cosigning.id
        # a confirmed commitment with a file as evidence, and a candidate, of the public reply
        for key, status in (("cm", "open"), ("cand", "candidate")):
            commitment = Commitment(
                letter_id=ids["public"],
                unit_id=clerk.unit_id,
                text=f"今年底全市中小学专任教师持C证率达到80%（{key}）",
                due_on=date(2026, 12, 31),
                status=status,
            )
            db.session.add(commitment)
            db.session.flush()
            ids[key] = commitment.id
        evidence = Path(app.config["UPLOAD_DIR"]) / "commitments" / "e1" / "通报.pdf"
        evidence.parent.mkdir(parents=True)
        evidence.write_bytes(b"%PDF-1.4")
        update = CommitmentUpdate(
            commitment_id=ids["cm"],
            noted_on=date(2026, 6, 1),
            note="已完成培训",
            evidence_file="commitments/e1/通报.pdf",
        )
        db.session.add(update)
        db.session.flush()
        ids["upd"] = update.id
        liaison = db.session.execute(db.select(User).filter_by(username="liaison")).scalar_one()
        job = Job(kind="import_letters", owner=liaison, status="done", params={"files": []})
        db.session.add(job)
        db.session.flush()
        ids["job"] = job.id
        lock = LoginThrottle(
            scope="address", key="198.51.100.7", failures=30, locked_until=datetime(2099, 1, 1)
        )
        db.session.add(lock)
        db.session.flush()
        ids["lock"] = lock.id
        # the deputy 曾志伟 (P1's proposer), a contact logged with them, a 不予公开 reply
        # sent to them, and a proposal of someone else
        deputy = users.create_user(
            None,
            username="deputy",
            password=PASSWORD,
            role="deputy",
            deputy_name="曾志伟",
            display_name="曾志伟",
        )
        p1 = db.session.get(Proposal, ids["p1"])
        contact = ContactLog(
            proposal=p1,
            unit_id=clerk.unit_id,
            contacted_on=date(2026, 4, 28),
            channel="电话",
            phase="during",
            logged_by_id=clerk.id,
        )
        to_deputy = ReplyLetter(
            proposal=p1,
            unit_id=clerk.unit_id,
            status="issued",
            title="不予公开的答复",
            disclosure="不予公开",
            issued_on=date(2026, 6, 1),
        )
        db.session.add_all([contact, to_deputy])
        db.session.flush()
        ids.update(contact=contact.id, to_deputy=to_deputy.id, deputy_id=deputy.id)
        db.session.commit()
    ids["other"] = make_proposal("20262003", proposer="王芳", lead=None)
    return ids


def test_every_route_has_a_rule(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    listed = {name.split("#")[0] for name in TABLE}
    missing = sorted(endpoints - listed)
    assert missing == [], f"routes without a permission rule: {missing}"


def _token(browser, role):
    """A CSRF token from a page the role opens (a deputy's 我的待办 is a redirect)."""
    if role == "deputy":
        browser.get("/my/")
    return browser.token()


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_route_outcomes(app, browser, world, role):
    if role != "anonymous":
        assert browser.login(role).status_code == 302
    token = _token(browser, role)
    with app.app_context():
        bearer = None if role in ("anonymous", "deputy") else api_token(role)
    failures = []
    for endpoint, (method, path, outcomes) in TABLE.items():
        if endpoint in ENDS_SESSION:
            continue  # checked below
        url = path.format(**world)
        response = call(browser, endpoint, method, url, bearer)
        response.close()
        expected = outcomes[role]
        if response.status_code != expected:
            failures.append(f"{endpoint} {method} {url}: {response.status_code} != {expected}")
        if role == "anonymous" and expected == 302:
            assert "/login" in response.location
    assert failures == []
    for endpoint in ENDS_SESSION:
        if role != "anonymous":
            browser.login(role)
            token = _token(browser, role)
        method, path, outcomes = TABLE[endpoint]
        response = browser.client.post(path, data={"csrf_token": token})
        assert response.status_code == outcomes[role], endpoint


def test_post_without_csrf_token_is_refused(app, browser, world):
    browser.login("clerk-health")
    response = browser.client.post(
        f"/assignments/{world['co']}/opinion",
        data={"opinion-text": "同意主办单位意见", "opinion-opinion_on": "2026-04-01"},
    )
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Assignment, world["co"]).opinion_text is None
