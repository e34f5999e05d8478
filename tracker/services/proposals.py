"""The handling workflow: register, assign, sign for, reassign, contacts, co-unit opinions,
replies, ratings, extensions. Every function takes the acting user, checks permission,
writes an audit event and flushes. Callers commit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Select
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.models import (
    Assignment,
    CongressSession,
    ContactLog,
    ExtensionRequest,
    Feedback,
    Proposal,
    ReplyLetter,
    Unit,
    User,
)
from tracker.rules import deadlines
from tracker.rules.chinese import cn_date
from tracker.rules.clock import beijing_day
from tracker.rules.deadlines import DeadlinePolicy, WorkCalendar
from tracker.rules.docnumbers import DocNumberError, check_recorded_number
from tracker.rules.labels import (
    ASSIGNMENT_ROLES,
    CONTACT_PHASES,
    DRAFT_LETTER_STATUSES,
    NOT_CONTACTED,
    PROPOSAL_STATUS,
)
from tracker.rules.proposal_sheet import proposal_number
from tracker.rules.proposal_status import derive_status
from tracker.services import audit, commitments, deputies, permissions, repeats, vocab
from tracker.services.digest import Link
from tracker.services.errors import DomainError, PermissionDenied
from tracker.services.settings import work_calendar
from tracker.services.todo import not_done

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


# -- sessions -------------------------------------------------------------------------


def get_or_create_session(
    name: str, *, body: str | None = None, year: int | None = None, level: str | None = None
) -> CongressSession:
    name = name.strip()
    found = db.session.execute(
        db.select(CongressSession).where(CongressSession.name == name)
    ).scalar_one_or_none()
    if found:
        return found
    if body is None:
        body = "政协" if "政协" in name else "人大"
    if level is None:
        level = next((lv for lv in ("全国", "省", "区", "市") if name.startswith(lv)), "市")
    if year is None:
        raise DomainError(f"新的会议“{name}”须填写年份。")
    session = CongressSession(name=name, body=body, level=level, year=year)
    db.session.add(session)
    db.session.flush()
    return session


def session_choices() -> list[tuple[int, str]]:
    """(id, name) of every session, the latest year first: the choices of the forms and
    list filters (read as two columns: every list page offers them)."""
    return [
        (row.id, row.name)
        for row in db.session.execute(
            db.select(CongressSession.id, CongressSession.name).order_by(
                CongressSession.year.desc(), CongressSession.name
            )
        )
    ]


def chosen_session(
    session_id: int | None, new_name: str | None, new_year: int | None
) -> CongressSession:
    """The session the registration form names: one chosen from the list, else a new one
    by name and year."""
    if session_id:
        session = db.session.get(CongressSession, session_id)
        if session is None:
            raise DomainError("请选择会议。")
        return session
    if new_name:
        return get_or_create_session(new_name, year=new_year)
    raise DomainError("请选择会议，或填写新会议名称和年份。")


# -- registering and assigning -------------------------------------------------------


def register_proposal(
    actor: User,
    *,
    session: CongressSession,
    kind: str,
    number: str,
    title: str,
    lead_proposer: str,
    proposer_kind: str = "代表",
    co_signers: Sequence[str] = (),
    submitted_on: date | None = None,
    is_key: bool = False,
    content: str = "",
) -> Proposal:
    if not permissions.can_register(actor):
        raise PermissionDenied("只有联络员和管理员可以登记建议/提案。")
    return record_registration(
        actor,
        session=session,
        kind=kind,
        number=number,
        title=title,
        lead_proposer=lead_proposer,
        proposer_kind=proposer_kind,
        co_signers=co_signers,
        submitted_on=submitted_on,
        is_key=is_key,
        content=content,
    )


def record_registration(
    actor: User,
    *,
    session: CongressSession,
    kind: str,
    number: str,
    title: str,
    lead_proposer: str,
    proposer_kind: str = "代表",
    co_signers: Sequence[str] = (),
    submitted_on: date | None = None,
    is_key: bool = False,
    content: str = "",
    delegation: str | None = None,
    via: str | None = None,
    held: bool = False,
) -> Proposal:
    """登记 once the caller has checked that the actor may (register_proposal; the batch
    import, services.proposal_batch, whose ``via`` names it in the audit event). ``held``:
    the caller holds the session already (the batch, once for all its rows), sends no form
    twice and has checked that the number is new (the unique constraint stands behind it),
    so neither is looked up again."""
    number = proposal_number(number)
    if not held:
        repeats.hold(session)
        repeat = repeats.recent(
            Proposal,
            Proposal.created_at,
            session_id=session.id,
            number=number,
            kind=kind,
            title=title.strip(),
            created_by_id=actor.id,
        )
        if repeat is not None:
            return repeat
        duplicate = db.session.execute(
            db.select(Proposal.id).where(
                Proposal.session_id == session.id, Proposal.number == number
            )
        ).first()
        if duplicate:
            raise DomainError(f"{session.name}已有第{number}号{kind}，编号不能重复。")
    proposal = Proposal(
        session=session,
        kind=kind,
        number=number,
        title=title.strip(),
        lead_proposer=lead_proposer.strip(),
        proposer_kind=proposer_kind,
        co_signers=[s.strip() for s in co_signers if s.strip()],
        submitted_on=submitted_on,
        is_key=is_key,
        content=content,
        delegation=(delegation or "").strip() or None,
        status="registered",
        created_by_id=actor.id,
        assignments=[],  # known empty: the assignment that follows loads nothing
    )
    db.session.add(proposal)
    db.session.flush()
    audit.record(
        actor,
        "register",
        f"登记{kind}第{number}号《{proposal.title}》" + (f"（{via}）" if via else ""),
        proposal_id=proposal.id,
        entity_id=proposal.id,
    )
    return proposal


@dataclass
class _Clock:
    """An assignment's deadlines, counted from its assignment date."""

    due_on: date
    max_due_on: date | None
    reassign_until: date | None
    estimated: bool


