"""Commitments (承诺事项): candidates found in replies, confirmed by clerks, followed up
until done or dropped.

States: candidate → (confirmed) open → in_progress → done / dropped; a candidate may be
discarded (kept as a row so a re-import does not bring it back). "Overdue" is never
stored: an open or in-progress commitment whose due date has passed is overdue, derived
here, so nobody has to set it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_

from tracker.models import Commitment

CONFIRMED = ("open", "in_progress", "done", "dropped")
ACTIVE = ("open", "in_progress")
CLOSED = ("done", "dropped")


def overdue_clause(today: date) -> ColumnElement[bool]:
    """WHERE clause: confirmed, not finished, due date passed."""
    return and_(
        Commitment.status.in_(ACTIVE),
        Commitment.due_on.is_not(None),
        Commitment.due_on < today,
    )


def is_overdue(commitment: Commitment, today: date) -> bool:
    return (
        commitment.status in ACTIVE and commitment.due_on is not None and commitment.due_on < today
    )


def effective_status(commitment: Commitment, today: date) -> str:
    """The status users see: the stored one, or "overdue" when the due date has passed."""
    return "overdue" if is_overdue(commitment, today) else commitment.status
