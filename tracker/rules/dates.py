"""Plausible dates: the window of days an office can have meant.

An event (a proposal submitted, an assignment, a contact, a progress note, a letter signed
or sent, a rating) happened between 1990 and today; a plan (a due date, an extension, a
commitment's deadline) lies no more than ten years ahead. Outside these windows a date is
a typing slip (0001-01-01, 9999-12-31) that no deadline or document number can work with."""

from __future__ import annotations

import calendar
from datetime import date

from tracker.rules.chinese import cn_date

EARLIEST = date(1990, 1, 1)
PLAN_YEARS = 10


def years_after(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February), at most date.max."""
    year = min(day.year + years, date.max.year)
    if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def event_window(today: date) -> tuple[date, date]:
    """Days something can have happened on: 1 January 1990 to today."""
    return EARLIEST, today


def plan_window(today: date) -> tuple[date, date]:
    """Days something can be planned for: 1 January 1990 to ten years from today."""
    return EARLIEST, years_after(today, PLAN_YEARS)


def window_error(label: str, day: date, window: tuple[date, date], today: date) -> str | None:
    """Why `day` is outside `window`, in Chinese, or None when it is inside."""
    earliest, latest = window
    if day < earliest:
        return f"{label}不能早于{cn_date(earliest)}。"
    if day > latest:
        if latest == today:
            return f"{label}不能晚于今天（{cn_date(today)}）。"
        return f"{label}不能晚于{cn_date(latest)}（{PLAN_YEARS}年以后的日期不能填写）。"
    return None
