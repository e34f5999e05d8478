"""In-app reminders: the bell and its list."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
def index():  # scaffold: replaced by the notifications list
    return "提醒"
