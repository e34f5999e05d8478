"""In-app reminders: the bell's list. `tracker remind` writes them; users read them here."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.extensions import db
from tracker.models import Notification
from tracker.paging import paginate
from tracker.services import notifiers

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
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    notifiers.mark_read(notification)
    db.session.commit()
    if _internal(notification.url):
        return redirect(notification.url)
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    count = notifiers.mark_all_read(current_user.id)
    db.session.commit()
    flash(f"已将{count}条提醒标为已读。" if count else "没有未读提醒。", "success")
    return redirect(url_for("notifications.index"))