def _clock(
    proposal: Proposal,
    unit: Unit,
    role: str,
    assigned_on: date,
    *,
    policy: DeadlinePolicy,
    re_answer: bool = False,
    calendar: WorkCalendar | None = None,
) -> _Clock:
    calendar = calendar or work_calendar()
    try:
        if role == "co":
            due = deadlines.co_opinion_due(assigned_on, policy, calendar)
            max_due = None
        elif re_answer:
            due = deadlines.re_answer_due(assigned_on, policy, calendar)
            max_due = deadlines.reply_max_due(assigned_on, policy, calendar).on
        else:
            due = deadlines.reply_due(assigned_on, policy, calendar)
            max_due = deadlines.reply_max_due(assigned_on, policy, calendar).on
        window = deadlines.reassignment_deadline(assigned_on, policy, calendar)
    except deadlines.DeadlineError as exc:  # a date the calendar cannot count from
        raise DomainError(str(exc)) from None
    if due.estimated or window.estimated:
        years = sorted(set(due.years_estimated) | set(window.years_estimated))
        log.warning(
            "proposal %s: deadline for %s counted Monday–Friday, no official calendar for %s",
            proposal.number,
            unit.name,
            years,
        )
    return _Clock(
        due_on=due.on,
        max_due_on=max_due,
        reassign_until=None if re_answer else window.on,
        estimated=due.estimated or window.estimated,
    )


# -- correcting a registration ---------------------------------------------------------


def _fmt_or_none(d: date | None) -> str:
    return cn_date(d) if d else "（空）"


def correct_registration(
    actor: User,
    proposal: Proposal,
    *,
    number: str,
    title: str,
    submitted_on: date | None,
    assigned_on: date | None = None,
    reason: str = "",
    today: date,
    policy: DeadlinePolicy,
) -> list[str]:
    """更正登记信息: a registered item's number, title, 提出日期 and first 交办日期 put right,
    with the old and new values in the audit trail. Returns what changed (empty: nothing).

    What depends on them:
    - the number is unique within its session (as at registration);
    - 提出日期 may not be after today or after the item's first 交办, because 交办 may not
      precede it (a wrong far date would otherwise keep the item from being assigned);
    - the first 交办日期 starts every clock, so the assignments made that day are counted
      again from the corrected date (reply and co-handling opinion due dates, the latest an
      extension may reach, the reassignment window), by the deadline settings in force now.
      A due date moved by a granted extension stays as granted. The date may not come after
      anything a unit already did (sign-for, opinion, reply, requests). Later assignments
      (another unit after reassignment, re-handling rounds) have dates of their own;
    - unsent drafts refer to the item by number and title, and follow; their text is the
      clerk's, and the sign-off checklist asks for the registered number and title. Letters
      already sent keep what they printed."""
    if not permissions.can_register(actor):
        raise PermissionDenied("只有联络员和管理员可以更正登记信息。")
    repeats.hold(proposal)
    number, title, reason = proposal_number(number), title.strip(), reason.strip()
    if not number or not title:
        raise DomainError("编号和标题不能为空。")
    changes: list[str] = []
    old: dict[str, str | None] = {}
    new: dict[str, str | None] = {}

    def changed(key: str, label: str, before, after, shown) -> None:
        changes.append(f"{label}由{shown(before)}改为{shown(after)}")
        old[key] = before.isoformat() if isinstance(before, date) else before
        new[key] = after.isoformat() if isinstance(after, date) else after

    if number != proposal.number:
        clash = db.session.execute(
            db.select(Proposal.id).where(
                Proposal.session_id == proposal.session_id,
                Proposal.number == number,
                Proposal.id != proposal.id,
            )
        ).first()
        if clash:
            raise DomainError(
                f"{proposal.session.name}已有第{number}号{proposal.kind}，编号不能重复。"
            )
        changed("number", "编号", proposal.number, number, lambda v: f"第{v}号")
    if title != proposal.title:
        changed("title", "标题", proposal.title, title, lambda v: f"《{v}》")
    if submitted_on != proposal.submitted_on:
        if submitted_on and submitted_on > today:
            raise DomainError("提出日期不能晚于今天。")
        changed("submitted_on", "提出日期", proposal.submitted_on, submitted_on, _fmt_or_none)
    first = proposal.assigned_on
    redate = first is not None and assigned_on is not None and assigned_on != first
    if redate:
        _check_redate(proposal, first, assigned_on, today)
        changed("assigned_on", "交办日期", first, assigned_on, cn_date)
    moved = _first_batch(proposal, first) if redate else []
    earliest = min(
        (assigned_on if a in moved else a.assigned_on for a in proposal.assignments),
        default=None,
    )
    if submitted_on and earliest and submitted_on > earliest:
        raise DomainError(f"提出日期不能晚于交办日期（{cn_date(earliest)}）。")
    if not changes:
        return []

    proposal.number, proposal.title, proposal.submitted_on = number, title, submitted_on
    kept = _redate(proposal, first, assigned_on, policy) if redate else []
    for letter in proposal.letters:
        if letter.status in DRAFT_LETTER_STATUSES:
            letter.proposal_number, letter.proposal_title = number, title
    message = "更正登记信息：" + "；".join(changes)
    if redate:
        message += "；各承办单位的期限已按更正后的交办日期重新计算"
        if kept:
            message += f"（{'、'.join(kept)}已批准延期的期限不变）"
    if reason:
        message += f"（说明：{reason}）"
    db.session.flush()
    audit.record(actor, "correct", message, proposal_id=proposal.id, old=old, new=new)
    return changes


