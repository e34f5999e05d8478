"""Tests for tracker.rules.deadlines.

Every expected date below was worked out by hand from the State Council holiday notices
(the counted days are listed in the comments); the package ``chinese_calendar`` is only
used to cross-check the calendar facts the tables rely on, never to produce expectations.

Calendar facts used (official notices):
- Spring Festival 2024: off Sat 2024-02-10 .. Sat 2024-02-17; make-up working days
  Sun 2024-02-04 and Sun 2024-02-18; Fri 2024-02-09 (除夕) is a working day.
- National Day 2023 (with Mid-Autumn): off Fri 2023-09-29 .. Fri 2023-10-06; make-up
  Sat 2023-10-07 and Sun 2023-10-08.
- National Day 2024: off Tue 2024-10-01 .. Mon 2024-10-07; make-up Sun 2024-09-29 and
  Sat 2024-10-12.
- Spring Festival 2025: off Tue 2025-01-28 .. Tue 2025-02-04; make-up Sun 2025-01-26 and
  Sat 2025-02-08.
- National Day 2025 (with Mid-Autumn): off Wed 2025-10-01 .. Wed 2025-10-08; make-up
  Sun 2025-09-28 and Sat 2025-10-11.
- 2027 has no data in the package: 2027-01-01 is a Friday, 2027-03-01 a Monday.
"""

from __future__ import annotations

import ast
import logging
import re
from datetime import date
from pathlib import Path

import chinese_calendar
import pytest

from tracker.rules import deadlines
from tracker.rules.deadlines import (
    DAYS,
    MONTHS,
    WORKING_DAYS,
    DeadlineError,
    DeadlinePolicy,
    Due,
    Period,
    WorkCalendar,
    add_period,
    co_opinion_due,
    days_left,
    extended_due,
    re_answer_due,
    reassignment_deadline,
    reply_due,
    reply_max_due,
    working_days_between,
)

LOGGER = "tracker.rules.deadlines"
CJK = re.compile(r"[\u4e00-\u9fff]")


def d(text: str) -> date:
    return date.fromisoformat(text)


def fallback_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


@pytest.fixture
def official() -> WorkCalendar:
    return WorkCalendar()


# ------------------------------------------------------------------ calendar facts


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Spring Festival 2024
        ("2024-02-03", False),  # ordinary Saturday
        ("2024-02-04", True),  # Sunday, make-up
        ("2024-02-09", True),  # Friday, 除夕, not an official holiday
        ("2024-02-10", False),
        ("2024-02-12", False),  # Monday inside the holiday
        ("2024-02-16", False),
        ("2024-02-17", False),
        ("2024-02-18", True),  # Sunday, make-up
        ("2024-02-19", True),
        # National Day 2023
        ("2023-09-28", True),
        ("2023-09-29", False),  # Mid-Autumn
        ("2023-10-02", False),
        ("2023-10-06", False),
        ("2023-10-07", True),  # Saturday, make-up
        ("2023-10-08", True),  # Sunday, make-up
        # National Day 2024
        ("2024-09-29", True),  # Sunday, make-up
        ("2024-10-07", False),
        ("2024-10-08", True),
        ("2024-10-12", True),  # Saturday, make-up
        # Spring Festival 2025
        ("2025-01-31", False),
        ("2025-02-05", True),
        # National Day 2025
        ("2025-09-27", False),  # ordinary Saturday
        ("2025-09-28", True),  # Sunday, make-up
        ("2025-10-01", False),
        ("2025-10-06", False),  # Monday inside the holiday
        ("2025-10-08", False),
        ("2025-10-09", True),
        ("2025-10-11", True),  # Saturday, make-up
        ("2025-10-12", False),
    ],
)
def test_calendar_facts_match_package_and_work_calendar(day, working, official):
    assert chinese_calendar.is_workday(d(day)) is working
    assert official.is_workday(d(day)) is working


