"""The `tracker` operations commands."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import close, schema_differences

from tracker import create_app
from tracker.extensions import db
from tracker.models import (
    Assignment,
    Commitment,
    ContactLog,
    Notification,
    Proposal,
    ReplyLetter,
    Unit,
    User,
)
from tracker.rules.labels import SENT_LETTER_STATUSES


@pytest.fixture
def fresh_app(tmp_path):
    """An app on a new, empty database: the commands create everything."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "INDEX_DIR": str(tmp_path / "index"),
            "TODAY": "2026-06-15",
        }
    )
    yield app
    close(app)


def test_init_db_runs_the_migrations_and_matches_the_models(fresh_app):
    app = fresh_app
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "database created" in result.output
    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0 and "database upgraded" in again.output
    with app.app_context():
        with db.engine.connect() as connection:
            diff = schema_differences(connection)
        assert diff == [], f"models and migrations differ: {diff}"
        # the vocabularies are rows, filled in by init-db
        from tracker.services import vocab

        assert [t.code for t in vocab.terms("satisfaction")] == ["满意", "基本满意", "不满意"]


def test_create_user_reads_the_password_from_stdin_and_creates_the_unit(fresh_app):
    app = fresh_app
    runner = app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(
        args=["create-user", "zou", "--role", "clerk", "--unit", "市教育局", "--password-stdin"],
        input="s3cret-pass\n",
    )
    assert result.exit_code == 0, result.output
    assert "unit 市教育局 (new unit)" in result.output
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="zou")).scalar_one()
        assert user.check_password("s3cret-pass") and user.unit.name == "市教育局"
    # a unit matched by its short name is reused, not created again
    with app.app_context():
        unit = db.session.execute(db.select(Unit)).scalar_one()
        unit.name, unit.short_names = "广州市教育局", ["市教育局"]
        db.session.commit()
    result = runner.invoke(
        args=[
            "create-user",
            "li",
            "--role",
            "supervisor",
            "--unit",
            "市教育局",
            "--password-stdin",
        ],
        input="another-pass\n",
    )
    assert result.exit_code == 0 and "unit 广州市教育局" in result.output
    assert "new unit" not in result.output
    # errors: duplicate user, short password, clerk without unit
    for args, stdin, message in [
        (["create-user", "li", "--role", "admin"], "another-pass\n", "用户名li已存在"),
        (["create-user", "wang", "--role", "admin"], "short\n", "密码至少8位"),
        (["create-user", "wang", "--role", "clerk"], "long-enough\n", "须属于一个单位"),
    ]:
        result = runner.invoke(args=[*args, "--password-stdin"], input=stdin)
        assert result.exit_code == 1 and message in result.output
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 2


@pytest.mark.long
def test_demo_data_is_idempotent_and_shows_the_seed_proposal(fresh_app):
    app = fresh_app
    runner = app.test_cli_runner()
    runner.invoke(args=["init-db"])
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0, first.output
    assert "7 units, 8 users, 8 proposals added" in first.output
    second = runner.invoke(args=["demo-data"])
    assert "0 units, 0 users, 0 proposals added" in second.output
    assert "already has data" in runner.invoke(args=["demo-data", "--if-empty"]).output
    with app.app_context():
        p = db.session.execute(db.select(Proposal).filter_by(number="20222174")).scalar_one()
        assert p.session.name == "市十六届人大一次会议" and p.lead_proposer == "曾志伟"
        assert [(a.unit.name, a.role) for a in p.assignments] == [
            ("广州市教育局", "lead"),
            ("广州市卫生健康委员会", "co"),
        ]
        contacts = (
            db.session.execute(
                db.select(ContactLog).filter_by(proposal_id=p.id).order_by(ContactLog.contacted_on)
            )
            .scalars()
            .all()
        )
        assert [(c.contacted_on, c.channel) for c in contacts] == [
            (date(2022, 4, 28), "微信"),
            (date(2022, 4, 29), "电话"),
        ]
        # 曾志伟 logs in as `deputy`: he confirmed the first contact online, was told of
        # the A-grade reply and rates it himself; 20265046 is his too, not answered yet
        deputy = db.session.execute(db.select(User).filter_by(username="deputy")).scalar_one()
        assert (deputy.role, deputy.deputy_name) == ("deputy", "曾志伟")
        assert [c.deputy_status for c in contacts] == ["confirmed", None]
        assert p.status == "replied" and p.letters[0].classification == "A"
        told = db.session.execute(db.select(Notification).filter_by(user_id=deputy.id)).scalar_one()
        assert told.url == f"/my/proposals/{p.id}/rate"
        states = dict(db.session.execute(db.select(Proposal.number, Proposal.status)).all())
        assert states["20265046"] == "handling"
        assert states["20265087"] == "assigned"  # awaiting sign-for
        assert states["20265033"] == "rehandling"
        # 会签 in progress: one co-unit agreed, one returned the draft with its comments
        cosigned = db.session.execute(
            db.select(ReplyLetter).join(Proposal).where(Proposal.number == "20265120")
        ).scalar_one()
        assert cosigned.status == "draft"
        assert [(r.unit.name, r.status, bool(r.comment)) for r in cosigned.co_signs] == [
            ("广州市卫生健康委员会", "agreed", False),
            ("广州市民政局", "returned", True),
        ]
        overdue = db.session.execute(
            db.select(Assignment)
            .join(Proposal)
            .where(Proposal.number == "20265012", Assignment.role == "lead")
        ).scalar_one()
        assert overdue.due_on < date(2026, 6, 15) or overdue.replied_on is None
        # the seed letter's promise, followed up to the end; this year's replies and the
        # reminders they cause, loaded once
        cert = db.session.execute(
            db.select(Commitment).where(Commitment.text.contains("持C证率达到80%"))
        ).scalar_one()
        assert (cert.status, cert.done_on, cert.target) == ("done", date(2022, 12, 30), "80%")
        assert [u.noted_on for u in cert.updates] == [date(2022, 9, 20), date(2022, 12, 28)]
        assert "81.3%" in cert.updates[-1].note
        assert db.session.execute(
            db.select(db.func.count(Commitment.id)).where(Commitment.status == "in_progress")
        ).scalar_one()
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        assert db.session.execute(
            db.select(db.func.count(Notification.id)).filter_by(user_id=clerk.id)
        ).scalar_one()
    assert "this year's replies: 0 added; commitments confirmed: 0" in second.output
    assert "in-app reminders: 0 for today" in second.output