def _first_batch(proposal: Proposal, first: date) -> list[Assignment]:
    """The assignments of the first 交办 (round 1, made on the proposal's 交办日期)."""
    return [a for a in proposal.assignments if a.round == 1 and a.assigned_on == first]


def _check_redate(proposal: Proposal, first: date, assigned_on: date, today: date) -> None:
    if assigned_on > today:
        raise DomainError("交办日期不能晚于今天。")
    for a in _first_batch(proposal, first):
        done = [
            ("签收", beijing_day(a.signed_for_at)),
            ("申请调整", beijing_day(a.reassign_requested_at)),
            ("提交会办意见", a.opinion_on),
            ("答复", a.replied_on),
            *(("申请延期", beijing_day(e.requested_at)) for e in a.extensions),
        ]
        for what, on in done:
            if on is not None and on < assigned_on:
                raise DomainError(f"{a.unit.name}已于{cn_date(on)}{what}，交办日期不能晚于该日期。")


def _redate(
    proposal: Proposal, first: date, assigned_on: date, policy: DeadlinePolicy
) -> list[str]:
    """Count the first 交办's deadlines again from the corrected date; returns the units
    whose granted extension keeps its due date."""
    kept = []
    for a in _first_batch(proposal, first):
        clock = _clock(proposal, a.unit, a.role, assigned_on, policy=policy)
        if a.due_on != a.original_due_on:
            kept.append(a.unit.name)
        else:
            a.due_on = clock.due_on
        a.assigned_on = assigned_on
        a.original_due_on = clock.due_on
        a.max_due_on = clock.max_due_on
        a.reassign_until = clock.reassign_until
        a.due_estimated = clock.estimated
    proposal.assigned_on = assigned_on
    return kept


def _new_assignment(
    proposal: Proposal,
    unit: Unit,
    role: str,
    assigned_on: date,
    round_: int = 1,
    *,
    policy: DeadlinePolicy,
    re_answer: bool = False,
    calendar: WorkCalendar | None = None,
) -> Assignment:
    clock = _clock(
        proposal, unit, role, assigned_on, policy=policy, re_answer=re_answer, calendar=calendar
    )
    assignment = Assignment(
        proposal=proposal,
        unit=unit,
        role=role,
        round=round_,
        assigned_on=assigned_on,
        due_on=clock.due_on,
        original_due_on=clock.due_on,
        max_due_on=clock.max_due_on,
        due_estimated=clock.estimated,
        reassign_until=clock.reassign_until,
    )
    db.session.add(assignment)
    return assignment


def _repeated_assignment(
    proposal: Proposal, wanted: Sequence[tuple[Unit, str]], assigned_on: date
) -> list[Assignment] | None:
    """The assignments a 交办 just made with exactly these units, roles and date (the same
    form posted twice), or None. Holds the proposal first (see services.repeats)."""
    repeats.hold(proposal)
    found = []
    for unit, role in wanted:
        match = repeats.recent(
            Assignment,
            Assignment.created_at,
            proposal_id=proposal.id,
            unit_id=unit.id,
            role=role,
            assigned_on=assigned_on,
            active=True,
        )
        if match is None:
            return None
        found.append(match)
    return found or None


def assign_units(
    actor: User,
    proposal: Proposal,
    *,
    lead_units: Sequence[Unit],
    co_units: Sequence[Unit] = (),
    assigned_on: date,
    separate: bool = False,
    policy: DeadlinePolicy,
) -> list[Assignment]:
    """交办: one lead unit and co-handling units, or several units answering separately."""
    if not permissions.can_assign(actor, proposal):
        raise PermissionDenied("只有督办负责人和管理员可以交办。")
    return record_assignment(
        actor,
        proposal,
        lead_units=lead_units,
        co_units=co_units,
        assigned_on=assigned_on,
        separate=separate,
        policy=policy,
    )