# ------------------------------------------------------------------ months and days


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        ("2024-01-31", "3 months", "2024-04-30"),  # leap year, April has 30 days
        ("2023-01-31", "3 months", "2023-04-30"),  # non-leap year
        ("2024-01-31", "1 month", "2024-02-29"),  # leap February
        ("2023-01-31", "1 month", "2023-02-28"),  # common February
        ("2023-11-30", "3 months", "2024-02-29"),  # across the year into leap February
        ("2022-11-30", "3 months", "2023-02-28"),
        ("2023-08-31", "6 months", "2024-02-29"),
        ("2024-03-31", "6 months", "2024-09-30"),
        ("2024-12-31", "2 months", "2025-02-28"),
        ("2024-02-29", "12 months", "2025-02-28"),
        ("2023-12-15", "1 month", "2024-01-15"),
        ("2024-05-20", "3 months", "2024-08-20"),
        ("2024-01-31", "30 days", "2024-03-01"),  # Feb 2024 has 29 days: 31 Jan + 29 = 29 Feb
        ("2023-01-31", "30 days", "2023-03-02"),  # 31 Jan + 28 = 28 Feb, + 2 = 2 Mar
        ("2023-12-25", "10 days", "2024-01-04"),
    ],
)
def test_months_and_days_without_roll_forward(start, period, expected, official):
    due = add_period(d(start), Period.parse(period), official)
    assert due == Due(on=d(expected), estimated=False, years_estimated=())


# ------------------------------------------------------------------ working days


@pytest.mark.parametrize(
    ("start", "amount", "expected"),
    [
        # Spring Festival 2024
        ("2024-02-08", 1, "2024-02-09"),
        ("2024-02-08", 5, "2024-02-21"),  # 9 Feb, 18 (Sun), 19, 20, 21
        ("2024-02-09", 1, "2024-02-18"),  # the make-up Sunday
        ("2024-02-09", 7, "2024-02-26"),  # 18, 19, 20, 21, 22, 23, 26
        ("2024-02-10", 1, "2024-02-18"),  # start inside the holiday
        ("2024-02-01", 5, "2024-02-07"),  # 2 Feb, 4 (Sun make-up), 5, 6, 7
        # National Day 2023
        ("2023-09-27", 5, "2023-10-10"),  # 28 Sep, 7 Oct (Sat), 8 (Sun), 9, 10
        ("2023-09-28", 1, "2023-10-07"),  # the make-up Saturday
        ("2023-09-28", 10, "2023-10-18"),  # 7, 8, 9, 10, 11, 12, 13, 16, 17, 18
        # National Day 2025
        ("2025-09-26", 5, "2025-10-10"),  # 28 Sep (Sun), 29, 30, 9 Oct, 10
        ("2025-09-26", 7, "2025-10-13"),  # ... 11 Oct (Sat), 13
        ("2025-09-30", 10, "2025-10-21"),  # 9, 10, 11, 13, 14, 15, 16, 17, 20, 21
        ("2025-09-27", 1, "2025-09-28"),  # Saturday start, make-up Sunday counts
    ],
)
def test_working_days_follow_official_calendar(start, amount, expected, official):
    due = add_period(d(start), Period(amount, WORKING_DAYS), official)
    assert due == Due(on=d(expected), estimated=False, years_estimated=())


def test_working_days_ignore_roll_forward(official):
    due = add_period(d("2025-09-26"), Period(5, WORKING_DAYS), official, roll_forward=True)
    assert due.on == d("2025-10-10")


def test_working_days_are_not_monday_to_friday(official):
    # A plain Mon-Fri count would give 9, 12, 13, 14, 15 Feb.
    mon_fri = WorkCalendar(use_official=False)
    assert add_period(d("2024-02-08"), Period(5, WORKING_DAYS), official).on == d("2024-02-21")
    assert add_period(d("2024-02-08"), Period(5, WORKING_DAYS), mon_fri).on == d("2024-02-15")


# ------------------------------------------------------------------ roll forward


@pytest.mark.parametrize(
    ("assigned", "expected"),
    [
        ("2025-07-03", "2025-10-09"),  # 3 Oct 2025 is in National Day -> first day after
        ("2023-07-01", "2023-10-07"),  # 1 Oct 2023 -> the make-up Saturday 7 Oct
        ("2024-07-01", "2024-10-08"),  # 1 Oct 2024 -> Tue 8 Oct
        ("2024-10-31", "2025-02-05"),  # 31 Jan 2025 is in Spring Festival -> Wed 5 Feb
        ("2025-07-11", "2025-10-11"),  # lands on the make-up Saturday: stays
        ("2025-07-12", "2025-10-13"),  # ordinary Sunday -> Monday
        ("2024-01-31", "2024-04-30"),  # Tuesday, a working day: unchanged
    ],
)
def test_reply_due_rolls_forward_over_holidays(assigned, expected, official):
    assert reply_due(d(assigned), DeadlinePolicy(), official) == Due(d(expected), False, ())


