"""A worker warms up before its first request (wsgi.py → web.warm_up): every template
compiled, the Whoosh index's current generation open; a fault is logged, never raised."""

from __future__ import annotations

import logging

from tracker import search_hooks
from tracker.search import in_database
from tracker.web import warm_up


def test_warming_up_compiles_every_template_and_opens_the_index(app):
    engine = search_hooks.engine(app)
    whoosh = not in_database(engine)
    if whoosh:
        assert engine._snapshot is None  # nothing read yet: the first search would open it
    warm_up(app)
    compiled = {key[1] for key in app.jinja_env.cache}
    names = set(app.jinja_env.list_templates())
    assert len(names) > 50 and names <= compiled
    if whoosh:
        assert engine._snapshot is not None


def test_a_fault_while_warming_up_is_logged_and_the_worker_starts(app, monkeypatch, caplog):
    def broken(_app):
        raise OSError("index folder unreadable")

    monkeypatch.setattr(search_hooks, "engine", broken)
    with caplog.at_level(logging.WARNING):
        warm_up(app)
    assert "warming up failed" in caplog.text and "index folder unreadable" in caplog.text
    with app.test_client() as client:
        assert client.get("/healthz").status_code in (200, 503)
