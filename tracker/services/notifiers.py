"""How reminders reach people: one notifier per channel.

In-app notifications (the bell) are always on. E-mail goes out through SMTP when
``SMTP_HOST`` is set, and SMS through the gateway's webhook when ``SMS_WEBHOOK_URL`` is set.
A notifier delivers a user's digest or raises :class:`DeliveryError`; recording what was
delivered (``ReminderDelivery``) is the caller's business. A notifier knows nothing of
who calls it: it is built from the settings and links it is given.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol
from urllib.parse import urlsplit

from tracker.extensions import db
from tracker.models import Notification, User
from tracker.services.digest import Item, absolute, email_body, email_subject, sms_text

CHANNEL_LABELS = {"inapp": "站内", "email": "邮件", "sms": "短信"}


class DeliveryError(Exception):
    """A channel could not deliver (server down, refused, gateway error)."""


@dataclass(frozen=True)
class Recipient:
    """What a notifier needs to know about a user: a plain snapshot, so that delivering
    over the network needs no open database transaction."""

    id: int
    username: str
    label: str
    email: str | None
    phone: str | None

    @classmethod
    def of(cls, user: User) -> Recipient:
        return cls(
            id=user.id,
            username=user.username,
            label=user.label,
            email=(user.email or "").strip() or None,
            phone=(user.phone or "").strip() or None,
        )


class Notifier(Protocol):
    channel: str
    # True when deliver() only writes rows in the session: it then runs inside the
    # transaction that records the delivery. False for channels that talk to a server.
    in_session: bool

    def reaches(self, user: Recipient) -> bool: ...

    def deliver(self, user: Recipient, items: Sequence[Item], day: date) -> None: ...


def _text(value) -> str:
    """A config value as text (TRACKER_* environment values arrive JSON-decoded: a
    numeric password comes in as an int)."""
    return "" if value is None else str(value).strip()


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


# -- in-app -----------------------------------------------------------------------------------


class InAppNotifier:
    """One Notification row per item; its key is "<item key>:<day>"."""

    channel = "inapp"
    in_session = True

    def reaches(self, user: Recipient) -> bool:
        return True

    def deliver(self, user: Recipient, items: Sequence[Item], day: date) -> None:
        keys = {item.key for item in items}
        # The bell counts what is current: yesterday's unread line for an item that is
        # reminded again today gives way to today's.
        unread = db.session.execute(
            db.select(Notification.id, Notification.key).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        ).all()
        stale = [row.id for row in unread if row.key.rpartition(":")[0] in keys]
        now = datetime.now(UTC)
        for start in range(0, len(stale), 500):
            db.session.execute(
                db.update(Notification)
                .where(Notification.id.in_(stale[start : start + 500]))
                .values(read_at=now)
            )
        db.session.add_all(
            Notification(
                user_id=user.id, key=f"{item.key}:{day.isoformat()}", text=item.text, url=item.url
            )
            for item in items
        )
        db.session.flush()


def unread_first(user_id: int):
    """The user's notifications, unread first, then the newest day first, each day's
    digest in its own order (overdue first)."""
    return (
        db.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(
            db.case((Notification.read_at.is_(None), 0), else_=1),
            db.func.date(Notification.created_at).desc(),
            Notification.id,
        )
    )


def count_unread(user_id: int) -> int:
    """The bell's count on every page: count(*), read off the (user, read) index alone
    (count of the id made PostgreSQL fetch each row for its id)."""
    return db.session.execute(
        db.select(db.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ).scalar_one()


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = datetime.now(UTC)


def mark_all_read(user_id: int) -> int:
    result = db.session.execute(
        db.update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=datetime.now(UTC))
    )
    return result.rowcount or 0


# -- e-mail -----------------------------------------------------------------------------------


@dataclass
class EmailNotifier:
    """One digest e-mail per user and run, plain text, UTF-8."""

    host: str
    port: int = 25
    username: str = ""
    password: str = ""
    starttls: bool = False
    use_ssl: bool = False
    mail_from: str = "tracker@localhost"
    base_url: str = "http://127.0.0.1:5000"
    todo_path: str = "/todo"  # the user's list of what is due, site-relative
    timeout: float = 10.0

    channel = "email"
    in_session = False

    @classmethod
    def from_config(cls, config, *, todo_path: str) -> EmailNotifier:
        return cls(
            host=_text(config.get("SMTP_HOST")),
            port=int(config.get("SMTP_PORT") or 25),
            username=_text(config.get("SMTP_USER")),
            password=_text(config.get("SMTP_PASSWORD")),
            starttls=_flag(config.get("SMTP_STARTTLS")),
            use_ssl=_flag(config.get("SMTP_SSL")),
            mail_from=_text(config.get("MAIL_FROM")) or "tracker@localhost",
            base_url=_text(config.get("BASE_URL")),
            todo_path=todo_path,
            timeout=float(config.get("SMTP_TIMEOUT") or 10),
        )

    def reaches(self, user: Recipient) -> bool:
        return bool(user.email)

    def message(self, user: Recipient, items: Sequence[Item], day: date) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = email_subject(items, day)
        msg["From"] = self.mail_from
        msg["To"] = Address(display_name=user.label, addr_spec=user.email or "")
        msg["Date"] = formatdate(localtime=True)
        domain = parseaddr(self.mail_from)[1].rpartition("@")[2] or "localhost"
        msg["Message-ID"] = make_msgid("remind", domain=domain)
        msg.set_content(self.body(user, items, day), charset="utf-8", cte="base64")
        return msg

    def body(self, user: Recipient, items: Sequence[Item], day: date) -> str:
        return email_body(user.label, items, day, base_url=self.base_url, todo_path=self.todo_path)

    def deliver(self, user: Recipient, items: Sequence[Item], day: date) -> None:
        msg = self.message(user, items, day)
        try:
            if self.use_ssl:
                smtp = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls and not self.use_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(
                f"邮件发送失败（{self.host}:{self.port}，{user.email}）：{error}"
            ) from error


# -- SMS gateway webhook ----------------------------------------------------------------------


@dataclass
class WebhookNotifier:
    """POSTs one JSON digest per user to the SMS gateway:
    {"phone", "text", "count", "items": [{"key", "kind", "text", "url", "due_on", "overdue"}]}."""

    url: str
    token: str = ""
    base_url: str = "http://127.0.0.1:5000"
    timeout: float = 10.0

    channel = "sms"
    in_session = False

    @classmethod
    def from_config(cls, config) -> WebhookNotifier:
        return cls(
            url=_text(config.get("SMS_WEBHOOK_URL")),
            token=_text(config.get("SMS_WEBHOOK_TOKEN")),
            base_url=_text(config.get("BASE_URL")),
            timeout=float(config.get("SMS_WEBHOOK_TIMEOUT") or 10),
        )

    def reaches(self, user: Recipient) -> bool:
        return bool(user.phone)

    def payload(self, user: Recipient, items: Sequence[Item]) -> dict:
        return {
            "phone": user.phone,
            "text": sms_text(items),
            "count": len(items),
            "items": [
                {
                    "key": item.key,
                    "kind": item.kind,
                    "text": item.text,
                    "url": absolute(self.base_url, item.url),
                    "due_on": item.due_on.isoformat() if item.due_on else None,
                    "overdue": item.overdue,
                }
                for item in items
            ],
        }

    def deliver(self, user: Recipient, items: Sequence[Item], day: date) -> None:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise DeliveryError(f"短信网关地址无效（须以 http:// 或 https:// 开头）：{self.url}")
        data = json.dumps(self.payload(user, items), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            error.close()  # it holds the gateway's answer open
            raise DeliveryError(
                f"短信网关调用失败（{user.phone}）：HTTP {error.code} {error.reason}"
            ) from None
        except OSError as error:  # refused, unreachable, timeouts
            raise DeliveryError(f"短信网关调用失败（{user.phone}）：{error}") from error


def notifiers_for(config: Mapping, *, todo_path: str) -> list[Notifier]:
    """The configured channels: in-app always, then e-mail and SMS when configured.
    `config` holds the SMTP_* and SMS_* settings and BASE_URL; `todo_path` is the
    site-relative link to the user's list of what is due (for the e-mail)."""
    found: list[Notifier] = [InAppNotifier()]
    if _text(config.get("SMTP_HOST")):
        found.append(EmailNotifier.from_config(config, todo_path=todo_path))
    if _text(config.get("SMS_WEBHOOK_URL")):
        found.append(WebhookNotifier.from_config(config))
    return found
