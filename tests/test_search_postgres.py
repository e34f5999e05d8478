"""The application on PostgreSQL with the postgres search engine: the pages and commands
answer as they do with Whoosh, the index is written in the transaction that changes the
letters (no outbox), every app and process on the database sees a change at once, imports,
reindex, the migration and the choice of engine.

The view and index cases of test_search_views.py and test_index_sync.py are collected here
again, with this module's ``app``: a PostgreSQL database of its own for each test."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta, timezone

import psycopg
import pytest
import test_index_sync
import test_search_views
from conftest import _fast_hashing, add_people, app_settings, close, schema_differences
from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError
from test_import_batches import answers, import_folder, make_corpus
from test_search_views import SEED

from tracker import create_app, search_hooks
from tracker.extensions import db
from tracker.letters.synth import write_corpus
from tracker.models import Commitment, ReplyLetter, SearchOutbox
from tracker.search import analysis, engine_name
from tracker.search_hooks import engine as get_engine
from tracker.services import bulk, search, vocab
from tracker.services import corpus as importing
from tracker.services.pgsearch import PostgresEngine, schema
from tracker.services.pgsearch import engine as pg_engine

# the cases of the Whoosh app collected again, with this module's app
test_committed_changes_reach_the_index = test_index_sync.test_committed_changes_reach_the_index
test_a_rolled_back_save_leaves_no_trace = test_index_sync.test_a_rolled_back_save_leaves_no_trace
test_search_never_returns_a_letter_the_database_lost = (
    test_index_sync.test_search_never_returns_a_letter_the_database_lost
)
test_concurrent_writers_lose_no_update = test_index_sync.test_concurrent_writers_lose_no_update
test_search_page_finds_highlights_and_facets = (
    test_search_views.test_search_page_finds_highlights_and_facets
)
test_search_finds_a_village_name_inside_a_longer_name = (
    test_search_views.test_search_finds_a_village_name_inside_a_longer_name
)
test_search_page_is_helpful_when_empty_or_malformed = (
    test_search_views.test_search_page_is_helpful_when_empty_or_malformed
)
test_public_search_shows_only_published_replies = (
    test_search_views.test_public_search_shows_only_published_replies
)
test_restricted_replies_stay_in_their_unit = (
    test_search_views.test_restricted_replies_stay_in_their_unit
)
test_cli_search_json_fields = test_search_views.test_cli_search_json_fields
test_similar_replies_on_letter_and_proposal_pages = (
    test_search_views.test_similar_replies_on_letter_and_proposal_pages
)
test_making_a_disclosure_mode_public_updates_the_public_search = (
    test_search_views.test_making_a_disclosure_mode_public_updates_the_public_search
)


pytestmark = pytest.mark.long  # a PostgreSQL database for each test


def _settings(tmp_path, url: str, **extra) -> dict:
    return {**app_settings(tmp_path), "DATABASE_URL": url, **extra}


@pytest.fixture
def pg_url(pg_server):
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(scope="session")
def pg_schema(pg_server, tmp_path_factory):
    """A database with the tables, the search table and the default vocabularies, made
    once: each test's app gets a copy (making them took a fifth of a second a test)."""
    url = pg_server.create_database("schema")
    app = create_app(_settings(tmp_path_factory.mktemp("pg-schema"), url))
    with app.app_context():
        db.create_all()
        vocab.ensure_defaults()
        db.session.commit()
    get_engine(app).ensure()
    close(app)
    yield url
    pg_server.drop_database(url)


