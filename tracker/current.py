"""The running app as services need it, read by the view and command layers and passed
in: services take settings, links and the search engine as arguments and never read
``current_app`` (tests/test_layers.py holds them to it). Every value is read when asked
for, so a setting changed on the running app applies at once."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for

from tracker.services import notifiers


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def site_path(endpoint: str, /, **values) -> str:
    """A site-relative URL, also outside a request (cron): the script root is taken from
    BASE_URL, so links work for a tracker served under a path prefix."""
    if has_request_context():
        return url_for(endpoint, **values)
    script = urlsplit(_text(current_app.config.get("BASE_URL"))).path.rstrip("/")
    adapter = current_app.url_map.bind("localhost", script_name=script or "/")
    return adapter.build(endpoint, values)


def due_soon_days() -> int:
    """How far ahead "due soon" looks (我的待办, reminders, check-deadlines)."""
    return int(current_app.config["DUE_SOON_DAYS"])


def reminder_channels() -> list[notifiers.Notifier]:
    """In-app always; e-mail and SMS when configured."""
    return notifiers.notifiers_for(current_app.config, todo_path=site_path("main.todo"))
