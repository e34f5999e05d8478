"""Double submits make one record.

A form posted twice (a double click, a browser's retry, the same page open in two tabs,
five posts at once) must leave the one record the user meant, and the second answer shows
that record rather than an error. The services that add a record decide it themselves: the
same content from the same user for the same item within ``REPEAT_WINDOW`` is the same
record, and the service returns the one that exists instead of adding another. (A form
token that can be used once would need a table to remember used tokens; the content rule
needs none, and also catches a retry that reloaded the form.)

Deciding "is there one already?" and then inserting is a race when two workers do it at
the same moment: both look, neither finds the other's uncommitted row, both insert. So a
service first *holds* the parent row (the proposal, assignment or commitment the record
belongs to) and only then looks:

- PostgreSQL: ``hold`` reads the parent row with ``SELECT … FOR UPDATE``. A second
  transaction holding the same row waits there until the first commits or rolls back.
  At READ COMMITTED (PostgreSQL's default) each statement sees what was committed before
  it started, so the second transaction's look, made after the wait, finds the first
  one's record.
- SQLite: every transaction already starts with ``BEGIN IMMEDIATE`` (tracker/__init__.py),
  so two writers never overlap at all: the second request starts after the first has
  committed and its look finds the record. ``FOR UPDATE`` is not SQLite syntax and
  SQLAlchemy leaves it out there; ``hold`` still re-reads the parent, which is harmless.

Either way the look and the insert happen in one transaction that nobody else adding to the
same parent can interleave with, and no new table or column is needed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from tracker.extensions import db
from tracker.models import utcnow

# Long enough for a double click, a retry of a slow request and five posts that queue for
# the database one after another; short enough that a clerk who deliberately records the
# same thing again a minute later gets a second record.
REPEAT_WINDOW = timedelta(seconds=30)

T = TypeVar("T")


def hold(row: Any) -> None:
    """Lock ``row`` (a parent: proposal, assignment, commitment, session) until this
    transaction ends, and reload its columns so checks see its committed state. Changes
    this transaction made are flushed first, so the reload keeps them."""
    db.session.flush()
    db.session.refresh(row, with_for_update=True)


def recent(model: type[T], made_at: InstrumentedAttribute, **same: Any) -> T | None:
    """The newest ``model`` row with exactly these column values, made within
    ``REPEAT_WINDOW`` (``made_at``: its creation timestamp). Call after ``hold``."""
    since = utcnow() - REPEAT_WINDOW
    query = select(model).where(made_at >= since)
    for name, value in same.items():
        query = query.where(getattr(model, name) == value)
    return db.session.execute(query.order_by(made_at.desc()).limit(1)).scalars().first()


def just_now(moment) -> bool:
    """A timestamp within ``REPEAT_WINDOW`` of now (for records that are a row's state,
    such as a sign-for, rather than a row of their own)."""
    if moment is None:
        return False
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=utcnow().tzinfo)
    return moment >= utcnow() - REPEAT_WINDOW
