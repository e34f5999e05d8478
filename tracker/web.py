"""Wiring for the web side: blueprints, the user loader, template filters and globals."""

from __future__ import annotations

import re
from datetime import date, datetime

import markdown as md
import nh3
from flask import Flask
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.routing import IntegerConverter, ValidationError

from tracker.extensions import db, login_manager
from tracker.letters.layout import letter_lines
from tracker.letters.patterns import heading_level, is_date_line
from tracker.models import User
from tracker.rules import labels
from tracker.rules.chinese import cn_date
from tracker.rules.clock import to_beijing
from tracker.services import sessions

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "a",
    "del",
    "ins",
    "sup",
    "sub",
}


def render_markdown(text: str | None) -> Markup:
    """The one way user-written Markdown reaches a page: rendered, then sanitised."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists"])
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)


def letter_paragraphs(letter) -> Markup:
    """An imported letter's text in the letter layout, headings and signature in place."""
    lines = letter_lines(letter.body, head=(letter.title, letter.doc_number, letter.classification))
    parts = []
    for n, line in enumerate(lines):
        tail = len(lines) - n <= 2 and (line == letter.issuer or is_date_line(line))
        if tail:
            css = ' class="sign"'
        elif n == 0 and line.endswith((":", "：")):
            css = ' class="salutation"'
        elif heading_level(line) in (1, 2):
            css = f' class="h{heading_level(line)}"'
        else:
            css = ""
        parts.append(f"<p{css}>{escape(line)}</p>")
    return Markup("".join(parts))


_SHORT_P = re.compile(r"<p>([^<]{1,40})</p>")


def _heading_paragraph(match: re.Match) -> str:
    level = heading_level(match.group(1))
    return f'<p class="h{level}">{match.group(1)}</p>' if level in (1, 2) else match.group(0)


def letter_markdown(text: str | None) -> Markup:
    """A drafted letter's Markdown body, sanitised, with 一、/（一） lines set as headings."""
    return Markup(_SHORT_P.sub(_heading_paragraph, str(render_markdown(text))))


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC timestamp as Beijing time."""
    if value is None:
        return ""
    return to_beijing(value).strftime(fmt)


def days_phrase(due_on: date | None, today: date) -> str:
    if due_on is None:
        return ""
    days = (due_on - today).days
    if days > 0:
        return f"剩余{days}天"
    if days == 0:
        return "今天到期"
    return f"逾期{-days}天"


MAX_ID = 2**63 - 1  # the largest value of a 64-bit signed integer column


class IdConverter(IntegerConverter):
    """The app's `<int:…>`: ASCII digits that a 64-bit signed integer column can hold, else
    the URL matches nothing (404) instead of overflowing the database driver."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)):  # before int(): 5,000 digits are an error of their own
            raise ValidationError()
        return super().to_python(value)


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The id in the cookies is a login session's token (User.get_id)."""
    return sessions.load(token)


def init_app(app: Flask) -> None:
    from tracker.admin.views import bp as admin_bp
    from tracker.auth.views import bp as auth_bp
    from tracker.commitments.views import bp as commitments_bp
    from tracker.dashboard.views import bp as dashboard_bp
    from tracker.drafting.views import bp as drafting_bp
    from tracker.imports.views import bp as imports_bp
    from tracker.main.views import bp as main_bp
    from tracker.notifications.views import bp as notifications_bp
    from tracker.proposals.views import bp as proposals_bp
    from tracker.public.views import bp as public_bp
    from tracker.replies.views import bp as replies_bp
    from tracker.services import permissions, settings, vocab

    app.url_map.converters["int"] = IdConverter  # before the blueprints add their rules
    for bp in (
        auth_bp,
        main_bp,
        proposals_bp,
        drafting_bp,
        replies_bp,
        imports_bp,
        commitments_bp,
        dashboard_bp,
        notifications_bp,
        public_bp,
        admin_bp,
    ):
        app.register_blueprint(bp)

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["cn_date"] = cn_date
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["letter_paragraphs"] = letter_paragraphs
    app.jinja_env.filters["letter_markdown"] = letter_markdown
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.globals["vocab_label"] = vocab.label

    @app.context_processor
    def _globals():
        today = settings.today()
        return {
            "today": today,
            "days_phrase": lambda due_on: days_phrase(due_on, today),
            "current_user": current_user,
            "unread_notifications": _unread_notifications,
            "can_import": lambda: (
                current_user.is_authenticated and permissions.can_import(current_user)
            ),
        }


def _unread_notifications() -> int:
    """The bell's count: the signed-in user's unread in-app reminders."""
    from tracker.models import Notification

    if not current_user.is_authenticated:
        return 0
    return db.session.execute(
        db.select(db.func.count(Notification.id)).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None)
        )
    ).scalar_one()
