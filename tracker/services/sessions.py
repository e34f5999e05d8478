"""Login sessions kept in the database.

Flask-Login keeps ``User.get_id()`` in the session cookie and in the remember cookie; that
id is the token of a ``LoginSession`` row (only its hash is stored), and the user loader
accepts a token only while its row exists and is alive. So 退出 ends that session on the
server however many copies of its cookies exist, and a password change, a reset or
deactivation ends the user's other sessions together with their remember cookies.

A session is alive while it has been used within its idle lifetime (SESSION_IDLE_HOURS),
or, when the user ticked 记住我, until its remember cookie would expire (REMEMBER_DAYS):
the ``Lifetimes`` the caller passes in."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import LoginSession, User

# How stale last_seen_at may get before a request writes it again: a busy session is not
# written on every request.
SEEN_EVERY = timedelta(minutes=5)
MAX_TOKEN = 100  # longer ids from a cookie are not ours


def hash_token(token: str) -> str:
    """What the database keeps of a secret token: its SHA-256 (also for API tokens)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta  # a session not used this long ends
    remember: timedelta  # a session signed in with 记住我 lasts this long from login


def is_alive(row: LoginSession, lifetimes: Lifetimes, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    if row.remember:
        return _aware(row.created_at) > now - lifetimes.remember
    return _aware(row.last_seen_at) > now - lifetimes.idle


def _attach(user: User, row: LoginSession, token: str) -> User:
    user.login_token = token
    user.login_session = row
    return user


def start(
    user: User,
    *,
    remember: bool,
    ip: str | None,
    user_agent: str | None,
    lifetimes: Lifetimes,
) -> LoginSession:
    """A new session for a user who has just proved who they are; Flask-Login's login_user
    then writes its token (user.get_id()) into the cookies."""
    purge_expired(lifetimes)
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        user=user,
        token_hash=hash_token(token),
        remember=remember,
        ip=(ip or "")[:64],
        user_agent=(user_agent or "")[:300],
    )
    db.session.add(row)
    db.session.flush()
    _attach(user, row, token)
    return row


def load(token: str | None, lifetimes: Lifetimes) -> User | None:
    """The user of a live session with this token (from a cookie), or None."""
    if not token or len(token) > MAX_TOKEN:
        return None
    # the user and their unit with it: every page reads them (one query instead of three)
    row = db.session.execute(
        db.select(LoginSession)
        .options(joinedload(LoginSession.user).joinedload(User.unit))
        .where(LoginSession.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if row is None or not is_alive(row, lifetimes) or not row.user.active:
        return None
    return _attach(row.user, row, token)


def due_to_mark(row: LoginSession, now: datetime | None = None) -> bool:
    """Whether the session's last use is old enough to be written again (mark_seen)."""
    return (now or datetime.now(UTC)) - _aware(row.last_seen_at) >= SEEN_EVERY


def mark_seen(row: LoginSession, now: datetime | None = None) -> bool:
    """Note that the session is in use; True when the row was changed (so needs a commit)."""
    now = now or datetime.now(UTC)
    if not due_to_mark(row, now):
        return False
    row.last_seen_at = now
    return True


def end(row: LoginSession) -> None:
    db.session.delete(row)
    db.session.flush()


def end_all(user: User, *, lifetimes: Lifetimes, keep: LoginSession | None = None) -> int:
    """End every session of the user except `keep`; returns how many live ones ended."""
    rows = [row for row in _rows(user) if keep is None or row.id != keep.id]
    ended = sum(1 for row in rows if is_alive(row, lifetimes))
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return ended


def _rows(user: User) -> list[LoginSession]:
    return list(
        db.session.execute(db.select(LoginSession).where(LoginSession.user_id == user.id))
        .scalars()
        .all()
    )


def live_sessions(user: User, lifetimes: Lifetimes) -> list[LoginSession]:
    """The user's live sessions, most recently used first."""
    now = datetime.now(UTC)
    rows = [row for row in _rows(user) if is_alive(row, lifetimes, now)]
    return sorted(rows, key=lambda row: _aware(row.last_seen_at), reverse=True)


def get_own(user: User, session_id: int, lifetimes: Lifetimes) -> LoginSession | None:
    row = db.session.get(LoginSession, session_id)
    alive = row is not None and row.user_id == user.id and is_alive(row, lifetimes)
    return row if alive else None


def purge_expired(lifetimes: Lifetimes, now: datetime | None = None) -> None:
    """Delete the rows of sessions that can no longer be used (any user's)."""
    now = now or datetime.now(UTC)
    db.session.execute(
        db.delete(LoginSession).where(
            db.or_(
                db.and_(
                    LoginSession.remember.is_(False),
                    LoginSession.last_seen_at <= now - lifetimes.idle,
                ),
                LoginSession.created_at <= now - lifetimes.remember,
            )
        )
    )


BROWSERS = (
    ("MicroMessenger", "微信"),
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
    ("MSIE ", "Internet Explorer"),
    ("Trident/", "Internet Explorer"),
)
SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_agent(user_agent: str) -> str:
    """A browser and system a person recognises ("Chrome · Windows"), from a User-Agent."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in SYSTEMS if mark in user_agent), "")
    return " · ".join(part for part in (browser, system) if part) or "未知浏览器"