def test_reply_due_without_roll_forward_stays_on_holiday(official):
    policy = DeadlinePolicy(roll_forward=False)
    assert reply_due(d("2025-07-03"), policy, official).on == d("2025-10-03")


def test_days_period_rolls_forward(official):
    due = add_period(d("2025-09-01"), Period(30, DAYS), official, roll_forward=True)
    assert due.on == d("2025-10-09")  # 1 Oct 2025 -> 9 Oct


# ------------------------------------------------------------------ policy-level dates


@pytest.mark.parametrize(
    ("func", "start", "policy", "expected"),
    [
        (reply_max_due, "2024-01-31", DeadlinePolicy(), "2024-07-31"),  # Wednesday
        (reply_max_due, "2023-04-01", DeadlinePolicy(), "2023-10-07"),  # 1 Oct -> 7 Oct
        (co_opinion_due, "2024-01-31", DeadlinePolicy(), "2024-02-29"),  # Thursday
        (co_opinion_due, "2025-09-01", DeadlinePolicy(), "2025-10-09"),  # 1 Oct -> 9 Oct
        (reassignment_deadline, "2025-09-26", DeadlinePolicy(), "2025-10-10"),
        (
            reassignment_deadline,
            "2025-09-26",
            DeadlinePolicy(reassignment_window=Period(7, WORKING_DAYS)),
            "2025-10-13",
        ),
        (
            reassignment_deadline,
            "2025-09-30",
            DeadlinePolicy(reassignment_window=Period(10, WORKING_DAYS)),
            "2025-10-21",
        ),
        (re_answer_due, "2024-01-10", DeadlinePolicy(), "2024-02-18"),  # 10 Feb -> Sun 18 Feb
        (
            re_answer_due,
            "2024-01-10",
            DeadlinePolicy(re_answer=Period(3, MONTHS)),
            "2024-04-10",  # Wednesday after Qingming
        ),
    ],
)
def test_policy_due_dates(func, start, policy, expected, official):
    assert func(d(start), policy, official) == Due(d(expected), False, ())


# ------------------------------------------------------------------ admin overrides


@pytest.mark.parametrize(
    ("overrides", "override_years", "start", "amount", "expected"),
    [
        # package working Monday 19 Feb 2024 marked as holiday: 9, 18, 20, 21, 22
        ({"2024-02-19": False}, (), "2024-02-08", 5, "2024-02-22"),
        # package holiday Saturday 10 Feb 2024 marked as working: 9, 10, 18, 19, 20
        ({"2024-02-10": True}, (), "2024-02-08", 5, "2024-02-20"),
        # admin declares 2024 complete with no rows: plain Mon-Fri, package ignored
        ({}, (2024,), "2024-02-08", 5, "2024-02-15"),
        # a row beats the year's Mon-Fri rule: Saturday 6 Mar 2027 worked
        ({"2027-03-06": True}, (2027,), "2027-03-05", 1, "2027-03-06"),
    ],
)
def test_overrides_take_precedence(overrides, override_years, start, amount, expected):
    calendar = WorkCalendar({d(k): v for k, v in overrides.items()}, override_years)
    for day, working in overrides.items():
        assert calendar.is_workday(d(day)) is working
    due = add_period(d(start), Period(amount, WORKING_DAYS), calendar)
    assert due == Due(d(expected), False, ())


def test_override_changes_roll_forward():
    calendar = WorkCalendar({d("2025-10-09"): False})
    assert reply_due(d("2025-07-03"), DeadlinePolicy(), calendar).on == d("2025-10-10")


def test_overrides_accept_datetimes_and_leave_package_elsewhere():
    from datetime import datetime

    calendar = WorkCalendar({datetime(2024, 2, 19, 9, 30): False})
    assert calendar.is_workday(d("2024-02-19")) is False
    assert calendar.is_workday(d("2024-02-18")) is True  # still the package's make-up Sunday


# ------------------------------------------------------------------ years without data


