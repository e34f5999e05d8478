"""The search index follows the database: the outbox listeners of services/indexing.py
wired to the app's search engine, and the engine itself, one per app and process.

After each commit that wrote reply letters, the outbox is drained into the index; a bulk
import commits inside ``deferred`` and drains once at its end; when the app starts, what a
crash left in the outbox is applied."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.search.base import SearchEngine
from tracker.services import indexing

log = logging.getLogger(__name__)
_lock = threading.Lock()


def engine(app: Flask) -> SearchEngine:
    """The app's engine over its index folder (INDEX_DIR), made once per process."""
    found = app.extensions.get("search")
    if found is None:
        with _lock:
            found = app.extensions.get("search")
            if found is None:
                from tracker.search.whoosh.engine import WhooshEngine

                found = WhooshEngine(app.config["INDEX_DIR"])
                app.extensions["search"] = found
    return found


def drain(app: Flask) -> int:
    """Apply the outbox to the app's index now (see services.indexing.drain)."""
    return indexing.drain(engine(app), Path(app.config["INDEX_DIR"]))


def rebuild(app: Flask) -> int:
    """Recreate the app's index from the database."""
    return indexing.rebuild(engine(app), Path(app.config["INDEX_DIR"]))


def _after_commit(session: Session) -> None:
    if indexing.committed_changes(session) and has_app_context():
        drain(current_app._get_current_object())


@contextmanager
def deferred(session: Session):
    """Commit as often as needed inside; the index is updated once, at the end, in one
    writer (much faster for a bulk import). A crash inside leaves the outbox rows, which
    the next start applies."""
    try:
        with indexing.deferred_changes(session):
            yield
    finally:
        if has_app_context():
            drain(current_app._get_current_object())


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_flush", indexing.record_changes):
        event.listen(Session, "after_flush", indexing.record_changes)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", indexing.forget_changes)
    with app.app_context():
        waiting = indexing.waiting_changes()
        if waiting:
            log.warning("applying %d pending search index changes", waiting)
            drain(app)
