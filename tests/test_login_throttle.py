"""Login throttling (issue 10, point 2): per account name and per client address, kept in
the database, with a growing lock and a Chinese message saying when to retry; failures
audited; a missing user name costing what a wrong password does; an admin unlocking."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import PASSWORD, Browser, app_settings, close

from tracker import create_app
from tracker.extensions import db
from tracker.models import AuditEvent, LoginThrottle, User

WRONG = "not-the-password"


def text(response) -> str:
    return response.get_data(as_text=True)


def client_at(app, address: str, **headers) -> Browser:
    """A browser connecting from `address` (sending any extra headers on every request)."""
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = address
    for name, value in headers.items():
        browser.client.environ_base["HTTP_" + name.upper().replace("-", "_")] = value
    return browser


def attempt(browser: Browser, username: str, password: str):
    browser._token = None
    browser.get("/login")
    return browser.post("/login", {"username": username, "password": password})


def events(action: str) -> list[AuditEvent]:
    query = db.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)
    return list(db.session.execute(query).scalars())


def expire_locks(app) -> None:
    """Let every lock pass, as if its time were up (failures stay counted)."""
    with app.app_context():
        for row in db.session.execute(db.select(LoginThrottle)).scalars():
            if row.locked_until is not None:
                row.locked_until = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()


def locked_minutes(response) -> int:
    return int(re.search(r"约(\d+)分钟后", text(response)).group(1))


def test_wrong_passwords_lock_the_account_even_against_the_right_one(app, people):
    browser = client_at(app, "203.0.113.5")
    for _ in range(4):
        response = attempt(browser, "clerk", WRONG)
        assert response.status_code == 200 and "用户名或密码错误" in text(response)
        assert "登录失败次数过多" not in text(response)
    fifth = attempt(browser, "clerk", WRONG)
    assert fifth.status_code == 429
    assert "用户名或密码错误。登录失败次数过多，已暂时锁定。" in text(fifth)
    right = attempt(browser, "clerk", PASSWORD)
    assert right.status_code == 429  # locked: the right password does not get in either
    page = text(right)
    assert "登录失败次数过多" in page and "约1分钟后" in page
    assert re.search(r"请于\d\d:\d\d（约1分钟后）再试", page)
    assert 1 <= int(right.headers["Retry-After"]) <= 60
    # another address is refused too: the lock is the account's
    assert attempt(client_at(app, "198.51.100.9"), "clerk", PASSWORD).status_code == 429
    # once the lock has passed, the right password gets in and the count starts again
    expire_locks(app)
    assert attempt(browser, "clerk", PASSWORD).status_code == 302
    with app.app_context():
        assert (
            db.session.execute(
                db.select(LoginThrottle).filter_by(scope="account", key="clerk")
            ).scalar_one_or_none()
            is None
        )


def test_each_failure_after_a_lock_doubles_it(app, people):
    browser = client_at(app, "203.0.113.5")
    for _ in range(4):
        attempt(browser, "clerk", WRONG)
    assert locked_minutes(attempt(browser, "clerk", WRONG)) == 1
    for minutes in (2, 4, 8, 16, 32, 60, 60):
        expire_locks(app)
        response = attempt(browser, "clerk", WRONG)
        assert response.status_code == 429
        assert locked_minutes(response) == minutes


def test_a_lock_is_seen_by_every_worker(app, people, tmp_path):
    """Two apps on one database stand for two gunicorn workers (or two servers)."""
    other_worker = create_app(app_settings(tmp_path))
    try:
        for _ in range(5):
            attempt(client_at(app, "203.0.113.5"), "clerk", WRONG)
        response = attempt(client_at(other_worker, "203.0.113.5"), "clerk", PASSWORD)
        assert response.status_code == 429 and "登录失败次数过多" in text(response)
    finally:
        close(other_worker)


def test_one_address_trying_many_names_is_locked(app, people):
    guesser = client_at(app, "203.0.113.66")
    for n in range(29):
        response = attempt(guesser, f"guess{n}", WRONG)
        assert response.status_code == 200
    assert attempt(guesser, "guess29", WRONG).status_code == 429
    # now even a real user with the right password is refused from that address …
    response = attempt(guesser, "clerk", PASSWORD)
    assert response.status_code == 429 and "登录失败次数过多" in text(response)
    # … but not from another one
    assert attempt(client_at(app, "198.51.100.9"), "clerk", PASSWORD).status_code == 302


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(app, people):
    """Without TRACKER_TRUSTED_PROXIES a client cannot pick its own address."""
    for n in range(30):
        attempt(client_at(app, "10.0.0.2", X_Forwarded_For=f"192.0.2.{n}"), f"g{n}", WRONG)
    refused = attempt(client_at(app, "10.0.0.2", X_Forwarded_For="192.0.2.200"), "clerk", PASSWORD)
    assert refused.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(people, tmp_path, app):
    proxied = create_app({**app_settings(tmp_path), "TRUSTED_PROXIES": 1})
    try:
        for n in range(30):
            attempt(client_at(proxied, "10.0.0.2", X_Forwarded_For="192.0.2.1"), f"g{n}", WRONG)
        office = client_at(proxied, "10.0.0.2", X_Forwarded_For="192.0.2.1")
        assert attempt(office, "clerk", PASSWORD).status_code == 429
        # the proxy's own address is not locked: other clients behind it log in
        elsewhere = client_at(proxied, "10.0.0.2", X_Forwarded_For="192.0.2.2")
        assert attempt(elsewhere, "clerk", PASSWORD).status_code == 302
        with proxied.app_context():
            [lock] = db.session.execute(
                db.select(LoginThrottle).filter_by(scope="address")
            ).scalars()
            assert lock.key == "192.0.2.1"
    finally:
        close(proxied)


def test_failed_logins_are_audited(app, people):
    attempt(client_at(app, "203.0.113.5"), "clerk", WRONG)
    attempt(client_at(app, "203.0.113.6"), "nobody", WRONG)
    with app.app_context():
        wrong, missing = events("login_failed")
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        assert wrong.entity_id == clerk.id and wrong.actor_id is None
        assert "clerk" in wrong.message and "203.0.113.5" in wrong.message
        assert "密码错误" in wrong.message
        assert missing.entity_id is None and "nobody" in missing.message
        assert "用户名不存在" in missing.message
        assert WRONG not in wrong.message + str(wrong.data)  # no password in the trail


def test_a_lock_is_audited(app, people):
    browser = client_at(app, "203.0.113.5")
    for _ in range(5):
        attempt(browser, "clerk", WRONG)
    with app.app_context():
        [lock] = events("login_locked")
        assert "连续5次登录失败" in lock.message and "锁定1分钟" in lock.message


def test_a_missing_name_is_locked_like_an_existing_one(app, people):
    """Locks tell nothing about which user names exist."""
    browser = client_at(app, "203.0.113.5")
    for _ in range(4):
        attempt(browser, "nobody", WRONG)
    assert attempt(browser, "nobody", WRONG).status_code == 429


@pytest.fixture
def hash_work(monkeypatch):
    """Every password-hash computation (the tests hash with PBKDF2), with its iterations."""
    calls: list[int] = []
    real = hashlib.pbkdf2_hmac

    def counting(name, password, salt, iterations, *args, **kwargs):
        calls.append(iterations)
        return real(name, password, salt, iterations, *args, **kwargs)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    return calls


def test_a_missing_name_costs_what_a_wrong_password_does(app, people, hash_work):
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="clerk-civil")).scalar_one()
        user.active = False
        db.session.commit()
    browser = client_at(app, "203.0.113.5")
    attempt(browser, "warm-up", WRONG)  # the first attempt of a process makes the dummy hash
    work = {}
    for case, name, password in [
        ("wrong password", "clerk", WRONG),
        ("missing user", "nobody-here", WRONG),
        ("inactive user", "clerk-civil", PASSWORD),
        ("right password", "supervisor", PASSWORD),
    ]:
        hash_work.clear()
        response = attempt(client_at(app, "203.0.113.7"), name, password)
        assert response.status_code == (302 if case == "right password" else 200), case
        work[case] = list(hash_work)
    assert work["wrong password"] == [1000]  # one check of the stored hash
    assert work["missing user"] == work["wrong password"]
    assert work["inactive user"] == work["wrong password"]
    assert work["right password"] == work["wrong password"]


# -- the admin unlocks ------------------------------------------------------------------


def lock_out(app, username: str, address: str = "203.0.113.5") -> None:
    browser = client_at(app, address)
    for _ in range(5):
        attempt(browser, username, WRONG)
    assert attempt(browser, username, PASSWORD).status_code == 429


def test_an_admin_unlocks_an_account(app, people):
    lock_out(app, "clerk")
    admin = client_at(app, "198.51.100.1")
    admin.login("admin")
    listing = text(admin.get("/admin/users"))
    assert "登录已锁定" in listing
    page = text(admin.get(f"/admin/users/{people['clerk']}"))
    assert "已锁定" in page and "连续5次登录失败" in page
    action = re.search(r'action="(/admin/login-locks/\d+/unlock)"', page).group(1)
    response = admin.post(action)
    assert response.status_code == 302
    assert response.location == f"/admin/users/{people['clerk']}"
    assert "已解除账号clerk的登录锁定" in text(admin.get(response.location))
    assert "登录已锁定" not in text(admin.get("/admin/users"))
    assert attempt(client_at(app, "203.0.113.5"), "clerk", PASSWORD).status_code == 302
    with app.app_context():
        [event] = events("login_unlock")
        assert event.entity_id == people["clerk"] and "此前连续失败5次" in event.message


def test_an_admin_unlocks_an_address(app, people):
    guesser = client_at(app, "203.0.113.66")
    for n in range(30):
        attempt(guesser, f"guess{n}", WRONG)
    admin = client_at(app, "198.51.100.1")
    admin.login("admin")
    page = text(admin.get("/admin/users"))
    assert "被锁定的客户端地址" in page and "203.0.113.66" in page
    action = re.search(r'action="(/admin/login-locks/\d+/unlock)"', page).group(1)
    assert admin.post(action).status_code == 302
    assert attempt(client_at(app, "203.0.113.66"), "clerk", PASSWORD).status_code == 302


def test_only_an_admin_unlocks(app, people):
    lock_out(app, "clerk")
    with app.app_context():
        [row] = db.session.execute(db.select(LoginThrottle).filter_by(scope="account")).scalars()
        lock_id = row.id
    supervisor = client_at(app, "198.51.100.1")
    supervisor.login("supervisor")
    assert supervisor.post(f"/admin/login-locks/{lock_id}/unlock").status_code == 403
    assert attempt(client_at(app, "203.0.113.5"), "clerk", PASSWORD).status_code == 429
