"""The PostgreSQL search engine (``engine.PostgresEngine``, behind tracker/search/base.py):
the index is a table of the application's database, written in the transaction that
changes the letters. ``schema`` is the table and its RUM or GIN index; ``engine`` writes,
matches, ranks and counts. The tsvectors and tsqueries it sends are built in pure Python
(tracker/search/postgres/: ``document`` and ``query``)."""

from tracker.services.pgsearch.engine import PostgresEngine

__all__ = ["PostgresEngine"]
