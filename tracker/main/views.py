from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.current import due_soon_days, today
from tracker.services import permissions
from tracker.services import todo as todo_service

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.todo"))
    return redirect(url_for("auth.login"))


@bp.route("/todo")
@login_required
def todo():
    items = todo_service.for_user(current_user, today(), due_soon_days())
    return render_template(
        "main/todo.html",
        todo=items,
        handles_items=permissions.handles_items(current_user),
        offers_registration=permissions.registers_daily(current_user),
    )
