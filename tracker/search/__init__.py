"""Search over the reply-letter corpus, through the small interface in ``base``.

The Whoosh engine (``tracker.search.whoosh``) is the default and the only package that
imports Whoosh. Nothing here knows the web app: tracker/search_hooks.py makes the app's
engine and keeps it in step with the database."""

from __future__ import annotations

from tracker.search.base import SearchEngine

__all__ = ["SearchEngine"]