class Starts:
    """What a test's app may start from, each a database made once from the schema and
    copied for the test in one CREATE DATABASE: "schema"; "people" (add_people); "letters"
    (test_index_sync's four letters); "corpus" (the people and test_search_views' letters).
    Importing the letters on PostgreSQL, their index rows and text index entries, was most
    of what a test of this module cost."""

    def __init__(self, server, schema_url: str, factory) -> None:
        self.server = server
        self.factory = factory
        self.made: dict[str, tuple[str, object]] = {"schema": (schema_url, None)}

    def get(self, name: str) -> tuple[str, object]:
        """(the database's URL, the ids its fixture returns)."""
        if name not in self.made:
            base, _ = self.get("people" if name == "corpus" else "schema")
            url = self.server.create_database(name, template=base)
            folder = self.factory.mktemp(f"pg-{name}")
            app = create_app(_settings(folder, url))
            with pytest.MonkeyPatch.context() as monkeypatch:
                _fast_hashing(monkeypatch)
                if name == "people":
                    with app.app_context():
                        data = add_people()
                elif name == "letters":
                    data = test_index_sync.import_letters(app, app.test_cli_runner(), folder)
                else:
                    data = test_search_views.import_corpus(app, app.test_cli_runner(), folder)
            close(app)
            self.made[name] = (url, data)
        return self.made[name]

    def drop(self) -> None:
        for name, (url, _) in self.made.items():
            if name != "schema":
                self.server.drop_database(url)


@pytest.fixture(scope="session")
def starts(pg_server, pg_schema, tmp_path_factory):
    made = Starts(pg_server, pg_schema, tmp_path_factory)
    yield made
    made.drop()


@pytest.fixture
def app(request, pg_server, starts, tmp_path):
    """An app on a copy of the start the test's fixtures ask for (corpus, letters, people)."""
    wanted = [name for name in ("corpus", "letters", "people") if name in request.fixturenames]
    if "letters" in wanted and len(wanted) > 1:
        pytest.fail(f"no start has both {wanted}: the letters' start has no people")
    start = wanted[0] if wanted else "schema"
    url = pg_server.create_database(template=starts.get(start)[0])
    app = create_app(_settings(tmp_path, url))
    yield app
    close(app)
    pg_server.drop_database(url)


@pytest.fixture
def people(app, starts):
    """The standard people, in this module's PostgreSQL database (the app's start)."""
    return dict(starts.get("people")[1])


@pytest.fixture
def letters(app, starts, tmp_path):
    """test_index_sync's letters, in the app's database (its start), their files in
    tmp_path / "letters"."""
    test_index_sync.letter_files(tmp_path / "letters")
    return list(starts.get("letters")[1])


@pytest.fixture
def corpus(app, starts, tmp_path):
    """test_search_views' letters and people, in the app's database (its start), the files
    in tmp_path / "letters"."""
    test_search_views.corpus_files(tmp_path / "letters")
    return dict(starts.get("corpus")[1])


def _found(app, words: str, **kw) -> list[int]:
    with app.app_context():
        hits = search.run(words, per_page=50, engine=get_engine(app), **kw).hits
        return [h.letter_id for h in hits]


def _count(app, sql: str) -> int:
    with app.app_context():
        return db.session.execute(text(sql)).scalar_one()


def test_the_app_on_postgresql_searches_with_postgresql(app):
    assert isinstance(get_engine(app), PostgresEngine)
    assert get_engine(app).text_index() == "rum"


# -- written with the letters ------------------------------------------------------------------


def test_letters_are_indexed_in_their_own_transaction_without_an_outbox(app, letters, monkeypatch):
    assert _count(app, "SELECT count(*) FROM letter_search") == len(letters)
    assert _count(app, "SELECT count(*) FROM search_outbox") == 0
    engine = get_engine(app)

    def fail(connection, docs, removed=()):
        raise OSError("the index row cannot be written")

    monkeypatch.setattr(engine, "write", fail)
    with app.app_context():
        db.session.get(ReplyLetter, letters[0]).body += "\n新增内容：校园足球特色学校。"
        with pytest.raises(OSError):
            db.session.commit()  # the index row fails: so does the letter's change
        db.session.rollback()
        assert "校园足球" not in db.session.get(ReplyLetter, letters[0]).body
    monkeypatch.undo()
    with app.app_context():
        db.session.get(ReplyLetter, letters[0]).body += "\n新增内容：校园足球特色学校。"
        db.session.commit()
    assert _found(app, "校园足球") == [letters[0]]
    assert _count(app, "SELECT count(*) FROM search_outbox") == 0


def test_a_deleted_letter_leaves_the_index_with_its_commit(app, letters):
    with app.app_context():
        db.session.delete(db.session.get(ReplyLetter, letters[3]))
        db.session.commit()
    assert _count(app, f"SELECT count(*) FROM letter_search WHERE letter_id = {letters[3]}") == 0


