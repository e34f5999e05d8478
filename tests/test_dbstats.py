"""The planner's statistics (tracker/services/dbstats.py): without them SQLite read a whole
archive to count one year's letters; init-db, the imports and restore keep them current."""

from __future__ import annotations

from datetime import date

from conftest import ON_POSTGRES
from sqlalchemy import insert, select, text
from test_cli import fresh_app  # noqa: F401 (a fixture)
from test_jobs import archive_of, run, upload
from test_search_views import corpus_files

from tracker.extensions import db
from tracker.models import Job, ReplyLetter
from tracker.services import dbstats
from tracker.services.dashboard import Period, _letter_base

ARCHIVE = 3000  # imported letters over ten years, one status for all


def on_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def planned_rows(table: str) -> float | None:
    """How many rows the planner believes `table` has (None: it has no statistics)."""
    if on_postgres():
        rows = db.session.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}
        ).scalar_one()
        return None if rows < 0 else rows
    if not db.session.execute(
        text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
    ).first():
        return None
    stats = db.session.execute(
        text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}
    ).scalars()
    counts = [int(stat.split()[0]) for stat in stats if stat]
    return max(counts) if counts else None


def year_plan() -> str:
    """The plan of 督办统计's grades of a year's letters (services/dashboard.grade_codes)."""
    query = (
        select(ReplyLetter.classification)
        .where(_letter_base(Period(date(2024, 1, 1), date(2024, 12, 31))))
        .distinct()
    )
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN " if on_postgres() else "EXPLAIN QUERY PLAN "
    return "\n".join(str(row[-1]) for row in db.session.execute(text(explain + sql)))


def test_with_statistics_a_years_letters_are_read_off_the_date_index(app):
    with app.app_context():
        db.session.execute(
            insert(ReplyLetter),
            [
                {
                    "status": "imported",
                    "letter_on": date(2015 + n % 10, 1 + n % 12, 1 + n % 28),
                    "classification": "ABC"[n % 3],
                    "title": f"关于第{n}号建议的答复",
                }
                for n in range(ARCHIVE)
            ],
        )
        db.session.commit()
        if not ON_POSTGRES:
            # every letter has the status: an equality on it looks selective without figures
            assert "ix_reply_letter_status" in year_plan()
        assert planned_rows("reply_letter") is None
        db.session.commit()
        assert dbstats.refresh(db.engine)
        # (SQLite's sample of each index tells its size within a few per cent)
        assert abs(planned_rows("reply_letter") - ARCHIVE) <= ARCHIVE * 0.05
        if not ON_POSTGRES:
            assert "COVERING INDEX ix_reply_letter_period" in year_plan()


def test_init_db_gives_sqlite_its_statistics(fresh_app):  # noqa: F811
    runner = fresh_app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    with fresh_app.app_context():
        db.session.execute(insert(ReplyLetter), [{"status": "imported"}] * 40)
        db.session.commit()
        assert planned_rows("reply_letter") is None  # (an empty table has no figures)
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with fresh_app.app_context():
        assert planned_rows("reply_letter") == 40


def test_postgresql_is_left_to_autovacuum_but_after_a_bulk_change(app):
    with app.app_context():
        db.session.execute(insert(ReplyLetter), [{"status": "imported"}] * 40)
        db.session.commit()
        assert dbstats.refresh(db.engine, changed=0) == (not ON_POSTGRES)
        assert planned_rows("reply_letter") == (None if ON_POSTGRES else 40)
        db.session.commit()  # (a transaction of its own: the next reads the figures anew)
        assert dbstats.refresh(db.engine)
        assert planned_rows("reply_letter") == 40


def test_import_letters_refreshes_the_statistics_on_postgresql_when_it_is_a_bulk_change(
    app, runner, people, tmp_path
):
    folder = corpus_files(tmp_path / "letters")
    result = runner.invoke(args=["import-letters", "--quiet", str(folder)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        letters = db.session.execute(select(db.func.count(ReplyLetter.id))).scalar_one()
        assert letters == len(list(folder.iterdir())) > 0
        # a few files: SQLite's sampled ANALYZE costs milliseconds, PostgreSQL's seconds
        assert letters < dbstats.BULK_CHANGE
        assert planned_rows("reply_letter") == (None if ON_POSTGRES else letters)


def test_an_import_job_refreshes_the_statistics_when_it_ends(app, people, monkeypatch):
    monkeypatch.setattr(dbstats, "BULK_CHANGE", 3)  # the job's three letters are a bulk change
    job_id = upload(app, {"答复.zip": archive_of(3)})
    assert run(app) == 1
    with app.app_context():
        assert db.session.get(Job, job_id).status == "done"
        assert planned_rows("reply_letter") == 3
        assert planned_rows("job_item") == 3
