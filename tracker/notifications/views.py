"""In-app reminders: the bell's list. `tracker remind` writes them; users read them here."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, url_for
from flask_login import current_user, login_required

from tracker.models import Notification
from tracker.paging import paginate
from tracker.services import notifiers
from tracker.views_common import Done, get_or_404, perform

bp = Blueprint("notifications", __name__)


def _internal(url: str | None) -> bool:
    """Only a path on this site: "/…", never "//host" or anything with a scheme or host."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return False
    if any(ord(ch) < 32 for ch in url):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


@bp.route("/notifications")
@login_required
def index():
    page = paginate(
        notifiers.unread_first(current_user.id), per_page=current_app.config["PER_PAGE"]
    )
    return render_template(
        "notifications/index.html", page=page, unread=notifiers.count_unread(current_user.id)
    )


@bp.route("/notifications/<int:notification_id>/open", endpoint="open")
@login_required
def open_notification(notification_id: int):
    notification = get_or_404(
        Notification, notification_id, named=lambda n: n.user_id == current_user.id
    )

    def action():
        notifiers.mark_read(notification)
        url = notification.url if _internal(notification.url) else None
        return Done(None, url)

    return perform(None, action, then=url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    def action():
        count = notifiers.mark_all_read(current_user.id)
        return f"已将{count}条提醒标为已读。" if count else "没有未读提醒。"

    return perform(None, action, then=url_for("notifications.index"))
