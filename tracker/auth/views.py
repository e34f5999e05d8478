from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from tracker.auth.forms import LoginForm, PasswordForm
from tracker.extensions import db
from tracker.models import User
from tracker.services import audit

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only local paths are followed after login: no scheme, no host, no '//' or '\\'."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.todo"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = db.session.execute(
            db.select(User).where(User.username == form.username.data.strip())
        ).scalar_one_or_none()
        if user is None or not user.active or not user.check_password(form.password.data):
            flash("用户名或密码错误。", "error")
        else:
            login_user(user, remember=form.remember.data)
            user.last_login_at = datetime.now(UTC)
            audit.record(user, "login", f"{user.label}登录", entity="user", entity_id=user.id)
            db.session.commit()
            return redirect(safe_next(form.next.data) or url_for("main.todo"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append("当前密码不正确。")
        else:
            current_user.set_password(form.new.data)
            audit.record(
                current_user, "password", "修改密码", entity="user", entity_id=current_user.id
            )
            db.session.commit()
            flash("密码已修改。", "success")
            return redirect(url_for("main.todo"))
    return render_template("auth/password.html", form=form)
