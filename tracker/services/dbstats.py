"""The query planner's statistics: how many rows the tables hold and how their indexes
divide them, which the database reads to choose an index; and how a query is written so
that both databases read an index's order: ``unindexed`` (a filter SQLite should check row
by row), ``newest_letters_first`` (letters newest first, the undated last) and
``count_rows`` (a count that stops at a bound).

SQLite keeps none until ANALYZE runs. Without them its planner takes any index with an
equality on it as the best: 督办统计's counts of a year's letters (``status IN (…) AND
letter_on BETWEEN …``) read all 100,000 letters of an imported archive through the index on
their status, which every imported letter shares (100 ms a query, three on the page),
instead of the year's 11,000 through the covering index on the date (2 ms). ANALYZE with
``analysis_limit`` samples each index instead of reading it whole: a few milliseconds on a
3 GB database, so it can run whenever the data may have changed in bulk.

PostgreSQL's autovacuum keeps its statistics by itself, a while after a change (once a
tenth of a table has changed); after a bulk change (an import of BULK_CHANGE rows or more, a
restore) ANALYZE makes them current at once. It samples 30,000 rows a table and reads the
letters' tsvectors: 12 s on the 100,000-letter loadtest database (7 s the search table), so
it runs after bulk changes only, not at every start nor after an import of a few files.

Called by ``tracker init-db`` (SQLite: every start of ``make run`` upgrades), after an
import (the job, ``tracker import-letters``, ``tracker import-proposals``, ``tracker
demo-data``) and after ``tracker restore``.
"""

from __future__ import annotations

from sqlalchemy import Row, Select, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from tracker.models import ReplyLetter

# rows of each index SQLite's ANALYZE looks at: enough to tell a date's spread from a
# status's few values (SQLite's documentation suggests 100 to 1000)
SQLITE_ANALYSIS_LIMIT = 1000
# rows (letters, a 交办清单's proposals) an import must bring for PostgreSQL's ANALYZE to run
BULK_CHANGE = 500


def refresh(engine: Engine, *, changed: int | None = None) -> bool:
    """Bring the planner's statistics up to date, on a connection and in a transaction of
    their own: call it once the change is committed (on SQLite a transaction still writing
    would hold the lock it waits for; on PostgreSQL ANALYZE's lock on each table, held to
    the end of a transaction, would stop the search engine setting its RUM index aside).
    `changed`: the rows the change brought (None: a whole database, a restore or the demo);
    PostgreSQL analyzes only past BULK_CHANGE of them (autovacuum keeps the statistics
    otherwise). Whether anything ran."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            connection.exec_driver_sql("ANALYZE")
        return True
    if changed is None or changed >= BULK_CHANGE:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        return True
    return False


# -- telling SQLite's planner ----------------------------------------------------------------


class unindexed(FunctionElement):  # noqa: N801 (written as a function of a column)
    """A column as an expression that no index serves, on SQLite (``+column``, which its
    documentation gives for this): a filter on it is then checked row by row, and the
    planner reads the index of the query's order instead. SQLite takes any index with an
    equality or IN on it over one that gives the order, LIMIT or not: the public page's
    latest 20 replies read the 70,000 published ones through the status index and sorted
    them (650 ms). PostgreSQL, which weighs both by its statistics and the LIMIT, gets the
    column as it is."""

    inherit_cache = True

    def __init__(self, column) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _column(element, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(unindexed, "sqlite")
def _unary_plus(element, compiler, **kw) -> str:
    return "+" + compiler.process(element.clauses, **kw)


def newest_letters_first(session: Session, query: Select, limit: int | None) -> list[Row]:
    """The rows of `query` (of letters) newest first, those without a date last, the first
    `limit` of them (all when None). No index of both databases holds "newest first, no
    date last", so the dated letters and then the undated ones are read apart, each in
    the order of an index on the date (PostgreSQL sorted a unit's 12,000 letters for
    我的待办; both sorted the 70,000 published ones for the public page)."""
    found: list[Row] = []
    for dated in (True, False):
        if limit is not None and len(found) >= limit:
            break
        day = ReplyLetter.letter_on
        part = query.where(day.is_not(None) if dated else day.is_(None)).order_by(
            *((day.desc(),) if dated else ()), ReplyLetter.id.desc()
        )
        if limit is not None:
            part = part.limit(limit - len(found))
        found += session.execute(part).all()
    return found


def count_rows(session: Session, query: Select, most: int | None = None) -> int:
    """How many rows `query` gives, at most `most` when given: a page that says "more
    than" past a bound reads no further than the bound (a unit's archive runs to 20,000)."""
    if most is not None:
        query = query.limit(most)
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