def test_two_apps_on_one_database_see_every_change_at_once(app, letters, tmp_path):
    other = create_app(dict(app.config, TESTING=True))  # a second server
    assert sorted(_found(other, "心理")) == sorted(letters)
    with other.app_context():
        db.session.get(ReplyLetter, letters[1]).body += "\n游泳池开放时间延长。"
        db.session.commit()
    assert _found(app, "游泳池") == [letters[1]]
    with app.app_context():
        db.session.get(ReplyLetter, letters[1]).body += "\n营养午餐标准提高。"
        db.session.commit()
    assert _found(other, "营养午餐") == [letters[1]] == _found(app, "营养午餐")
    close(other)


def test_letters_left_in_an_outbox_by_the_whoosh_engine_are_applied_on_start(app, letters):
    with app.app_context():  # as if changed while the app ran with Whoosh
        db.session.execute(
            text("UPDATE reply_letter SET body = body || '书法进校园活动。' WHERE id = :i"),
            {"i": letters[2]},
        )
        db.session.add(SearchOutbox(letter_id=letters[2], op="upsert"))
        db.session.commit()
    assert _found(app, "书法") == []
    restarted = create_app(dict(app.config, TESTING=True))
    assert _found(restarted, "书法") == [letters[2]]
    assert _count(restarted, "SELECT count(*) FROM search_outbox") == 0
    close(restarted)


