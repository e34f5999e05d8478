"""Who may see and do what. Views call these; services call them again before acting."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, select, true

from tracker.models import Assignment, Proposal, User
from tracker.services.errors import PermissionDenied

HANDLING_ROLES = ("clerk", "supervisor")


def sees_all(user: User) -> bool:
    """Liaisons and admins read every item; so do supervisors of the coordinating office."""
    if user.role in ("liaison", "admin"):
        return True
    return user.role == "supervisor" and user.unit is not None and user.unit.is_coordinating


def proposal_scope(user: User, *, as_set: bool = False) -> ColumnElement[bool]:
    """A WHERE clause restricting Proposal rows to those the user may see. A unit's are
    those with an assignment of it, asked of each proposal (read in the list's order, a
    page stops after a few dozen) or, `as_set`, taken from the unit's assignments at once
    (a count: asked of each, the 89,000 proposals of the loadtest took 60 ms on SQLite for
    a unit's 13,000, taken at once 20 ms)."""
    if sees_all(user):
        return true()
    unit_id = scope_unit(user)
    if unit_id is None:
        return false()
    if as_set:
        return Proposal.id.in_(select(Assignment.proposal_id).where(Assignment.unit_id == unit_id))
    return exists().where(Assignment.proposal_id == Proposal.id, Assignment.unit_id == unit_id)


def scope_unit(user: User) -> int | None:
    """The unit whose proposals are all the user sees (``proposal_scope``), or None: the
    user sees every proposal, or none."""
    if sees_all(user) or user.role not in HANDLING_ROLES or not user.unit_id:
        return None
    return user.unit_id


def can_view(user: User, proposal: Proposal) -> bool:
    if sees_all(user):
        return True
    return (
        user.role in HANDLING_ROLES
        and user.unit_id is not None
        and any(a.unit_id == user.unit_id for a in proposal.assignments)
    )


def require_view(user: User, proposal: Proposal) -> None:
    if not can_view(user, proposal):
        raise PermissionDenied("您无权查看该建议/提案。")


def in_unit(user: User, unit_id: int | None) -> bool:
    """The user is a clerk or supervisor of that unit (and so handles its items)."""
    return user.role in HANDLING_ROLES and user.unit_id is not None and user.unit_id == unit_id


def sees_unit(user: User, unit_id: int | None) -> bool:
    """The user reads that unit's items: its own people and the see-all roles."""
    return sees_all(user) or in_unit(user, unit_id)


def handles_items(user: User) -> bool:
    """A clerk or supervisor of a unit: the unit's items are their work (我的待办)."""
    return user.role in HANDLING_ROLES and user.unit_id is not None


def works_for(user: User, assignment: Assignment) -> bool:
    """The user handles this assignment: a clerk or supervisor of its unit."""
    return in_unit(user, assignment.unit_id)


def can_register(user: User) -> bool:
    return user.role in ("liaison", "admin")


def registers_daily(user: User) -> bool:
    """Registering items is the liaison's daily work, so their 我的待办 offers it (the admin
    may register as well, from the list)."""
    return user.role == "liaison"


def can_assign(user: User, proposal: Proposal | None = None) -> bool:
    """交办 is the coordinating office's: its supervisors and the admin."""
    return user.role == "admin" or (
        user.role == "supervisor" and user.unit is not None and user.unit.is_coordinating
    )


def can_decide_reassignment(user: User) -> bool:
    return user.role == "admin" or (
        user.role == "supervisor" and user.unit is not None and user.unit.is_coordinating
    )


def can_decide_extension(user: User, assignment: Assignment) -> bool:
    if user.role != "supervisor":
        return False
    return sees_all(user) or user.unit_id == assignment.unit_id


def can_rate(user: User) -> bool:
    """Entering a deputy's paper rating form (代填): liaisons and the admin."""
    return user.role in ("liaison", "admin")


# -- deputies and members (代表/委员) -----------------------------------------------------

# What a deputy reaches besides their own pages (the `deputy` blueprint): signing in and
# out, their password and sessions (not API tokens), their notifications, and what anyone
# may read (the public replies, the API's contract). Everything else answers 403
# (tracker.web's guard), so a route added later is closed to deputies until listed here.
DEPUTY_BLUEPRINTS = ("deputy", "notifications", "public", "health", "api_docs")
DEPUTY_ENDPOINTS = (
    "static",
    "main.index",
    "auth.login",
    "auth.logout",
    "auth.password",
    "auth.session_list",
    "auth.session_end",
    "auth.session_end_all",
)


def is_deputy(user: User) -> bool:
    return user.role == "deputy"


def uses_api(user: User) -> bool:
    """API tokens are for the bureau's systems and staff; a deputy uses the pages."""
    return not is_deputy(user)


def deputy_reaches(endpoint: str | None) -> bool:
    """A deputy may open this endpoint (None: no route matched, a 404 follows)."""
    if endpoint is None or endpoint in DEPUTY_ENDPOINTS:
        return True
    return endpoint.partition(".")[0] in DEPUTY_BLUEPRINTS and "." in endpoint


def is_proposer(user: User, proposal: Proposal) -> bool:
    """The deputy is named on the proposal, as lead proposer (领衔) or co-signer (附议)."""
    return is_deputy(user) and bool(user.deputy_name) and user.deputy_name in proposal.proposers


def is_lead_proposer(user: User, proposal: Proposal) -> bool:
    """The deputy leads the proposal (领衔): they answer contacts and rate the reply."""
    return is_deputy(user) and bool(user.deputy_name) and user.deputy_name == proposal.lead_proposer


def require_proposer(user: User, proposal: Proposal) -> None:
    if not is_proposer(user, proposal):
        raise PermissionDenied("这不是您的建议/提案。")


def is_admin(user: User) -> bool:
    return user.role == "admin"


def can_view_dashboard(user: User) -> bool:
    """督办统计: supervisors (their unit; the coordinating office every unit), liaisons and
    the admin (every unit)."""
    return user.role in ("supervisor", "liaison", "admin")


def can_import_proposals(user: User) -> bool:
    """批量导入 of a session's 交办清单 (registration with assignment): the liaison, who
    registers, the coordinating office, which assigns, and the admin; never a unit's clerk."""
    return sees_all(user)


def can_import(user: User) -> bool:
    """导入答复函: liaisons, the admin and supervisors of the coordinating office."""
    return sees_all(user)
