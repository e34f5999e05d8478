from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from tracker.auth.forms import LoginForm, PasswordForm, TokenForm
from tracker.current import login_policies, session_lifetimes, today
from tracker.models import ApiToken
from tracker.services import api_tokens, audit, logins, sessions, users
from tracker.views_common import Done, commit, get_or_404, lock_for_write, perform

bp = Blueprint("auth", __name__)
API_BLUEPRINTS = ("api", "api_docs")


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
        try:
            user = logins.authenticate(
                form.username.data,
                form.password.data,
                request.remote_addr,
                policies=login_policies(),
            )
        except logins.LoginLocked as locked:
            commit()  # not a refusal to roll back: the failure that started the lock counts
            form.form_errors.append(str(locked))
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(locked.retry_after)
            return response
        except logins.LoginFailed as failed:
            commit()  # not a refusal to roll back: the failure is counted and audited
            flash(str(failed), "error")
        else:
            sessions.start(
                user,
                remember=form.remember.data,
                ip=request.remote_addr,
                user_agent=request.user_agent.string,
                lifetimes=session_lifetimes(),
            )
            login_user(user, remember=form.remember.data)
            user.last_login_at = datetime.now(UTC)
            audit.record(user, "login", f"{user.label}登录", entity="user", entity_id=user.id)
            commit()  # the login form's outcomes all commit: here, the new session
            return redirect(safe_next(form.next.data) or url_for("main.todo"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    def action():
        if current_user.login_session is not None:
            sessions.end(current_user.login_session)
        logout_user()
        return Done("已退出登录。", category="info")

    return perform(None, action, then=url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    valid = form.validate_on_submit()
    if valid and not current_user.check_password(form.current.data):
        form.current.errors.append("当前密码不正确。")
        valid = False

    def action():
        ended = users.change_own_password(
            current_user, form.new.data, lifetimes=session_lifetimes()
        )
        return f"密码已修改，其他{ended}个登录会话已退出。" if ended else "密码已修改。"

    return perform(
        form,
        action,
        valid=valid,
        then=url_for("main.todo"),
        failed=lambda status: render_template(  # the page answers 200, as it always has
            "auth/password.html",
            form=form,
            live_sessions=len(sessions.live_sessions(current_user, session_lifetimes())),
        ),
    )


@bp.before_app_request
def _mark_session_seen():
    """Keep the signed-in session alive (services/sessions.py): at most one write every few
    minutes, committed here before the view starts its own work."""
    if request.endpoint == "static" or request.blueprint in API_BLUEPRINTS:
        return  # the API reads no session cookie (tokens only)
    if not current_user.is_authenticated:
        return
    if sessions.due_to_mark(current_user.login_session):
        with lock_for_write():
            if sessions.mark_seen(current_user.login_session):
                commit()  # no form: the request's own commit point comes later, or never


@bp.route("/account/sessions")
@login_required
def session_list():
    rows = sessions.live_sessions(current_user, session_lifetimes())
    return render_template(
        "auth/sessions.html",
        rows=rows,
        current=current_user.login_session,
        describe_agent=sessions.describe_agent,
    )


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def session_end(session_id: int):
    row = sessions.get_own(current_user, session_id, session_lifetimes())
    if row is None:
        abort(404)
    if row.id == current_user.login_session.id:
        return logout()

    def action():
        sessions.end(row)
        return "已退出该会话。"

    return perform(None, action, then=url_for("auth.session_list"))


@bp.route("/account/sessions/end-all", methods=["POST"])
@login_required
def session_end_all():
    def action():
        ended = sessions.end_all(current_user, lifetimes=session_lifetimes())
        logout_user()
        return Done(f"已退出全部{ended}个登录会话，请重新登录。", category="info")

    return perform(None, action, then=url_for("auth.login"))


# -- personal API tokens (/api/v1) ------------------------------------------------------------


def _token_page(form: TokenForm, status: int = 200, created: str | None = None):
    return render_template(
        "auth/tokens.html",
        form=form,
        rows=api_tokens.tokens_of(current_user),
        is_live=api_tokens.is_live,
        last_day=api_tokens.last_day,
        created=created,
    ), status


@bp.route("/account/tokens")
@login_required
def token_list():
    return _token_page(TokenForm())


@bp.route("/account/tokens/new", methods=["POST"])
@login_required
def token_create():
    """A new token, shown on the page that answers this POST and never again: the page is
    not a redirect, so the token is kept nowhere (no flash in the session cookie)."""
    form = TokenForm()
    made: list[api_tokens.Created] = []

    def action():
        made.append(
            api_tokens.create(
                current_user, name=form.name.data, last_day=form.expires_on.data, today=today()
            )
        )
        return "已创建API令牌。请立即复制保存：离开此页后将无法再次查看。"

    return perform(
        form,
        action,
        failed=lambda status: _token_page(form, status),
        respond=lambda: _token_page(TokenForm(formdata=None), created=made[0].token),
    )


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def token_revoke(token_id: int):
    row = get_or_404(ApiToken, token_id, named=lambda t: t.user_id == current_user.id)

    def action():
        api_tokens.revoke(current_user, row)
        return f"已撤销令牌“{row.name}”，使用它的请求将被拒绝。"

    return perform(None, action, then=url_for("auth.token_list"))
