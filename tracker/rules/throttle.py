"""Login throttling: when repeated failed logins lock an account or a client address, and
for how long. Plain Python; the counters live in the database (services/logins.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.rules.clock import to_beijing


@dataclass(frozen=True)
class ThrottlePolicy:
    """The `max_failures`-th failure in a row locks for `first_lock`, and each further
    failure (once that lock has passed) doubles it, up to `longest_lock`. Failures are
    forgotten once there has been none for `memory`."""

    max_failures: int
    first_lock: timedelta = timedelta(minutes=1)
    longest_lock: timedelta = timedelta(minutes=60)
    memory: timedelta = timedelta(hours=24)

    def lock_after(self, failures: int) -> timedelta | None:
        """How long the failures-th failure in a row locks for (None: not at all)."""
        if failures < self.max_failures:
            return None
        doublings = min(failures - self.max_failures, 30)
        return min(self.first_lock * 2**doublings, self.longest_lock)

    def forgotten(self, last_failed_at: datetime | None, now: datetime) -> bool:
        """True when earlier failures no longer count."""
        return last_failed_at is None or now - last_failed_at >= self.memory


def retry_message(until: datetime, now: datetime) -> str:
    """The Chinese message for a locked login, saying when to try again (Beijing time)."""
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    local, today = to_beijing(until), to_beijing(now).date()
    when = local.strftime("%H:%M")
    if local.date() != today:
        when = f"{local.month}月{local.day}日 {when}"
    return (
        f"登录失败次数过多，已暂时锁定。请于{when}（约{minutes}分钟后）再试，"
        "或请系统管理员解除锁定。"
    )