def test_2027_falls_back_to_monday_friday_and_warns(official, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    due = add_period(d("2027-03-05"), Period(5, WORKING_DAYS), official)
    # Fri 5 Mar 2027 -> 8, 9, 10, 11, 12 Mar
    assert due == Due(on=d("2027-03-12"), estimated=True, years_estimated=(2027,))
    assert due.warning_zh is not None and "2027年" in due.warning_zh
    records = fallback_warnings(caplog)
    assert len(records) == 1
    assert "2027" in records[0].getMessage()


def test_window_into_2027_is_estimated_only_for_2027(official, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    # Tue 29 Dec 2026 -> 30, 31 Dec (official), Fri 1 Jan 2027 (guessed), 4, 5 Jan
    due = add_period(d("2026-12-29"), Period(5, WORKING_DAYS), official)
    assert due == Due(on=d("2027-01-05"), estimated=True, years_estimated=(2027,))
    assert len(fallback_warnings(caplog)) == 1


@pytest.mark.parametrize(
    ("overrides", "start", "expected"),
    [
        ({}, "2027-03-05", "2027-03-12"),
        ({"2027-03-08": False}, "2027-03-05", "2027-03-15"),  # 9, 10, 11, 12, 15
        ({"2027-01-01": False}, "2026-12-29", "2027-01-06"),  # 30, 31 Dec, 4, 5, 6 Jan
    ],
)
def test_2027_rows_entered_make_dates_exact(overrides, start, expected, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    calendar = WorkCalendar({d(k): v for k, v in overrides.items()}, override_years=[2027])
    due = add_period(d(start), Period(5, WORKING_DAYS), calendar)
    assert due == Due(on=d(expected), estimated=False, years_estimated=())
    assert due.warning_zh is None
    assert fallback_warnings(caplog) == []


def test_months_into_2027_estimated_only_when_calendar_consulted(official, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    plain = reply_due(d("2026-11-15"), DeadlinePolicy(roll_forward=False), official)
    assert plain == Due(d("2027-02-15"), False, ())
    assert fallback_warnings(caplog) == []
    rolled = reply_due(d("2026-11-15"), DeadlinePolicy(), official)  # Monday, guessed working
    assert rolled == Due(d("2027-02-15"), True, (2027,))
    assert len(fallback_warnings(caplog)) == 1


def test_unsupported_years_never_raise(official):
    assert official.is_workday(d("2030-01-01")) is True  # Tuesday
    assert official.is_workday(d("2030-01-05")) is False  # Saturday
    assert official.is_workday(d("2003-01-06")) is True  # Monday, before the package's data
    assert official.is_workday(d("2003-01-05")) is False  # Sunday


@pytest.mark.parametrize(
    ("calendar", "year", "covered"),
    [
        (WorkCalendar(), 2004, True),
        (WorkCalendar(), 2024, True),
        (WorkCalendar(), 2026, True),
        (WorkCalendar(), 2003, False),
        (WorkCalendar(), 2027, False),
        (WorkCalendar(override_years=[2027]), 2027, True),
        (WorkCalendar({date(2027, 1, 1): False}), 2027, False),  # one row is not a full year
        (WorkCalendar(use_official=False), 2024, False),
    ],
)
def test_is_covered(calendar, year, covered):
    assert calendar.is_covered(year) is covered


def test_uncovered_years():
    calendar = WorkCalendar(override_years=[2028])
    assert calendar.uncovered_years(d("2025-06-01"), d("2029-02-01")) == [2027, 2029]
    assert calendar.uncovered_years(d("2029-02-01"), d("2025-06-01")) == [2027, 2029]
    assert calendar.uncovered_years(d("2024-01-01"), d("2026-12-31")) == []


# ------------------------------------------------------------------ counting helpers


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-02-08", "2024-02-21", 5),  # 9, 18, 19, 20, 21 Feb
        ("2024-02-21", "2024-02-08", -5),
        ("2024-02-08", "2024-02-08", 0),
        ("2023-09-28", "2023-10-08", 2),  # 7 and 8 Oct (28 Sep itself excluded)
        ("2025-09-30", "2025-10-08", 0),  # the whole holiday
        ("2025-09-26", "2025-10-13", 7),  # 28, 29, 30 Sep, 9, 10, 11, 13 Oct
    ],
)
def test_working_days_between(start, end, expected, official):
    assert working_days_between(d(start), d(end), official) == expected


def test_working_days_between_warns_for_2027(official, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    assert working_days_between(d("2027-03-05"), d("2027-03-12"), official) == 5
    records = fallback_warnings(caplog)
    assert len(records) == 1 and "2027" in records[0].getMessage()


@pytest.mark.parametrize(
    ("due_on", "today", "expected"),
    [
        ("2024-03-01", "2024-02-28", 2),  # 29 Feb, 1 Mar
        ("2023-03-01", "2023-02-28", 1),
        ("2024-02-20", "2024-02-20", 0),
        ("2024-02-18", "2024-02-20", -2),
        ("2024-01-01", "2023-12-01", 31),
    ],
)
def test_days_left(due_on, today, expected):
    assert days_left(d(due_on), d(today)) == expected


# ------------------------------------------------------------------ Period


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("3 months", 3, MONTHS),
        ("3m", 3, MONTHS),
        ("3个月", 3, MONTHS),
        ("1 month", 1, MONTHS),
        (" 3 Months ", 3, MONTHS),
        ("３个月", 3, MONTHS),  # full-width digit
        ("3 个月", 3, MONTHS),
        ("两个月", 2, MONTHS),
        ("5 working days", 5, WORKING_DAYS),
        ("5wd", 5, WORKING_DAYS),
        ("7 WD", 7, WORKING_DAYS),
        ("1 working day", 1, WORKING_DAYS),
        ("5个工作日", 5, WORKING_DAYS),
        ("5工作日", 5, WORKING_DAYS),
        ("五个工作日", 5, WORKING_DAYS),
        ("十个工作日", 10, WORKING_DAYS),
        ("20个工作日", 20, WORKING_DAYS),
        ("30 days", 30, DAYS),
        ("1 day", 1, DAYS),
        ("10d", 10, DAYS),
        ("30天", 30, DAYS),
        ("30日", 30, DAYS),
        ("二十天", 20, DAYS),
        ("十五日", 15, DAYS),
    ],
)
def test_period_parse(text, amount, unit):
    assert Period.parse(text) == Period(amount, unit)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "0 months",
        "0个月",
        "零个月",
        "-3 months",
        "3",
        "months",
        "3 weeks",
        "3月",  # would read as "March"
        "1.5 months",
        "3 months 2 days",
        "1000 days",
        "十十天",
        None,
        3,
    ],
)
def test_period_parse_rejects_garbage(text):
    with pytest.raises(ValueError) as excinfo:
        Period.parse(text)
    assert CJK.search(str(excinfo.value))


