"""Timestamps are stored in UTC; users read them in Beijing time (UTC+8, no DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))


def to_beijing(value: datetime) -> datetime:
    if value.tzinfo is None:  # SQLite hands stored UTC values back without tzinfo
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BEIJING)


def beijing_day(value: date | datetime) -> date:
    return to_beijing(value).date() if isinstance(value, datetime) else value


def iso_date(value: str | None) -> date | None:
    """The date at the start of an ISO string ("2022-12-31", "2022-12-31T09:00"), or None
    for an empty or malformed one."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
