"""Rows a request reads many times, read once per database session.

A request reads some small tables again and again: the vocabularies (a label for each row
of a list, the choices of each form), the handling units (a page's unit choices and its
league table). ``once`` keeps what was read in the session's ``info`` and drops it at any
flush, commit or rollback of that session, where a row may have changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.extensions import db

_KEPT = "tracker.read_once"
T = TypeVar("T")


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session, *_args) -> None:
    session.info.pop(_KEPT, None)


def once(key: tuple, read: Callable[[], T]) -> T:
    """``read()``, or what it gave earlier in this session since its last write."""
    kept = db.session.info.setdefault(_KEPT, {})
    if key not in kept:
        kept[key] = read()
    return kept[key]
