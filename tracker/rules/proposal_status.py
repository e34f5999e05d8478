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


class Handled(Protocol):
    status: str
    round: int
    active_assignments: Iterable[Part]


def derive_status(proposal: Handled) -> str:
    """The status the proposal's assignments, replies and ratings give it."""
    answering = [
        a for a in proposal.active_assignments if a.role != "co" and a.round == proposal.round
    ]
    if proposal.status == "closed":
        return "closed"
    if not answering:
        return "registered"
    if all(a.replied_on for a in answering):
        return "replied"
    if proposal.round > 1:
        return "rehandling"
    if any(a.signed_for_at for a in answering):
        return "handling"
    return "assigned"
