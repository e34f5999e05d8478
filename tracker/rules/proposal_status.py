"""A proposal's status, derived from its assignments and never set by hand, so that it
cannot drift from them: registered → assigned → handling → replied, rehandling after a
不满意 rating, closed (办结) once closed.

Pure Python: the services pass the proposal (or anything with the same attributes)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol


class Part(Protocol):
    """A unit's part in handling the proposal (an active assignment)."""

    role: str  # lead, co or separate
    round: int
    replied_on: date | None
    signed_for_at: datetime | None
    due_on: date
    opinion_on: date | None


class Handled(Protocol):
    status: str
    round: int
    active_assignments: Iterable[Part]


def answering(proposal: Handled) -> list[Part]:
    """The parts that answer in the current round: its lead and separate units."""
    return [a for a in proposal.active_assignments if a.role != "co" and a.round == proposal.round]


def reply_due_on(proposal: Handled) -> date | None:
    """The current round's reply deadline: the earliest of its answering units'."""
    return min((a.due_on for a in answering(proposal)), default=None)


def part_open(part: Part, proposal: Handled) -> bool:
    """The unit's part is still to do: its opinion (co-handling), or this round's reply."""
    if part.role == "co":
        return part.opinion_on is None
    return part.replied_on is None and part.round == proposal.round


def part_overdue(part: Part, proposal: Handled, today: date) -> bool:
    return proposal.status != "closed" and part.due_on < today and part_open(part, proposal)


def is_overdue(proposal: Handled, today: date) -> bool:
    """Open, with an active part past its due date (the list's 超期 filter, in Python)."""
    return any(part_overdue(a, proposal, today) for a in proposal.active_assignments)


def derive_status(proposal: Handled) -> str:
    """The status the proposal's assignments, replies and ratings give it."""
    answering_parts = answering(proposal)
    if proposal.status == "closed":
        return "closed"
    if not answering_parts:
        return "registered"
    if all(a.replied_on for a in answering_parts):
        return "replied"
    if proposal.round > 1:
        return "rehandling"
    if any(a.signed_for_at for a in answering_parts):
        return "handling"
    return "assigned"
