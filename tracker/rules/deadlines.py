"""Deadline rules: periods, the working-day calendar and due-date arithmetic.

Pure Python on purpose (no Flask, no database): the web layer loads the
jurisdiction's :class:`DeadlinePolicy` and the admin-entered calendar rows, builds a
:class:`WorkCalendar` and calls the functions below.

Every number is configuration (see DOMAIN.md, "deadlines"): the reply period (3 months),
the maximum with extensions (6 months), the co-handling unit's opinion (1 month), the
reassignment window (N working days) and the re-answer period (1 or 3 months).

Working days follow China's official calendar, where some weekends are make-up working
days (调休) and holidays move every year.  Precedence for one date:

1. an admin-entered override row for that date;
2. Monday–Friday, if the admin has entered the complete holiday list for that year;
3. the ``chinese_calendar`` package, for the years it has data for;
4. otherwise Monday–Friday as an estimate: the result is flagged ``estimated`` and a
   warning is logged, so the UI can say the date is provisional.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import functools
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from types import MappingProxyType

from tracker.rules.chinese import DIGITS, cn_date, cn_to_int

try:  # a declared dependency, but the rules must still work without it
    import chinese_calendar as _official
except ImportError:  # pragma: no cover - exercised only in broken installs
    _official = None

logger = logging.getLogger(__name__)

__all__ = [
    "MONTHS",
    "DAYS",
    "WORKING_DAYS",
    "UNITS",
    "MAX_AMOUNT",
    "POLICY_LABELS_ZH",
    "Period",
    "DeadlinePolicy",
    "WorkCalendar",
    "Due",
    "DeadlineError",
    "add_period",
    "reply_due",
    "reply_max_due",
    "co_opinion_due",
    "reassignment_deadline",
    "re_answer_due",
    "co_sign_due",
    "extended_due",
    "days_left",
    "working_days_between",
]

MONTHS = "months"
DAYS = "days"
WORKING_DAYS = "working_days"
UNITS = (MONTHS, DAYS, WORKING_DAYS)

#: Largest amount a period may have (999 months is already 83 years).
MAX_AMOUNT = 999

_EXAMPLES_ZH = "示例：3个月、5个工作日、30天"


class DeadlineError(ValueError):
    """A deadline rule was broken (the message is Chinese, for the user)."""


def _as_date(value: date) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date, got {type(value).__name__}")


# --------------------------------------------------------------------------- periods

_SUFFIX_UNITS: dict[str, str] = {
    # months
    "months": MONTHS,
    "month": MONTHS,
    "mo": MONTHS,
    "m": MONTHS,
    "个月": MONTHS,
    "個月": MONTHS,
    # working days
    "working days": WORKING_DAYS,
    "working day": WORKING_DAYS,
    "workdays": WORKING_DAYS,
    "workday": WORKING_DAYS,
    "work days": WORKING_DAYS,
    "work day": WORKING_DAYS,
    "business days": WORKING_DAYS,
    "business day": WORKING_DAYS,
    "wd": WORKING_DAYS,
    "个工作日": WORKING_DAYS,
    "個工作日": WORKING_DAYS,
    "工作日": WORKING_DAYS,
    # calendar days
    "days": DAYS,
    "day": DAYS,
    "calendar days": DAYS,
    "calendar day": DAYS,
    "d": DAYS,
    "天": DAYS,
    "日": DAYS,
    "个自然日": DAYS,
    "自然日": DAYS,
}

# A number of periods as rules write it in Chinese: one to ninety-nine with 十 ("五", "十五",
# "二十", "两"), never digit by digit ("二五" is no period).
_NONZERO = "".join(ch for ch, value in DIGITS.items() if value and not ch.isascii())
_ZH_AMOUNT = rf"[{_NONZERO}]?十[零〇{_NONZERO}]?|[零〇{_NONZERO}]"
_PERIOD_RE = re.compile(rf"(\d+|{_ZH_AMOUNT})\s*(\S.*)")


_UNIT_EN = {
    MONTHS: ("month", "months"),
    DAYS: ("day", "days"),
    WORKING_DAYS: ("working day", "working days"),
}
_UNIT_ZH = {MONTHS: "个月", DAYS: "天", WORKING_DAYS: "个工作日"}


@dataclass(frozen=True)
class Period:
    """An amount of months, calendar days or working days."""

    amount: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"期限单位无效：“{self.unit}”（应为月、天或工作日）")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise ValueError(f"期限数值必须是整数：“{self.amount}”")
        if not 1 <= self.amount <= MAX_AMOUNT:
            raise ValueError(f"期限数值必须在1到{MAX_AMOUNT}之间：“{self.amount}”")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read "3 months", "3m", "3个月", "5 working days", "5wd", "5个工作日", "30天", …"""
        if not isinstance(text, str):
            raise ValueError(f"期限必须是文本（{_EXAMPLES_ZH}）")
        normalized = unicodedata.normalize("NFKC", text).strip().lower()
        if not normalized:
            raise ValueError(f"期限不能为空（{_EXAMPLES_ZH}）")
        match = _PERIOD_RE.fullmatch(normalized)
        if match is None:
            raise ValueError(f"无法识别的期限：“{text}”（{_EXAMPLES_ZH}）")
        number, suffix = match.groups()
        unit = _SUFFIX_UNITS.get(re.sub(r"\s+", " ", suffix.strip()))
        amount = int(number) if number.isdigit() else cn_to_int(number)
        if unit is None or amount is None:
            raise ValueError(f"无法识别的期限：“{text}”（{_EXAMPLES_ZH}）")
        if not 1 <= amount <= MAX_AMOUNT:
            raise ValueError(f"期限数值必须在1到{MAX_AMOUNT}之间：“{text}”")
        return cls(amount, unit)

    def __str__(self) -> str:
        singular, plural = _UNIT_EN[self.unit]
        return f"{self.amount} {singular if self.amount == 1 else plural}"

    def approx_days(self) -> float:
        """The period's usual length in calendar days, to compare periods of different units
        (a month is 365.25 / 12 days, a working day 7 / 5 calendar days)."""
        per_unit = {MONTHS: 365.25 / 12, DAYS: 1.0, WORKING_DAYS: 7 / 5}
        return self.amount * per_unit[self.unit]

    def label_zh(self) -> str:
        return f"{self.amount}{_UNIT_ZH[self.unit]}"


