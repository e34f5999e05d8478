"""What is waiting for whom: the 我的待办 page and `tracker check-deadlines`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import contains_eager, joinedload, selectinload

from tracker.extensions import db
from tracker.models import (
    Assignment,
    Commitment,
    CoSignRequest,
    ExtensionRequest,
    Proposal,
    ReplyLetter,
    User,
    assignment_unanswered,
)
from tracker.services import commitments, cosign, permissions
from tracker.services.dbstats import count_rows


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
    to_rate_total: int = 0
    in_hand_total: int = 0
    commitments_due: list[Commitment] = field(default_factory=list)
    commitments_due_total: int = 0  # all of them, when commitments_due holds the first few
    letters_to_confirm: list[tuple[ReplyLetter, int]] = field(default_factory=list)
    letters_to_confirm_total: int = 0
    reports_owed: list[Commitment] = field(default_factory=list)
    reports_owed_total: int = 0
    cosigns_owed: list[CoSignRequest] = field(default_factory=list)  # the unit's 会签 to give
    # the unit's drafts that co-units returned, with the returns
    cosigns_returned: list[tuple[ReplyLetter, list[CoSignRequest]]] = field(default_factory=list)

    # the lists a page may cut short, with the field counting all of them
    CAPPED = {
        "commitments_due": "commitments_due_total",
        "letters_to_confirm": "letters_to_confirm_total",
        "reports_owed": "reports_owed_total",
        "to_rate": "to_rate_total",
    }

    @property
    def count(self) -> int:
        lists = sum(
            len(v)
            for k, v in self.__dict__.items()
            if isinstance(v, list) and k != "in_hand" and k not in self.CAPPED
        )
        return lists + sum(
            max(getattr(self, total), len(getattr(self, k))) for k, total in self.CAPPED.items()
        )


# A page that lists the first few of a kind says how many more there are up to this many,
# and "more than this" beyond (counting a unit's imported archive in full, 12,000 letters
# or 20,000 commitments, cost 我的待办 most of its time).
COUNTED_BEYOND = 1000


def _first(shown: int | None, find, count) -> tuple[list, int]:
    """The first `shown` items (all when None) that `find(limit=…)` lists, and how many
    there are in all (`count(most=…)` is asked only when the list was cut; a count that
    reads a unit's whole archive stops at `most`, shown + COUNTED_BEYOND + 1)."""
    items = find(limit=shown)
    if shown is None or len(items) < shown:
        return items, len(items)
    return items, count(most=shown + COUNTED_BEYOND + 1)


def _open_assignments():
    """Active assignments with their proposals (joined once: for the conditions and as the
    assignments' loaded proposals), sessions and units."""
    return (
        db.select(Assignment)
        .join(Assignment.proposal)
        .where(Assignment.active.is_(True))
        .options(
            contains_eager(Assignment.proposal).joinedload(Proposal.session),
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


def _unanswered():
    """not_done() less its test of the proposal's round: implied by it, and read off the
    assignment alone, so that a unit's 13,000 answered assignments are dropped before
    their proposals are looked up: the terms of the partial index ix_assignment_open,
    which holds only these."""
    return assignment_unanswered()


def _open(unit_id: int | None, *conditions) -> tuple:
    """WHERE clauses, with Proposal joined, besides the assignment being active: the part
    still open, of the unit when given."""
    found = (_unanswered(), not_done(), Proposal.status != "closed", *conditions)
    return found if unit_id is None else (*found, Assignment.unit_id == unit_id)


def open_work(unit_id: int | None = None, *conditions, limit: int | None = None):
    """The open assignments (of a unit), the soonest due first (the first `limit`).
    `conditions` are on the assignment alone.

    A unit's are read in two steps: the ids in order off the partial index of the
    unanswered assignments (a batch of `limit` at a time), then those rows with their
    proposals, which drop the few of a closed proposal or an earlier round. In one query
    PostgreSQL took a unit's few dozen for thousands or the reverse (it cannot estimate the
    conditions' ORs), and read every proposal to join them or sorted all 2,300 for 50."""
    if unit_id is None:
        query = _open_assignments().where(*_open(None, *conditions))
        if limit is not None:
            query = query.limit(limit)
        return list(db.session.execute(query).unique().scalars())
    chosen = (
        db.select(Assignment.id)
        .where(_unanswered(), Assignment.unit_id == unit_id, *conditions)
        .order_by(Assignment.due_on, Assignment.id)  # the partial index's order
    )
    found: list[Assignment] = []
    offset = 0
    while True:
        batch = chosen if limit is None else chosen.offset(offset).limit(limit)
        ids = list(db.session.execute(batch).scalars())
        if ids:
            rows = _open_assignments().where(Assignment.id.in_(ids), *_open(unit_id, *conditions))
            found += db.session.execute(rows).unique().scalars()
        if limit is None or len(found) >= limit or len(ids) < limit:
            return found if limit is None else found[:limit]
        offset += limit


def _in_hand(horizon: date):
    """Open work signed for, not a co-unit's opinion, due after the horizon: 其他在办事项,
    the part of a unit's open work that runs to thousands of items."""
    return db.and_(
        Assignment.signed_for_at.is_not(None), Assignment.role != "co", Assignment.due_on > horizon
    )


def _count_in_hand(unit_id: int, horizon: date, most: int) -> int:
    """How many items the unit has in hand, at most `most` (a unit's in hand run to
    thousands, each looked up with its proposal)."""
    in_hand = (
        db.select(Assignment.id)
        .join(Assignment.proposal)
        .where(Assignment.active.is_(True), *_open(unit_id, _in_hand(horizon)))
    )
    return count_rows(db.session, in_hand, most)


def for_user(
    user: User,
    today: date,
    soon_days: int = 7,
    *,
    shown: int | None = None,
    letters_shown: int | None = None,
    open_shown: int | None = None,
) -> Todo:
    """What waits for the user. `shown`: list at most that many due commitments and
    reports owed, `letters_shown` that many letters with candidates, `open_shown` that
    many other items in hand and replies to rate (a page shows the most urgent and links
    to the rest; a digest wants them all)."""
    todo = Todo()
    if permissions.handles_items(user):
        unit_id = user.unit_id
        horizon = today + timedelta(days=soon_days)
        # the urgent work whole, the rest (其他在办事项) the soonest due first
        for a in open_work(unit_id, db.not_(_in_hand(horizon))):
            if a.signed_for_at is None and a.reassign_status != "requested" and a.round == 1:
                todo.to_sign.append(a)
            if a.due_on < today:
                todo.overdue.append(a)
            elif a.is_co:
                todo.opinions_owed.append(a)
            elif a.due_on <= horizon:
                todo.due_soon.append(a)
        todo.in_hand, todo.in_hand_total = _first(
            open_shown,
            lambda limit: open_work(unit_id, _in_hand(horizon), limit=limit),
            lambda most: _count_in_hand(unit_id, horizon, most),
        )
        todo.commitments_due, todo.commitments_due_total = _first(
            shown,
            lambda limit: commitments.due_for_unit(unit_id, today, soon_days, limit=limit),
            lambda most: commitments.count_due_for_unit(unit_id, today, soon_days),
        )
        todo.letters_to_confirm, todo.letters_to_confirm_total = _first(
            letters_shown,
            lambda limit: commitments.letters_to_confirm(unit_id, limit=limit),
            lambda most: commitments.count_letters_to_confirm(unit_id, most=most),
        )
        todo.reports_owed, todo.reports_owed_total = _first(
            shown,
            lambda limit: commitments.reports_owed(unit_id, limit=limit),
            lambda most: commitments.count_reports_owed(unit_id, most=most),
        )
        todo.cosigns_owed = cosign.owed_by_unit(unit_id)
        todo.cosigns_returned = cosign.returned_to_unit(unit_id)
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
        todo.to_rate, todo.to_rate_total = _first(
            open_shown, _replied_proposals, _count_replied_proposals
        )
    return todo


def _replied_proposals(limit: int | None) -> list[Proposal]:
    """Replies waiting for the deputy's rating, the first registered first."""
    query = (
        db.select(Proposal)
        .where(Proposal.status == "replied")
        .options(selectinload(Proposal.session))
        .order_by(Proposal.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


def _count_replied_proposals(most: int | None = None) -> int:
    return count_rows(db.session, db.select(Proposal.id).where(Proposal.status == "replied"), most)


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
