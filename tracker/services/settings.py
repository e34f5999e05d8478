"""Deadline policy and working-day calendar as configured: the app's settings give the
defaults (passed in), rows an admin saved (Setting, CalendarDay) take precedence."""

from __future__ import annotations

from collections.abc import Mapping

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


def deadline_policy(defaults: Mapping[str, str]) -> DeadlinePolicy:
    """The policy in force: the admin's saved values over `defaults` (the app's settings,
    POLICY_KEYS; tracker.current.deadline_policy reads them)."""
    mapping = dict(defaults)
    mapping.update(get_setting(POLICY_SETTING, {}) or {})
    return DeadlinePolicy.from_mapping(mapping)


def work_calendar() -> WorkCalendar:
    rows = db.session.execute(db.select(CalendarDay.day, CalendarDay.is_workday)).all()
    overrides = {row.day: row.is_workday for row in rows}
    return WorkCalendar(overrides=overrides, override_years={d.year for d in overrides})
