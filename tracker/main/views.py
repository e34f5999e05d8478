from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from tracker.current import due_soon_days, today
from tracker.services import permissions
from tracker.services import todo as todo_service

bp = Blueprint("main", __name__)

COMMITMENTS_SHOWN = 20  # the most urgent due commitments on 我的待办; a link lists the rest
LETTERS_SHOWN = 8  # the newest letters with candidates to confirm; a link lists the rest
OPEN_SHOWN = 50  # other items in hand, replies to rate: the first ones; a link lists the rest


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.todo"))
    return redirect(url_for("auth.login"))


@bp.route("/todo")
@login_required
def todo():
    day, soon_days = today(), due_soon_days()
    items = todo_service.for_user(
        current_user,
        day,
        soon_days,
        shown=COMMITMENTS_SHOWN,
        letters_shown=LETTERS_SHOWN,
        open_shown=OPEN_SHOWN,
    )
    return render_template(
        "main/todo.html",
        todo=items,
        todo_today=day,
        counted_beyond=todo_service.COUNTED_BEYOND,
        commitments_horizon=day + timedelta(days=soon_days),
        handles_items=permissions.handles_items(current_user),
        # the rest of 其他在办事项: the proposal list of the unit's items being handled
        in_hand_rest=url_for("proposals.index", unit=current_user.unit_id, status="handling"),
        offers_registration=permissions.registers_daily(current_user),
    )
