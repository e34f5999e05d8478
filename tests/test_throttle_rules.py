"""Login throttling rules, without an app: when failures lock, for how long, and the
message that says when to try again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.rules.throttle import ThrottlePolicy, retry_message

POLICY = ThrottlePolicy(max_failures=5, longest_lock=timedelta(minutes=60))


@pytest.mark.parametrize(
    "failures, minutes",
    [
        (1, None),
        (4, None),
        (5, 1),  # the fifth failure in a row locks for a minute
        (6, 2),  # each further one doubles it
        (7, 4),
        (10, 32),
        (11, 60),  # up to the longest lock
        (200, 60),
    ],
)
def test_lock_grows_with_each_failure(failures, minutes):
    lock = POLICY.lock_after(failures)
    assert lock == (None if minutes is None else timedelta(minutes=minutes))


def test_failures_are_forgotten_after_a_quiet_day():
    now = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    assert POLICY.forgotten(None, now)
    assert not POLICY.forgotten(now - timedelta(hours=23, minutes=59), now)
    assert POLICY.forgotten(now - timedelta(hours=24), now)


@pytest.mark.parametrize(
    "now, until, expected",
    [
        # 08:00 UTC is 16:00 in Beijing
        ("2026-06-15T08:00:00", "2026-06-15T08:01:00", "请于16:01（约1分钟后）再试"),
        ("2026-06-15T08:00:00", "2026-06-15T08:00:20", "请于16:00（约1分钟后）再试"),
        ("2026-06-15T08:00:00", "2026-06-15T08:31:30", "请于16:31（约32分钟后）再试"),
        # past midnight in Beijing: the date is said too
        ("2026-06-15T15:40:00", "2026-06-15T16:10:00", "请于6月16日 00:10（约30分钟后）再试"),
    ],
)
def test_retry_message_says_when_in_beijing_time(now, until, expected):
    message = retry_message(
        datetime.fromisoformat(until).replace(tzinfo=UTC),
        datetime.fromisoformat(now).replace(tzinfo=UTC),
    )
    assert message.startswith("登录失败次数过多，已暂时锁定。")
    assert expected in message
