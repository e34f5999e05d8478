"""The JSON API (issue 13, point 2): personal API tokens made and revoked on the account
page, each acting as its user; no session cookie or CSRF; problem details; a per-token rate
limit shared by every worker; changes since a time; and the public OpenAPI 3.1 document
with its reference page (point 3)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import close, new_app
from test_route_permissions import api_token, world  # noqa: F401 (world is a fixture)
from test_search_views import corpus  # noqa: F401 (a fixture)

from tracker import current
from tracker.extensions import db
from tracker.models import ApiToken, Commitment, Proposal, User
from tracker.services import commitments, search
from tracker.services import proposals as svc

TOKEN_RE = re.compile(r"trk_[0-9a-f]{8}_[\w-]{43}")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token_of(app, people):
    """A personal API token of the named standard user, made as the account page makes it."""

    def make(username: str) -> str:
        with app.app_context():
            return api_token(username)

    return make


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert re.search(r"[\u4e00-\u9fff]", body["title"]), body  # a Chinese title
    return body


def _api_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")]


def _sample_url(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?fmt>", "docx", re.sub(r"<int:\w+>", "1", rule.rule))


# -- tokens on the account page ---------------------------------------------------------------


def test_a_request_reads_its_token_user_and_unit_once_before_the_view(app, token_of):
    """Authentication is one query for the token with its user and unit, the rate limit's
    UPDATE (committed), and the user read back in one query: five statements before, as the
    commit expired the token and user and each was read back on its own."""
    from sqlalchemy import event

    token = token_of("clerk")
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's, not the ORM's
            statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        response = app.test_client().get("/api/v1/proposals", headers=bearer(token))
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200
    first_of_view = next(i for i, s in enumerate(statements) if "FROM proposal" in s)
    before = statements[:first_of_view]
    assert len(before) == 3, before
    assert before[0].startswith("SELECT api_token.") and re.search(
        r'JOIN "?user"? .*JOIN unit', before[0]
    )
    assert before[1].startswith("UPDATE api_token SET")
    assert re.match(r'SELECT "?user"?\.id\b.* JOIN unit ', before[2]), before[2]


def test_a_query_strings_schema_is_built_once_not_per_request(app, token_of, monkeypatch):
    """flask-openapi3 reads the query model's JSON Schema on every request (which fields are
    lists); Pydantic built it anew each time, 0.2–0.65 ms of a list request. It is the
    schema Pydantic builds, and later requests build none."""
    from pydantic import BaseModel
    from pydantic.json_schema import GenerateJsonSchema

    from tracker.api import schemas

    for model in (schemas.ProposalQuery, schemas.SearchQueryArgs, schemas.BatchQuery):
        assert model.model_json_schema() == BaseModel.model_json_schema.__func__(model)
    token = token_of("liaison")
    client = app.test_client()
    urls = ["/api/v1/proposals?page=2&kind=建议", "/api/v1/commitments", "/api/v1/letters"]
    for url in urls:
        assert client.get(url, headers=bearer(token)).status_code == 200
    built = []
    generate = GenerateJsonSchema.generate
    monkeypatch.setattr(
        GenerateJsonSchema,
        "generate",
        lambda self, *a, **k: built.append(1) or generate(self, *a, **k),
    )
    for url in urls:
        response = client.get(url, headers=bearer(token))
        assert response.status_code == 200 and response.get_json()["page"] in (1, 2)
    assert built == []
    # the document still describes the query strings, built with its own arguments
    document = client.get("/api/v1/openapi.json").get_json()
    names = {p["name"] for p in document["paths"]["/api/v1/proposals"]["get"]["parameters"]}
    assert {"page", "per_page", "q", "kind", "unit", "overdue"} <= names


def test_a_token_is_made_on_the_account_page_shown_once_and_kept_as_a_hash(app, browser, people):
    browser.login("clerk")
    page = browser.get("/account/tokens").get_data(as_text=True)
    assert "新建令牌" in page and "还没有令牌" in page
    response = browser.post(
        "/account/tokens/new", {"name": "人大代表建议系统对接", "expires_on": "2026-12-31"}
    )
    assert response.status_code == 200  # the page itself, not a redirect: nothing to keep it
    shown = TOKEN_RE.findall(response.get_data(as_text=True))
    assert len(shown) == 1
    token = shown[0]
    assert "离开此页后将无法再次查看" in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.execute(db.select(ApiToken)).scalar_one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.prefix, row.name, row.token_hash)
        assert token.startswith(row.prefix + "_")
        assert row.user.username == "clerk"
        # valid through 31 December in Beijing: until midnight, 16:00 UTC
        assert row.expires_at.replace(tzinfo=UTC) == datetime(2026, 12, 31, 16, tzinfo=UTC)
    # never shown again: the list names it by its prefix only
    again = browser.get("/account/tokens").get_data(as_text=True)
    assert token not in again and row.prefix in again and "人大代表建议系统对接" in again
    assert "2026-12-31" in again
    # and it works
    assert browser.client.get("/api/v1/units", headers=bearer(token)).status_code == 200


def test_a_token_without_a_name_or_expired_before_today_is_refused(app, browser, people):
    browser.login("clerk")
    response = browser.post("/account/tokens/new", {"name": ""})
    assert response.status_code == 400
    assert "请填写令牌用途" in response.get_data(as_text=True)
    response = browser.post("/account/tokens/new", {"name": "旧系统", "expires_on": "2026-06-01"})
    assert response.status_code == 400
    assert "有效期不能早于今天" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(ApiToken)).first() is None


def test_a_revoked_token_is_refused_at_once(app, browser, people):
    browser.login("liaison")
    token = TOKEN_RE.search(
        browser.post("/account/tokens/new", {"name": "政协提案系统"}).get_data(as_text=True)
    ).group(0)
    assert browser.client.get("/api/v1/proposals", headers=bearer(token)).status_code == 200
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    response = browser.post(f"/account/tokens/{token_id}/revoke")
    assert response.status_code == 302
    assert "已撤销" in browser.get("/account/tokens").get_data(as_text=True)
    body = _problem(browser.client.get("/api/v1/proposals", headers=bearer(token)), 401)
    assert "已撤销" in body["detail"]


def test_another_users_token_cannot_be_revoked(app, browser, token_of):
    token_of("clerk")
    with app.app_context():
        token_id = db.session.execute(db.select(ApiToken.id)).scalar_one()
    browser.login("clerk-civil")
    assert browser.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_an_expired_token_or_a_deactivated_users_token_is_refused(app, client_token_pair):
    client, token = client_token_pair
    with app.app_context():
        row = db.session.execute(db.select(ApiToken)).scalar_one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert "已过期" in _problem(client.get("/api/v1/units", headers=bearer(token)), 401)["detail"]
    with app.app_context():
        row = db.session.execute(db.select(ApiToken)).scalar_one()
        row.expires_at = None
        row.user.active = False
        db.session.commit()
    assert "停用" in _problem(client.get("/api/v1/units", headers=bearer(token)), 401)["detail"]


@pytest.fixture
def client_token_pair(app, token_of):
    return app.test_client(), token_of("clerk")


# -- no route without a token; no cookie, no CSRF -------------------------------------------


def test_no_api_route_answers_without_a_token(app, people):
    client = app.test_client()
    rules = _api_rules(app)
    assert len(rules) >= 9
    for rule in rules:
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            url = _sample_url(rule)
            for headers in ({}, {"Authorization": "Bearer trk_00000000_wrong"}, bearer("x")):
                response = client.open(url, method=method, headers=headers, json={})
                body = _problem(response, 401)
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                assert body["title"] == "未认证"


def test_a_browser_session_does_not_open_the_api(app, browser, people):
    """Signed in on the pages, the same browser still needs a token for the API: a page
    that posted to the API from another site would find nothing to ride on."""
    browser.login("liaison")
    assert browser.get("/proposals").status_code == 200
    response = browser.client.get("/api/v1/proposals")
    _problem(response, 401)
    response = browser.client.post(
        "/api/v1/proposals",
        json={"session": "市十六届人大一次会议", "kind": "建议", "number": "1", "title": "t"},
    )
    _problem(response, 401)
    assert "Set-Cookie" not in response.headers


def test_the_api_needs_no_csrf_token_and_sets_no_cookie(app, token_of, make_proposal):
    client = app.test_client()
    token = token_of("liaison")
    response = client.post(
        "/api/v1/proposals",
        headers=bearer(token),
        json={
            "session": "市十六届人大一次会议",
            "kind": "建议",
            "number": "20263001",
            "title": " 关于加强老旧小区加装电梯的建议 ",
            "lead_proposer": "李华",
            "co_signers": ["赵一", "钱二"],
            "submitted_on": "2026-01-20",
            "is_key": True,
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    made = response.get_json()
    assert response.headers["Location"] == f"/api/v1/proposals/{made['id']}"
    assert made["title"] == "关于加强老旧小区加装电梯的建议"
    assert made["status"] == "registered" and made["status_label"] == "待交办"
    with app.app_context():
        row = db.session.get(Proposal, made["id"])
        assert (row.number, row.co_signers, row.is_key) == ("20263001", ["赵一", "钱二"], True)
        assert (
            row.created_by_id
            == db.session.execute(db.select(User.id).filter_by(username="liaison")).scalar_one()
        )


# -- acting as its user ---------------------------------------------------------------------


def test_each_token_sees_what_its_user_sees(app, token_of, make_proposal):
    p1 = make_proposal("20262001")  # 教育局 leads, 卫健委 co-handles
    p2 = make_proposal("20262002", lead="广州市民政局", co=())
    client = app.test_client()

    def listed(username, query=""):
        response = client.get(f"/api/v1/proposals{query}", headers=bearer(token_of(username)))
        assert response.status_code == 200
        return {item["id"] for item in response.get_json()["items"]}

    assert listed("liaison") == {p1, p2}
    assert listed("duban") == {p1, p2}
    assert listed("clerk") == {p1}
    assert listed("clerk-health") == {p1}
    assert listed("clerk-civil") == {p2}
    # the list page's filters
    with app.app_context():
        civil = db.session.execute(
            db.select(User.unit_id).filter_by(username="clerk-civil")
        ).scalar_one()
    assert listed("liaison", f"?unit={civil}") == {p2}
    assert listed("liaison", "?q=心理健康") == {p1, p2}
    assert listed("liaison", "?status=registered") == set()
    # one item: the unit a token's user may not read is refused as on the page
    response = client.get(f"/api/v1/proposals/{p2}", headers=bearer(token_of("clerk")))
    assert _problem(response, 403)["title"] == "没有权限"
    # registering is the liaison's and the admin's
    response = client.post(
        "/api/v1/proposals",
        headers=bearer(token_of("clerk")),
        json={
            "session": "市十六届人大一次会议",
            "kind": "建议",
            "number": "20263002",
            "title": "关于……的建议",
            "lead_proposer": "李华",
        },
    )
    _problem(response, 403)


def test_a_proposal_with_its_units_due_dates_contacts_and_replies(app, token_of, make_proposal):
    p1 = make_proposal("20262001", sign=True)
    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        svc.log_contact(
            clerk,
            db.session.get(Proposal, p1),
            contacted_on=date(2026, 4, 28),
            channel="微信",
            phase="during",
            summary="交流办理思路",
            today=current.today(),
        )
        db.session.commit()
    response = app.test_client().get(f"/api/v1/proposals/{p1}", headers=bearer(token_of("clerk")))
    assert response.status_code == 200
    body = response.get_json()
    assert body["lead_units"] == ["广州市教育局"] and body["co_units"] == ["广州市卫生健康委员会"]
    lead, co = body["assignments"]
    assert (lead["role"], lead["role_label"], lead["assigned_on"]) == ("lead", "主办", "2026-03-02")
    assert lead["due_on"] == body["due_on"]  # 3 months on the official calendar
    assert lead["signed_for_at"] is not None
    # today is 2026-06-15: the co-handling opinion (due 1 month after 2 March) is late
    assert co["role_label"] == "会办" and co["overdue"] is True
    assert body["overdue"] is True
    assert body["status"] == "handling" and body["status_label"] == "办理中"
    assert body["contacts"] == [
        {
            "contacted_on": "2026-04-28",
            "channel": "微信",
            "channel_label": "微信",
            "phase": "during",
            "phase_label": "办中",
            "unit": "广州市教育局",
            "participants": "",
            "summary": "交流办理思路",
        }
    ]
    assert body["replies"] == [] and body["ratings"] == []


def test_overdue_items_of_a_unit(app, token_of, make_proposal):
    late = make_proposal("20262001", assigned_on=date(2026, 2, 2))
    make_proposal("20262002", assigned_on=date(2026, 6, 1))
    with app.app_context():
        edu = db.session.execute(db.select(User.unit_id).filter_by(username="clerk")).scalar_one()
    response = app.test_client().get(
        f"/api/v1/proposals?unit={edu}&overdue=true", headers=bearer(token_of("duban"))
    )
    assert [item["id"] for item in response.get_json()["items"]] == [late]
    assert response.get_json()["items"][0]["overdue"] is True


# -- letters, search, commitments --------------------------------------------------------------


def test_letters_as_the_search_page_shows_them(app, corpus, token_of):  # noqa: F811
    client = app.test_client()

    def listed(username):
        response = client.get("/api/v1/letters?per_page=100", headers=bearer(token_of(username)))
        return {item["id"] for item in response.get_json()["items"]}

    everything = set(corpus.values())
    secret = corpus["c_secret.txt"]
    assert listed("clerk") == everything  # the unit's own restricted letter too
    assert listed("liaison") == everything
    assert listed("clerk-civil") == everything - {secret}
    # one letter: its metadata, text and exports
    response = client.get(
        f"/api/v1/letters/{corpus['a_public.txt']}", headers=bearer(token_of("clerk-civil"))
    )
    body = response.get_json()
    assert body["doc_number"] == "穗教案〔2022〕119号"
    assert body["proposal_number"] == "20222174" and body["classification"] == "A"
    assert "心理健康" in body["text"]
    assert {e["format"] for e in body["exports"]} == {"docx", "pdf", "html"}
    docx = client.get(
        next(e["url"] for e in body["exports"] if e["format"] == "docx"),
        headers=bearer(token_of("clerk-civil")),
    )
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    response = client.get(f"/api/v1/letters/{secret}", headers=bearer(token_of("clerk-civil")))
    _problem(response, 403)
    response = client.get(
        f"/api/v1/letters/{secret}/export/pdf", headers=bearer(token_of("clerk-civil"))
    )
    _problem(response, 403)


def test_search_is_the_search_pages_engine_and_visibility(app, corpus, token_of):  # noqa: F811
    client = app.test_client()
    for username in ("clerk", "clerk-civil", "liaison"):
        response = client.get("/api/v1/search?q=心理", headers=bearer(token_of(username)))
        assert response.status_code == 200
        body = response.get_json()
        with app.app_context():
            user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one()
            page = search.run(
                "心理", engine=current.search_engine(), user=user, operator=False, with_facets=False
            )
        assert [h["letter_id"] for h in body["items"]] == [h.letter_id for h in page.hits]
        assert body["total"] == page.total
        assert (corpus["c_secret.txt"] in [h["letter_id"] for h in body["items"]]) == (
            username != "clerk-civil"
        )
    assert "<mark>心理</mark>" in body["items"][0]["snippet"]


def test_commitments_with_their_progress(app, world, token_of):  # noqa: F811
    client = app.test_client()
    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        commitments.add_update(
            clerk,
            db.session.get(Commitment, world["cm"]),
            noted_on=date(2026, 6, 10),
            note="已组织两期心理健康教育教师培训",
            evidence_url="https://example.org/notice",
            upload_dir=current.upload_dir(),
            today=current.today(),
        )
        db.session.commit()
    listed = client.get("/api/v1/commitments", headers=bearer(token_of("clerk"))).get_json()
    assert [c["id"] for c in listed["items"]] == [world["cm"]]  # not the candidate
    assert listed["items"][0]["status"] == "in_progress"
    assert (
        client.get("/api/v1/commitments", headers=bearer(token_of("clerk-civil"))).get_json()[
            "items"
        ]
        == []
    )
    body = client.get(
        f"/api/v1/commitments/{world['cm']}", headers=bearer(token_of("duban"))
    ).get_json()
    assert body["due_on"] == "2026-12-31" and body["unit"] == "广州市教育局"
    assert [(p["noted_on"], p["note"], p["has_evidence_file"]) for p in body["progress"]] == [
        ("2026-06-01", "已完成培训", True),
        ("2026-06-10", "已组织两期心理健康教育教师培训", False),
    ]


# -- changes since a time -----------------------------------------------------------------------


def test_a_change_to_a_proposal_or_anything_of_it_shows_in_updated_since(
    app, token_of, make_proposal
):
    p1 = make_proposal("20262001", sign=True)
    p2 = make_proposal("20262002")
    client = app.test_client()
    token = token_of("liaison")
    first = client.get("/api/v1/proposals", headers=bearer(token)).get_json()
    mark = first["as_of"]
    assert (
        client.get(
            "/api/v1/proposals", query_string={"updated_since": mark}, headers=bearer(token)
        ).get_json()["items"]
        == []
    )
    # a contact logged on p1 (a row of its own, not the proposal's) is a change of p1
    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        svc.log_contact(
            clerk,
            db.session.get(Proposal, p1),
            contacted_on=date(2026, 6, 1),
            channel="电话",
            phase="during",
            today=current.today(),
        )
        db.session.commit()
    changed = client.get(
        "/api/v1/proposals", query_string={"updated_since": mark}, headers=bearer(token)
    ).get_json()
    assert [item["id"] for item in changed["items"]] == [p1]
    assert changed["as_of"] > mark
    # a time in another zone means the same instant
    since = datetime.fromisoformat(mark.replace("Z", "+00:00")).astimezone(
        __import__("tracker.rules.clock", fromlist=["BEIJING"]).BEIJING
    )
    again = client.get(
        "/api/v1/proposals",
        query_string={"updated_since": since.isoformat()},
        headers=bearer(token),
    ).get_json()
    assert [item["id"] for item in again["items"]] == [p1]
    assert p2 not in [item["id"] for item in again["items"]]


def test_a_progress_note_is_a_change_of_its_commitment(app, world, token_of):  # noqa: F811
    client = app.test_client()
    token = token_of("clerk")
    mark = client.get("/api/v1/commitments", headers=bearer(token)).get_json()["as_of"]
    assert (
        client.get(
            "/api/v1/commitments", query_string={"updated_since": mark}, headers=bearer(token)
        ).get_json()["items"]
        == []
    )
    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        commitments.add_update(
            clerk,
            db.session.get(Commitment, world["cm"]),
            noted_on=date(2026, 6, 12),
            note="完成首批持证培训",
            upload_dir=current.upload_dir(),
            today=current.today(),
        )
        db.session.commit()
    changed = client.get(
        "/api/v1/commitments", query_string={"updated_since": mark}, headers=bearer(token)
    ).get_json()
    assert [c["id"] for c in changed["items"]] == [world["cm"]]


# -- problem details -------------------------------------------------------------------------------


def test_errors_are_problem_details(app, token_of, make_proposal):
    client = app.test_client()
    token = token_of("liaison")
    body = _problem(
        client.get("/api/v1/proposals?page=0&per_page=1000", headers=bearer(token)), 422
    )
    assert body["type"] == "urn:tracker:problem:validation"
    assert {e["field"] for e in body["errors"]} == {"page", "per_page"}
    assert "须不小于 1" in [e["message"] for e in body["errors"] if e["field"] == "page"][0]
    body = _problem(
        client.post("/api/v1/proposals", headers=bearer(token), json={"kind": "意见"}), 422
    )
    fields = {e["field"] for e in body["errors"]}
    assert {"kind", "number", "title"} <= fields
    body = _problem(client.post("/api/v1/proposals", headers=bearer(token), data="{"), 422)
    # a rule of the service: the same number twice in a session
    make_proposal("20262001")
    duplicate = {
        "session": "市十六届人大一次会议",
        "kind": "建议",
        "number": "20262001",
        "title": "关于另一件事的建议",
        "lead_proposer": "李华",
    }
    body = _problem(client.post("/api/v1/proposals", headers=bearer(token), json=duplicate), 409)
    assert body["title"] == "记录已存在" and "编号不能重复" in body["detail"]
    # the batch service's rules: an unknown unit, an assignment before the submission
    body = _problem(
        client.post(
            "/api/v1/proposals",
            headers=bearer(token),
            json={
                **duplicate,
                "number": "20262002",
                "lead_units": ["广州市不存在局"],
                "submitted_on": "2026-03-01",
                "assigned_on": "2026-02-01",
            },
        ),
        422,
    )
    assert body["type"] == "urn:tracker:problem:refused"
    messages = " ".join(e["message"] for e in body["errors"])
    assert "找不到该单位" in messages and "交办日期不能早于提出日期" in messages
    assert (
        _problem(client.get("/api/v1/nowhere", headers=bearer(token)), 404)["title"] == "页面不存在"
    )
    assert _problem(client.get("/api/v1/proposals/999999", headers=bearer(token)), 404)
    response = client.delete("/api/v1/proposals", headers=bearer(token))
    assert _problem(response, 405)["title"] == "请求方式不允许"
    assert "GET" in response.headers["Allow"]


def test_a_server_error_is_a_problem_too(app, token_of, monkeypatch):
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    monkeypatch.setattr(app.logger, "disabled", True)  # the logger is every app's
    token = token_of("liaison")

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr("tracker.services.users.active_handling_units", broken)
    body = _problem(app.test_client().get("/api/v1/units", headers=bearer(token)), 500)
    assert body["title"] == "系统错误" and "boom" not in body["detail"]


# -- the rate limit ------------------------------------------------------------------------------


def test_the_rate_limit_counts_per_token_across_workers(app, token_of, tmp_path):
    """Two apps on one database stand for two workers (or servers): they share the count."""
    settings = {"API_RATE_LIMIT": 3, "API_RATE_WINDOW_SECONDS": 3600}
    app.config.update(settings)
    second = new_app(tmp_path, **settings)
    try:
        token, other = token_of("clerk"), token_of("liaison")
        answers = [
            worker.test_client().get("/api/v1/units", headers=bearer(token)).status_code
            for worker in (app, second, app)
        ]
        assert answers == [200, 200, 200]
        refused = second.test_client().get("/api/v1/units", headers=bearer(token))
        body = _problem(refused, 429)
        assert body["title"] == "请求过于频繁"
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        # another token has its own count
        assert app.test_client().get("/api/v1/units", headers=bearer(other)).status_code == 200
        with app.app_context():
            used = db.session.execute(db.select(ApiToken.last_used_at)).scalars().all()
            assert all(used)
    finally:
        close(second)


# -- the contract ---------------------------------------------------------------------------------


def test_the_openapi_document_is_generated_from_the_routes(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    routed = {
        (method, re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in _api_rules(app)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status"} <= set(problem["required"])
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation["security"] == [{"bearer": []}], (method, path)
            assert "application/problem+json" in operation["responses"]["401"]["content"]
            assert "可用角色" in operation["description"], (method, path)


def test_the_reference_page_is_served_from_the_sites_own_files(app, browser):
    response = browser.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/api/v1/openapi.json" in page
    assert "/api/v1/proposals/{proposal_id}" in page and "建议提案详情" in page  # no JS needed
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert scripts == [
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/js/api-reference.js",
    ]
    assert "<script>" not in page
    for src in scripts:
        script = browser.client.get(src)
        assert script.status_code == 200
        script.close()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# -- batch registration (the 交办清单 pushed by the congress office's system) ------------------


def _batch_rows(n: int, start: int = 20264001) -> list[dict]:
    return [
        {
            "number": str(start + i),
            "title": f"关于改善第{i + 1}片区社区养老服务的建议",
            "lead_proposer": "陈红",
            "co_signers": ["刘强", "周敏"],
            "lead_units": ["市民政局"],
            "co_units": ["广州市卫生健康委员会"] if i % 2 else [],
            "submitted_on": "2026-01-20",
        }
        for i in range(n)
    ]


def test_a_batch_is_registered_and_assigned_by_the_batch_service(app, token_of):
    client = app.test_client()
    body = {"session": "市十六届人大一次会议", "assign_on": "2026-03-02", "rows": _batch_rows(3)}
    response = client.post("/api/v1/proposals/batch", headers=bearer(token_of("duban")), json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    assert result["dry_run"] is False
    assert result["counts"]["new"] == 3 and result["counts"]["error"] == 0
    assert [r["action"] for r in result["rows"]] == ["new"] * 3
    ids = [r["proposal_id"] for r in result["rows"]]
    with app.app_context():
        made = [db.session.get(Proposal, i) for i in ids]
        assert [p.number for p in made] == ["20264001", "20264002", "20264003"]
        assert {p.status for p in made} == {"assigned"}
        assert [a.unit.name for a in made[1].active_assignments] == [
            "广州市民政局",
            "广州市卫生健康委员会",
        ]
        assert made[0].assigned_on == date(2026, 3, 2)
    # pushed again as it was: nothing changes
    again = client.post("/api/v1/proposals/batch", headers=bearer(token_of("liaison")), json=body)
    assert again.get_json()["counts"]["unchanged"] == 3
    assert [r["proposal_id"] for r in again.get_json()["rows"]] == ids


def test_a_batch_with_a_wrong_row_saves_nothing_and_says_which(app, token_of):
    client = app.test_client()
    rows = _batch_rows(3)
    rows[1]["lead_units"] = ["市不存在局"]
    rows[2]["number"] = rows[0]["number"]
    body = {"session": "市十六届人大一次会议", "assign_on": "2026-03-02", "rows": rows}
    problem_body = _problem(
        client.post("/api/v1/proposals/batch", headers=bearer(token_of("liaison")), json=body), 422
    )
    messages = [e["message"] for e in problem_body["errors"]]
    assert any(m.startswith("第2行（编号20264002）：") and "找不到该单位" in m for m in messages)
    assert any(m.startswith("第3行") and "与第1行重复" in m for m in messages)
    with app.app_context():
        assert db.session.execute(db.select(Proposal)).first() is None
    # a dry run shows every row's fate and saves nothing
    preview = client.post(
        "/api/v1/proposals/batch?dry_run=true", headers=bearer(token_of("liaison")), json=body
    )
    assert preview.status_code == 200
    assert [r["action"] for r in preview.get_json()["rows"]] == ["error", "error", "error"]
    with app.app_context():
        assert db.session.execute(db.select(Proposal)).first() is None


def test_a_unit_clerk_cannot_push_a_batch(app, token_of):
    response = app.test_client().post(
        "/api/v1/proposals/batch",
        headers=bearer(token_of("clerk")),
        json={"session": "市十六届人大一次会议", "rows": _batch_rows(1)},
    )
    _problem(response, 403)
