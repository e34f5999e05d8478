"""The PostgreSQL search engine (``engine.PostgresEngine``): the index is a table of the
application's database, written in the transaction that changes the letters.

``document`` builds a letter's tsvector from the Whoosh engine's analysis
(``tracker.search.analysis``); ``query`` turns a parsed query into tsquery text; ``schema``
is the table and its RUM or GIN index; ``engine`` writes, matches, ranks and counts.
"""

from tracker.search.postgres.engine import PostgresEngine

__all__ = ["PostgresEngine"]
