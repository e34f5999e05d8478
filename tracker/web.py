"""Wiring for the web side: blueprints, the user loader, template filters and globals."""

from __future__ import annotations

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user
from werkzeug.routing import IntegerConverter, ValidationError

from tracker import current, rendering
from tracker.extensions import csrf, login_manager
from tracker.models import MAX_ID, User
from tracker.rules import labels
from tracker.rules.chinese import cn_date
from tracker.services import notifiers, sessions


class IdConverter(IntegerConverter):
    """The app's `<int:…>`: ASCII digits that an id column can hold (MAX_ID), else the URL
    matches nothing (404) instead of overflowing the database or its driver."""

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
    return sessions.load(token, current.session_lifetimes())


def init_app(app: Flask) -> None:
    from tracker.admin.views import bp as admin_bp
    from tracker.api.views import bp as api_bp
    from tracker.api.views import docs_bp as api_docs_bp
    from tracker.assessment.views import bp as assessment_bp
    from tracker.auth.views import bp as auth_bp
    from tracker.commitments.views import bp as commitments_bp
    from tracker.dashboard.views import bp as dashboard_bp
    from tracker.deputy.views import bp as deputy_bp
    from tracker.drafting.views import bp as drafting_bp
    from tracker.imports.views import bp as imports_bp
    from tracker.main.health import bp as health_bp
    from tracker.main.views import bp as main_bp
    from tracker.notifications.views import bp as notifications_bp
    from tracker.proposals.views import bp as proposals_bp
    from tracker.public.views import bp as public_bp
    from tracker.replies.views import bp as replies_bp
    from tracker.services import vocab

    app.url_map.converters["int"] = IdConverter  # before the blueprints add their rules
    for bp in (
        auth_bp,
        main_bp,
        health_bp,
        proposals_bp,
        drafting_bp,
        replies_bp,
        imports_bp,
        commitments_bp,
        dashboard_bp,
        assessment_bp,
        notifications_bp,
        public_bp,
        admin_bp,
        deputy_bp,
    ):
        app.register_blueprint(bp)
    app.before_request(_deputies_reach_their_pages_only)
    # the API: tokens, not session cookies, so no CSRF token either
    csrf.exempt(api_bp)
    app.json.ensure_ascii = False  # JSON answers in readable UTF-8, as the problem details
    app.register_api(api_bp)
    app.register_blueprint(api_docs_bp)

    app.jinja_env.filters["markdown"] = rendering.render_markdown
    app.jinja_env.filters["cn_date"] = cn_date
    app.jinja_env.filters["local_time"] = rendering.local_time
    app.jinja_env.filters["letter_paragraphs"] = rendering.letter_paragraphs
    app.jinja_env.filters["letter_markdown"] = rendering.letter_markdown
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.globals["vocab_label"] = vocab.label

    @app.context_processor
    def _globals():
        today = current.today()
        return {
            "today": today,
            "days_phrase": lambda due_on: rendering.days_phrase(due_on, today),
            "current_user": current_user,
            "unread_notifications": _unread_notifications,
            **_navigation(),
        }


def _deputies_reach_their_pages_only():
    """A deputy (代表/委员) reaches their own pages, their account and notifications and
    the public replies; every other route answers 403, including routes added later.
    我的待办, where links in reminders lead, takes them to 我的建议."""
    from tracker.services import permissions

    if not (current_user.is_authenticated and permissions.is_deputy(current_user)):
        return None
    if request.endpoint == "main.todo":
        return redirect(url_for("deputy.index"))
    if not permissions.deputy_reaches(request.endpoint):
        abort(403)
    return None


def _navigation() -> dict[str, bool]:
    """What the top bar offers the signed-in user (base.html), as permissions answer it."""
    from tracker.services import permissions

    user = current_user
    signed_in = user.is_authenticated
    return {
        "is_deputy": signed_in and permissions.is_deputy(user),
        "can_import": signed_in and permissions.can_import(user),
        "can_view_dashboard": signed_in and permissions.can_view_dashboard(user),
        "can_administer": signed_in and permissions.is_admin(user),
    }


def _unread_notifications() -> int:
    """The bell's count: the signed-in user's unread in-app reminders."""
    if not current_user.is_authenticated:
        return 0
    return notifiers.count_unread(current_user.id)


def warm_up(app: Flask) -> None:
    """Before a worker takes requests (wsgi.py): compile every template and open the search
    index's current generation, which its first requests paid for otherwise (at 100,000
    letters a proposal's page took 0.69 s and a letter's 0.36 s instead of 0.1 and 0.03 s),
    and which gc.freeze() then keeps out of the collector's passes. A fault here is logged,
    not raised: the worker starts, and /healthz says what is wrong."""
    from tracker import search_hooks

    try:
        with app.app_context():
            for name in app.jinja_env.list_templates():
                app.jinja_env.get_template(name)
            search_hooks.engine(app).load()
    except Exception:
        app.logger.warning("warming up failed: the first requests will do it", exc_info=True)
