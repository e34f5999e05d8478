"""The running app as services need it, read by the view and command layers and passed
in: services take settings, links and the search engine as arguments and never read
``current_app`` (tests/test_layers.py holds them to it). Every value is read when asked
for, so a setting changed on the running app applies at once."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for

from tracker import search_hooks
from tracker.config import POLICY_KEYS
from tracker.letters.formats import ReadOptions
from tracker.rules.deadlines import DeadlinePolicy
from tracker.rules.throttle import ThrottlePolicy
from tracker.search.base import SearchEngine
from tracker.services import api_tokens, corpus, logins, notifiers, sessions, settings


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def today() -> date:
    """The tracker's notion of today; tests and demos pin it with the TODAY setting."""
    pinned = current_app.config.get("TODAY")
    if pinned:
        return date.fromisoformat(str(pinned)) if not isinstance(pinned, date) else pinned
    return date.today()


def policy_defaults() -> dict[str, str]:
    """The deadline periods as the app is configured (TRACKER_REPLY_PERIOD …)."""
    return {name: str(current_app.config[key]) for name, key in POLICY_KEYS.items()}


def deadline_policy() -> DeadlinePolicy:
    """The policy in force: what the admin saved over the configured defaults."""
    return settings.deadline_policy(policy_defaults())


def upload_dir() -> Path:
    """Where uploaded files live: evidence of progress, letters waiting for import."""
    return Path(current_app.config["UPLOAD_DIR"])


def session_lifetimes() -> sessions.Lifetimes:
    """How long a login session lasts unused, and with 记住我."""
    remember = current_app.config["REMEMBER_COOKIE_DURATION"]
    if not isinstance(remember, timedelta):
        remember = timedelta(seconds=int(remember))
    return sessions.Lifetimes(
        idle=timedelta(hours=float(current_app.config["SESSION_IDLE_HOURS"])), remember=remember
    )


def login_policies() -> dict[str, ThrottlePolicy]:
    """When failed logins lock a user name, and a client address, and for how long."""
    config = current_app.config
    longest = timedelta(minutes=float(config["LOGIN_LOCK_MAX_MINUTES"]))
    return {
        logins.ACCOUNT: ThrottlePolicy(int(config["LOGIN_MAX_FAILURES"]), longest_lock=longest),
        logins.ADDRESS: ThrottlePolicy(
            int(config["LOGIN_ADDRESS_MAX_FAILURES"]), longest_lock=longest
        ),
    }


def api_rate_limit() -> api_tokens.RateLimit:
    """How many requests one API token may make in a window (API_RATE_*)."""
    return api_tokens.RateLimit(
        int(current_app.config["API_RATE_LIMIT"]),
        int(current_app.config["API_RATE_WINDOW_SECONDS"]),
    )


def search_engine() -> SearchEngine:
    """The app's search engine over its index."""
    return search_hooks.engine(current_app._get_current_object())


def read_options() -> ReadOptions:
    """The limits and tools for reading letter files (IMPORT_MAX_*, SOFFICE)."""
    return corpus.read_options(current_app.config)


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
