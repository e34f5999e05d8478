"""Deadline policy and working-day calendar as configured: app config gives the defaults,
rows an admin saved (Setting, CalendarDay) take precedence."""

from __future__ import annotations

from datetime import date

from flask import current_app

from tracker.config import POLICY_KEYS
from tracker.extensions import db
from tracker.models import CalendarDay, Setting
from tracker.rules.deadlines import DeadlinePolicy, WorkCalendar

POLICY_SETTING = "deadline_policy"


def get_setting(key: str, default=None):
    row = db.session.get(Setting, key)
    return default if row is None else row.value


def put_setting(key: str, value) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value


def default_policy_mapping() -> dict:
    cfg = current_app.config
    return {name: str(cfg[key]) for name, key in POLICY_KEYS.items()}


def deadline_policy() -> DeadlinePolicy:
    mapping = default_policy_mapping()
    mapping.update(get_setting(POLICY_SETTING, {}) or {})
    return DeadlinePolicy.from_mapping(mapping)


def work_calendar() -> WorkCalendar:
    rows = db.session.execute(db.select(CalendarDay.day, CalendarDay.is_workday)).all()
    overrides = {row.day: row.is_workday for row in rows}
    return WorkCalendar(overrides=overrides, override_years={d.year for d in overrides})


def today() -> date:
    """The tracker's notion of today; tests pin it with the TODAY config key."""
    pinned = current_app.config.get("TODAY")
    if pinned:
        return date.fromisoformat(str(pinned)) if not isinstance(pinned, date) else pinned
    return date.today()