@pytest.mark.parametrize(
    ("period", "english", "chinese"),
    [
        (Period(3, MONTHS), "3 months", "3个月"),
        (Period(1, MONTHS), "1 month", "1个月"),
        (Period(6, MONTHS), "6 months", "6个月"),
        (Period(5, WORKING_DAYS), "5 working days", "5个工作日"),
        (Period(1, WORKING_DAYS), "1 working day", "1个工作日"),
        (Period(30, DAYS), "30 days", "30天"),
        (Period(1, DAYS), "1 day", "1天"),
    ],
)
def test_period_str_and_label_round_trip(period, english, chinese):
    assert str(period) == english
    assert period.label_zh() == chinese
    assert Period.parse(english) == period
    assert Period.parse(chinese) == period


@pytest.mark.parametrize(
    ("amount", "unit"),
    [(0, MONTHS), (-1, DAYS), (3, "weeks"), (True, DAYS), (1.5, MONTHS), (1000, DAYS)],
)
def test_period_constructor_validates(amount, unit):
    with pytest.raises(ValueError, match=CJK):
        Period(amount, unit)


def test_period_is_frozen():
    period = Period(3, MONTHS)
    with pytest.raises(AttributeError):
        period.amount = 4  # type: ignore[misc]


# ------------------------------------------------------------------ DeadlinePolicy

DEFAULT_MAPPING = {
    "reply": "3 months",
    "reply_max": "6 months",
    "co_opinion": "1 month",
    "reassignment_window": "5 working days",
    "re_answer": "1 month",
    "co_sign": "5 working days",
    "roll_forward": True,
    "co_sign_required": True,
}


def test_policy_defaults_to_mapping():
    assert DeadlinePolicy().to_mapping() == DEFAULT_MAPPING
    assert DeadlinePolicy.from_mapping(DEFAULT_MAPPING) == DeadlinePolicy()
    assert DeadlinePolicy.from_mapping({}) == DeadlinePolicy()


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        (
            {"reassignment_window": "7个工作日", "re_answer": "3个月", "roll_forward": False},
            DeadlinePolicy(
                reassignment_window=Period(7, WORKING_DAYS),
                re_answer=Period(3, MONTHS),
                roll_forward=False,
            ),
        ),
        (
            {"reply": "5个月", "reply_max": "6个月", "co_opinion": "20个工作日"},
            DeadlinePolicy(
                reply=Period(5, MONTHS),
                reply_max=Period(6, MONTHS),
                co_opinion=Period(20, WORKING_DAYS),
            ),
        ),
        ({"roll_forward": "false"}, DeadlinePolicy(roll_forward=False)),
        ({"roll_forward": "是"}, DeadlinePolicy(roll_forward=True)),
        ({"reply": Period(90, DAYS)}, DeadlinePolicy(reply=Period(90, DAYS))),
    ],
)
def test_policy_from_mapping_round_trips(mapping, expected):
    policy = DeadlinePolicy.from_mapping(mapping)
    assert policy == expected
    assert DeadlinePolicy.from_mapping(policy.to_mapping()) == policy


