"""New rows of one table written together: an import's commitment candidates and contact
logs (``corpus.Importer``), tens of thousands in a large archive.

SQLite takes them as one executemany. PostgreSQL through psycopg executes an executemany
row by row (one Bind and Execute each, pipelined): importing 3,000 letters sent 36,000
single-row INSERTs of commitments, each a statement for the server to start and for
psycopg to adapt, in the same transaction the import waits on. There the rows go in one
``COPY … FROM STDIN``: what PostgreSQL's documentation recommends for loading many rows,
the same rows and the same triggers (foreign keys) as the INSERTs.

The values are those the INSERT would have written: a column a row leaves out takes its
Python default (``default=``, computed per row as SQLAlchemy does), else NULL; columns with
a server default are left to the server when no row gives them. An aware time is written
as its UTC time, as the INSERT in the app's UTC session stores it (a COPY of its text into
a column without a zone would drop the offset). Only plain values (text, numbers, dates
and times, booleans, None) are copied; a table with other column types (JSON…) takes the
executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, PickleType

_NOT_COPIED = (JSON, PickleType)  # values a COPY would not write as the INSERT does


def insert_rows(session: Session, table: Table, rows: Sequence[dict]) -> None:
    """Insert `rows` (dicts of column keys) into `table` in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    if not _copies(connection.dialect, table):
        session.execute(insert(table), list(rows))
        return
    given = set().union(*rows)
    columns = [
        c
        for c in table.columns
        if c.key in given or (c.default is not None and c.server_default is None)
    ]
    defaults = {c.key: c.default for c in columns if c.default is not None}
    names = ", ".join(connection.dialect.identifier_preparer.quote(c.name) for c in columns)
    target = connection.dialect.identifier_preparer.format_table(table)
    statement = f"COPY {target} ({names}) FROM STDIN"
    raw = connection.connection.driver_connection
    driver = connection.dialect.loaded_dbapi
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([_value(row, c.key, defaults.get(c.key)) for c in columns])
    except driver.Error as error:  # as SQLAlchemy raises the INSERT's (IntegrityError…)
        raise DBAPIError.instance(statement, None, error, driver.Error) from error


def _copies(dialect, table: Table) -> bool:
    return (
        dialect.name == "postgresql"
        and dialect.driver == "psycopg"
        and not any(isinstance(c.type, _NOT_COPIED) for c in table.columns)
        # a default the database computes (a SQL expression, a sequence) is the INSERT's
        and not any(
            c.default is not None and not (c.default.is_callable or c.default.is_scalar)
            for c in table.columns
        )
    )


def _value(row: dict, key: str, default):
    if key in row:
        value = row[key]
    elif default is None:
        return None
    elif default.is_callable:
        value = default.arg(None)  # SQLAlchemy wraps a function of no arguments to take one
    else:
        value = default.arg
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
