"""Users and units: creation and lookup (CLI and admin pages)."""

from __future__ import annotations

import re

from tracker.extensions import db
from tracker.models import Unit, User
from tracker.rules.labels import ROLES
from tracker.services import audit, sessions
from tracker.services.errors import DomainError, PermissionDenied

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD = 8
UNIT_ROLES = ("clerk", "supervisor")  # roles that must belong to a unit


def _active_handling(*columns):
    """The active units that handle proposals (not the coordinating office), by name."""
    return (
        db.select(*columns)
        .where(Unit.active.is_(True), Unit.is_coordinating.is_(False))
        .order_by(Unit.name)
    )


def active_handling_units() -> list[Unit]:
    """Units that handle proposals (not the coordinating office), for choosing one."""
    return list(db.session.execute(_active_handling(Unit)).scalars())


def unit_choices() -> list[tuple[int, str]]:
    """(id, name) of active_handling_units(), for a form's choices: read as two columns (a
    province has hundreds of units, and every list page offers them)."""
    return [tuple(row) for row in db.session.execute(_active_handling(Unit.id, Unit.name))]


def find_unit(name: str) -> Unit | None:
    """A unit by its full name or one of its short names."""
    name = name.strip()
    units = db.session.execute(db.select(Unit)).scalars()
    return next((u for u in units if u.matches(name)), None)


def chosen_unit(unit_id: int | None) -> Unit | None:
    """The unit a form's choice names; None for the form's "no unit" (0)."""
    if not unit_id:
        return None
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise DomainError("所选单位不存在。")
    return unit


def find_or_create_unit(name: str) -> tuple[Unit, bool]:
    name = name.strip()
    if not name:
        raise DomainError("单位名称不能为空。")
    unit = find_unit(name)
    if unit is not None:
        return unit, False
    unit = Unit(name=name, short_names=[])
    db.session.add(unit)
    db.session.flush()
    return unit, True


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"密码至少{MIN_PASSWORD}位。")


def check_role_unit(role: str, unit: Unit | None, deputy_name: str | None = None) -> None:
    """A valid role; clerks and supervisors belong to a unit; a deputy (代表/委员) is
    linked to the name proposals give as proposer, and belongs to no unit."""
    if role not in ROLES:
        raise DomainError("角色无效。")
    if role in UNIT_ROLES and unit is None:
        raise DomainError("承办人和负责人须属于一个单位。")
    if role == "deputy":
        if not (deputy_name or "").strip():
            raise DomainError("代表/委员须填写其在建议、提案中的署名（领衔或附议人姓名）。")
        if unit is not None:
            raise DomainError("代表/委员不属于承办单位，请不要选择单位。")


def deputy_name_for(role: str, deputy_name: str | None) -> str | None:
    """The deputy name kept for a user of `role`: only deputies have one."""
    return (deputy_name or "").strip() or None if role == "deputy" else None


def create_user(
    actor: User | None,
    *,
    username: str,
    password: str,
    role: str,
    unit: Unit | None = None,
    display_name: str = "",
    email: str | None = None,
    deputy_name: str | None = None,
    phone: str | None = None,
) -> User:
    """Create a user. actor None means the operator at the console. A deputy's
    `deputy_name` links them to the proposals that name them as proposer."""
    if actor is not None and actor.role != "admin":
        raise PermissionDenied("只有管理员可以创建用户。")
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise DomainError("用户名只能包含字母、数字、下划线、点和连字符（2–64位）。")
    check_role_unit(role, unit, deputy_name)
    check_password_strength(password)
    if db.session.execute(db.select(User.id).where(User.username == username)).first():
        raise DomainError(f"用户名{username}已存在。")
    user = User(
        username=username,
        role=role,
        unit=unit,
        display_name=display_name.strip(),
        email=email or None,
        phone=(phone or "").strip() or None,
        deputy_name=deputy_name_for(role, deputy_name),
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "user_create",
        f"创建用户{username}（{ROLES[role]}"
        + (f"，署名{user.deputy_name}" if user.deputy_name else "")
        + "）",
        entity="user",
        entity_id=user.id,
    )
    return user


def change_own_password(user: User, password: str, *, lifetimes: sessions.Lifetimes) -> int:
    """A signed-in user sets a new password (having typed the current one). Every other
    session of the user ends, with its remember cookie; returns how many ended."""
    check_password_strength(password)
    user.set_password(password)
    ended = sessions.end_all(user, lifetimes=lifetimes, keep=user.login_session)
    note = f"，其他{ended}个登录会话已退出" if ended else ""
    audit.record(user, "password", f"修改密码{note}", entity="user", entity_id=user.id)
    return ended
