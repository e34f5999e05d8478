"""The admin area (系统管理): users, units, vocabularies, the deadline policy and the
working-day calendar. Admins only: everyone else gets 403, anonymous users the login page.

Every form goes through tracker.views_common.perform: validate the form → one service call
(tracker.services.admin) → commit → flash → redirect; a DomainError re-renders the page
with the message and status 400. GET pages never write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from tracker.admin import forms
from tracker.current import deadline_policy, policy_defaults, session_lifetimes, today
from tracker.extensions import db
from tracker.models import CalendarDay, LoginThrottle, Unit, User, VocabularyTerm
from tracker.rules import deadlines
from tracker.rules.chinese import cn_date
from tracker.rules.deadlines import Period, WorkCalendar
from tracker.rules.labels import VOCABULARIES
from tracker.services import admin, logins, permissions, sessions, vocab
from tracker.services import settings as settings_service
from tracker.services.users import chosen_unit
from tracker.views_common import get_or_404, perform

bp = Blueprint("admin", __name__, url_prefix="/admin")

FIRST_CALENDAR_YEAR = 2004  # the first year the official calendar package covers
YEAR_RANGE = (1990, 2100)  # years the calendar pages accept


@bp.before_request
@login_required
def _admin_only():
    """One gate for the whole blueprint; the services check again before acting."""
    if not permissions.is_admin(current_user):
        abort(403)


# -- helpers -------------------------------------------------------------------------


def _changed(what: str, changes: list[str]) -> str:
    return f"已保存{what}：{'；'.join(changes)}。" if changes else f"{what}未作修改。"


def _unit_choices(include_id: int | None = None) -> list[tuple[int, str]]:
    """Active units (coordinating offices first), plus an inactive one a user still has."""
    query = db.select(Unit).where(db.or_(Unit.active.is_(True), Unit.id == (include_id or 0)))
    units = db.session.execute(query.order_by(Unit.is_coordinating.desc(), Unit.name)).scalars()
    return [(0, "（无单位）")] + [
        (u.id, u.name if u.active else f"{u.name}（已停用）") for u in units
    ]


# -- users ---------------------------------------------------------------------------


@bp.route("/")
def index():
    return redirect(url_for("admin.users"))


@bp.route("/users")
def users():
    rows = db.session.execute(
        db.select(User).options(selectinload(User.unit)).order_by(User.active.desc(), User.username)
    ).scalars()
    return render_template(
        "admin/users.html",
        users=list(rows),
        locked_names={row.key for row in logins.current_locks(logins.ACCOUNT)},
        address_locks=logins.current_locks(logins.ADDRESS),
    )


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = forms.UserCreateForm()
    form.unit_id.choices = _unit_choices()

    def action():
        user = admin.create_user(
            current_user,
            username=form.username.data,
            password=form.password.data,
            role=form.role.data,
            unit=chosen_unit(form.unit_id.data),
            display_name=form.display_name.data or "",
            email=form.email.data,
            deputy_name=form.deputy_name.data,
            phone=form.phone.data or "",
        )
        return f"已创建用户{user.username}。", url_for("admin.users")

    return perform(
        form,
        action,
        failed=lambda status: (
            render_template("admin/user_form.html", form=form, user=None),
            status,
        ),
    )


def _render_user(user: User, status: int, *, form=None, password_form=None):
    if form is None:
        form = forms.UserEditForm(formdata=None, obj=user)
        form.unit_id.choices = _unit_choices(user.unit_id)
        form.unit_id.data = user.unit_id or 0
    if password_form is None:
        password_form = forms.PasswordResetForm(formdata=None)
    page = render_template(
        "admin/user_form.html",
        form=form,
        password_form=password_form,
        user=user,
        lock=logins.account_lock(user),
        live_sessions=len(sessions.live_sessions(user, session_lifetimes())),
    )
    return page, status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = get_or_404(User, user_id)
    form = forms.UserEditForm(obj=user)
    form.unit_id.choices = _unit_choices(user.unit_id)
    if request.method == "GET":
        form.unit_id.data = user.unit_id or 0

    def action():
        changes = admin.update_user(
            current_user,
            user,
            display_name=form.display_name.data or "",
            role=form.role.data,
            unit=chosen_unit(form.unit_id.data),
            email=form.email.data,
            active=form.active.data,
            lifetimes=session_lifetimes(),
            deputy_name=form.deputy_name.data,
            phone=form.phone.data or "",
        )
        return _changed(f"用户{user.username}", changes), url_for("admin.users")

    return perform(form, action, failed=lambda status: _render_user(user, status, form=form))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int):
    user = get_or_404(User, user_id)
    form = forms.PasswordResetForm()

    def action():
        admin.reset_password(current_user, user, form.password.data, lifetimes=session_lifetimes())
        return (
            f"已重置用户{user.username}的密码，请告知本人登录后修改。",
            url_for("admin.user_edit", user_id=user.id),
        )

    return perform(
        form, action, failed=lambda status: _render_user(user, status, password_form=form)
    )


@bp.route("/login-locks/<int:lock_id>/unlock", methods=["POST"])
def login_unlock(lock_id: int):
    """Lift a login lock (an account's, from its user page; an address's, from 用户)."""
    row = get_or_404(LoginThrottle, lock_id)
    user = logins.user_of(row)
    back = url_for("admin.user_edit", user_id=user.id) if user else url_for("admin.users")

    def action():
        return f"已解除{logins.unlock(current_user, row)}的登录锁定。", back

    return perform(forms.ButtonForm(), action, failed=lambda status: redirect(back))


# -- units ---------------------------------------------------------------------------


@bp.route("/units")
def units():
    rows = db.session.execute(
        db.select(Unit).order_by(Unit.active.desc(), Unit.is_coordinating.desc(), Unit.name)
    ).scalars()
    counts = dict(
        db.session.execute(
            db.select(User.unit_id, db.func.count(User.id))
            .where(User.unit_id.is_not(None))
            .group_by(User.unit_id)
        ).all()
    )
    return render_template("admin/units.html", units=list(rows), user_counts=counts)


def _unit_values(form: forms.UnitForm) -> dict:
    return {
        "name": form.name.data,
        "short_names": form.short_names.data or [],
        "doc_prefix": form.doc_prefix.data,
        "is_coordinating": form.is_coordinating.data,
        "active": form.active.data,
    }


@bp.route("/units/new", methods=["GET", "POST"])
def unit_new():
    form = forms.UnitForm()

    def action():
        unit = admin.create_unit(current_user, **_unit_values(form))
        return f"已新增单位{unit.name}。", url_for("admin.units")

    return perform(
        form,
        action,
        failed=lambda status: (
            render_template("admin/unit_form.html", form=form, unit=None),
            status,
        ),
    )


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
def unit_edit(unit_id: int):
    unit = get_or_404(Unit, unit_id)
    form = forms.UnitForm(obj=unit)

    def action():
        changes = admin.update_unit(current_user, unit, **_unit_values(form))
        return _changed(f"单位{unit.name}", changes), url_for("admin.units")

    return perform(
        form,
        action,
        failed=lambda status: (
            render_template("admin/unit_form.html", form=form, unit=unit),
            status,
        ),
    )


# -- vocabularies --------------------------------------------------------------------


def _render_vocabularies(scheme_form: forms.SchemeForm, status: int = 200):
    current_scheme = vocab.classification_scheme()
    groups = []
    for key, name in VOCABULARIES.items():
        terms = vocab.terms(key, active_only=False)
        if key == "classification":
            labels = dict(admin.CLASSIFICATION_SCHEMES)
            for term in terms:  # schemes entered outside the admin pages, if any
                labels.setdefault(term.scheme, term.scheme or "（未分体系）")
            schemes = [
                (s, label, [t for t in terms if t.scheme == s]) for s, label in labels.items()
            ]
        else:
            schemes = [("", None, terms)]
        groups.append(
            {"key": key, "name": name, "flag": admin.TERM_FLAGS.get(key), "schemes": schemes}
        )
    page = render_template(
        "admin/vocabularies.html",
        groups=groups,
        scheme_form=scheme_form,
        current_scheme=current_scheme,
    )
    return page, status


@bp.route("/vocabularies")
def vocabularies():
    return _render_vocabularies(forms.SchemeForm(scheme=vocab.classification_scheme()))


@bp.route("/vocabularies/scheme", methods=["POST"])
def vocab_scheme():
    form = forms.SchemeForm()

    def action():
        admin.set_classification_scheme(current_user, form.scheme.data)
        label = admin.CLASSIFICATION_SCHEMES[form.scheme.data]
        return f"答复类别体系已设为{label}。", url_for("admin.vocabularies")

    return perform(form, action, failed=lambda status: _render_vocabularies(form, status))


def _configure_term_form(form: forms.TermForm, vocabulary: str) -> None:
    """Name the flag after what it means in this vocabulary, or drop it."""
    if vocabulary in admin.TERM_FLAGS:
        form.flag.label.text = admin.TERM_FLAGS[vocabulary][1]
    else:
        del form.flag
    if isinstance(form, forms.NewTermForm) and vocabulary != "classification":
        del form.scheme


def _term_values(form: forms.TermForm) -> dict:
    return {
        "label": form.label.data,
        "description": form.description.data or "",
        "aliases": form.aliases.data or [],
        "sort_order": form.sort_order.data,
        "active": form.active.data,
        "flag": form.flag.data if "flag" in form else False,
    }


@bp.route("/vocabularies/terms/<int:term_id>", methods=["GET", "POST"])
def term_edit(term_id: int):
    term = get_or_404(VocabularyTerm, term_id)
    flag_attr = admin.TERM_FLAGS.get(term.vocabulary, ("", ""))[0]
    form = forms.TermForm(obj=term, flag=getattr(term, flag_attr, False) if flag_attr else False)
    _configure_term_form(form, term.vocabulary)

    def action():
        changed = admin.update_term(current_user, term, **_term_values(form))
        what = f"{VOCABULARIES.get(term.vocabulary, term.vocabulary)}“{term.label}”"
        message = f"已保存{what}。" if changed else f"{what}未作修改。"
        return message, url_for("admin.vocabularies", _anchor=f"vocab-{term.vocabulary}")

    return perform(
        form,
        action,
        failed=lambda status: (
            render_template(
                "admin/term_form.html",
                form=form,
                term=term,
                vocabulary=term.vocabulary,
                scheme_label=admin.CLASSIFICATION_SCHEMES.get(term.scheme, term.scheme),
            ),
            status,
        ),
    )


@bp.route("/vocabularies/<vocabulary>/new", methods=["GET", "POST"])
def term_new(vocabulary: str):
    if vocabulary not in VOCABULARIES:
        abort(404)
    scheme = request.args.get("scheme", "")
    if scheme not in admin.CLASSIFICATION_SCHEMES:
        scheme = vocab.classification_scheme()
    form = forms.NewTermForm(scheme=scheme)
    _configure_term_form(form, vocabulary)

    def action():
        term = admin.add_term(
            current_user,
            vocabulary,
            code=form.code.data,
            scheme=form.scheme.data if "scheme" in form else "",
            **_term_values(form),
        )
        return (
            f"已添加{VOCABULARIES[vocabulary]}“{term.label}”。",
            url_for("admin.vocabularies", _anchor=f"vocab-{vocabulary}"),
        )

    return perform(
        form,
        action,
        failed=lambda status: (
            render_template(
                "admin/term_form.html",
                form=form,
                term=None,
                vocabulary=vocabulary,
                scheme_label=None,
            ),
            status,
        ),
    )


# -- deadline policy -----------------------------------------------------------------


def _policy_examples(policy: deadlines.DeadlinePolicy, on: date) -> list[tuple[str, deadlines.Due]]:
    """What the saved policy gives for an item assigned today, so the admin can check it."""
    calendar = settings_service.work_calendar()
    return [
        ("答复期限", deadlines.reply_due(on, policy, calendar)),
        ("延期后最迟", deadlines.reply_max_due(on, policy, calendar)),
        ("会办意见", deadlines.co_opinion_due(on, policy, calendar)),
        ("申请调整截止", deadlines.reassignment_deadline(on, policy, calendar)),
        ("会签（如今天送会签）", deadlines.co_sign_due(on, policy, calendar)),
    ]


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    policy = deadline_policy()
    current = {key: getattr(policy, key).label_zh() for key in forms.PERIOD_KEYS}
    form = forms.PolicyForm(
        data={**current, **{key: getattr(policy, key) for key in forms.BOOL_KEYS}}
    )
    defaults = policy_defaults()
    for key in forms.PERIOD_KEYS:
        default = Period.parse(defaults[key]).label_zh()
        form[key].description = f"{forms.PERIOD_HINT}；系统默认：{default}"

    def action():
        values: dict[str, str | bool] = {key: form[key].data for key in forms.PERIOD_KEYS}
        values.update({key: form[key].data for key in forms.BOOL_KEYS})
        changes = admin.save_deadline_policy(current_user, values, defaults=defaults)
        if not changes:
            return "期限设置未作修改。", url_for("admin.settings")
        return (
            f"已保存期限设置：{'；'.join(changes)}。新设置适用于此后交办的件。",
            url_for("admin.settings"),
        )

    on = today()
    return perform(
        form,
        action,
        failed=lambda status: (
            render_template(
                "admin/settings.html",
                form=form,
                policy=policy,
                examples=_policy_examples(policy, on),
                example_on=on,
            ),
            status,
        ),
    )


# -- working-day calendar ------------------------------------------------------------


@dataclass
class YearCoverage:
    year: int
    official: bool  # the chinese_calendar package has the year
    holidays: int = 0  # admin rows
    workdays: int = 0

    @property
    def by_admin(self) -> bool:
        return bool(self.holidays or self.workdays)


def _year_counts() -> dict[int, YearCoverage]:
    official = WorkCalendar()  # the package alone, without the admin's rows
    years: dict[int, YearCoverage] = {}
    for day, is_workday in db.session.execute(db.select(CalendarDay.day, CalendarDay.is_workday)):
        row = years.setdefault(day.year, YearCoverage(day.year, official.is_covered(day.year)))
        if is_workday:
            row.workdays += 1
        else:
            row.holidays += 1
    return years


@bp.route("/calendar")
def calendar():
    counts = _year_counts()
    official = WorkCalendar()
    last = today().year + 1
    years = sorted(set(range(FIRST_CALENDAR_YEAR, last + 1)) | set(counts), reverse=True)
    rows = [counts.get(y) or YearCoverage(y, official.is_covered(y)) for y in years]
    return render_template("admin/calendar.html", rows=rows)


def _render_year(year: int, form: forms.CalendarForm, status: int = 200):
    days = db.session.execute(
        db.select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    ).scalars()
    coverage = _year_counts().get(year) or YearCoverage(year, WorkCalendar().is_covered(year))
    page = render_template(
        "admin/calendar_year.html",
        year=year,
        days=list(days),
        coverage=coverage,
        form=form,
    )
    return page, status


@bp.route("/calendar/<int:year>", methods=["GET", "POST"])
def calendar_year(year: int):
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        abort(404)
    form = forms.CalendarForm()

    def action():
        added, updated = admin.enter_calendar_days(current_user, year, form.lines.data)
        return (
            f"已保存{year}年工作日历：新增{added}天，修改{updated}天。",
            url_for("admin.calendar_year", year=year),
        )

    return perform(form, action, failed=lambda status: _render_year(year, form, status))


@bp.route("/calendar/days/<int:day_id>/delete", methods=["POST"])
def calendar_day_delete(day_id: int):
    row = get_or_404(CalendarDay, day_id)
    year = row.day.year
    form = forms.ButtonForm()

    def action():
        day = row.day
        admin.delete_calendar_day(current_user, row)
        return f"已删除{cn_date(day)}。", url_for("admin.calendar_year", year=year)

    return perform(
        form,
        action,
        failed=lambda status: _render_year(year, forms.CalendarForm(formdata=None), status),
    )
