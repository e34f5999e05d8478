"""The search index follows the database: the listeners of services/indexing.py wired to
the app's search engine, and the engine itself, one per app and process
(``TRACKER_SEARCH_ENGINE``: search.engine_name).

With the postgres engine the index rows of the letters a transaction changed are written
before its commit, on its connection; a bulk import runs inside the engine's bulk mode.
With Whoosh, after each commit that wrote reply letters the outbox is drained into the
index; a bulk import commits inside ``deferred`` and drains once at its end. When the app
starts, what a crash left in the outbox is applied."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.search import engine_name, in_database
from tracker.search.base import SearchEngine
from tracker.services import indexing

log = logging.getLogger(__name__)
_lock = threading.Lock()


def engine(app: Flask) -> SearchEngine:
    """The app's engine, made once per process: Whoosh over its index folder (INDEX_DIR)
    or PostgreSQL over the app's database."""
    found = app.extensions.get("search")
    if found is None:
        with _lock:
            found = app.extensions.get("search")
            if found is None:
                found = app.extensions["search"] = _make(app)
    return found


def _make(app: Flask) -> SearchEngine:
    if engine_name(app.config) == "postgres":
        from tracker.extensions import db
        from tracker.services.pgsearch import PostgresEngine

        with app.app_context():
            return PostgresEngine(db.engine)
    from tracker.search.whoosh.engine import WhooshEngine

    return WhooshEngine(app.config["INDEX_DIR"])


def writes_in_transaction(app: Flask) -> bool:
    """Whether the app's engine is written in the transaction (without making the engine:
    an app that never searches opens no index)."""
    found = app.extensions.get("search")
    if found is not None:
        return in_database(found)
    return engine_name(app.config) == "postgres"


def _in_database() -> bool:
    return has_app_context() and writes_in_transaction(current_app._get_current_object())


def prepare(app: Flask) -> list[str]:
    """After an upgrade (``tracker init-db``): see services.indexing.prepare."""
    return indexing.prepare(engine(app), Path(app.config["INDEX_DIR"]))


def drain(app: Flask) -> int:
    """Apply the outbox to the app's index now (see services.indexing.drain)."""
    return indexing.drain(engine(app), Path(app.config["INDEX_DIR"]))


def rebuild(app: Flask) -> int:
    """Recreate the app's index from the database."""
    return indexing.rebuild(engine(app), Path(app.config["INDEX_DIR"]))


def _after_flush(session: Session, flush_context) -> None:
    if _in_database():
        indexing.note_changes(session, flush_context)
    else:
        indexing.record_changes(session, flush_context)


def _before_commit(session: Session) -> None:
    if not has_app_context():
        return
    app = current_app._get_current_object()
    if writes_in_transaction(app):
        indexing.write_noted(session, engine(app))
    elif session.info.get("search_letters"):
        indexing.queue_noted(session)


def _after_commit(session: Session) -> None:
    if indexing.committed_changes(session) and has_app_context():
        drain(current_app._get_current_object())


@contextmanager
def deferred(session: Session):
    """Commit as often as needed inside; the index is updated once, at the end, in one
    writer (much faster for a bulk import). A crash inside leaves the outbox rows, which
    the next start applies. An in-database engine writes each commit's letters with it, in
    its bulk mode (see its ``bulk``)."""
    if _in_database():
        with engine(current_app._get_current_object()).bulk():
            yield
        return
    try:
        with indexing.deferred_changes(session):
            yield
    finally:
        if has_app_context():
            drain(current_app._get_current_object())


def init_app(app: Flask) -> None:
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", indexing.forget_changes)
    with app.app_context():
        waiting = indexing.waiting_changes()
        if waiting:
            log.warning("applying %d pending search index changes", waiting)
            drain(app)
        if writes_in_transaction(app) and indexing.schema_ready():
            try:
                missing = engine(app).text_index() is None
            except Exception:  # the database may not answer yet
                log.exception("the search table could not be checked")
                return
            if missing:
                log.warning("the search table has no text index: run `tracker init-db`")