def test_a_large_import_sets_the_rum_index_aside_and_builds_it_again(
    app, runner, tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(pg_engine, "BULK_MIN", 3)
    folder = tmp_path / "many"
    folder.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    for n in range(8):
        (folder / f"l{n}.txt").write_text(
            seed.replace("20222174", f"2022310{n}").replace("119号", f"{300 + n}号"),
            encoding="utf-8",
        )
    with caplog.at_level(logging.INFO, logger=pg_engine.__name__):
        result = runner.invoke(args=["import-letters", str(folder)])
    assert result.exit_code == 0, result.output
    assert any("set aside" in r.getMessage() for r in caplog.records)
    assert any("rum index built" in r.getMessage() for r in caplog.records)
    engine = get_engine(app)
    engine._forget_index()
    assert engine.text_index() == "rum"
    assert len(_found(app, '"心理健康教育"')) == 8
    with app.app_context():
        hits = search.run("穗教案〔2022〕305号", engine=get_engine(app)).hits
        assert "穗教案〔2022〕305号" in [h.doc_number for h in hits]


def _index_rows(application) -> list[tuple]:
    """The search table as written: every column, the tsvector as PostgreSQL keeps it."""
    with application.app_context():
        columns = ", ".join("tsv::text" if c == "tsv" else c for c in schema.COLUMNS)
        return [
            tuple(r)
            for r in db.session.execute(
                text(f"SELECT {columns} FROM {schema.TABLE} ORDER BY letter_id")
            )
        ]


@pytest.mark.slow  # starts the import's worker processes
def test_an_import_builds_the_index_rows_in_its_workers_and_writes_the_same(
    app, pg_server, pg_schema, tmp_path, monkeypatch
):
    """The tsvectors of an import's letters are built by the processes that parse them:
    none in the importing process, and the rows written are those it would have built."""
    folder = make_corpus(tmp_path / "archive", synthetic=12)
    monkeypatch.setattr(importing, "POOL_MIN", 5)  # the workers, as for a large import
    built_here = []
    tokens = analysis.tokens
    monkeypatch.setattr(analysis, "tokens", lambda *a, **k: built_here.append(1) or tokens(*a, **k))
    batched = import_folder(app, folder)
    assert built_here == []
    monkeypatch.undo()
    twin = create_app(_settings(tmp_path / "twin", pg_server.create_database(template=pg_schema)))
    assert import_folder(twin, folder, batched=False) == batched  # built here, file by file
    assert len(_index_rows(app)) > 20
    assert _index_rows(app) == _index_rows(twin)
    assert answers(app) == answers(twin)
    close(twin)


def test_each_batch_of_an_import_is_searchable_once_committed(app, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 4)
    folder = tmp_path / "archive"
    write_corpus(folder, 10, seed=11)
    other = create_app(dict(app.config, TESTING=True))  # another server, searching
    written = []
    with app.app_context():
        importer = importing.Importer(importing.read_options(app.config), search=get_engine(app))
        for number, outcome in enumerate(importer.import_many(importing.iter_files([folder])), 1):
            written.append(outcome.letter_id)
            if number % 4 == 0:
                db.session.commit()  # as the commands commit every 500 files
                assert get_engine(other).ids() == set(written)
                title = db.session.get(ReplyLetter, outcome.letter_id).title
                assert outcome.letter_id in _found(other, f'"{title}"')
        db.session.commit()
    assert get_engine(other).ids() == set(written) and len(written) == 10
    close(other)


def test_reindex_rebuilds_the_table_in_place(app, runner, letters):
    with app.app_context():
        db.session.execute(text("DELETE FROM letter_search"))  # behind the tracker's back
        db.session.commit()
    assert _found(app, "心理") == []
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0 and "index rebuilt: 4 letters" in result.output
    assert sorted(_found(app, "心理")) == sorted(letters)
    with app.app_context():
        names = {i["name"] for i in inspect(db.engine).get_indexes(schema.TABLE)}
    assert schema.RUM_INDEX in names and not any("build" in n for n in names)


def test_health_of_the_postgres_engine(app, browser, letters):
    body = browser.client.get("/healthz").get_json()
    assert body == {"status": "ok", "database": "ok", "index": "ok", "index_pending": 0}


# -- the views cannot tell the engines apart ------------------------------------------------


def _results(page: str) -> str:
    """The result list of a search page, as a reader sees it."""
    found = re.search(r'<div class="search-layout">.*?(?=</main>)', page, re.S)
    assert found, page[:500]
    return re.sub(r"\s+", " ", found.group(0))


def test_the_search_pages_are_the_same_on_both_engines(app, corpus, people, tmp_path):
    """The same letters imported into an app with Whoosh on SQLite: the pages in date order
    (relevance is each engine's own) and the counts are the same."""
    whoosh_dir = tmp_path / "whoosh"
    whoosh_dir.mkdir()
    twin = create_app(
        _settings(
            whoosh_dir,
            f"sqlite:///{whoosh_dir / 'test.db'}",
            INDEX_DIR=str(whoosh_dir / "index"),
        )
    )
    with twin.app_context():
        db.create_all()
        vocab.ensure_defaults()
        db.session.commit()
    twin_runner = twin.test_cli_runner()
    for username, role, unit in (("liaison", "liaison", None), ("clerk", "clerk", "广州市教育局")):
        args = ["create-user", username, "--role", role, "--password-stdin"]
        args += ["--unit", unit] if unit else []
        assert twin_runner.invoke(args=args, input="correct-horse-9\n").exit_code == 0
    folder = tmp_path / "letters"
    assert twin_runner.invoke(args=["import-letters", str(folder)]).exit_code == 0
    assert engine_name(twin.config) == "whoosh" and engine_name(app.config) == "postgres"

    def pages(application):
        from conftest import Browser

        browser = Browser(application.test_client())
        out = [_results(browser.get(f"/public/?q={q}").get_data(as_text=True)) for q in ("心理",)]
        browser.login("clerk")
        for query in ("心理&sort=date", "心理 教师&sort=date", "公厕", '"心理健康教育"&sort=date'):
            out.append(_results(browser.get(f"/search?q={query}").get_data(as_text=True)))
        return out

    expected = pages(twin)
    assert "共找到 1 件答复" in expected[0] and "共找到 3 件答复" in expected[1]
    assert "<mark>心理</mark>" in expected[1] and "答复单位" in expected[1]
    assert pages(app) == expected
    close(twin)


# -- the migration and the choice of engine --------------------------------------------------


def test_init_db_creates_the_search_table_on_postgresql_and_fills_it(pg_url, tmp_path):
    fresh = create_app(_settings(tmp_path, pg_url))
    runner = fresh.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "database created" in result.output, result.output
    with fresh.app_context(), db.engine.connect() as connection:
        names = {i["name"] for i in inspect(connection).get_indexes(schema.TABLE)}
        assert schema.RUM_INDEX in names
        assert schema_differences(connection, include_object=schema.include_object) == []
        # the similar letters weigh words by the statistics' 10,000 most common lexemes
        target = connection.execute(
            text(
                "SELECT attstattarget FROM pg_attribute "
                "WHERE attrelid = to_regclass(:t) AND attname = 'tsv'"
            ),
            {"t": schema.TABLE},
        ).scalar_one()
        assert target == 1000
    letters_folder = tmp_path / "letters"
    letters_folder.mkdir()
    (letters_folder / "seed.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    assert runner.invoke(args=["import-letters", str(letters_folder)]).exit_code == 0
    with fresh.app_context():  # as before the migration: letters and an empty table
        db.session.execute(text("DELETE FROM letter_search"))
        db.session.commit()
    result = runner.invoke(args=["init-db"])
    assert "search index built in the database: 1 letters" in result.output, result.output
    assert _found(fresh, "曾志伟") != []
    with fresh.app_context():  # as after an import that never ended
        db.session.execute(text(f"DROP INDEX {schema.RUM_INDEX}"))
        db.session.commit()
    result = runner.invoke(args=["init-db"])
    assert "search index: RUM index built" in result.output, result.output
    get_engine(fresh)._forget_index()
    assert get_engine(fresh).text_index() == "rum"
    with fresh.app_context():  # as an earlier version wrote it: rows of the first format
        db.session.execute(text(f"UPDATE {schema.STATE} SET format = 1"))
        db.session.commit()
    assert get_engine(fresh).outdated()
    result = runner.invoke(args=["init-db"])
    assert "search index rebuilt in the current format: 1 letters" in result.output
    assert not get_engine(fresh).outdated() and _found(fresh, "曾志伟") != []
    assert "rebuilt" not in runner.invoke(args=["init-db"]).output
    close(fresh)


def test_init_db_on_sqlite_makes_no_search_table(tmp_path):
    fresh = create_app(_settings(tmp_path, f"sqlite:///{tmp_path / 'cli.db'}"))
    assert fresh.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with fresh.app_context():
        assert not inspect(db.engine).has_table(schema.TABLE)
    close(fresh)


def test_the_engine_follows_the_database_unless_told(pg_url, tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'x.db'}"
    assert engine_name({"DATABASE_URL": sqlite}) == "whoosh"
    assert engine_name({"DATABASE_URL": pg_url}) == "postgres"
    assert engine_name({"DATABASE_URL": pg_url, "SEARCH_ENGINE": "Whoosh"}) == "whoosh"
    with pytest.raises(ValueError, match="PostgreSQL"):
        create_app(_settings(tmp_path, sqlite, SEARCH_ENGINE="postgres"))
    with pytest.raises(ValueError, match="whoosh, postgres"):
        create_app(_settings(tmp_path, pg_url, SEARCH_ENGINE="elastic"))
    whoosh_on_pg = create_app(_settings(tmp_path, pg_url, SEARCH_ENGINE="whoosh"))
    assert type(get_engine(whoosh_on_pg)).__name__ == "WhooshEngine"
    close(whoosh_on_pg)


def test_similar_letters_weigh_the_newest_of_the_candidates(app, letters, monkeypatch):
    """The similar letters' candidates are the newest letters with the text's best terms,
    read without RUM's relevance order (which ranked every match: 10 ms of each letter's
    and proposal's page at 100,000 letters); equal scores show the newest first. Three
    copies of the letter have all its terms: with room for two candidates, the two newest."""

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        for letter_id, day in zip(
            letters[1:], ("2021-03-01", "2023-03-01", "2022-03-01"), strict=True
        ):
            db.session.execute(
                text(f"UPDATE {schema.TABLE} SET letter_on = :day WHERE letter_id = :id"),
                {"day": day, "id": letter_id},
            )
        db.session.commit()
        letter = db.session.get(ReplyLetter, letters[0])

        def similar() -> list[int]:
            get_engine(app)._similar.clear()  # weighed again, not the answer kept
            hits = get_engine(app).similar(letter.body, exclude=[letter.id], limit=5)
            return [h.letter_id for h in hits]

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            every = similar()
            monkeypatch.setattr(pg_engine, "SIMILAR_CANDIDATES", 2)
            newest = similar()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert every == [letters[2], letters[3], letters[1]]
    assert newest == [letters[2], letters[3]]
    assert statements and not any("<=>" in s for s in statements), statements


def test_a_search_by_filters_alone_is_not_compiled(app, letters):
    """Searches turn sequential scans off; a search by filters alone has no other plan, so
    the planner priced its scan ten billion higher, past jit_above_cost, and PostgreSQL
    compiled each such query (120-150 ms of a 40 ms facet count at 100,000 letters). Each
    statement of the search is explained in its transaction: none is compiled, and the
    search still finds the letters of that year."""
    plans = []

    def explain(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT") and "letter_search" in statement:
            cursor.execute("EXPLAIN " + statement, parameters)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    with app.app_context():
        assert db.session.execute(text("SELECT pg_jit_available()")).scalar(), (
            "this PostgreSQL cannot compile queries: the test would show nothing"
        )
        year = db.session.execute(text("SELECT min(year) FROM letter_search")).scalar_one()
        event.listen(db.engine, "before_cursor_execute", explain)
        try:
            result = search.run("", filters={"year": year}, engine=get_engine(app))
        finally:
            event.remove(db.engine, "before_cursor_execute", explain)
    assert result.total == len(letters) and result.facets["year"] == [(year, len(letters))]
    assert any("Seq Scan on letter_search" in plan for plan in plans), plans
    assert not any("JIT" in plan for plan in plans), plans


def test_similar_letters_take_the_planners_letter_count_past_a_bound(app, letters, monkeypatch):
    """The word weights' letter count: counted on a small index, the planner's estimate
    (ANALYZE's, like the common words' frequencies) on a large one, where counting read
    every entry of the index at each letter and proposal page; the same letters either way."""
    from tracker.services.pgsearch import engine as pg_engine

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        letter = db.session.get(ReplyLetter, letters[0])
        engine = get_engine(app)
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            counted = engine.similar(letter.body, exclude=[letter.id], limit=5)
            assert any(s.startswith("SELECT count(*) FROM letter_search") for s in statements)
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE letter_search")
            monkeypatch.setattr(pg_engine, "ESTIMATED_PAST", 1)
            statements.clear()
            engine._similar.clear()  # weighed again, not the answer kept
            estimated = engine.similar(letter.body, exclude=[letter.id], limit=5)
            assert not any(s.startswith("SELECT count(*) FROM letter_search") for s in statements)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert [h.letter_id for h in estimated] == [h.letter_id for h in counted]
    assert sorted(h.letter_id for h in counted) == sorted(letters[1:])


def test_similar_letters_with_all_the_best_terms_are_enough_when_there_are_enough(
    app, letters, monkeypatch
):
    """The letters with all four of a text's best terms are read first (in the RUM index
    they are a few hundred where those with two of them are thousands); the letters with
    two of them are read too only when those are fewer than SIMILAR_WITH_ALL times the
    letters asked for. The three other copies of the letter have all its terms."""
    queries = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "LIMIT" in statement and "q" in (parameters or {}):
            queries.append(parameters["q"])

    def similar(enough_with_all: int) -> list[int]:
        monkeypatch.setattr(pg_engine, "SIMILAR_WITH_ALL", enough_with_all)
        queries.clear()
        with app.app_context():
            letter = db.session.get(ReplyLetter, letters[0])
            event.listen(db.engine, "before_cursor_execute", record)
            try:
                get_engine(app)._similar.clear()  # weighed again, not the answer kept
                hits = get_engine(app).similar(letter.body, exclude=[letter.id], limit=1)
                return [h.letter_id for h in hits]
            finally:
                event.remove(db.engine, "before_cursor_execute", record)

    with_all = similar(3)  # the three copies are three times the one letter asked for
    assert len(queries) == 1
    assert queries[0].count("&") == 3 and "|" not in queries[0]
    more = similar(4)  # not enough: the letters with two of the terms are read as well
    assert len(queries) == 2 and "|" in queries[1] and queries[1].count("&") == 6
    assert with_all == more and with_all[0] in letters[1:]


def test_the_apps_connections_take_no_parallel_workers_unless_told(app, tmp_path):
    """A page's query in parallel workers (several pages at once on two cores) cost 我的待办
    40% of its rate under load: the app's connections run without them (POSTGRES_OPTIONS),
    unless the database URL has options of its own or POSTGRES_OPTIONS is emptied."""

    def parallel_workers(settings: dict) -> str:
        other = create_app(_settings(tmp_path, **settings))
        try:
            with other.app_context():
                return db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar()
        finally:
            close(other)

    url = app.config["DATABASE_URL"]
    with app.app_context():
        assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
    own = url + ("&" if "?" in url else "?") + "options=-c%20max_parallel_workers_per_gather%3D3"
    assert parallel_workers({"url": own}) == "3"
    with app.app_context():
        server = db.session.execute(
            text("SELECT boot_val FROM pg_settings WHERE name = :n"),
            {"n": "max_parallel_workers_per_gather"},
        ).scalar()
    assert parallel_workers({"url": url, "POSTGRES_OPTIONS": ""}) == server != "0"


def _stored_times(app) -> list[tuple[str, datetime, datetime]]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(Commitment.text, Commitment.created_at, Commitment.updated_at).order_by(
                    Commitment.id
                )
            )
        ]


def test_times_are_stored_in_utc_whatever_the_servers_time_zone(app):
    """The models keep UTC times in columns without a zone; a server set to Beijing time
    (a Chinese office's, from its machine's clock) made every time the app wrote eight
    hours later than UTC, read back as UTC. The app's connections run in UTC, and the rows
    an import copies (bulk.insert_rows) hold the same times as those it inserts."""
    with app.app_context():
        name = db.engine.url.database
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text(f"ALTER DATABASE \"{name}\" SET timezone = 'Asia/Shanghai'")
            )
        db.engine.dispose()  # new connections: with the database's setting
        assert db.session.execute(text("SHOW timezone")).scalar() == "UTC"
        before = datetime.now(UTC).replace(tzinfo=None)
        db.session.add(Commitment(text="今年底前完成"))
        db.session.flush()
        beijing = datetime.now(UTC).astimezone(timezone(timedelta(hours=8)))
        copied = [{"text": "明年六月底前完成"}, {"text": "北京时间", "created_at": beijing}]
        bulk.insert_rows(db.session, Commitment.__table__, copied)
        db.session.commit()
        after = datetime.now(UTC).replace(tzinfo=None)
    stored = _stored_times(app)
    assert [t for t, _, _ in stored] == ["今年底前完成", "明年六月底前完成", "北京时间"]
    assert all(
        before <= created <= after and before <= updated <= after for _, created, updated in stored
    )


