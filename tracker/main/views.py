from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.services import permissions
from tracker.services import todo as todo_service
from tracker.services.settings import today

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.todo"))
    return redirect(url_for("auth.login"))


@bp.route("/todo")
@login_required
def todo():
    items = todo_service.for_user(current_user, today(), current_app.config["DUE_SOON_DAYS"])
    return render_template(
        "main/todo.html",
        todo=items,
        handles_items=permissions.handles_items(current_user),
        offers_registration=permissions.registers_daily(current_user),
    )
