"""The index follows the database: only committed changes, every committed change, healed
after a crash, and concurrent writers in separate processes lose nothing."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest
from conftest import close, previous_index_version

from tracker import create_app, current
from tracker.extensions import db
from tracker.models import Commitment, ReplyLetter, SearchOutbox
from tracker.search_hooks import engine as get_engine
from tracker.services import search

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_983cdb5ab656f1f2.txt"


def _config(tmp_path):
    return {
        "TESTING": True,
        "SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'sync.db'}",
        "INDEX_DIR": str(tmp_path / "index"),
    }


@pytest.fixture
def app_config():
    """The Whoosh engine, on either database (on PostgreSQL the app's default is the
    engine in the database, which test_search_postgres.py puts through these cases)."""
    return {"SEARCH_ENGINE": "whoosh"}


@pytest.fixture
def letters(app, runner, tmp_path):
    """Four imported letters (the seed under four numbers)."""
    return import_letters(app, runner, tmp_path)


def import_letters(app, runner, tmp_path) -> list[int]:
    """The letters fixture's letters written into tmp_path / "letters" and imported into the
    app's database; their ids."""
    folder = letter_files(tmp_path / "letters")
    assert runner.invoke(args=["import-letters", str(folder)]).exit_code == 0
    with app.app_context():
        return [
            le.id
            for le in db.session.execute(db.select(ReplyLetter).order_by(ReplyLetter.id)).scalars()
        ]


def letter_files(folder: Path) -> Path:
    """The letters fixture's files (the seed under four numbers), written into `folder`."""
    folder.mkdir()
    text = SEED.read_text(encoding="utf-8")
    for n in range(4):
        (folder / f"letter{n}.txt").write_text(
            text.replace("20222174", f"2022300{n}").replace("119号", f"{200 + n}号"),
            encoding="utf-8",
        )
    return folder


def _found(app, word) -> list[int]:
    with app.app_context():
        return [
            h.letter_id for h in search.run(word, per_page=50, engine=current.search_engine()).hits
        ]


def _outbox(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(SearchOutbox.id))).scalar()


def test_committed_changes_reach_the_index(app, letters):
    with app.app_context():
        db.session.get(ReplyLetter, letters[0]).body += "\n新增内容：校园足球特色学校。"
        db.session.commit()
    assert _found(app, "校园足球") == [letters[0]]
    assert _outbox(app) == 0


def test_a_rolled_back_save_leaves_no_trace(app, letters):
    with app.app_context():
        db.session.get(ReplyLetter, letters[1]).body += "\n游泳池开放时间延长。"
        db.session.flush()
        db.session.rollback()
    assert _found(app, "游泳池") == []
    assert _outbox(app) == 0


def test_a_failed_index_write_is_healed_by_the_next_write(app, letters, monkeypatch):
    engine = get_engine(app)
    real_index = engine.index

    def crash(docs):
        raise OSError("disk full")

    monkeypatch.setattr(engine, "index", crash)
    with app.app_context():
        db.session.get(ReplyLetter, letters[0]).body += "\n研学旅行基地建设。"
        db.session.commit()  # committed; the index write fails and is logged
    assert _found(app, "研学旅行") == [] and _outbox(app) == 1
    monkeypatch.setattr(engine, "index", real_index)
    with app.app_context():
        db.session.get(ReplyLetter, letters[1]).body += "\n营养午餐标准提高。"
        db.session.commit()
    assert _found(app, "研学旅行") == [letters[0]]
    assert _found(app, "营养午餐") == [letters[1]]
    assert _outbox(app) == 0


