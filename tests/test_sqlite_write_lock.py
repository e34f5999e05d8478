"""SQLite: pages that only read never wait for the write lock, and the writes a GET makes
take it first (tracker/__init__.py _on_begin, views_common.lock_for_write).

Several gunicorn workers share one SQLite file, and it has one writer at a time. A
transaction that writes must take the lock when it begins (one that read first and wrote
later would fail at once when another worker wrote in between); a page that only reads must
not, or every page waits behind every write (at 100,000 letters that queue was the pages'
p95 of 2-5 s). These tests run on SQLite in both CI runs: the behaviour is SQLite's."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Browser, add_people, close, new_app

from tracker.extensions import db
from tracker.models import LoginSession


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory):
    """A SQLite database made by `tracker init-db`, with the standard people."""
    folder = tmp_path_factory.mktemp("sqlite-lock")
    app = new_app(folder, DATABASE_URL=f"sqlite:///{folder / 'made.db'}")
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with app.app_context():
        add_people()
    close(app)
    snapshot = folder / "template.db"
    source = sqlite3.connect(folder / "made.db")
    source.execute("VACUUM INTO ?", (str(snapshot),))
    source.close()
    return snapshot


@pytest.fixture
def lite(tmp_path, sqlite_template):
    path = tmp_path / "lite.db"
    shutil.copyfile(sqlite_template, path)
    app = new_app(tmp_path, DATABASE_URL=f"sqlite:///{path}", SEARCH_ENGINE="whoosh")
    yield app, path
    close(app)


class _OtherWorker:
    """Another process's connection to the same file, holding the write lock."""

    def __init__(self, path):
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA busy_timeout=100")

    def lock(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def release_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, lambda: self.connection.execute("COMMIT"))
        timer.start()
        return timer

    def close(self) -> None:
        self.connection.close()


def test_pages_answer_while_another_worker_holds_the_write_lock(lite):
    app, path = lite
    browser = Browser(app.test_client())
    assert browser.login("clerk").status_code == 302
    other = _OtherWorker(path)
    other.lock()
    try:
        for url in ("/todo", "/proposals", "/commitments", "/search?q=心理健康"):
            response = browser.get(url)
            assert response.status_code == 200, url
    finally:
        other.connection.execute("ROLLBACK")
        other.close()


def test_a_page_that_keeps_the_session_alive_waits_for_the_lock_and_writes(lite):
    """The session's last use is written at most every few minutes, on a GET: that write
    waits for the other worker's transaction and lands."""
    app, path = lite
    browser = Browser(app.test_client())
    browser.login("clerk")
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with app.app_context():
        db.session.execute(db.update(LoginSession).values(last_seen_at=long_ago))
        db.session.commit()
    other = _OtherWorker(path)
    other.lock()
    timer = other.release_after(0.3)
    try:
        assert browser.get("/proposals").status_code == 200
    finally:
        timer.join()
        other.close()
    with app.app_context():
        seen = db.session.execute(db.select(LoginSession.last_seen_at)).scalar_one()
    assert seen.replace(tzinfo=UTC) > long_ago + timedelta(minutes=30)


def test_a_get_that_writes_without_the_lock_is_caught(lite):
    """A GET view that writes without lock_for_write fails loudly in tests (it would fail
    under load with "database is locked" instead of waiting), and writes nothing."""
    app, _path = lite

    def writes_on_a_get():
        db.session.execute(db.update(LoginSession).values(ip="x"))
        db.session.commit()
        return "written"

    app.add_url_rule("/_writes", view_func=writes_on_a_get)
    assert app.test_client().get("/_writes").status_code == 500
    with app.app_context():
        assert "x" not in db.session.execute(db.select(LoginSession.ip)).scalars().all()