# --------------------------------------------------------------------------- policy

#: Chinese labels for the policy settings, in form order.
POLICY_LABELS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "reply": "答复期限（自交办之日起）",
        "reply_max": "延期后最长答复期限（自交办之日起）",
        "co_opinion": "会办意见期限（自交办之日起）",
        "reassignment_window": "申请调整（退回）期限（自交办之日起）",
        "re_answer": "不满意重新办理答复期限（自评价之日起）",
        "roll_forward": "期限届满日遇节假日顺延至下一个工作日",
        "co_sign": "会签期限（自送会签之日起）",
        "co_sign_required": "主办单位的答复函须经会办单位会签后签发",
    }
)

_PERIOD_FIELDS = ("reply", "reply_max", "co_opinion", "reassignment_window", "re_answer", "co_sign")
_BOOL_FIELDS = ("roll_forward", "co_sign_required")

_TRUE_WORDS = {"true", "1", "yes", "y", "on", "是", "顺延"}
_FALSE_WORDS = {"false", "0", "no", "n", "off", "否", "不顺延"}


def _parse_bool(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = unicodedata.normalize("NFKC", value).strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise ValueError(f"{POLICY_LABELS_ZH[key]}：应为“是”或“否”，收到“{value}”")


@dataclass(frozen=True)
class DeadlinePolicy:
    """A jurisdiction's deadline settings. Strings given to the constructor are parsed."""

    reply: Period = Period(3, MONTHS)
    reply_max: Period = Period(6, MONTHS)
    co_opinion: Period = Period(1, MONTHS)
    reassignment_window: Period = Period(5, WORKING_DAYS)
    re_answer: Period = Period(1, MONTHS)
    roll_forward: bool = True
    # 会签: the co-handling units co-sign the lead unit's reply before its sign-off (a
    # jurisdiction that collects 会办意见 only switches it off)
    co_sign: Period = Period(5, WORKING_DAYS)
    co_sign_required: bool = True

    def __post_init__(self) -> None:
        for name in _PERIOD_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                try:
                    value = Period.parse(value)
                except ValueError as exc:
                    raise ValueError(f"{POLICY_LABELS_ZH[name]}：{exc}") from None
                object.__setattr__(self, name, value)
            elif not isinstance(value, Period):
                raise ValueError(f"{POLICY_LABELS_ZH[name]}：期限无效“{value}”")
        for name in _BOOL_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, bool):
                object.__setattr__(self, name, _parse_bool(name, value))
        if self.reply_max.approx_days() < self.reply.approx_days():
            raise ValueError(
                f"延期后最长答复期限（{self.reply_max.label_zh()}）"
                f"不能短于答复期限（{self.reply.label_zh()}）"
            )

    @classmethod
    def from_mapping(cls, d: Mapping[str, str | bool]) -> DeadlinePolicy:
        """Build from stored settings; missing keys keep their defaults."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"未知的期限设置项：{'、'.join(map(str, unknown))}")
        values: dict[str, object] = {}
        for key, value in d.items():
            if key in _BOOL_FIELDS:
                values[key] = _parse_bool(key, value)
            elif isinstance(value, Period | str):
                values[key] = value  # strings are parsed (with a labelled error) in __post_init__
            else:
                raise ValueError(f"{POLICY_LABELS_ZH[key]}：期限无效“{value}”")
        return cls(**values)

    def to_mapping(self) -> dict[str, str | bool]:
        out: dict[str, str | bool] = {name: str(getattr(self, name)) for name in _PERIOD_FIELDS}
        for name in _BOOL_FIELDS:
            out[name] = getattr(self, name)
        return out


# --------------------------------------------------------------------------- calendar


@functools.cache
def _official_year(year: int) -> tuple[bool, ...] | None:
    """The official package's working days of a year, read once per process (a calendar is
    made for every assignment: reading 365 days each time made a batch of 2,000 items spend
    most of its time here); None where the package has no data for the year."""
    first = date(year, 1, 1)
    length = 366 if _stdlib_calendar.isleap(year) else 365
    try:
        return tuple(bool(_official.is_workday(first + timedelta(days=i))) for i in range(length))
    except NotImplementedError:
        return None


class WorkCalendar:
    """Which days are working days: admin overrides, then the official package, then Mon–Fri."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        override_years: Iterable[int] = (),
        use_official: bool = True,
    ) -> None:
        self._overrides: dict[date, bool] = {
            _as_date(day): bool(is_working) for day, is_working in (overrides or {}).items()
        }
        self._override_years = frozenset(int(year) for year in override_years)
        self._use_official = bool(use_official) and _official is not None
        # year -> one bool per day of the year from the official package, or None (no data)
        self._official_years: dict[int, tuple[bool, ...] | None] = {}

    @property
    def overrides(self) -> Mapping[date, bool]:
        return MappingProxyType(self._overrides)

    @property
    def override_years(self) -> frozenset[int]:
        return self._override_years

    @property
    def use_official(self) -> bool:
        return self._use_official

    def __repr__(self) -> str:
        return (
            f"WorkCalendar({len(self._overrides)} overrides, "
            f"override_years={sorted(self._override_years)}, use_official={self._use_official})"
        )

    def _official_table(self, year: int) -> tuple[bool, ...] | None:
        if year in self._official_years:
            return self._official_years[year]
        table = None
        if self._use_official and date.min.year <= year <= date.max.year:
            table = _official_year(year)
        self._official_years[year] = table
        return table

    def _lookup(self, d: date) -> tuple[bool, bool]:
        """(is working day, decided by the Mon–Fri estimate)."""
        if d in self._overrides:
            return self._overrides[d], False
        if d.year in self._override_years:
            return d.weekday() < 5, False
        table = self._official_table(d.year)
        if table is not None:
            return table[d.timetuple().tm_yday - 1], False
        return d.weekday() < 5, True

    def is_workday(self, d: date) -> bool:
        return self._lookup(_as_date(d))[0]

    def is_covered(self, year: int) -> bool:
        """True when the admin's rows or the official package cover the whole year."""
        return year in self._override_years or self._official_table(year) is not None

    def uncovered_years(self, start: date, end: date) -> list[int]:
        low, high = sorted((_as_date(start).year, _as_date(end).year))
        return [year for year in range(low, high + 1) if not self.is_covered(year)]