def test_a_crash_is_healed_on_start_or_by_reindex(app, runner, letters, monkeypatch, tmp_path):
    engine = get_engine(app)
    monkeypatch.setattr(engine, "index", lambda docs: (_ for _ in ()).throw(OSError("killed")))
    with app.app_context():
        db.session.get(ReplyLetter, letters[2]).body += "\n书法进校园活动。"
        db.session.commit()
    assert _outbox(app) == 1
    monkeypatch.undo()
    # a new process starting on the same database and index applies the outbox
    restarted = create_app(dict(app.config, TESTING=True))
    assert _outbox(restarted) == 0
    assert _found(restarted, "书法") == [letters[2]]
    # and `tracker reindex` rebuilds everything from the database
    shutil.rmtree(app.config["INDEX_DIR"])
    fresh = create_app(dict(app.config, TESTING=True))
    result = fresh.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0 and "index rebuilt: 4 letters" in result.output
    assert _found(fresh, "书法") == [letters[2]]
    close(restarted)
    close(fresh)


def test_an_index_of_the_previous_version_survives_a_restart_and_reindex_upgrades_it(
    app, letters, monkeypatch
):
    from tracker.search.whoosh import schema

    marker = Path(app.config["INDEX_DIR"]) / ".tracker-schema"
    # the index as the previous version wrote it: no character pairs, version 3
    close(app)
    with previous_index_version(monkeypatch):
        shutil.rmtree(app.config["INDEX_DIR"])
        old = create_app(dict(app.config, TESTING=True))
        assert old.test_cli_runner().invoke(args=["reindex"]).exit_code == 0
        close(old)
    assert marker.read_text().strip() == "tracker-search-3"
    # this version starts on it: nothing is lost, and a name inside a longer one is found
    restarted = create_app(dict(app.config, TESTING=True))
    assert sorted(_found(restarted, "心理")) == sorted(letters)
    with restarted.app_context():
        db.session.get(ReplyLetter, letters[1]).body += "\n黄泥塘村通学道路已完成修缮。"
        db.session.commit()
    assert _found(restarted, "黄泥塘") == [letters[1]]
    assert marker.read_text().strip() == "tracker-search-3"
    # `tracker reindex` brings it up to date
    result = restarted.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0 and "index rebuilt: 4 letters" in result.output
    assert marker.read_text().strip() == schema.SCHEMA_VERSION == "tracker-search-4"
    assert _found(restarted, "黄泥塘") == [letters[1]]
    assert sorted(_found(restarted, "心理")) == sorted(letters)
    close(restarted)


def test_search_never_returns_a_letter_the_database_lost(app, letters):
    with app.app_context():
        db.session.delete(db.session.get(ReplyLetter, letters[3]))
        db.session.commit()
    assert letters[3] not in _found(app, "心理")
    # even when a row disappears behind the tracker's back (no outbox row)
    with app.app_context():
        db.session.execute(db.delete(Commitment).where(Commitment.letter_id == letters[2]))
        db.session.execute(db.delete(ReplyLetter).where(ReplyLetter.id == letters[2]))
        db.session.commit()
    found = _found(app, "心理")
    assert letters[2] not in found and sorted(found) == sorted(letters[:2])


def _writer(config, letter_id, worker, versions, queue):
    """A separate process, as a gunicorn worker: save successive versions of one letter."""
    try:
        app = create_app(config)
        with app.app_context():
            for v in range(versions):
                letter = db.session.get(ReplyLetter, letter_id)
                letter.body = letter.body.split("\n版本标记")[0] + f"\n版本标记 w{worker}v{v}号"
                db.session.commit()
        queue.put((worker, "ok"))
    except Exception as error:  # reported to the test, which fails on it
        queue.put((worker, repr(error)))


@pytest.mark.slow
def test_concurrent_writers_lose_no_update(app, letters):
    config = dict(app.config)
    context = multiprocessing.get_context("fork")  # separate processes, without re-importing
    queue = context.Queue()
    versions = 6
    workers = [
        context.Process(target=_writer, args=(config, letter_id, n, versions, queue))
        for n, letter_id in enumerate(letters)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    results = sorted(queue.get(timeout=5) for _ in workers)
    assert results == [(n, "ok") for n in range(len(letters))]
    assert _outbox(app) == 0
    for n, letter_id in enumerate(letters):
        assert _found(app, f"w{n}v{versions - 1}号") == [letter_id]
        assert _found(app, f"w{n}v{versions - 2}号") == []
