"""Search over the reply-letter corpus, through the small interface in ``base``.

Two engines, chosen by ``TRACKER_SEARCH_ENGINE`` (``engine_name``): ``whoosh``, an index
folder (``tracker.search.whoosh`` is the only package that imports Whoosh), and
``postgres``, a table of the application's PostgreSQL database (tracker/services/pgsearch/,
with the pure parts in ``tracker.search.postgres``).
Nothing here knows the web app: tracker/search_hooks.py makes the app's engine and keeps
it in step with the database."""

from __future__ import annotations

from collections.abc import Mapping

from tracker.search.base import SearchEngine

ENGINES = ("whoosh", "postgres")

__all__ = ["ENGINES", "SearchEngine", "engine_name", "in_database"]


def engine_name(config: Mapping) -> str:
    """The search engine the configuration asks for (SEARCH_ENGINE; unset: postgres on
    PostgreSQL, else whoosh); a ValueError for one it cannot have."""
    name = str(config.get("SEARCH_ENGINE") or "").strip().lower()
    scheme = str(config["DATABASE_URL"]).partition(":")[0].partition("+")[0].lower()
    on_postgres = scheme in ("postgresql", "postgres")
    if not name:
        return "postgres" if on_postgres else "whoosh"
    if name not in ENGINES:
        raise ValueError(f"TRACKER_SEARCH_ENGINE must be one of {', '.join(ENGINES)}: {name!r}")
    if name == "postgres" and not on_postgres:
        raise ValueError(
            "TRACKER_SEARCH_ENGINE=postgres needs a PostgreSQL database (TRACKER_DATABASE_URL)"
        )
    return name


def in_database(engine: SearchEngine) -> bool:
    """Whether the engine keeps its index in the application's database, written in the
    same transaction as the letters (no outbox)."""
    return bool(getattr(engine, "in_database", False))