# --------------------------------------------------------------------------- due dates


@dataclass(frozen=True)
class Due:
    """A computed due date; ``estimated`` when a year without calendar data was involved."""

    on: date
    estimated: bool = False
    years_estimated: tuple[int, ...] = ()

    @property
    def warning_zh(self) -> str | None:
        """The note the UI shows next to an estimated date, or None."""
        if not self.estimated:
            return None
        years = "、".join(f"{year}年" for year in self.years_estimated)
        return f"{years}的节假日安排尚未录入，该期限按周一至周五估算，请以正式安排为准"


class _Counter:
    """Looks days up on a calendar and remembers which years fell back to Mon–Fri."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self.estimated_years: set[int] = set()

    def is_workday(self, d: date) -> bool:
        working, estimated = self.calendar._lookup(d)
        if estimated:
            self.estimated_years.add(d.year)
        return working

    def result(self, on: date, what: str) -> Due:
        years = tuple(sorted(self.estimated_years))
        if years:
            self.log(what)
        return Due(on=on, estimated=bool(years), years_estimated=years)

    def log(self, what: str) -> None:
        if self.estimated_years:
            logger.warning(
                "No working-day calendar for %s; Monday-Friday fallback used for %s",
                ", ".join(str(year) for year in sorted(self.estimated_years)),
                what,
            )


def _add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, _stdlib_calendar.monthrange(year, month)[1]))


def add_period(
    start: date, period: Period, calendar: WorkCalendar, roll_forward: bool = False
) -> Due:
    """The due date ``period`` after ``start``.

    months: same day of month, clamped to the month's end (31 Jan + 1 month = 28/29 Feb);
    days: calendar days; working_days: the N-th working day after ``start`` (``start``
    itself never counts).  ``roll_forward`` moves a months/days result that is not a
    working day to the next working day; it does not apply to working days.
    """
    start = _as_date(start)
    try:
        return _add_period(start, period, calendar, roll_forward)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, DeadlineError):
            raise
        raise DeadlineError(
            f"自{cn_date(start)}起{period.label_zh()}超出可计算的日期范围，请检查日期"
        ) from None


def _add_period(start: date, period: Period, calendar: WorkCalendar, roll_forward: bool) -> Due:
    counter = _Counter(calendar)
    if period.unit == MONTHS:
        on = _add_months(start, period.amount)
    elif period.unit == DAYS:
        on = start + timedelta(days=period.amount)
    else:
        on, counted = start, 0
        while counted < period.amount:
            on += timedelta(days=1)
            if counter.is_workday(on):
                counted += 1
    if roll_forward and period.unit != WORKING_DAYS:
        for _ in range(366):
            if counter.is_workday(on):
                break
            on += timedelta(days=1)
        else:
            raise DeadlineError(f"{cn_date(on)}之前一年内没有工作日，请检查节假日设置")
    return counter.result(on, f"{period} from {start.isoformat()}")


def reply_due(assigned_on: date, policy: DeadlinePolicy, calendar: WorkCalendar) -> Due:
    """Reply letter due (答复期限)."""
    return add_period(assigned_on, policy.reply, calendar, policy.roll_forward)


def reply_max_due(assigned_on: date, policy: DeadlinePolicy, calendar: WorkCalendar) -> Due:
    """Latest possible reply date after extensions (延期后最长期限)."""
    return add_period(assigned_on, policy.reply_max, calendar, policy.roll_forward)


def co_opinion_due(assigned_on: date, policy: DeadlinePolicy, calendar: WorkCalendar) -> Due:
    """Co-handling unit's written opinion due (会办意见)."""
    return add_period(assigned_on, policy.co_opinion, calendar, policy.roll_forward)


