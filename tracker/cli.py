"""Operations commands. `tracker COMMAND` is the same as `flask --app tracker COMMAND`.
Scripts depend on these names and options: keep them stable."""

from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from tracker.extensions import db


def main() -> None:
    from tracker import create_app

    group = FlaskGroup(
        create_app=create_app,
        add_default_commands=True,
        help="建议提案办理系统 (the tracker): operations commands.",
    )
    group.main(prog_name="tracker")


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"错误：{message}", err=True)
    sys.exit(1)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database or upgrade it to the latest schema (Alembic migrations)."""
    from flask_migrate import upgrade
    from sqlalchemy import inspect

    from tracker.services import vocab

    is_new = not inspect(db.engine).has_table("alembic_version")
    upgrade()
    added = vocab.ensure_defaults()
    db.session.commit()
    state = "created" if is_new else "upgraded"
    click.echo(
        f"database {state}: {_safe_url(current_app.config['DATABASE_URL'])}"
        + (f" ({added} vocabulary terms added)" if added else "")
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["clerk", "supervisor", "liaison", "admin"])
)
@click.option("--unit", "unit_name", help="Unit full or short name; created when none matches.")
@click.option("--name", "display_name", default="", help="Display name (姓名).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user(
    username: str, role: str, unit_name: str | None, display_name: str, password_stdin: bool
) -> None:
    """Create a user; UNIT matches a unit's full or short name and is created when none does."""
    from tracker.services import users
    from tracker.services.errors import DomainError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        unit, unit_created = users.find_or_create_unit(unit_name) if unit_name else (None, False)
        user = users.create_user(
            None,
            username=username,
            password=password,
            role=role,
            unit=unit,
            display_name=display_name,
        )
    except DomainError as error:
        _fail(str(error))
    db.session.commit()
    click.echo(
        f"user {user.username} created: role {role}"
        + (f", unit {unit.name}" + (" (new unit)" if unit_created else "") if unit else "")
    )


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Only load when the database has no users yet.")
@with_appcontext
def demo_data(if_empty: bool) -> None:
    """Load the demo units, users and proposals (idempotent)."""
    from tracker import demo
    from tracker.models import User

    if if_empty and db.session.execute(db.select(User.id).limit(1)).first():
        click.echo("database already has data: demo not loaded")
        return
    report = demo.load()
    db.session.commit()
    click.echo(f"demo data: {report}")


@click.command("demo-logins")
def demo_logins() -> None:
    """Print the demo users and their password."""
    from tracker import demo
    from tracker.rules.labels import ROLES

    click.echo(f"  Demo logins (password for all: {demo.DEMO_PASSWORD}):")
    for username, role, unit, display in demo.USERS:
        click.echo(f"    {username:<14} {ROLES[role]}  {display}" + (f"（{unit}）" if unit else ""))


@click.command("check-deadlines")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.option("--days", default=None, type=int, help="Due-soon horizon in days (default 7).")
@click.option(
    "--today",
    "today_",
    default=None,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Count from this date instead of today.",
)
@with_appcontext
def check_deadlines(as_json: bool, days: int | None, today_) -> None:
    """Print due-soon and overdue replies, co-unit opinions and commitments (for cron)."""
    from tracker.services import todo
    from tracker.services.settings import today

    day: date = today_.date() if today_ else today()
    horizon = days if days is not None else current_app.config["DUE_SOON_DAYS"]
    kinds = {"reply": "答复", "opinion": "会办意见", "commitment": "承诺事项"}
    for line in todo.deadline_report(day, horizon):
        if as_json:
            click.echo(json.dumps(line.as_dict(), ensure_ascii=False))
        else:
            state = (
                f"逾期{-line.days}天"
                if line.days < 0
                else ("今天到期" if line.days == 0 else f"剩余{line.days}天")
            )
            click.echo(
                f"{state}\t{kinds[line.kind]}\t{line.due_on.isoformat()}\t{line.unit}"
                f"\t{line.proposal}\t{line.title}"
            )


COMMANDS = [init_db, create_user, demo_data, demo_logins, check_deadlines]


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
