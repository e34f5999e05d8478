"""The supervisor's view (督办统计): replies on time, grades, satisfaction, commitments."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dashboard", __name__)


@bp.route("/dashboard")
def index():  # scaffold: replaced by the dashboard
    return "督办统计"
