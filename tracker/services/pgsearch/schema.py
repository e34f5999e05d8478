"""The table the PostgreSQL engine keeps its index in, and its text index.

``letter_search`` holds one row per indexed letter: the tsvector of ``document.build``,
what filters, facets, visibility and date order need, and what a hit shows (the body for
snippets). It is derived from ``reply_letter`` and can always be rebuilt (``tracker
reindex``), so it is not one of the application's models: the migration and the engine
create it here, on PostgreSQL only.

The text index is RUM (``rum_tsvector_ops``: positions in the index, results ordered by
``tsv <=> query`` inside it) when the ``rum`` extension is installed, else GIN. One of the
two, never both: the planner would pick GIN, which reads every candidate's tsvector to check
positions.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

TABLE = "letter_search"
BUILD = "letter_search_build"  # a rebuild fills this one, then it takes the table's place
SUFFIXES = ("pkey", "rum", "gin", "incomplete", "day")  # its indexes: TABLE_pkey …
RUM_INDEX = f"{TABLE}_rum"
GIN_INDEX = f"{TABLE}_gin"
STATE = "letter_search_state"  # one row: the table's generation and its rows' format
TRIGGER = f"{TABLE}_changed"  # (on each of TABLE and BUILD: renamed with the table)
TRUNCATED = f"{TABLE}_truncated"
OWNED = frozenset(
    {TABLE, BUILD, STATE, f"{STATE}_pkey"} | {f"{t}_{s}" for t in (TABLE, BUILD) for s in SUFFIXES}
)
# The rows' format: 2, a title's lexemes also stand alone with TITLE_MARK (document.build).
# A table of format 1 is searched as it is (the letters with a word in their titles are
# found by the word's weight, slowly); a rebuild writes the current format.
FORMAT = 2

COLUMNS = (
    "letter_id",
    "tsv",
    "complete",
    "letter_on",
    "public",
    "restricted_unit_id",
    "year",
    "session",
    "kind",
    "issuer",
    "classification",
    "title",
    "proposal_title",
    "body",
    "proposers",
    "proposal_number",
    "doc_number",
    "source",
)

TSV_STATISTICS = "ALTER TABLE {table} ALTER COLUMN tsv SET STATISTICS 1000"

_CREATE = [
    """
    CREATE TABLE IF NOT EXISTS {table} (
        letter_id integer PRIMARY KEY,
        tsv tsvector NOT NULL,
        complete boolean NOT NULL,
        letter_on date,
        public boolean NOT NULL,
        restricted_unit_id integer,
        year text NOT NULL,
        session text NOT NULL,
        kind text NOT NULL,
        issuer text NOT NULL,
        classification text NOT NULL,
        title text NOT NULL,
        proposal_title text NOT NULL,
        body text NOT NULL,
        proposers text[] NOT NULL,
        proposal_number text NOT NULL,
        doc_number text NOT NULL,
        source text NOT NULL
    ) WITH (fillfactor = 80)
    """,
    # a tsvector does not compress (its lexemes are unique): stored as it is, without trying
    "ALTER TABLE {table} ALTER COLUMN tsv SET STORAGE EXTERNAL",
    # ANALYZE keeps the most common lexemes with their shares, which the similar letters
    # weigh words by (engine._doc_frequencies; a word not among them is counted, a tenth
    # of a second for the letter page at 100,000 letters): 10,000 of them instead of 1,000
    TSV_STATISTICS,
    # letters too long for their positions: their texts are read (a handful)
    "CREATE INDEX IF NOT EXISTS {table}_incomplete ON {table} (letter_id) WHERE NOT complete",
    # the newest first, for a search without words and for date order
    "CREATE INDEX IF NOT EXISTS {table}_day ON {table} (letter_on DESC NULLS LAST, letter_id DESC)",
]


# The generation: a number that changes with every committed change of the table's rows,
# read in each search's first statement, so that what a query counted can be used again
# until the letters change (PostgresEngine: the counts of a query). The trigger bumps it once
# a transaction, when the transaction commits (deferred: its row is locked last, for the
# moment of the commit only, so no deadlock can run through it). A rebuild bumps it itself.
_STATE = [
    f"""
    CREATE TABLE IF NOT EXISTS {STATE} (
        id integer PRIMARY KEY CHECK (id = 1),
        generation bigint NOT NULL,
        format integer NOT NULL
    )
    """,
    f"INSERT INTO {STATE} VALUES (1, 1, :format) ON CONFLICT (id) DO NOTHING",
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('tracker.letter_search_changed', true) IS DISTINCT FROM 'yes' THEN
            UPDATE {STATE} SET generation = generation + 1;
            PERFORM set_config('tracker.letter_search_changed', 'yes', true);
        END IF;
        RETURN NULL;
    END
    $$
    """,
]
_TRIGGERS = {
    TRIGGER: "CREATE CONSTRAINT TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE ON {table} "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {TABLE}_changed()",
    TRUNCATED: "CREATE TRIGGER {trigger} AFTER TRUNCATE ON {table} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_changed()",
}
BUMP = f"UPDATE {STATE} SET generation = generation + 1"


