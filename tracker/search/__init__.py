"""Search over the reply-letter corpus, through the small interface in ``base``.

``get_engine(app)`` returns the process's engine for the app's index folder; the Whoosh
engine (``tracker.search.whoosh``) is the default and the only package that imports Whoosh."""

from __future__ import annotations

import threading

from flask import Flask

from tracker.search.base import SearchEngine

_lock = threading.Lock()


def get_engine(app: Flask) -> SearchEngine:
    engine = app.extensions.get("search")
    if engine is None:
        with _lock:
            engine = app.extensions.get("search")
            if engine is None:
                from tracker.search.whoosh.engine import WhooshEngine

                engine = WhooshEngine(app.config["INDEX_DIR"])
                app.extensions["search"] = engine
    return engine
