"""Personal API tokens (/api/v1): created and revoked by their user, shown once, kept as a
hash, each acting with exactly its user's role and unit; and the per-token rate limit.

A token reads ``trk_<prefix>_<secret>``: the prefix (8 hex digits) names it in lists, the
secret is 256 random bits. The database keeps the SHA-256 of the whole token, unique, so a
request finds its row by an index lookup (a slow password hash would add nothing to 256
random bits and cost every request)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, update
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import ApiToken, User
from tracker.rules.clock import BEIJING
from tracker.services import audit, permissions
from tracker.services.errors import DomainError, NotFound, PermissionDenied
from tracker.services.sessions import hash_token

PREFIX = "trk_"
MAX_TOKEN = 100  # longer bearer values are not ours
MAX_LIVE = 20  # live tokens one user may hold


class InvalidToken(Exception):
    """The bearer value names no live token (missing, unknown, revoked, expired, or its user
    deactivated). The message is for the API's problem details."""


@dataclass(frozen=True)
class Created:
    row: ApiToken
    token: str  # shown once, never stored


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def expiry(last_day: date | None) -> datetime | None:
    """A token valid through ``last_day`` (Beijing) ends at that day's midnight, in UTC."""
    if last_day is None:
        return None
    return datetime.combine(last_day + timedelta(days=1), time(), BEIJING).astimezone(UTC)


def last_day(row: ApiToken) -> date | None:
    """The last day (Beijing) the token is valid on; None: until revoked."""
    if row.expires_at is None:
        return None
    return (_aware(row.expires_at).astimezone(BEIJING) - timedelta(days=1)).date()


def is_live(row: ApiToken, now: datetime | None = None) -> bool:
    now = now or _now()
    expires = _aware(row.expires_at)
    return row.revoked_at is None and (expires is None or expires > now)


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, the newest first (revoked and expired ones too, for the record)."""
    return list(
        db.session.execute(
            db.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).scalars()
    )


def create(actor: User, *, name: str, last_day: date | None, today: date) -> Created:
    """A new token of the actor's own, valid through ``last_day`` (None: until revoked)."""
    if not permissions.uses_api(actor):
        raise PermissionDenied("代表/委员账号不使用 API 令牌。")
    name = name.strip()
    if not name:
        raise DomainError("请填写令牌名称（如：人大代表建议系统）。")
    if last_day is not None and last_day < today:
        raise DomainError("有效期不能早于今天。")
    live = sum(1 for row in tokens_of(actor) if is_live(row))
    if live >= MAX_LIVE:
        raise DomainError(f"每个账号最多有{MAX_LIVE}个有效令牌，请先撤销不用的令牌。")
    prefix = secrets.token_hex(4)
    token = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(
        user_id=actor.id,
        name=name,
        prefix=f"{PREFIX}{prefix}",
        token_hash=hash_token(token),
        expires_at=expiry(last_day),
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor, "api_token_create", f"创建API令牌“{name}”", entity="api_token", entity_id=row.id
    )
    return Created(row, token)


def get_own(actor: User, token_id: int) -> ApiToken:
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != actor.id:
        raise NotFound("找不到该令牌。")
    return row


def revoke(actor: User, row: ApiToken) -> None:
    """Revoke one of the actor's own tokens: the next request with it is refused."""
    if row.user_id != actor.id:
        raise NotFound("找不到该令牌。")
    if row.revoked_at is not None:
        return  # pressed twice: already done
    row.revoked_at = _now()
    db.session.flush()
    audit.record(
        actor,
        "api_token_revoke",
        f"撤销API令牌“{row.name}”",
        entity="api_token",
        entity_id=row.id,
    )


def authenticate(bearer: str | None) -> ApiToken:
    """The live token a request's bearer value names, with its user; else InvalidToken."""
    if not bearer:
        raise InvalidToken("请求须带 API 令牌：Authorization: Bearer <令牌>。")
    if len(bearer) > MAX_TOKEN or not bearer.startswith(PREFIX):
        raise InvalidToken("API 令牌无效。")
    row = db.session.execute(
        db.select(ApiToken)
        .options(joinedload(ApiToken.user).joinedload(User.unit))
        .where(ApiToken.token_hash == hash_token(bearer))
    ).scalar_one_or_none()
    if row is None:
        raise InvalidToken("API 令牌无效。")
    if row.revoked_at is not None:
        raise InvalidToken("API 令牌已撤销。")
    if not is_live(row):
        raise InvalidToken("API 令牌已过期。")
    if not row.user.active:
        raise InvalidToken("令牌所属账号已停用。")
    return row


def user_with_unit(user_id: int) -> User:
    """A token's user with their unit, read again in one query: the commit that counted
    the request expired the token and its user, and touched one by one they were read back
    a query each."""
    return db.session.execute(
        db.select(User).options(joinedload(User.unit)).where(User.id == user_id)
    ).scalar_one()


@dataclass(frozen=True)
class RateLimit:
    limit: int  # requests in a window
    window_seconds: int


def count_request(row: ApiToken, policy: RateLimit, now: datetime | None = None) -> int:
    """Count one request of this token in the current fixed window and note its use; the
    number of seconds until the window ends when the token is over its limit, else 0.

    One UPDATE … RETURNING, atomic on SQLite and PostgreSQL: requests in several workers
    or servers at once each get their own count."""
    now = now or _now()
    window = max(int(policy.window_seconds), 1)
    current = int(now.timestamp()) // window
    count = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == row.id)
        .values(
            window_count=case(
                (ApiToken.window_start == current, ApiToken.window_count + 1), else_=1
            ),
            window_start=current,
            last_used_at=now,
        )
        .returning(ApiToken.window_count)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if count <= policy.limit:
        return 0
    return max(1, (current + 1) * window - int(now.timestamp()))