def record_assignment(
    actor: User,
    proposal: Proposal,
    *,
    lead_units: Sequence[Unit],
    co_units: Sequence[Unit] = (),
    assigned_on: date,
    separate: bool = False,
    policy: DeadlinePolicy,
    via: str | None = None,
    calendar: WorkCalendar | None = None,
    held: bool = False,
) -> list[Assignment]:
    """交办 once the caller has checked that the actor may (assign_units; the batch import,
    named by ``via`` in the audit event, which passes the one working-day ``calendar`` its
    rows are counted on, and holds the proposal itself: ``held``, no double-submit check)."""
    if not lead_units:
        raise DomainError("请选择主办单位。")
    role = "separate" if separate else "lead"
    if not held:
        repeat = _repeated_assignment(
            proposal, [(u, role) for u in lead_units] + [(u, "co") for u in co_units], assigned_on
        )
        if repeat is not None:
            return repeat
    if not separate and len(lead_units) > 1:
        raise DomainError("主办单位只能有一个；多个单位分别答复请选择“分办”。")
    if proposal.submitted_on and assigned_on < proposal.submitted_on:
        raise DomainError("交办日期不能早于提出日期。")
    ids = [u.id for u in lead_units] + [u.id for u in co_units]
    if len(set(ids)) != len(ids):
        raise DomainError("同一单位不能既是主办又是会办。")
    current = {a.unit_id for a in proposal.active_assignments}
    clash = [u.name for u in [*lead_units, *co_units] if u.id in current]
    if clash:
        raise DomainError(f"{'、'.join(clash)}已在办理该件。")
    if not separate and proposal.lead_assignment is not None:
        raise DomainError("该件已有主办单位；如需更换请通过申请调整办理。")
    created = [
        _new_assignment(
            proposal, u, role, assigned_on, proposal.round, policy=policy, calendar=calendar
        )
        for u in lead_units
    ]
    created += [
        _new_assignment(
            proposal, u, "co", assigned_on, proposal.round, policy=policy, calendar=calendar
        )
        for u in co_units
    ]
    if proposal.assigned_on is None:
        proposal.assigned_on = assigned_on
    db.session.flush()
    names = "；".join(f"{ASSIGNMENT_ROLES[a.role]}：{a.unit.name}" for a in created)
    audit.record(
        actor,
        "assign",
        f"交办（{cn_date(assigned_on)}）{names}" + (f"（{via}）" if via else ""),
        proposal_id=proposal.id,
    )
    proposal.status = derive_status(proposal)
    return created


def add_co_units(
    actor: User,
    proposal: Proposal,
    units: Sequence[Unit],
    assigned_on: date,
    *,
    policy: DeadlinePolicy,
):
    if not permissions.can_assign(actor, proposal):
        raise PermissionDenied("只有督办负责人和管理员可以交办。")
    if proposal.lead_assignment is None:
        raise DomainError("请先确定主办单位。")
    repeat = _repeated_assignment(proposal, [(u, "co") for u in units], assigned_on)
    if repeat is not None:
        return repeat
    current = {a.unit_id for a in proposal.active_assignments}
    clash = [u.name for u in units if u.id in current]
    if clash:
        raise DomainError(f"{'、'.join(clash)}已在办理该件。")
    created = [
        _new_assignment(proposal, u, "co", assigned_on, proposal.round, policy=policy)
        for u in units
    ]
    db.session.flush()
    audit.record(
        actor,
        "assign",
        f"增加会办单位：{'、'.join(u.name for u in units)}",
        proposal_id=proposal.id,
    )
    return created


def _check_works_for(actor: User, assignment: Assignment) -> None:
    if not permissions.works_for(actor, assignment):
        raise PermissionDenied("只有该承办单位的人员可以办理此事项。")
    if not assignment.active:
        raise DomainError("该交办已调整，不再由本单位办理。")


# -- signing for and reassignment -----------------------------------------------------


def sign_for(actor: User, assignment: Assignment, at: datetime | None = None) -> None:
    """签收. ``at`` records a sign-for done earlier (on paper); it defaults to now."""
    _check_works_for(actor, assignment)
    repeats.hold(assignment)
    if (
        at is None
        and assignment.signed_for_by_id == actor.id
        and repeats.just_now(assignment.signed_for_at)
    ):
        return  # the same button pressed twice
    if assignment.signed_for_at:
        raise DomainError("本单位已签收该件。")
    if assignment.reassign_status == "requested":
        raise DomainError("已申请调整，待督办决定后再签收。")
    if at is not None and (at > _now() or at.date() < assignment.assigned_on):
        raise DomainError("签收时间须在交办日期之后、当前时间之前。")
    assignment.signed_for_at = at or _now()
    assignment.signed_for_by_id = actor.id
    audit.record(
        actor,
        "sign_for",
        f"{assignment.unit.name}签收（{ASSIGNMENT_ROLES[assignment.role]}）",
        proposal_id=assignment.proposal_id,
        entity="assignment",
        entity_id=assignment.id,
    )
    assignment.proposal.status = derive_status(assignment.proposal)


