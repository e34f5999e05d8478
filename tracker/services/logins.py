"""Signing in: the password check and the throttling of failed logins.

Failed logins in a row are counted in the database (LoginThrottle) for the account name as
typed — existing or not, so a lock says nothing about which names exist — and for the client
address, so that every gunicorn worker and every server counts the same failures
(rules/throttle.py says when they lock and for how long). A locked name or address is
refused before any password is checked, with a message saying when to try again. A missing
user name costs the same as a wrong password: the password is checked against a dummy hash
made by the same function as users' hashes. Every failure is audited, and so is each lock.

The counting rows are read FOR UPDATE (on PostgreSQL; SQLite transactions here take the
write lock when they begin), so that concurrent guesses for one name are counted one after
another and none slips past a lock."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from tracker import models
from tracker.extensions import db
from tracker.models import LoginThrottle, User
from tracker.rules.throttle import ThrottlePolicy, retry_message
from tracker.services import audit
from tracker.services.admin import require_admin
from tracker.services.errors import DomainError

ACCOUNT, ADDRESS = "account", "address"
SCOPES = {ACCOUNT: "账号", ADDRESS: "地址"}
WRONG = "用户名或密码错误。"


class LoginFailed(DomainError):
    def __init__(self) -> None:
        super().__init__(WRONG)


class LoginLocked(DomainError):
    """Refused without checking the password: the name or the address is locked."""

    def __init__(self, until: datetime, now: datetime, *, after_failure: bool = False):
        self.until = until
        self.retry_after = max(1, int((until - now).total_seconds() + 0.999))
        message = retry_message(until, now)
        super().__init__(f"{WRONG}{message}" if after_failure else message)


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def account_key(username: str) -> str:
    return username.strip().lower()[:64]


def address_key(address: str | None) -> str:
    return (address or "unknown")[:64]


_dummy: tuple[object, str] | None = None


def _dummy_hash() -> str:
    """A hash of a random password, made (once) by the function that makes users' hashes,
    so that checking a password against it costs what checking a real one does."""
    global _dummy
    make = models.generate_password_hash
    if _dummy is None or _dummy[0] is not make:
        _dummy = (make, make(secrets.token_hex(16)))
    return _dummy[1]


def _guards(keys: dict[str, str]) -> dict[str, LoginThrottle]:
    query = (
        db.select(LoginThrottle)
        .where(
            db.or_(
                *(
                    db.and_(LoginThrottle.scope == scope, LoginThrottle.key == key)
                    for scope, key in keys.items()
                )
            )
        )
        .with_for_update()
    )
    return {row.scope: row for row in db.session.execute(query).scalars()}


def _locked_until(row: LoginThrottle | None, now: datetime) -> datetime | None:
    until = _aware(row.locked_until) if row is not None else None
    return until if until is not None and until > now else None


def authenticate(
    username: str, password: str, address: str | None, *, policies: Mapping[str, ThrottlePolicy]
) -> User:
    """The user whose name and password these are, or LoginFailed / LoginLocked. The view
    commits either way: failures are counted and audited. `policies` say, for ACCOUNT and
    for ADDRESS, after how many failures a lock starts and how long it lasts."""
    now = datetime.now(UTC)
    dummy = _dummy_hash()  # made before anything else, whatever the name
    keys = {ACCOUNT: account_key(username), ADDRESS: address_key(address)}
    guards = _guards(keys)
    locks = [until for row in guards.values() if (until := _locked_until(row, now))]
    if locks:
        raise LoginLocked(max(locks), now)

    name = username.strip()
    user = db.session.execute(db.select(User).where(User.username == name)).scalar_one_or_none()
    valid = user.check_password(password) if user else check_password_hash(dummy, password)
    if valid and user.active:
        if ACCOUNT in guards:
            db.session.delete(guards[ACCOUNT])
            db.session.flush()
        return user

    reason = "用户名不存在" if user is None else "账号已停用" if valid else "密码错误"
    audit.record(
        None,
        "login_failed",
        f"登录失败：用户名“{keys[ACCOUNT]}”，地址{keys[ADDRESS]}（{reason}）",
        entity="user",
        entity_id=user.id if user else None,
        username=keys[ACCOUNT],
        address=keys[ADDRESS],
        reason=reason,
    )
    until = _count_failure(keys, guards, now, user, policies)
    if until is not None:
        raise LoginLocked(until, now, after_failure=True)
    raise LoginFailed()


def _count_failure(
    keys: dict[str, str],
    guards: dict[str, LoginThrottle],
    now: datetime,
    user: User | None,
    policies: Mapping[str, ThrottlePolicy],
) -> datetime | None:
    """Count one failure for the name and for the address; the end of the lock it started,
    if it started one."""
    started: datetime | None = None
    for scope, policy in policies.items():
        row = guards.get(scope) or _new_guard(scope, keys[scope], now)
        if policy.forgotten(_aware(row.last_failed_at) if row.failures else None, now):
            row.failures = 0
        row.failures += 1
        row.last_failed_at = now
        lock = policy.lock_after(row.failures)
        if lock is None:
            continue
        row.locked_until = now + lock
        started = max(started or row.locked_until, row.locked_until)
        audit.record(
            None,
            "login_locked",
            f"连续{row.failures}次登录失败，{SCOPES[scope]}{row.key}锁定{_minutes(lock)}分钟",
            entity="user",
            entity_id=user.id if user is not None and scope == ACCOUNT else None,
            scope=scope,
            key=row.key,
            until=row.locked_until.isoformat(),
        )
    _forget_old(now, policies)
    db.session.flush()
    return started


def _minutes(lock: timedelta) -> int:
    return max(1, round(lock.total_seconds() / 60))


def _new_guard(scope: str, key: str, now: datetime) -> LoginThrottle:
    """A counting row for the name or address; when another request made it at the same
    moment, that one (locked for this transaction)."""
    try:
        with db.session.begin_nested():
            row = LoginThrottle(scope=scope, key=key, failures=0, last_failed_at=now)
            db.session.add(row)
        return row
    except IntegrityError:
        return db.session.execute(
            db.select(LoginThrottle)
            .where(LoginThrottle.scope == scope, LoginThrottle.key == key)
            .with_for_update()
        ).scalar_one()


def _forget_old(now: datetime, policies: Mapping[str, ThrottlePolicy]) -> None:
    """Drop the rows of failures no longer remembered, whose locks have passed."""
    memory = max(policy.memory for policy in policies.values())
    db.session.execute(
        db.delete(LoginThrottle).where(
            LoginThrottle.last_failed_at <= now - memory,
            db.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        )
    )


# -- the admin's side -------------------------------------------------------------------


def account_lock(user: User) -> LoginThrottle | None:
    """The lock on the user's name, while it lasts."""
    row = db.session.execute(
        db.select(LoginThrottle).where(
            LoginThrottle.scope == ACCOUNT, LoginThrottle.key == account_key(user.username)
        )
    ).scalar_one_or_none()
    return row if _locked_until(row, datetime.now(UTC)) else None


def current_locks(scope: str) -> list[LoginThrottle]:
    now = datetime.now(UTC)
    rows = db.session.execute(
        db.select(LoginThrottle)
        .where(LoginThrottle.scope == scope, LoginThrottle.locked_until > now)
        .order_by(LoginThrottle.locked_until.desc())
    ).scalars()
    return list(rows)


def unlock(actor: User, row: LoginThrottle) -> str:
    """An admin lifts a lock and clears the failures counted; returns what was unlocked."""
    require_admin(actor)
    what = f"{SCOPES[row.scope]}{row.key}"
    user = user_of(row)
    audit.record(
        actor,
        "login_unlock",
        f"解除{what}的登录锁定（此前连续失败{row.failures}次）",
        entity="user",
        entity_id=user.id if user else None,
        scope=row.scope,
        key=row.key,
    )
    db.session.delete(row)
    db.session.flush()
    return what


def user_of(row: LoginThrottle) -> User | None:
    """The user whose name an account lock is for (None for an address, or a name that
    belongs to nobody)."""
    if row.scope != ACCOUNT:
        return None
    query = db.select(User).where(db.func.lower(User.username) == row.key).order_by(User.id)
    return db.session.execute(query).scalars().first()
