"""What is waiting for whom: the 我的待办 page and `tracker check-deadlines`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import joinedload, selectinload

from tracker.extensions import db
from tracker.models import (
    Assignment,
    Commitment,
    CoSignRequest,
    ExtensionRequest,
    Proposal,
    ReplyLetter,
    User,
)
from tracker.services import commitments, cosign, permissions


@dataclass
class Todo:
    to_sign: list[Assignment] = field(default_factory=list)
    due_soon: list[Assignment] = field(default_factory=list)
    overdue: list[Assignment] = field(default_factory=list)
    opinions_owed: list[Assignment] = field(default_factory=list)
    in_hand: list[Assignment] = field(default_factory=list)  # the rest of the open work
    extensions_to_decide: list[ExtensionRequest] = field(default_factory=list)
    reassignments_to_decide: list[Assignment] = field(default_factory=list)
    to_assign: list[Proposal] = field(default_factory=list)
    to_rate: list[Proposal] = field(default_factory=list)
    commitments_due: list[Commitment] = field(default_factory=list)
    commitments_due_total: int = 0  # all of them, when commitments_due holds the first few
    letters_to_confirm: list[tuple[ReplyLetter, int]] = field(default_factory=list)
    reports_owed: list[Commitment] = field(default_factory=list)
    cosigns_owed: list[CoSignRequest] = field(default_factory=list)  # the unit's 会签 to give
    # the unit's drafts that co-units returned, with the returns
    cosigns_returned: list[tuple[ReplyLetter, list[CoSignRequest]]] = field(default_factory=list)

    @property
    def count(self) -> int:
        lists = sum(
            len(v)
            for k, v in self.__dict__.items()
            if isinstance(v, list) and k not in ("in_hand", "commitments_due")
        )
        return lists + max(self.commitments_due_total, len(self.commitments_due))


def _open_assignments():
    return (
        db.select(Assignment)
        .join(Assignment.proposal)
        .where(Assignment.active.is_(True))
        .options(
            joinedload(Assignment.proposal).joinedload(Proposal.session),
            joinedload(Assignment.unit),
        )
        .order_by(Assignment.due_on, Assignment.id)
    )


def not_done():
    """Assignments whose part is still open: opinion not sent, or this round's reply not issued."""
    return db.or_(
        db.and_(Assignment.role == "co", Assignment.opinion_on.is_(None)),
        db.and_(
            Assignment.role != "co",
            Assignment.replied_on.is_(None),
            Assignment.round == Proposal.round,
        ),
    )


def open_work(unit_id: int | None = None) -> list[Assignment]:
    query = _open_assignments().where(not_done(), Proposal.status != "closed")
    if unit_id is not None:
        query = query.where(Assignment.unit_id == unit_id)
    return list(db.session.execute(query).unique().scalars())


def for_user(user: User, today: date, soon_days: int = 7, *, shown: int | None = None) -> Todo:
    """What waits for the user. `shown`: list at most that many due commitments (a page
    shows the most urgent and links to the rest; a digest wants them all)."""
    todo = Todo()
    if permissions.handles_items(user):
        for a in open_work(user.unit_id):
            if a.signed_for_at is None and a.reassign_status != "requested" and a.round == 1:
                todo.to_sign.append(a)
            if a.due_on < today:
                todo.overdue.append(a)
            elif a.is_co:
                todo.opinions_owed.append(a)
            elif a.due_on <= today + timedelta(days=soon_days):
                todo.due_soon.append(a)
            elif a.signed_for_at is not None:
                todo.in_hand.append(a)
        todo.commitments_due = commitments.due_for_unit(user.unit_id, today, soon_days, limit=shown)
        todo.commitments_due_total = (
            commitments.count_due_for_unit(user.unit_id, today, soon_days)
            if shown is not None and len(todo.commitments_due) >= shown
            else len(todo.commitments_due)
        )
        todo.letters_to_confirm = commitments.letters_to_confirm(user.unit_id)
        todo.reports_owed = commitments.reports_owed(user.unit_id)
        todo.cosigns_owed = cosign.owed_by_unit(user.unit_id)
        todo.cosigns_returned = cosign.returned_to_unit(user.unit_id)
    if user.role == "supervisor":
        ext_q = (
            db.select(ExtensionRequest)
            .join(ExtensionRequest.assignment)
            .where(ExtensionRequest.status == "pending")
            .options(joinedload(ExtensionRequest.assignment).joinedload(Assignment.proposal))
            .order_by(ExtensionRequest.requested_at)
        )
        if not permissions.sees_all(user):
            ext_q = ext_q.where(Assignment.unit_id == user.unit_id)
        todo.extensions_to_decide = list(db.session.execute(ext_q).scalars())
    if permissions.can_decide_reassignment(user):
        todo.reassignments_to_decide = list(
            db.session.execute(_open_assignments().where(Assignment.reassign_status == "requested"))
            .unique()
            .scalars()
        )
    if user.role == "admin" or (user.role == "supervisor" and permissions.sees_all(user)):
        todo.to_assign = list(
            db.session.execute(
                db.select(Proposal)
                .where(Proposal.status == "registered")
                .options(selectinload(Proposal.session))
                .order_by(Proposal.created_at)
            ).scalars()
        )
    if permissions.can_rate(user):
        todo.to_rate = list(
            db.session.execute(
                db.select(Proposal)
                .where(Proposal.status == "replied")
                .options(selectinload(Proposal.session))
                .order_by(Proposal.id)
            ).scalars()
        )
    return todo


@dataclass
class DeadlineLine:
    kind: str  # reply / opinion / commitment
    state: str  # overdue / due_soon
    due_on: date
    days: int  # days left (negative: overdue)
    unit: str
    proposal: str
    title: str

    def as_dict(self) -> dict:
        return {**self.__dict__, "due_on": self.due_on.isoformat()}


def deadline_report(today: date, soon_days: int = 7) -> list[DeadlineLine]:
    """Every due-soon and overdue assignment, co-unit opinion and commitment."""
    lines: list[DeadlineLine] = []
    horizon = today + timedelta(days=soon_days)
    for a in open_work():
        if a.due_on > horizon:
            continue
        p = a.proposal
        lines.append(
            DeadlineLine(
                kind="opinion" if a.is_co else "reply",
                state="overdue" if a.due_on < today else "due_soon",
                due_on=a.due_on,
                days=(a.due_on - today).days,
                unit=a.unit.name,
                proposal=f"{p.session.name}第{p.number}号",
                title=p.title,
            )
        )
    commitments = db.session.execute(
        db.select(Commitment)
        .where(
            Commitment.status.in_(("open", "in_progress")),
            Commitment.due_on.is_not(None),
            Commitment.due_on <= horizon,
        )
        .options(
            joinedload(Commitment.unit),
            joinedload(Commitment.proposal).joinedload(Proposal.session),
        )
        .order_by(Commitment.due_on)
    ).scalars()
    for c in commitments:
        p = c.proposal
        lines.append(
            DeadlineLine(
                kind="commitment",
                state="overdue" if c.due_on < today else "due_soon",
                due_on=c.due_on,
                days=(c.due_on - today).days,
                unit=c.unit.name if c.unit else "",
                proposal=f"{p.session.name}第{p.number}号" if p else "",
                title=c.text,
            )
        )
    lines.sort(key=lambda line: (line.due_on, line.kind))
    return lines