def ensure_state(connection: Connection, *, table: str = TABLE, format_: int = FORMAT) -> None:
    """The state row, its function and the table's triggers, when missing (a table made by
    an earlier version; `format_`: of the rows of a table without a state row)."""
    for statement in _STATE:
        connection.execute(text(statement), {"format": format_} if ":format" in statement else {})
    present = set(
        connection.execute(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(:t)"), {"t": table}
        ).scalars()
    )
    for name, statement in _TRIGGERS.items():
        if name not in present:
            connection.execute(text(statement.format(trigger=name, table=table)))


def state_ready(connection: Connection) -> bool:
    """Whether the state table and the table's two triggers are in place."""
    return bool(
        connection.execute(
            text(
                f"SELECT to_regclass('{STATE}') IS NOT NULL AND (SELECT count(*) FROM pg_trigger "
                "WHERE tgrelid = to_regclass(:t) AND tgname IN (:a, :b)) = 2"
            ),
            {"t": TABLE, "a": TRIGGER, "b": TRUNCATED},
        ).scalar()
    )


def owned(name: str | None) -> bool:
    """Whether a table or index is the search engine's (not one of the models')."""
    return name in OWNED


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: the search engine's table and indexes, in the database but not
    among the models, are left alone (by autogenerate and by compare_metadata)."""
    return not (reflected and compare_to is None and owned(name))


def exists(connection: Connection) -> bool:
    return connection.execute(text(f"SELECT to_regclass('{TABLE}') IS NOT NULL")).scalar_one()


def rum_installed(connection: Connection) -> bool:
    return bool(
        connection.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'rum'")).scalar()
    )


def install_rum(connection: Connection, rum: bool | None = None) -> bool:
    """Install the rum extension when the server has it and this user may; whether it is
    installed. (In a savepoint: a refusal leaves the transaction usable.) `rum` False:
    GIN is wanted (whether or not the extension is there)."""
    if rum is False:
        return False
    if rum_installed(connection):
        return True
    available = connection.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
    ).scalar()
    if not available:
        return False
    try:
        with connection.begin_nested():
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS rum"))
    except Exception as exc:  # not allowed (a superuser must create it)
        log.warning("the rum extension is available but could not be created: %s", exc)
        return False
    return True


def create(
    connection: Connection, *, table: str = TABLE, with_index: bool = True, rum: bool | None = None
) -> None:
    """Create the table (and its text index) when missing, the table with its state
    (``ensure_state``); RUM when the extension can be had (and `rum` is not False), else GIN."""
    for statement in _CREATE:
        connection.execute(text(statement.format(table=table)))
    if table == TABLE:  # (a build table gets its triggers as it takes the table's place)
        ensure_state(connection)
    if with_index:
        create_text_index(connection, table=table, rum=rum)


def text_index(connection: Connection) -> str | None:
    """The text index in place and valid: "rum", "gin" or None."""
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = to_regclass(:table) AND i.indisvalid AND c.relname IN "
            "(:rum, :gin)"
        ),
        {"table": TABLE, "rum": RUM_INDEX, "gin": GIN_INDEX},
    ).scalars()
    names = set(rows)
    if RUM_INDEX in names:
        return "rum"
    if GIN_INDEX in names:
        return "gin"
    return None


def create_text_index(
    connection: Connection,
    *,
    table: str = TABLE,
    concurrently: bool = False,
    rum: bool | None = None,
) -> str:
    """Create the text index (RUM when the extension is installed, else GIN), dropping the
    other kind and an invalid one (left by an interrupted build). `concurrently`: without
    blocking writes (the connection must be in autocommit)."""
    kind = "rum" if install_rum(connection, rum) else "gin"
    name, other = f"{table}_{kind}", f"{table}_{'gin' if kind == 'rum' else 'rum'}"
    how = "CONCURRENTLY " if concurrently else ""
    valid = connection.execute(
        text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
        {"name": name},
    ).scalar()
    if valid is False:
        connection.execute(text(f"DROP INDEX {how}IF EXISTS {name}"))
    if valid is not True:
        using = "rum (tsv rum_tsvector_ops)" if kind == "rum" else "gin (tsv)"
        connection.execute(text(f"CREATE INDEX {how}IF NOT EXISTS {name} ON {table} USING {using}"))
    connection.execute(text(f"DROP INDEX {how}IF EXISTS {other}"))
    return kind


def drop_text_index(connection: Connection, *, concurrently: bool = False) -> None:
    how = "CONCURRENTLY " if concurrently else ""
    for name in (RUM_INDEX, GIN_INDEX):
        connection.execute(text(f"DROP INDEX {how}IF EXISTS {name}"))


def take_place(connection: Connection) -> None:
    """The build table (with its indexes) becomes the table: the old one is dropped, so
    readers wait only for this transaction's commit."""
    connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
    ensure_state(connection, table=BUILD)
    connection.execute(text(f"ALTER TABLE {BUILD} RENAME TO {TABLE}"))
    for suffix in SUFFIXES:
        connection.execute(
            text(f"ALTER INDEX IF EXISTS {BUILD}_{suffix} RENAME TO {TABLE}_{suffix}")
        )
    # rows of the current format (built by this code), a new generation
    connection.execute(text(f"{BUMP}, format = :format"), {"format": FORMAT})


def drop(connection: Connection) -> None:
    connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
    connection.execute(text(f"DROP TABLE IF EXISTS {STATE}"))
    connection.execute(text(f"DROP FUNCTION IF EXISTS {TABLE}_changed() CASCADE"))