def request_reassignment(
    actor: User, assignment: Assignment, reason: str, suggested_unit: str = "", *, today: date
) -> None:
    _check_works_for(actor, assignment)
    repeats.hold(assignment)
    if (
        assignment.reassign_status == "requested"
        and assignment.reassign_requested_by_id == actor.id
        and assignment.reassign_reason == reason.strip()
        and assignment.reassign_suggested_unit == (suggested_unit.strip() or None)
    ):
        return  # the same request sent again
    if assignment.signed_for_at:
        raise DomainError("已签收的件不能再申请调整。")
    if assignment.reassign_status == "requested":
        raise DomainError("已提交调整申请，请等待督办决定。")
    if assignment.reassign_until and today > assignment.reassign_until:
        raise DomainError(
            f"申请调整的期限已于{cn_date(assignment.reassign_until)}届满，须按交办要求办理。"
        )
    if not reason.strip():
        raise DomainError("请说明申请调整的理由。")
    assignment.reassign_status = "requested"
    assignment.reassign_reason = reason.strip()
    assignment.reassign_suggested_unit = suggested_unit.strip() or None
    assignment.reassign_requested_at = _now()
    assignment.reassign_requested_by_id = actor.id
    audit.record(
        actor,
        "reassign_request",
        f"{assignment.unit.name}申请调整：{reason.strip()}",
        proposal_id=assignment.proposal_id,
        entity="assignment",
        entity_id=assignment.id,
    )


def decide_reassignment(
    actor: User,
    assignment: Assignment,
    *,
    approve: bool,
    note: str = "",
    new_unit: Unit | None = None,
    today: date,
    policy: DeadlinePolicy,
) -> Assignment | None:
    if not permissions.can_decide_reassignment(actor):
        raise PermissionDenied("只有督办部门负责人可以决定调整申请。")
    if assignment.reassign_status != "requested":
        raise DomainError("该交办没有待决定的调整申请。")
    if approve and new_unit is not None:
        if new_unit.id == assignment.unit_id:
            raise DomainError("调整后的单位不能与原单位相同。")
        if any(a.unit_id == new_unit.id for a in assignment.proposal.active_assignments):
            raise DomainError(f"{new_unit.name}已在办理该件。")
    assignment.reassign_status = "approved" if approve else "refused"
    assignment.reassign_decision_note = note.strip() or None
    assignment.reassign_decided_at = _now()
    assignment.reassign_decided_by_id = actor.id
    replacement = None
    if approve:
        assignment.active = False
        if new_unit is not None:
            replacement = _new_assignment(
                assignment.proposal,
                new_unit,
                assignment.role,
                today,
                assignment.round,
                policy=policy,
            )
        message = f"同意{assignment.unit.name}的调整申请" + (
            f"，改由{new_unit.name}{ASSIGNMENT_ROLES[assignment.role]}" if new_unit else ""
        )
    else:
        message = f"不同意{assignment.unit.name}的调整申请，仍由该单位办理"
    if note.strip():
        message += f"（{note.strip()}）"
    db.session.flush()
    audit.record(
        actor,
        "reassign_decide",
        message,
        proposal_id=assignment.proposal_id,
        entity="assignment",
        entity_id=assignment.id,
    )
    assignment.proposal.status = derive_status(assignment.proposal)
    return replacement


# -- contacts and opinions ------------------------------------------------------------


def handling_assignment(actor: User, proposal: Proposal) -> Assignment:
    """The actor's unit's active assignment on this proposal, or PermissionDenied."""
    mine = [a for a in proposal.active_assignments if permissions.works_for(actor, a)]
    if not mine:
        raise PermissionDenied("本单位没有承办该件。")
    return sorted(mine, key=lambda a: (a.role == "co", -a.round))[0]


def log_contact(
    actor: User,
    proposal: Proposal,
    *,
    contacted_on: date,
    channel: str,
    phase: str,
    participants: str = "",
    summary: str = "",
    today: date,
) -> ContactLog:
    assignment = handling_assignment(actor, proposal)
    if contacted_on > today:
        raise DomainError("沟通日期不能晚于今天。")
    if vocab.term("contact_channel", channel) is None:
        raise DomainError("请选择有效的沟通方式。")
    if phase not in CONTACT_PHASES:
        raise DomainError("请选择沟通阶段（办前、办中或办后）。")
    repeats.hold(proposal)
    repeat = repeats.recent(
        ContactLog,
        ContactLog.created_at,
        proposal_id=proposal.id,
        logged_by_id=actor.id,
        source="manual",
        contacted_on=contacted_on,
        channel=channel,
        phase=phase,
        participants=participants.strip(),
        summary=summary.strip(),
    )
    if repeat is not None:
        return repeat
    contact = ContactLog(
        proposal=proposal,
        unit_id=assignment.unit_id,
        round=proposal.round,
        contacted_on=contacted_on,
        channel=channel,
        phase=phase,
        participants=participants.strip(),
        summary=summary.strip(),
        logged_by_id=actor.id,
    )
    db.session.add(contact)
    db.session.flush()
    audit.record(
        actor,
        "contact",
        f"{assignment.unit.name}于{cn_date(contacted_on)}通过{vocab.label('contact_channel', channel)}"
        f"与{proposal.lead_proposer}沟通（{CONTACT_PHASES[phase]}）",
        proposal_id=proposal.id,
        entity="contact",
        entity_id=contact.id,
    )
    return contact