def test_check_deadlines_prints_lines_and_json(app, runner, make_proposal):
    make_proposal("1003", title="已逾期的建议", assigned_on=date(2026, 2, 2), co=(), sign=True)
    make_proposal(
        "1002",
        title="快到期的建议",
        assigned_on=date(2026, 3, 18),
        co=("广州市卫生健康委员会",),
        sign=True,
    )
    make_proposal("1009", title="还早的建议", assigned_on=date(2026, 6, 1), co=())
    result = runner.invoke(args=["check-deadlines"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    # in due-date order; the opinion was due 18 April, a Saturday, so Monday 20 April
    assert lines[0].startswith("逾期56天\t会办意见\t2026-04-20\t广州市卫生健康委员会")
    assert lines[1].startswith("逾期40天\t答复\t2026-05-06\t广州市教育局")
    assert lines[2].startswith("剩余3天\t答复\t2026-06-18")
    assert not any("还早的建议" in line for line in lines)
    result = runner.invoke(args=["check-deadlines", "--json"])
    rows = [json.loads(line) for line in result.output.strip().splitlines()]
    assert rows[1] == {
        "kind": "reply",
        "state": "overdue",
        "due_on": "2026-05-06",
        "days": -40,
        "unit": "广州市教育局",
        "proposal": "市十六届人大一次会议第1003号",
        "title": "已逾期的建议",
    }
    assert {r["state"] for r in rows} == {"overdue", "due_soon"}


@pytest.mark.long
def test_demo_data_loaded_again_later_in_the_year_adds_the_rest(tmp_path):
    """Loaded in April, then again in June: the replies due by June are added the second
    time and their promises followed up; nothing is added twice."""

    def app_on(day: str):
        return create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
                "INDEX_DIR": str(tmp_path / "index"),
                "CORPUS_DIR": str(tmp_path / "no-corpus"),
                "TODAY": day,
            }
        )

    def count(app, model, *where):
        with app.app_context():
            return db.session.execute(db.select(db.func.count(model.id)).where(*where)).scalar_one()

    april = app_on("2026-04-14")
    april.test_cli_runner().invoke(args=["init-db"])
    first = april.test_cli_runner().invoke(args=["demo-data"])
    assert "this year's replies: 0 added" in first.output  # none due before mid-April
    close(april)
    june = app_on("2026-06-15")
    second = june.test_cli_runner().invoke(args=["demo-data"])
    added = int(second.output.split("this year's replies: ")[1].split()[0])
    assert added > 0
    tracked = count(june, Commitment, Commitment.status != "candidate")
    # every sent reply's promises followed up (a draft's candidates wait for its sending)
    sent = Commitment.letter.has(ReplyLetter.status.in_(SENT_LETTER_STATUSES))
    assert count(june, Commitment, Commitment.status == "candidate", sent) == 0
    third = june.test_cli_runner().invoke(args=["demo-data"])
    assert "this year's replies: 0 added; commitments confirmed: 0" in third.output
    assert count(june, Commitment, Commitment.status != "candidate") == tracked
    close(june)


def test_an_installation_with_data_upgrades_through_every_migration(fresh_app):
    """Migrations that rebuild a table on SQLite (batch mode) keep the rows that refer to it:
    a database with proposals, assignments and users, made by the first migrations, upgrades
    to the newest schema with every row and reference intact."""
    from flask_migrate import upgrade

    app = fresh_app
    with app.app_context():
        upgrade(revision="b7e4c2a9d613")  # before the migrations that rebuild proposal
        with db.engine.begin() as connection:
            for statement in (
                "INSERT INTO unit (id, name, short_names, is_coordinating, active, created_at) "
                "VALUES (1, '广州市教育局', '教育局', 0, 1, '2022-01-01 00:00:00')",
                "INSERT INTO congress_session (id, body, level, name, year, term, sitting) "
                "VALUES (1, 'npc', 'city', '市十六届人大一次会议', 2022, 16, 1)",
                "INSERT INTO proposal (id, session_id, kind, number, title, lead_proposer, "
                "proposer_kind, co_signers, content, is_key, status, round, created_at) "
                "VALUES (1, 1, 'suggestion', '20222174', "
                "'关于进一步加强广州市中小学生心理健康管理工作的建议', '曾志伟', 'person', '', "
                "'', 0, 'assigned', 1, '2022-03-01 08:00:00')",
                "INSERT INTO assignment (id, proposal_id, unit_id, role, round, active, "
                "assigned_on, due_on, original_due_on, due_estimated, created_at) "
                "VALUES (1, 1, 1, 'lead', 1, 1, '2022-03-10', '2022-06-08', '2022-06-08', 0, "
                "'2022-03-10 09:00:00')",
            ):
                connection.exec_driver_sql(statement)
        upgrade()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            row = connection.exec_driver_sql(
                "SELECT p.number, p.updated_at, a.unit_id FROM proposal p "
                "JOIN assignment a ON a.proposal_id = p.id"
            ).one()
    assert row[0] == "20222174" and row[1].startswith("2022-03-01") and row[2] == 1