def test_many_new_rows_are_copied_as_the_inserts_would_write_them(app, monkeypatch):
    """An import's commitment candidates and contacts go in one COPY on PostgreSQL (an
    executemany was a statement a row: 36,000 for 3,000 letters): the same rows as the
    executemany writes, defaults included, whatever their texts hold."""
    copied = []
    copy = psycopg.Cursor.copy
    monkeypatch.setattr(
        psycopg.Cursor,
        "copy",
        lambda self, statement, *a, **kw: (
            copied.append(statement) or copy(self, statement, *a, **kw)
        ),
    )
    texts = ["今年底前完成 80%", "含'引号'\\反斜杠\t制表符\n换行\r回车", "\\N", ""]
    rows = [
        {
            "section": section,
            "text": t,
            "due_on": due_on,
            "target": target,
        }
        for t, section, due_on, target in zip(
            texts,
            ["一、", None, "（二）" * 66, ""],
            [date(2026, 12, 31), None, date(2027, 6, 30), None],
            ["80%", None, "x" * 60, ""],
            strict=True,
        )
    ]
    columns = [
        c for c in Commitment.__table__.columns if c.key not in ("id", "created_at", "updated_at")
    ]
    with app.app_context():
        db.session.execute(insert(Commitment.__table__), rows)
        bulk.insert_rows(db.session, Commitment.__table__, rows)
        bulk.insert_rows(db.session, ReplyLetter.__table__, [])  # nothing: no statement
        db.session.commit()
        written = db.session.execute(select(*columns).order_by(Commitment.id)).all()
    assert copied == [
        "COPY commitment (section, text, due_on, target, status, created_at, updated_at) FROM STDIN"
    ]
    assert written[:4] == written[4:] and [r.text for r in written[4:]] == texts
    assert {r.status for r in written} == {"candidate"}
    stored = _stored_times(app)
    assert all(created and updated for _, created, updated in stored)
    # a row the database refuses is refused as the INSERT's would be
    with app.app_context(), pytest.raises(IntegrityError, match="text"):
        bulk.insert_rows(db.session, Commitment.__table__, [{"text": None}])


