"""Sessions that end when they should (issue 10, point 1).

Flask-Login keeps the id that get_id() returns in the session cookie and in the remember
cookie; that id is the token of a login session kept in the database, so ending the row
ends the session on the server, whatever copies of the cookies exist."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import PASSWORD, Browser

from tracker.extensions import db
from tracker.models import AuditEvent, LoginSession, User

NEW_PASSWORD = "another-horse-42"


def text(response) -> str:
    return response.get_data(as_text=True)


def signed_in(app, username: str, *, remember: bool = False, agent: str = "") -> Browser:
    """A browser of its own, logged in through the form (ticking 记住我 when asked)."""
    browser = Browser(app.test_client())
    if agent:
        browser.client.environ_base["HTTP_USER_AGENT"] = agent
    browser.get("/login")
    data = {"username": username, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = browser.post("/login", data)
    assert response.status_code == 302, text(response)
    browser._token = None
    return browser


def cookie(browser: Browser, name: str) -> str:
    found = browser.client.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def with_cookies(app, **cookies: str) -> Browser:
    """A fresh browser holding only copies of the given cookies (as a thief would)."""
    browser = Browser(app.test_client())
    for name, value in cookies.items():
        browser.client.set_cookie(name, value)
    return browser


def lets_in(browser: Browser) -> bool:
    response = browser.client.get("/todo")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.location
    return False


def test_a_copied_session_cookie_stops_working_after_logout(app, people):
    clerk = signed_in(app, "clerk")
    copied = with_cookies(app, session=cookie(clerk, "session"))
    assert lets_in(copied)
    assert clerk.logout().status_code == 302
    assert not lets_in(copied)
    assert not lets_in(clerk)


def test_a_copied_remember_cookie_stops_working_after_logout(app, people):
    clerk = signed_in(app, "clerk", remember=True)
    remembered = cookie(clerk, "remember_token")
    assert lets_in(with_cookies(app, remember_token=remembered))
    clerk.logout()
    assert not lets_in(with_cookies(app, remember_token=remembered))


def test_changing_ones_password_ends_the_other_sessions_and_remember_cookies(app, people):
    here = signed_in(app, "clerk")
    laptop = signed_in(app, "clerk", remember=True)
    remembered = cookie(laptop, "remember_token")
    assert lets_in(laptop) and lets_in(with_cookies(app, remember_token=remembered))

    here.get("/account/password")
    response = here.post(
        "/account/password",
        {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert "其他1个登录会话已退出" in text(here.get("/todo"))

    assert lets_in(here)  # the session that changed it goes on
    assert not lets_in(laptop)
    assert not lets_in(with_cookies(app, remember_token=remembered))
    assert signed_in_with(app, "clerk", NEW_PASSWORD)


def signed_in_with(app, username: str, password: str) -> bool:
    browser = Browser(app.test_client())
    return browser.login(username, password).status_code == 302


def test_an_admin_resetting_a_password_ends_every_session_of_that_user(app, people):
    clerk = signed_in(app, "clerk", remember=True)
    remembered = cookie(clerk, "remember_token")
    other = signed_in(app, "supervisor")
    admin = signed_in(app, "admin")
    admin.get(f"/admin/users/{people['clerk']}")
    response = admin.post(
        f"/admin/users/{people['clerk']}/password",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert not lets_in(clerk)
    assert not lets_in(with_cookies(app, remember_token=remembered))
    assert lets_in(other) and lets_in(admin)  # nobody else is signed out
    with app.app_context():
        event = (
            db.session.execute(
                db.select(AuditEvent).filter_by(action="user_password").order_by(AuditEvent.id)
            )
            .scalars()
            .all()[-1]
        )
        assert "结束其登录会话1个" in event.message


def test_deactivating_a_user_ends_every_session_of_that_user(app, people):
    clerk = signed_in(app, "clerk", remember=True)
    remembered = cookie(clerk, "remember_token")
    admin = signed_in(app, "admin")
    admin.get(f"/admin/users/{people['clerk']}")
    response = admin.post(
        f"/admin/users/{people['clerk']}",
        {"display_name": "clerk", "role": "clerk", "unit_id": _unit_of(app, "clerk")},
    )  # "active" left unticked
    assert response.status_code == 302
    assert not lets_in(clerk)
    assert not lets_in(with_cookies(app, remember_token=remembered))
    with app.app_context():
        assert _sessions_of(people["clerk"]) == []
    # enabled again, the old cookies stay dead: the rows are gone, not just hidden
    admin.post(
        f"/admin/users/{people['clerk']}",
        {
            "display_name": "clerk",
            "role": "clerk",
            "unit_id": _unit_of(app, "clerk"),
            "active": "y",
        },
    )
    assert not lets_in(with_cookies(app, remember_token=remembered))


def _unit_of(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(User.unit_id).filter_by(username=username)).scalar_one()


def _sessions_of(user_id: int) -> list[LoginSession]:
    return list(db.session.execute(db.select(LoginSession).filter_by(user_id=user_id)).scalars())


def test_old_cookies_holding_a_bare_user_id_are_not_accepted(app, people):
    """Cookies written before login sessions (the user id alone) no longer sign anyone in."""
    browser = Browser(app.test_client())
    with browser.client.session_transaction() as session:
        session["_user_id"] = str(people["clerk"])
        session["_fresh"] = True
    assert not lets_in(browser)


# -- the sessions page ------------------------------------------------------------------


def test_the_sessions_page_lists_each_signed_in_browser(app, people):
    office = signed_in(app, "clerk", agent="Mozilla/5.0 (Windows NT 10.0) Chrome/120.0")
    signed_in(app, "clerk", remember=True, agent="Mozilla/5.0 (X11; Linux) Firefox/126.0")
    signed_in(app, "supervisor", agent="Mozilla/5.0 (Macintosh) Safari/605.1")
    page = text(office.get("/account/sessions"))
    assert "登录会话" in page
    rows = re.findall(r"<tr\b.*?</tr>", page, flags=re.S)[1:]
    assert len(rows) == 2  # the supervisor's session is not the clerk's business
    assert any("本会话" in r and "Chrome" in r for r in rows)
    assert any("Firefox" in r and "记住登录" in r for r in rows)
    assert "Safari" not in page
    assert "全部退出" in page
    # reachable from 修改密码, which every page links to
    assert 'href="/account/password"' in text(office.get("/todo"))
    password_page = text(office.get("/account/password"))
    assert (
        'href="/account/sessions"' in password_page and "在2个浏览器中处于登录状态" in password_page
    )


def test_ending_another_session_from_the_sessions_page(app, people):
    office = signed_in(app, "clerk")
    laptop = signed_in(app, "clerk", remember=True)
    remembered = cookie(laptop, "remember_token")
    page = text(office.get("/account/sessions"))
    [other] = [
        int(re.search(r'action="/account/sessions/(\d+)/end"', r).group(1))
        for r in re.findall(r"<tr\b.*?</tr>", page, flags=re.S)[1:]
        if "本会话" not in r
    ]
    response = office.post(f"/account/sessions/{other}/end")
    assert response.status_code == 302
    assert "已退出该会话" in text(office.get(response.location))
    assert lets_in(office)
    assert not lets_in(laptop)
    assert not lets_in(with_cookies(app, remember_token=remembered))


def test_another_users_session_cannot_be_ended(app, people):
    supervisor = signed_in(app, "supervisor")
    clerk = signed_in(app, "clerk")
    with app.app_context():
        [theirs] = [s.id for s in _sessions_of(people["supervisor"])]
    response = clerk.post(f"/account/sessions/{theirs}/end")
    assert response.status_code == 404
    assert lets_in(supervisor)


def test_log_out_everywhere_ends_every_session_including_this_one(app, people):
    office = signed_in(app, "clerk")
    laptop = signed_in(app, "clerk", remember=True)
    remembered = cookie(laptop, "remember_token")
    copied = with_cookies(app, session=cookie(office, "session"))
    office.get("/account/sessions")
    response = office.post("/account/sessions/end-all")
    assert response.status_code == 302 and "/login" in response.location
    assert "已退出全部2个登录会话" in text(office.get(response.location))
    for browser in (office, laptop, copied, with_cookies(app, remember_token=remembered)):
        assert not lets_in(browser)
    with app.app_context():
        assert _sessions_of(people["clerk"]) == []


# -- sessions that are left alone -------------------------------------------------------


def _age(app, user_id: int, **delta) -> None:
    """Move every session of the user back in time, as if unused for `delta`."""
    with app.app_context():
        for row in _sessions_of(user_id):
            row.last_seen_at = datetime.now(UTC) - timedelta(**delta)
            row.created_at = row.last_seen_at
        db.session.commit()


def test_a_session_left_idle_ends(app, people):
    clerk = signed_in(app, "clerk")
    _age(app, people["clerk"], hours=11)
    assert lets_in(clerk)  # and using it keeps it alive
    _age(app, people["clerk"], hours=13)
    assert not lets_in(clerk)


def test_a_remembered_session_lasts_until_its_cookie_would_expire(app, people):
    clerk = signed_in(app, "clerk", remember=True)
    remembered = cookie(clerk, "remember_token")
    _age(app, people["clerk"], days=29)
    assert lets_in(with_cookies(app, remember_token=remembered))
    _age(app, people["clerk"], days=31)
    assert not lets_in(with_cookies(app, remember_token=remembered))


def test_a_busy_session_is_marked_seen_without_a_write_per_request(app, people):
    clerk = signed_in(app, "clerk")
    with app.app_context():
        [row] = _sessions_of(people["clerk"])
        first_seen = row.last_seen_at
    clerk.get("/todo")
    with app.app_context():
        [row] = _sessions_of(people["clerk"])
        assert row.last_seen_at == first_seen  # seen moments ago: not written again
    _age(app, people["clerk"], minutes=10)
    with app.app_context():
        [row] = _sessions_of(people["clerk"])
        aged = row.last_seen_at
    clerk.get("/todo")
    with app.app_context():
        [row] = _sessions_of(people["clerk"])
        assert row.last_seen_at > aged  # unseen for ten minutes: marked seen again


def test_a_page_reads_the_session_its_user_and_unit_in_one_query(app, people):
    """Every signed-in page loads the session by its token; its user and their unit came
    in two more queries of their own."""
    from sqlalchemy import event

    clerk = signed_in(app, "clerk")
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def note(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        page = clerk.get("/account/sessions")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert page.status_code == 200 and "市教育局" in text(page)  # the unit by the name
    by_token = [s for s in statements if "WHERE login_session.token_hash" in s]
    assert len(by_token) == 1
    assert re.search(r'JOIN "?user"? .* JOIN unit ', by_token[0]), by_token[0]
    alone = [
        s for s in statements if re.search(r'^SELECT .* FROM ("?user"?|unit) (AS \w+ )?WHERE', s)
    ]
    assert alone == [], alone


@pytest.mark.parametrize("remember", [False, True])
def test_the_session_row_holds_no_usable_token(app, people, remember):
    """A copy of the database does not let anyone in: only a hash of the token is kept."""
    clerk = signed_in(app, "clerk", remember=remember)
    held = cookie(clerk, "remember_token" if remember else "session")
    with app.app_context():
        [row] = _sessions_of(people["clerk"])
        assert row.token_hash not in held
        assert row.remember is remember
