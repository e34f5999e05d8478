"""/healthz answers a load balancer without a login and without data: 200 with the state
of the database and the search index when both work, 503 when either does not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import lose_database
from test_route_permissions import world  # noqa: F401

from tracker.extensions import db
from tracker.models import ReplyLetter


def test_a_working_server_says_ok_to_anyone(app, browser, world):  # noqa: F811
    response = browser.client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "index": "ok",
        "index_pending": 0,
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # no session for a probe


# the Whoosh engine's index folder and outbox (an app on SQLite has it; one on PostgreSQL
# keeps its index in the database, in the letters' own transactions)
WHOOSH = pytest.mark.parametrize("app_config", [{"SEARCH_ENGINE": "whoosh"}])


@WHOOSH
def test_letters_waiting_for_the_index_are_counted(app, browser, world, monkeypatch):  # noqa: F811
    from tracker import search_hooks

    monkeypatch.setattr(search_hooks, "drain", lambda app: 0)  # the index lags behind
    with app.app_context():
        letter = db.session.execute(db.select(ReplyLetter)).scalars().first()
        letter.title = letter.title + "（修订）"
        db.session.commit()
    body = browser.client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["index_pending"] == 1


def test_a_database_that_does_not_answer_is_503(app, browser, world, monkeypatch):  # noqa: F811
    lose_database(app)
    response = browser.client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "error", "index": "unknown"}


@WHOOSH
def test_an_index_that_cannot_be_read_is_503(app, browser, world):  # noqa: F811
    engine = app.extensions.pop("search", None)
    if engine is not None:
        engine.close()
    index = Path(app.config["INDEX_DIR"])
    shutil.rmtree(index)
    index.write_text("not a folder")
    response = browser.client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["database"] == "ok" and body["index"] == "error"


@pytest.mark.parametrize("app_config", [{}, {"SEARCH_ENGINE": "whoosh"}])
def test_the_probe_reads_the_index_but_ranks_no_letter(app, browser, world, monkeypatch):  # noqa: F811
    """A load balancer asks every few seconds: the probe's search must read the index but
    not rank and count the archive (it searched 答复, which every letter has: 100 ms of
    PostgreSQL's time per probe at 100,000 letters)."""
    from tracker import current
    from tracker.services import search

    answers = []
    run = search.run

    def recorded(*args, **kwargs):
        answers.append(run(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(search, "run", recorded)
    assert browser.client.get("/healthz").status_code == 200
    assert len(answers) == 1 and answers[0].total == 0 and not answers[0].error
    with app.app_context():  # where every letter would have matched
        assert run("答复", engine=current.search_engine()).total > 0