def submit_opinion(
    actor: User, assignment: Assignment, *, text: str, opinion_on: date, today: date
) -> None:
    _check_works_for(actor, assignment)
    if not assignment.is_co:
        raise DomainError("只有会办单位需要提交会办意见。")
    if not text.strip():
        raise DomainError("请填写会办意见。")
    if opinion_on > today:
        raise DomainError("意见日期不能晚于今天。")
    if opinion_on < assignment.assigned_on:
        raise DomainError("意见日期不能早于交办日期。")
    repeats.hold(assignment)
    if (
        assignment.opinion_by_id == actor.id
        and assignment.opinion_text == text.strip()
        and assignment.opinion_on == opinion_on
    ):
        return  # the same opinion sent again: nothing to update
    if assignment.signed_for_at is None:
        assignment.signed_for_at = _now()
        assignment.signed_for_by_id = actor.id
    resubmitted = assignment.opinion_on is not None
    assignment.opinion_text = text.strip()
    assignment.opinion_on = opinion_on
    assignment.opinion_by_id = actor.id
    late = opinion_on > assignment.due_on
    audit.record(
        actor,
        "opinion",
        f"{assignment.unit.name}{'更新' if resubmitted else '提交'}会办意见"
        + ("（逾期）" if late else ""),
        proposal_id=assignment.proposal_id,
        entity="assignment",
        entity_id=assignment.id,
    )


# -- replies and ratings ---------------------------------------------------------------


def _checked_doc_number(text: str, letter_on: date) -> str:
    """A recorded letter's 文号, its year the letter's year and its serial a plausible one;
    empty when none was given."""
    if not text.strip():
        return ""
    try:
        return check_recorded_number(text, letter_on.year)
    except DocNumberError as error:
        raise DomainError(str(error)) from None


def record_reply(
    actor: User,
    assignment: Assignment,
    *,
    title: str,
    classification: str,
    doc_number: str,
    letter_on: date,
    disclosure: str,
    body: str = "",
    issued_on: date | None = None,
    disclosure_reason: str = "",
    today: date,
    link: Link | None = None,
) -> ReplyLetter:
    """Record a reply letter that was issued (on paper or elsewhere) for this round. With
    `link` (how to make a page's URL), the deputies named on the proposal are told."""
    _check_works_for(actor, assignment)
    if assignment.is_co:
        raise DomainError("会办单位不单独答复，请提交会办意见。")
    proposal = assignment.proposal
    doc_number = _checked_doc_number(doc_number, letter_on)
    repeats.hold(assignment)
    repeat = repeats.recent(
        ReplyLetter,
        ReplyLetter.created_at,
        proposal_id=proposal.id,
        unit_id=assignment.unit_id,
        created_by_id=actor.id,
        status="issued",
        title=title.strip(),
        classification=classification,
        doc_number=doc_number or None,
        letter_on=letter_on,
        disclosure=disclosure,
    )
    if repeat is not None:
        return repeat
    if assignment.round != proposal.round or assignment.replied_on:
        raise DomainError("本轮已答复；如代表不满意，请待重新办理。")
    if vocab.term("classification", classification) is None:
        raise DomainError("请选择有效的答复类别。")
    if vocab.term("disclosure", disclosure) is None:
        raise DomainError("请选择公开方式。")
    if (
        doc_number
        and db.session.execute(
            db.select(ReplyLetter.id).where(ReplyLetter.doc_number == doc_number)
        ).first()
    ):
        raise DomainError(f"文号{doc_number}已被使用。")
    issued_on = issued_on or letter_on
    if issued_on > today:
        raise DomainError("发出日期不能晚于今天。")
    letter = ReplyLetter(
        proposal=proposal,
        unit_id=assignment.unit_id,
        round=proposal.round,
        status="issued",
        title=title.strip(),
        issuer=assignment.unit.name,
        addressee=f"{proposal.lead_proposer}{proposal.proposer_kind}",
        proposal_kind=proposal.kind,
        session_name=proposal.session.name,
        proposal_number=proposal.number,
        proposal_title=proposal.title,
        proposers=proposal.proposers,
        classification=classification,
        doc_number=doc_number or None,
        letter_on=letter_on,
        issued_on=issued_on,
        body=body,
        disclosure=disclosure,
        disclosure_reason=disclosure_reason.strip() or None,
        co_units=[a.unit.short_name for a in proposal.active_assignments if a.is_co],
        created_by_id=actor.id,
    )
    db.session.add(letter)
    assignment.replied_on = issued_on
    proposal.classification = classification
    db.session.flush()
    if body.strip():
        commitments.refresh_commitments(letter, today=today)
    late = issued_on > assignment.due_on
    audit.record(
        actor,
        "reply",
        f"{assignment.unit.name}答复（{vocab.label('classification', classification)}"
        f"{'，' + doc_number if doc_number else ''}）" + ("，逾期答复" if late else ""),
        proposal_id=proposal.id,
        entity="letter",
        entity_id=letter.id,
    )
    proposal.status = derive_status(proposal)
    if link is not None:
        deputies.tell_reply_sent(letter, day=today, link=link)
    return letter


