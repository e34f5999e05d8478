"""Importing many letters at once (issue 12: the import rate): the new letters of an import
are written in batches, a few multi-row statements each, and what is written is exactly
what the file-by-file import writes; a file the database refuses is still reported alone
and leaves nothing behind, and a batch is written whole or not at all.

On the app's database (SQLite, or PostgreSQL with TEST_DATABASE=postgres); the PostgreSQL
engine's rows built in the parsing workers are tested in test_search_postgres.py."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import close, new_app
from sqlalchemy import event, text

from tracker.extensions import db
from tracker.letters.synth import write_corpus
from tracker.search_hooks import engine as get_engine
from tracker.services import corpus, search, vocab
from tracker.services.corpus import Importer, iter_files

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_983cdb5ab656f1f2.txt"
LETTERS = ROOT / "tests" / "letters"
# what the rows are compared by: every column but the moments they were written
TABLES = ("unit", "congress_session", "proposal", "reply_letter", "contact_log", "commitment")
MOMENTS = {"created_at", "updated_at"}
QUERIES = [
    "心理健康",
    "学校",
    '"心理健康教育"',
    "曾志伟",
    "穗教案〔2022〕119号",
    "市卫生健康委",
    "加装电梯",
]
REJECTED = "（拒收标记）"  # a commitment the database refuses (see _refuse)


def make_corpus(folder: Path, synthetic: int = 30) -> Path:
    """Letters of every kind an archive has: the parser's fixtures (one not a letter),
    synthetic ones, two replies to one proposal, and one file name twice (the second
    file updates the first's letter)."""
    shutil.copytree(LETTERS, folder / "a_fixtures")
    write_corpus(folder / "b_synthetic", synthetic, seed=7)
    seed = SEED.read_text(encoding="utf-8")
    (folder / "c_same_proposal").mkdir()
    shutil.copy(SEED, folder / "c_same_proposal" / "seed.txt")
    (folder / "c_same_proposal" / "seed_again.txt").write_text(
        seed.replace("119号", "121号").replace("4月28、29日", "5月3日"), encoding="utf-8"
    )
    (folder / "d_renamed").mkdir()
    (folder / "d_renamed" / "seed.txt").write_text(
        seed.replace("持C证率达到80%", "持C证率达到90%"), encoding="utf-8"
    )
    return folder


def import_folder(app, folder: Path, *, batched: bool = True) -> list[str]:
    """`tracker import-letters`'s work (commits every 500 files) through the batches or,
    as before them, file by file; the report's lines."""
    with app.app_context():
        importer = Importer(corpus.read_options(app.config), search=get_engine(app))
        if not batched:
            importer._is_new = lambda item, names: False  # every file on its own
        lines = []
        for number, outcome in enumerate(importer.import_many(iter_files([folder])), 1):
            lines.append(outcome.line())
            if number % 500 == 0:
                db.session.commit()
        db.session.commit()
    return lines


def rows(app) -> dict[str, list[tuple]]:
    """Every row the import writes, by table, without the moments it was written."""
    with app.app_context():
        found = {}
        for table in TABLES:
            columns = [c.name for c in db.metadata.tables[table].columns if c.name not in MOMENTS]
            result = db.session.execute(
                text(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")
            ).all()
            found[table] = [tuple(row) for row in result]
        return found


def answers(app) -> list:
    with app.app_context():
        found = []
        for query in QUERIES:
            result = search.run(query, per_page=50, engine=get_engine(app))
            found.append((query, result.total, [h.letter_id for h in result.hits], result.facets))
        return found


@pytest.fixture
def other_app(app, tmp_path, request):
    """A second app like `app`, on a new empty database of the same kind."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'other.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database()
    other = new_app(
        tmp_path / "other", DATABASE_URL=url, SEARCH_ENGINE=app.config.get("SEARCH_ENGINE")
    )
    with other.app_context():
        db.create_all()
        vocab.ensure_defaults()
        db.session.commit()
    yield other
    close(other)


def test_batches_write_exactly_what_the_file_by_file_import_writes(app, other_app, tmp_path):
    folder = make_corpus(tmp_path / "archive")
    batched = import_folder(app, folder)
    one_by_one = import_folder(other_app, folder, batched=False)
    assert batched == one_by_one
    assert sum(line.startswith(("imported", "flagged")) for line in batched) > 40
    assert [line for line in batched if line.startswith("updated")] == ["updated\tseed.txt\t[txt]"]
    assert rows(app) == rows(other_app)
    assert answers(app) == answers(other_app)
    # the second reply to the seed's proposal joined it, with its own contact
    with app.app_context():
        proposals = db.session.execute(
            text("SELECT count(*) FROM proposal WHERE number = '20222174'")
        ).scalar()
        days = db.session.execute(
            text(
                "SELECT count(*) FROM contact_log c JOIN proposal p ON p.id = c.proposal_id "
                "WHERE p.number = '20222174' AND c.contacted_on = '2022-05-03'"
            )
        ).scalar()
    assert (proposals, days) == (1, 2)  # 微信 and 电话


def test_a_batch_of_new_letters_is_a_few_statements(app, tmp_path, monkeypatch):
    """Not one round trip to the database per row: 60 new letters (with their proposals,
    contacts and commitments) are written in a few statements; on PostgreSQL the contacts
    and the commitments each in one COPY (services/bulk.py)."""
    folder = tmp_path / "archive"
    write_corpus(folder, 60, seed=3)
    statements, copies = [], []
    on_postgres = app.config["DATABASE_URL"].startswith("postgresql")
    if on_postgres:
        import psycopg

        copy = psycopg.Cursor.copy

        def spied(cursor, statement, *args, **kwargs):
            copies.append(statement.split(None, 2)[1])
            return copy(cursor, statement, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "copy", spied)
    with app.app_context():

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement.split(None, 3)[:3])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            lines = import_folder(app, folder)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(lines) == 60 and not [line for line in lines if line.startswith("failed")]
    # one savepoint, one statement for all the contacts and one for all the commitments
    assert sum(s[0].upper() == "SAVEPOINT" for s in statements) == 1
    inserts = Counter(s[2].lower() for s in statements if s[0].upper() == "INSERT")
    inserts.update(copies)
    assert (inserts["contact_log"], inserts["commitment"]) == (1, 1)
    # (SQLite returns the ids of an INSERT in order only one row at a time)
    if on_postgres:
        assert copies == ["contact_log", "commitment"]
        assert sum(inserts.values()) <= 8, inserts  # the units and sessions too
        assert len(statements) < 30, statements


def _refuse(app) -> None:
    """The database refuses a commitment with REJECTED in its text (as it may refuse a
    row the parser let through: a value too long, a constraint)."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON commitment "
                    f"WHEN NEW.text LIKE '%{REJECTED}%' BEGIN SELECT RAISE(ABORT, '拒收'); END"
                )
            )
        else:
            db.session.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.text LIKE '%{REJECTED}%' THEN RAISE EXCEPTION '拒收'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            db.session.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON commitment "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
        db.session.commit()