def _whoosh_app(app, tmp_path):
    """A second app on the test's database with the Whoosh engine (its outbox)."""
    return create_app(
        dict(app.config, TESTING=True, SEARCH_ENGINE="whoosh", INDEX_DIR=str(tmp_path / "wx"))
    )


def _uncommitted_change(letter_id: int):
    """Another worker's transaction, left open: 书法 added to the letter, with its outbox
    row (its id taken now). The connection and the transaction, to commit and close."""
    connection = db.engine.connect()
    transaction = connection.begin()
    connection.execute(
        text("UPDATE reply_letter SET body = body || '书法进校园活动。' WHERE id = :i"),
        {"i": letter_id},
    )
    connection.execute(insert(SearchOutbox).values(letter_id=letter_id, op="upsert"))
    return connection, transaction


def test_a_whoosh_drain_never_deletes_an_outbox_row_it_did_not_read(app, letters, tmp_path):
    """The Whoosh engine on PostgreSQL (several workers): a transaction's outbox row takes
    its id when written, so a later one can commit first. A drain that read the rows
    committed by then and deleted every row up to the last id it read also deleted the row
    of a transaction that committed meanwhile, unread: that letter's change never reached
    the index (test_index_sync's concurrent writers lost one, now and then, on
    PostgreSQL). A drain deletes the rows it read, no other."""
    whoosh = _whoosh_app(app, tmp_path)
    with whoosh.app_context():
        search_hooks.rebuild(whoosh)
    assert sorted(_found(whoosh, "心理")) == sorted(letters)
    with whoosh.app_context():
        late, late_transaction = _uncommitted_change(letters[0])  # its outbox row first
        engine = get_engine(whoosh)
        index = engine.index

        def commits_the_other_meanwhile(docs):
            if late_transaction.is_active:
                late_transaction.commit()  # after the drain read the rows, before it deletes
            return index(docs)

        engine.index = commits_the_other_meanwhile
        try:
            db.session.get(ReplyLetter, letters[1]).body += "\n游泳池开放时间延长。"
            db.session.commit()  # its drain reads its own row only
        finally:
            engine.index = index
            late.close()
    with whoosh.app_context():
        search_hooks.drain(whoosh)  # the other worker's drain, after its commit
    assert _found(whoosh, "游泳池") == [letters[1]]
    assert _found(whoosh, "书法") == [letters[0]]
    assert _count(whoosh, "SELECT count(*) FROM search_outbox") == 0
    close(whoosh)


