"""Search over the reply-letter corpus, through the small interface in ``base``.

``get_engine(app)`` returns the process's engine, chosen by ``TRACKER_SEARCH_ENGINE``
(``engine_name``): ``whoosh`` (an index folder, ``INDEX_DIR``; ``tracker.search.whoosh`` is
the only package that imports Whoosh) or ``postgres`` (a table of the application's
PostgreSQL database, ``tracker.search.postgres``); by default ``postgres`` when the database
is PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from flask import Flask
from sqlalchemy.engine import make_url

from tracker.search.base import SearchEngine

ENGINES = ("whoosh", "postgres")

_lock = threading.Lock()


def engine_name(config: Mapping) -> str:
    """The search engine the configuration asks for; a ValueError for one it cannot have."""
    name = str(config.get("SEARCH_ENGINE") or "").strip().lower()
    on_postgres = make_url(config["DATABASE_URL"]).get_backend_name() == "postgresql"
    if not name:
        return "postgres" if on_postgres else "whoosh"
    if name not in ENGINES:
        raise ValueError(f"TRACKER_SEARCH_ENGINE must be one of {', '.join(ENGINES)}: {name!r}")
    if name == "postgres" and not on_postgres:
        raise ValueError(
            "TRACKER_SEARCH_ENGINE=postgres needs a PostgreSQL database (TRACKER_DATABASE_URL)"
        )
    return name


def get_engine(app: Flask) -> SearchEngine:
    engine = app.extensions.get("search")
    if engine is None:
        with _lock:
            engine = app.extensions.get("search")
            if engine is None:
                engine = _make(app)
                app.extensions["search"] = engine
    return engine


def _make(app: Flask) -> SearchEngine:
    if engine_name(app.config) == "postgres":
        from tracker.extensions import db
        from tracker.search.postgres import PostgresEngine

        with app.app_context():
            return PostgresEngine(db.engine)
    from tracker.search.whoosh.engine import WhooshEngine

    return WhooshEngine(app.config["INDEX_DIR"])


def in_database(engine: SearchEngine) -> bool:
    """Whether the engine keeps its index in the application's database, written in the
    same transaction as the letters (no outbox)."""
    return bool(getattr(engine, "in_database", False))


def app_in_database(app: Flask) -> bool:
    """Whether the app's engine is written in the transaction (without making the engine:
    an app that never searches opens no index)."""
    engine = app.extensions.get("search")
    if engine is not None:
        return in_database(engine)
    return engine_name(app.config) == "postgres"