def record_rating(
    actor: User,
    proposal: Proposal,
    *,
    satisfaction: str,
    rated_on: date,
    comment: str = "",
    attitude: str | None = None,
    contact_method: str | None = None,
    today: date,
    policy: DeadlinePolicy,
) -> Feedback:
    """The deputy's rating of this round's reply: entered by the lead deputy online, or
    from the paper form by a liaison on their behalf (代填, `source` "proxy"). 不满意
    opens re-handling; any other level closes the item."""
    online = permissions.is_deputy(actor)
    if online:
        if not permissions.is_lead_proposer(actor, proposal):
            raise PermissionDenied("只有领衔代表/委员可以评价答复。")
    elif not permissions.can_rate(actor):
        raise PermissionDenied("只有联络员可以登记代表评价。")
    repeats.hold(proposal)
    repeat = repeats.recent(
        Feedback,
        Feedback.created_at,
        proposal_id=proposal.id,
        recorded_by_id=actor.id,
        satisfaction=satisfaction,
        rated_on=rated_on,
        comment=comment.strip(),
        attitude=attitude or None,
    )
    if repeat is not None:
        return repeat
    if proposal.status != "replied":
        raise DomainError("该件尚未答复，不能登记评价。")
    level = vocab.term("satisfaction", satisfaction)
    if level is None:
        raise DomainError("请选择满意度。")
    if rated_on > today:
        raise DomainError("评价日期不能晚于今天。")
    letters = [le for le in proposal.letters if le.round == proposal.round]
    if letters and letters[-1].issued_on and rated_on < letters[-1].issued_on:
        raise DomainError("评价日期不能早于答复日期。")
    if attitude and vocab.term("satisfaction", attitude) is None:
        raise DomainError("请选择对办理态度的评价。")
    if (
        contact_method
        and contact_method != NOT_CONTACTED
        and vocab.term("contact_channel", contact_method) is None
    ):
        raise DomainError("请选择承办单位与您联系的方式。")
    if level.reopens and not comment.strip():
        raise DomainError(
            "不满意时请写明您的意见，以便重新办理。"
            if online
            else "不满意时请填写代表的意见，以便重新办理。"
        )
    feedback = Feedback(
        proposal=proposal,
        letter=letters[-1] if letters else None,
        round=proposal.round,
        satisfaction=satisfaction,
        attitude=attitude or None,
        comment=comment.strip(),
        rated_on=rated_on,
        contact_method=contact_method or None,
        source="online" if online else "proxy",
        recorded_by_id=actor.id,
    )
    db.session.add(feedback)
    audit.record(
        actor,
        "rating",
        ("代表在线评价：" if online else "代表评价（代填）：")
        + (f"办理态度{vocab.label('satisfaction', attitude)}，办理结果" if attitude else "")
        + level.label
        + (f"（{comment.strip()}）" if comment.strip() else ""),
        proposal_id=proposal.id,
    )
    if level.reopens:
        previous = [
            a for a in proposal.active_assignments if a.role != "co" and a.round == proposal.round
        ]
        proposal.round += 1
        created = [
            _new_assignment(
                proposal, a.unit, a.role, rated_on, proposal.round, policy=policy, re_answer=True
            )
            for a in previous
        ]
        for a in created:
            a.signed_for_at = _now()  # re-handling needs no second sign-for
        db.session.flush()
        due = min(a.due_on for a in created) if created else None
        audit.record(
            actor,
            "rehandle",
            f"进入第{proposal.round}轮重新办理"
            + (f"，须于{cn_date(due)}前重新答复" if due else ""),
            proposal_id=proposal.id,
        )
        proposal.status = derive_status(proposal)
    else:
        proposal.status = "closed"
        audit.record(actor, "close", "办结", proposal_id=proposal.id)
    db.session.flush()
    return feedback


# -- extensions ------------------------------------------------------------------------