def test_a_file_the_database_refuses_fails_alone_and_leaves_nothing(app, runner, tmp_path):
    _refuse(app)
    folder = tmp_path / "archive"
    write_corpus(folder, 6, seed=5)
    seed = SEED.read_text(encoding="utf-8")
    (folder / "l_bad.txt").write_text(
        seed.replace("20222174", "20229999")
        .replace("119号", "199号")
        .replace("持C证率达到80%", f"持C证率达到80%{REJECTED}"),
        encoding="utf-8",
    )
    (folder / "m_good.txt").write_text(
        seed.replace("20222174", "20228888").replace("119号", "188号"), encoding="utf-8"
    )
    result = runner.invoke(args=["import-letters", str(folder)])
    assert result.exit_code == 1  # a file failed
    failed = [line for line in result.output.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and failed[0].startswith("failed\tl_bad.txt\t[txt]\t")
    assert "拒收" in failed[0]
    assert "8 files: " in result.output and "1 failed" in result.output
    with app.app_context():

        def count(sql: str) -> int:
            return db.session.execute(text(sql)).scalar()

        # nothing of the refused file: no letter, proposal, contact or commitment
        assert count("SELECT count(*) FROM reply_letter WHERE source_file = 'l_bad.txt'") == 0
        assert count("SELECT count(*) FROM proposal WHERE number = '20229999'") == 0
        assert count("SELECT count(*) FROM reply_letter") == 7
        # every other letter whole: its proposal, contacts and commitments, once
        assert count("SELECT count(DISTINCT proposal_id) FROM reply_letter") == 7
        assert count("SELECT count(*) FROM proposal") == 7
        good = "SELECT id FROM reply_letter WHERE source_file = 'm_good.txt'"
        assert count(f"SELECT count(*) FROM commitment WHERE letter_id = ({good})") > 0
        assert (
            count(
                "SELECT count(*) FROM contact_log c JOIN proposal p ON p.id = c.proposal_id "
                "WHERE p.number = '20228888'"
            )
            == 4  # 4月28、29日, 微信 and 电话
        )


def test_a_refused_batch_is_written_whole_or_not_at_all(app, tmp_path, monkeypatch):
    """The batch's letters and proposals are inserted before the refused commitment: the
    batch is rolled back whole and its files written one by one, none twice."""
    _refuse(app)
    folder = tmp_path / "archive"
    write_corpus(folder, 4, seed=9)
    seed = SEED.read_text(encoding="utf-8")
    (folder / "z_bad.txt").write_text(
        seed.replace("持C证率达到80%", f"持C证率达到80%{REJECTED}"), encoding="utf-8"
    )
    writes = []
    write_new = Importer._insert_new

    def spy(self, items):
        writes.append([item.name for item in items])
        return write_new(self, items)

    monkeypatch.setattr(Importer, "_insert_new", spy)
    lines = import_folder(app, folder)
    assert writes == [sorted(p.name for p in folder.iterdir())]  # one batch, refused
    assert [line.split("\t")[0] for line in lines] == ["imported"] * 4 + ["failed"]
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM reply_letter")).scalar() == 4
        assert db.session.execute(text("SELECT count(*) FROM proposal")).scalar() == 4
        names = db.session.execute(text("SELECT source_file FROM reply_letter")).scalars()
        assert sorted(names) == sorted(p.name for p in folder.iterdir())[:4]