def test_policy_constructor_parses_strings():
    assert DeadlinePolicy(reply="3个月") == DeadlinePolicy()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "mapping",
    [
        {"reply_period": "3 months"},  # unknown key
        {"reply": "abc"},
        {"reply": ""},
        {"reply": 3},
        {"roll_forward": "maybe"},
        {"roll_forward": 1},
        {"reply": "4 months", "reply_max": "3 months"},  # maximum shorter than the period
        {"reply": "3 months", "reply_max": "1 day"},  # shorter, in another unit
        {"reply": "3 months", "reply_max": "60 working days"},  # about 84 days: shorter
        {"reply": "30 working days", "reply_max": "30 days"},
    ],
)
def test_policy_from_mapping_rejects(mapping):
    with pytest.raises(ValueError, match=CJK):
        DeadlinePolicy.from_mapping(mapping)


def test_policy_error_names_the_setting():
    with pytest.raises(ValueError, match="答复期限"):
        DeadlinePolicy.from_mapping({"reply": "abc"})


# ------------------------------------------------------------------ extensions


@pytest.mark.parametrize(
    ("assigned", "requested"),
    [
        ("2024-01-31", "2024-07-31"),  # exactly 6 months (a Wednesday)
        ("2024-01-31", "2024-05-15"),
        ("2024-01-31", "2024-01-31"),
        ("2023-04-01", "2023-10-07"),  # 6 months = 1 Oct 2023, rolled to 7 Oct
    ],
)
def test_extended_due_accepts(assigned, requested, official):
    assert extended_due(d(assigned), d(requested), DeadlinePolicy(), official) == d(requested)


@pytest.mark.parametrize(
    ("assigned", "requested"),
    [
        ("2024-01-31", "2024-08-01"),  # one day beyond 6 months
        ("2024-01-31", "2024-12-31"),
        ("2023-04-01", "2023-10-08"),  # beyond the rolled-forward maximum
        ("2024-01-31", "2024-01-30"),  # before the assignment
    ],
)
def test_extended_due_refuses(assigned, requested, official):
    with pytest.raises(DeadlineError, match=CJK):
        extended_due(d(assigned), d(requested), DeadlinePolicy(), official)


def test_extended_due_error_is_value_error_and_names_limit(official):
    with pytest.raises(ValueError, match="6个月"):
        extended_due(d("2024-01-31"), d("2024-08-01"), DeadlinePolicy(), official)


def test_reply_max_due_is_six_months(official):
    assert reply_max_due(d("2024-01-31"), DeadlinePolicy(), official).on == d("2024-07-31")


# ------------------------------------------------------------------ purity


def test_module_imports_no_web_or_database_code():
    tree = ast.parse(Path(deadlines.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    tops = {name.split(".")[0] for name in imported}
    assert not tops & {"flask", "flask_sqlalchemy", "sqlalchemy"}
    # of the tracker, only other pure rules (the Chinese numerals and dates)
    assert all(name.startswith("tracker.rules.") for name in imported if name.startswith("tracker"))


@pytest.mark.parametrize(
    ("period", "start"),
    [
        (Period(3, MONTHS), "9999-12-31"),
        (Period(6, MONTHS), "9999-07-01"),
        (Period(5, DAYS), "9999-12-30"),
        (Period(3, WORKING_DAYS), "9999-12-30"),
    ],
)
def test_a_period_past_the_last_day_there_is_says_so_in_chinese(period, start):
    with pytest.raises(DeadlineError, match="超出可计算的日期范围"):
        add_period(d(start), period, WorkCalendar(), roll_forward=True)


def test_a_reply_maximum_as_long_as_the_period_in_another_unit_is_accepted():
    policy = DeadlinePolicy.from_mapping({"reply": "3 months", "reply_max": "92 days"})
    assert policy.reply_max == Period(92, DAYS)
