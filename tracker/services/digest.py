"""A reminder digest: what is due for one user on one day, as ``services.reminders``
collects it and the notifiers deliver it, and how a digest reads in an e-mail and an SMS.

Both sides use this module; neither knows the other. Links are site-relative paths that
the caller built (the web layer knows the routes); ``absolute`` joins them to the
tracker's address for messages read outside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from urllib.parse import urlsplit

from tracker.rules.chinese import cn_date

SMS_LIMIT = 200  # characters; gateways split longer texts into several messages


@dataclass(frozen=True)
class Item:
    key: str
    kind: str  # sign reply opinion commitment candidates report approve extension ...
    text: str  # the line a user reads
    url: str  # site-relative
    due_on: date | None = None
    overdue: bool = False
    brief: str = ""  # a few words for SMS


class Link(Protocol):
    """The site-relative URL of a page: ``link("proposals.detail", proposal_id=5)``."""

    def __call__(self, endpoint: str, /, **values) -> str: ...


def absolute(base_url: str, path: str) -> str:
    """An item's site-relative URL (which already carries the script root) as a link
    for e-mail and SMS."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}{path}" if path.startswith("/") else path


def email_subject(items: Sequence[Item], day: date) -> str:
    return f"建议提案办理提醒：{len(items)}项（{cn_date(day)}）"


def email_body(
    label: str, items: Sequence[Item], day: date, *, base_url: str, todo_path: str
) -> str:
    """The digest as a plain-text e-mail to the user called `label`."""
    overdue = sum(1 for item in items if item.overdue)
    lines = [
        f"{label}，您好：",
        "",
        f"截至{cn_date(day)}，以下{len(items)}项建议提案办理事项需要您处理"
        + (f"（其中逾期{overdue}项）" if overdue else "")
        + "：",
        "",
    ]
    for number, item in enumerate(items, 1):
        lines.append(f"{number}. {item.text}")
        lines.append(f"   {absolute(base_url, item.url)}")
    lines += [
        "",
        f"登录系统查看全部待办：{absolute(base_url, todo_path)}",
        "此邮件由建议提案办理系统自动发送，请勿直接回复。",
    ]
    return "\n".join(lines) + "\n"


def sms_text(items: Sequence[Item], limit: int = SMS_LIMIT) -> str:
    """A short text for the whole digest, within `limit` characters."""
    overdue = sum(1 for item in items if item.overdue)
    head = f"【建议提案办理】您有{len(items)}项待办" + (f"，其中逾期{overdue}项" if overdue else "")
    tail = "。请登录系统办理。"
    body = "；".join(item.brief or item.text for item in items)
    room = limit - len(head) - len(tail) - 1  # 1: the colon
    if len(body) > room:
        body = body[: room - 1] + "…"
    return f"{head}：{body}{tail}"