def test_a_whoosh_rebuild_leaves_the_outbox_rows_committed_while_it_read(app, letters, tmp_path):
    """`tracker reindex` with the Whoosh engine on PostgreSQL: a worker's change committed
    after the rebuild read its letter, with an outbox row whose id is below the others,
    stays in the outbox for the next drain (the rebuild deleted every row up to the
    highest id it had seen)."""
    whoosh = _whoosh_app(app, tmp_path)
    with whoosh.app_context():
        late, late_transaction = _uncommitted_change(letters[0])
        db.session.add(SearchOutbox(letter_id=letters[1], op="upsert"))  # committed, id above
        db.session.commit()
        engine = get_engine(whoosh)
        rebuild = engine.rebuild

        def commits_the_other_after_reading(docs):
            count = rebuild(docs)  # the letters read, the worker's change not among them
            late_transaction.commit()
            return count

        engine.rebuild = commits_the_other_after_reading
        try:
            search_hooks.rebuild(whoosh)
        finally:
            engine.rebuild = rebuild
            late.close()
        assert _found(whoosh, "书法") == []
        search_hooks.drain(whoosh)  # the worker's drain, after its commit
    assert _found(whoosh, "书法") == [letters[0]]
    assert _count(whoosh, "SELECT count(*) FROM search_outbox") == 0
    close(whoosh)