def reassignment_deadline(assigned_on: date, policy: DeadlinePolicy, calendar: WorkCalendar) -> Due:
    """Last day to ask for reassignment (申请调整/退回)."""
    return add_period(assigned_on, policy.reassignment_window, calendar, policy.roll_forward)


def re_answer_due(rated_on: date, policy: DeadlinePolicy, calendar: WorkCalendar) -> Due:
    """New reply due after an unsatisfied (不满意) rating (重新办理)."""
    return add_period(rated_on, policy.re_answer, calendar, policy.roll_forward)


def co_sign_due(sent_on: date, policy: DeadlinePolicy, calendar: WorkCalendar) -> Due:
    """A co-handling unit's 会签 of the lead unit's draft due (from the day it is sent)."""
    return add_period(sent_on, policy.co_sign, calendar, policy.roll_forward)


def extended_due(
    assigned_on: date, requested_on: date, policy: DeadlinePolicy, calendar: WorkCalendar
) -> date:
    """Validate an extension request (延期) and return the new due date."""
    assigned_on, requested_on = _as_date(assigned_on), _as_date(requested_on)
    if requested_on < assigned_on:
        raise DeadlineError(
            f"延期后的答复期限（{cn_date(requested_on)}）不能早于交办日期（{cn_date(assigned_on)}）"
        )
    latest = reply_max_due(assigned_on, policy, calendar)
    if requested_on > latest.on:
        raise DeadlineError(
            f"延期后的答复期限（{cn_date(requested_on)}）超过最长期限："
            f"自交办之日起最长{policy.reply_max.label_zh()}，即{cn_date(latest.on)}"
        )
    return requested_on


def days_left(due_on: date, today: date) -> int:
    """Calendar days until ``due_on``; negative when overdue."""
    return (_as_date(due_on) - _as_date(today)).days


def working_days_between(start: date, end: date, calendar: WorkCalendar) -> int:
    """Working days in (start, end]; negative (minus the days in (end, start]) if end < start."""
    start, end = _as_date(start), _as_date(end)
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    counter = _Counter(calendar)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if counter.is_workday(day):
            count += 1
    counter.log(f"working days between {start.isoformat()} and {end.isoformat()}")
    return sign * count