def request_extension(
    actor: User, assignment: Assignment, *, requested_due_on: date, reason: str
) -> ExtensionRequest:
    _check_works_for(actor, assignment)
    repeats.hold(assignment)
    repeat = repeats.recent(
        ExtensionRequest,
        ExtensionRequest.requested_at,
        assignment_id=assignment.id,
        requested_by_id=actor.id,
        requested_due_on=requested_due_on,
        reason=reason.strip(),
    )
    if repeat is not None:
        return repeat
    if assignment.is_co:
        raise DomainError("会办意见不办理延期，请与主办单位协商。")
    if assignment.replied_on:
        raise DomainError("已答复，无需延期。")
    if assignment.pending_extension:
        raise DomainError("已有待审批的延期申请。")
    if not reason.strip():
        raise DomainError("请说明延期理由。")
    if requested_due_on <= assignment.due_on:
        raise DomainError(f"延期后的日期须晚于当前期限{cn_date(assignment.due_on)}。")
    if assignment.max_due_on and requested_due_on > assignment.max_due_on:
        raise DomainError(
            f"延期后的期限最迟为{cn_date(assignment.max_due_on)}（自交办起不超过规定时限）。"
        )
    extension = ExtensionRequest(
        assignment=assignment,
        requested_due_on=requested_due_on,
        reason=reason.strip(),
        requested_by_id=actor.id,
    )
    db.session.add(extension)
    db.session.flush()
    audit.record(
        actor,
        "extension_request",
        f"{assignment.unit.name}申请延期至{cn_date(requested_due_on)}：{reason.strip()}",
        proposal_id=assignment.proposal_id,
        entity="extension",
        entity_id=extension.id,
    )
    return extension


def decide_extension(
    actor: User, extension: ExtensionRequest, *, grant: bool, note: str = ""
) -> None:
    assignment = extension.assignment
    if not permissions.can_decide_extension(actor, assignment):
        raise PermissionDenied("只有负责人或督办部门可以审批延期。")
    if extension.status != "pending":
        raise DomainError("该延期申请已处理。")
    if not grant and not note.strip():
        raise DomainError("不批准延期时请说明理由。")
    extension.status = "granted" if grant else "refused"
    extension.decided_at = _now()
    extension.decided_by_id = actor.id
    extension.decision_note = note.strip() or None
    if grant:
        extension.old_due_on = assignment.due_on
        assignment.due_on = extension.requested_due_on
        message = (
            f"批准{assignment.unit.name}延期：答复期限由{cn_date(extension.old_due_on)}"
            f"改为{cn_date(assignment.due_on)}"
        )
    else:
        message = f"不批准{assignment.unit.name}的延期申请"
    if note.strip():
        message += f"（{note.strip()}）"
    audit.record(
        actor,
        "extension_decide",
        message,
        proposal_id=assignment.proposal_id,
        entity="extension",
        entity_id=extension.id,
    )


# -- the list -------------------------------------------------------------------------------


def unit_names(proposal: Proposal, role: str) -> list[str]:
    """The names of the units in this role (lead, co, separate) among its active parts."""
    names: list[str] = []
    for a in proposal.active_assignments:
        if a.role == role and a.unit.name not in names:
            names.append(a.unit.name)
    return names


@dataclass(frozen=True)
class ListFilters:
    """The proposal list's filters (empty: not filtered)."""

    q: str = ""  # words of the title, all of them
    session_id: int | None = None
    kind: str = ""
    status: str = ""
    classification: str = ""
    unit_id: int | None = None  # an active assignment of this unit
    overdue: bool = False  # open, with an active assignment past its due date


def count_query(viewer: User, filters: ListFilters, today: date) -> Select:
    """How many proposals list_query finds, the viewer's unit's taken as a set (see
    permissions.proposal_scope); without filters, a unit's are its assignments' distinct
    proposals (each names one that exists: a foreign key), counted off the index of the
    unit's assignments alone."""
    unit_id = permissions.scope_unit(viewer)
    if filters == ListFilters() and unit_id is not None:
        return db.select(db.func.count(db.distinct(Assignment.proposal_id))).where(
            Assignment.unit_id == unit_id
        )
    found = _matching(db.select(Proposal.id), viewer, filters, today, as_set=True)
    return db.select(db.func.count()).select_from(found.subquery())


def list_query(viewer: User, filters: ListFilters, today: date) -> Select:
    """The proposals the viewer may see that match the filters, in list order (key items
    first, the newest first). The list pages through it; the exports take every row."""
    query = _matching(db.select(Proposal), viewer, filters, today)
    return query.options(
        selectinload(Proposal.session),
        selectinload(Proposal.assignments).selectinload(Assignment.unit),
    ).order_by(Proposal.is_key.desc(), Proposal.id.desc())


def _matching(
    query: Select, viewer: User, filters: ListFilters, today: date, *, as_set: bool = False
) -> Select:
    query = query.where(permissions.proposal_scope(viewer, as_set=as_set))
    for word in filters.q.split():
        query = query.where(Proposal.title.contains(word, autoescape=True))
    if filters.session_id is not None:
        query = query.where(Proposal.session_id == filters.session_id)
    if filters.kind:
        query = query.where(Proposal.kind == filters.kind)
    if filters.status in PROPOSAL_STATUS:
        query = query.where(Proposal.status == filters.status)
    if filters.classification:
        query = query.where(Proposal.classification == filters.classification)
    if filters.unit_id is not None:
        query = query.where(
            Proposal.assignments.any(
                db.and_(Assignment.unit_id == filters.unit_id, Assignment.active.is_(True))
            )
        )
    if filters.overdue:
        query = query.where(
            Proposal.status != "closed",
            Proposal.assignments.any(
                db.and_(Assignment.active.is_(True), Assignment.due_on < today, not_done())
            ),
        )
    return query
