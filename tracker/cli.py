"""Operations commands. `tracker COMMAND` is the same as `flask --app tracker COMMAND`.
Scripts depend on these names and options: keep them stable."""

from __future__ import annotations

import json
import sys
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker.extensions import db


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

    from tracker import search_hooks
    from tracker.services import dbstats, vocab

    is_new = not inspect(db.engine).has_table("alembic_version")
    upgrade()
    added = vocab.ensure_defaults()
    db.session.commit()
    dbstats.refresh(db.engine, changed=0)
    state = "created" if is_new else "upgraded"
    click.echo(
        f"database {state}: {_safe_url(current_app.config['DATABASE_URL'])}"
        + (f" ({added} vocabulary terms added)" if added else "")
    )
    for line in search_hooks.prepare(current_app._get_current_object()):
        click.echo(line)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["clerk", "supervisor", "liaison", "admin", "deputy"]),
)
@click.option("--unit", "unit_name", help="Unit full or short name; created when none matches.")
@click.option("--name", "display_name", default="", help="Display name (姓名).")
@click.option(
    "--deputy-name",
    default=None,
    help="For --role deputy: the name proposals give as proposer (领衔 or 附议), e.g. 曾志伟.",
)
@click.option("--email", default=None, help="E-mail address for notifications.")
@click.option("--phone", default=None, help="Mobile number for SMS notifications.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user(
    username: str,
    role: str,
    unit_name: str | None,
    display_name: str,
    deputy_name: str | None,
    email: str | None,
    phone: str | None,
    password_stdin: bool,
) -> None:
    """Create a user; UNIT matches a unit's full or short name and is created when none does.
    A deputy (--role deputy) is linked to proposals by --deputy-name."""
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
            display_name=display_name or (deputy_name or "").strip(),
            deputy_name=deputy_name,
            email=email,
            phone=phone,
        )
    except DomainError as error:
        _fail(str(error))
    db.session.commit()
    click.echo(
        f"user {user.username} created: role {role}"
        + (f", deputy {user.deputy_name}" if user.deputy_name else "")
        + (f", unit {unit.name}" + (" (new unit)" if unit_created else "") if unit else "")
    )


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Only load when the database has no users yet.")
@click.option(
    "--synthetic",
    default=0,
    type=click.IntRange(0),
    help="Also generate and import this many synthetic letters (marked syn_).",
)
@with_appcontext
def demo_data(if_empty: bool, synthetic: int) -> None:
    """Load the demo units, users, proposals and the corpus/ letters (idempotent)."""
    from tracker import demo
    from tracker.models import User
    from tracker.services import dbstats

    if if_empty and db.session.execute(db.select(User.id).limit(1)).first():
        click.echo("database already has data: demo not loaded")
        return
    report = demo.load()
    db.session.commit()
    click.echo(f"demo data: {report}")
    corpus_dir = current_app.config["CORPUS_DIR"]
    counts = demo.import_corpus(corpus_dir)
    db.session.commit()
    click.echo(f"corpus {corpus_dir}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    if synthetic:
        from pathlib import Path

        from tracker.letters.synth import write_corpus

        folder = Path(current_app.instance_path).parent / "demo-corpus"
        for old in folder.glob("syn_*.txt"):  # exactly the letters asked for
            old.unlink()
        write_corpus(folder, synthetic, seed=1)
        counts = demo.import_corpus(str(folder))
        db.session.commit()
        click.echo("synthetic letters: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    replies = demo.year_of_replies()
    last_year = demo.last_year_of_replies()
    finalized = demo.finalize_last_year()
    confirmed = demo.follow_ups()
    db.session.commit()
    dbstats.refresh(db.engine)
    click.echo(f"this year's replies: {replies} added; commitments confirmed: {confirmed}")
    click.echo(
        f"last year's replies (for last year's 考评): {last_year} added"
        + ("; last year's 考评 finalized" if finalized else "")
    )
    from tracker import current
    from tracker.services import notifiers, reminders

    sent = reminders.run(
        current.today(),
        notifiers=[notifiers.InAppNotifier()],
        soon_days=current.due_soon_days(),
        link=current.site_path,
    )
    click.echo(f"in-app reminders: {sent.sent('inapp')} for today")


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
    from tracker.current import due_soon_days, today
    from tracker.services import todo

    day: date = today_.date() if today_ else today()
    horizon = days if days is not None else due_soon_days()
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


@click.command("assess")
@click.option("--year", required=True, type=click.IntRange(1990, 2100), help="The year (YYYY).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a unit.")
@with_appcontext
def assess(year: int, as_json: bool) -> None:
    """Print the year's assessment (考评) of the handling units, best first."""
    from tracker.current import today
    from tracker.services import assessment

    result = assessment.assess(year, today())
    if not as_json:
        state = "已定稿" if result.finalized else "未定稿，按当前方案试算"
        click.echo(
            f"{year}年度考评 · 考评方案第{result.scheme.version}版 · 满分{result.full_marks:g}"
            f" · {state}"
        )
    for row in result.rows:
        if as_json:
            click.echo(json.dumps(assessment.as_json(row), ensure_ascii=False))
            continue
        parts = "；".join(
            f"{p.label} {p.earned:+.2f}（{p.numerator}"
            + (f"/{p.denominator}" if p.mode == "rate" else "件")
            + "）"
            for p in row.items
        )
        click.echo(f"{row.rank}\t{row.unit.name}\t{row.score:.2f}\t{parts}")


@click.command("parse-letter")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@with_appcontext
def parse_letter(files: tuple[str, ...]) -> None:
    """Parse reply letters and print one JSON object per file (JSON Lines); files read as
    the import reads them (its size limit, LibreOffice for .doc and .wps)."""
    from tracker.letters.parser import parse_file
    from tracker.services.corpus import read_options

    options = read_options(current_app.config)
    failed = False
    for name in files:
        result = parse_file(name, options)
        result.pop("body", None)  # the letter's text itself: the importer's, not the report's
        failed = failed or "error" in result
        click.echo(json.dumps(result, ensure_ascii=False))
    if failed:
        sys.exit(1)


@click.command("import-letters")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--quiet", is_flag=True, help="Print only the summary.")
@with_appcontext
def import_letters(paths: tuple[str, ...], quiet: bool) -> None:
    """Import reply letters into the database and the search index: .txt, .docx, .pdf,
    .html/.htm, .doc/.wps (with LibreOffice), files and folders, and .zip archives of them.
    One line a file: status, file, [format it was read as], reason."""
    from tracker import current, search_hooks
    from tracker.services import dbstats
    from tracker.services.corpus import STATUSES, Importer, iter_sources

    importer = Importer(options=current.read_options(), search=current.search_engine())
    sources = list(iter_sources(paths, importer.options))
    counts: dict[str, int] = {}
    outcomes = []
    show_bar = sys.stderr.isatty() and not quiet
    with (
        search_hooks.deferred(db.session()),
        click.progressbar(
            importer.import_many(sources),
            length=len(sources),
            label="importing",
            file=sys.stderr,
            hidden=not show_bar,
        ) as bar,
    ):
        for number, outcome in enumerate(bar, 1):
            outcomes.append(outcome)
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            if number % 500 == 0:
                db.session.commit()
        db.session.commit()
    dbstats.refresh(db.engine, changed=len(sources))
    if not quiet:
        for outcome in outcomes:
            if outcome.status != "unchanged" or len(outcomes) <= 50:
                click.echo(outcome.line())
    summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in STATUSES)
    click.echo(f"{len(sources)} files: {summary}")
    if counts.get("failed"):
        sys.exit(1)


@click.command("import-proposals")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--session", "session_name", default=None, help="届次 of rows without one.")
@click.option(
    "--assign-on",
    "assign_on",
    default=None,
    type=click.DateTime(["%Y-%m-%d"]),
    help="交办日期 of rows that name units but no date.",
)
@click.option("--dry-run", is_flag=True, help="Check and print the preview; save nothing.")
@click.option(
    "--user",
    "username",
    default=None,
    help="Who imports (a liaison, the coordinating office or the admin; audit trail). "
    "Default: the first active admin.",
)
@with_appcontext
def import_proposals(file: str, session_name, assign_on, dry_run: bool, username) -> None:
    """批量导入: register (and assign) the proposals of a 交办清单, .xlsx or .csv (UTF-8 or
    GB18030), its columns matched by their Chinese headings.

    Prints one line for each row that is new, updated, refused (past assignment: not
    changed) or wrong, then the summary. The valid rows are saved in one transaction even
    when some rows fail, as on the 批量导入 page: fix the rows reported and import the same
    file again (rows already saved are unchanged). Use --dry-run to check first. Exits 1
    when a row failed or was refused."""
    from pathlib import Path

    from tracker import current
    from tracker.models import User
    from tracker.services import dbstats, proposal_batch
    from tracker.services.errors import DomainError, PermissionDenied

    query = db.select(User).where(User.active.is_(True))
    if username:
        query = query.where(User.username == username)
    else:
        query = query.where(User.role == "admin").order_by(User.id)
    actor = db.session.execute(query.limit(1)).scalar_one_or_none()
    if actor is None:
        _fail(
            f"找不到用户 {username}。" if username else "没有可用的管理员账号，请用 --user 指定。"
        )
    path = Path(file)
    try:
        sheet = proposal_batch.read_upload(path.read_bytes(), path.name, 2**31)
        plan = proposal_batch.plan(
            actor,
            sheet.rows,
            session=session_name,
            assign_on=assign_on.date() if assign_on else None,
            today=current.today(),
            policy=current.deadline_policy(),
        )
        for row in plan.rows:
            if row.action == "unchanged":
                continue
            why = "；".join(row.errors or row.changes)
            click.echo(
                f"第{row.line}行\t{row.action_label}\t{row.row.number or ''}"
                f"\t{row.row.title or ''}" + (f"\t{why}" if why else "")
            )
        if dry_run:
            db.session.rollback()
            click.echo(f"试运行，未保存。{plan.summary()}")
        else:
            result = proposal_batch.apply(
                actor, plan, policy=current.deadline_policy(), today=current.today()
            )
            db.session.commit()
            dbstats.refresh(db.engine, changed=len(plan.rows))
            click.echo(f"{plan.summary()}。{result.summary()}")
    except PermissionDenied:
        _fail(f"用户 {actor.username} 无权批量导入（须为联络员、督办部门或管理员）。")
    except DomainError as error:
        _fail(str(error))
    counts = plan.counts()
    if counts["error"] or counts["refused"]:
        sys.exit(1)


@click.command("run-jobs")
@click.option("--job", "job_id", type=int, help="Run this job only.")
@click.option("--forever", is_flag=True, help="Keep looking for jobs (for a systemd service).")
@click.option(
    "--interval", default=5.0, show_default=True, help="Seconds between looks with --forever."
)
@with_appcontext
def run_jobs(job_id: int | None, forever: bool, interval: float) -> None:
    """Run background jobs (imports from the 导入答复函 page) and resume those whose runner
    died. From cron every minute, or as a service with --forever."""
    import time

    from tracker import runner
    from tracker.collector import collect_at_safe_points

    app = current_app._get_current_object()
    if not app.testing:  # a test's process keeps the collector it has
        collect_at_safe_points()  # a job and its heartbeat are two threads: collector.py
    while True:
        count = runner.run_pending(app, job_id=job_id)
        if count:
            click.echo(f"{count} job(s) run")
        if not forever:
            return
        time.sleep(interval)


@click.command("reindex")
@with_appcontext
def reindex() -> None:
    """Rebuild the search index from the database."""
    from tracker import search_hooks

    count = search_hooks.rebuild(current_app._get_current_object())
    click.echo(f"index rebuilt: {count} letters")


@click.command("search")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--year", type=int)
@click.option("--issuer")
@click.option("--kind", type=click.Choice(["建议", "提案", "议案"]))
@click.option("--class", "classification")
@with_appcontext
def search(
    query: str,
    as_json: bool,
    limit: int,
    year: int | None,
    issuer: str | None,
    kind: str | None,
    classification: str | None,
) -> None:
    """Search the reply letters (all letters: this is the operator's view)."""
    from tracker import current
    from tracker.services import search as search_service

    filters = {
        k: str(v)
        for k, v in (
            ("year", year),
            ("issuer", issuer),
            ("kind", kind),
            ("classification", classification),
        )
        if v
    }
    result = search_service.run(
        query, filters=filters, per_page=limit, with_facets=False, engine=current.search_engine()
    )
    if result.error:
        _fail(result.error)
    for hit in result.hits:
        if as_json:
            click.echo(json.dumps(search_service.hit_json(hit), ensure_ascii=False))
        else:
            click.echo(
                f"{hit.score:7.2f}  {hit.letter_on or '':10}  {hit.doc_number or '-'}  {hit.title}"
            )
    if not as_json:
        click.echo(f"{result.total} letters match", err=True)


@click.command("gen-corpus")
@click.option("--letters", "count", default=1000, show_default=True, type=click.IntRange(1))
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--seed", default=1, show_default=True, type=int)
def gen_corpus(count: int, out: str, seed: int) -> None:
    """Write deterministic synthetic reply letters (for demos and benchmarks)."""
    from tracker.letters.synth import write_corpus

    written = write_corpus(out, count, seed)
    click.echo(f"{written} letters written to {out}")


@click.command("export-letter")
@click.argument("doc_number", required=False)
@click.option("--proposal", "proposal_number", help="The proposal's number instead of DOC_NUMBER.")
@click.option("--session", "session_name", help="With --proposal: the session, when ambiguous.")
@click.option("--format", "fmt", required=True, type=click.Choice(["docx", "pdf", "html"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@with_appcontext
def export_letter(
    doc_number: str | None,
    proposal_number: str | None,
    session_name: str | None,
    fmt: str,
    out: str,
) -> None:
    """Write a reply letter as .docx, PDF or HTML (any letter in the database)."""
    from pathlib import Path

    from tracker.models import ReplyLetter
    from tracker.services import exporting

    if bool(doc_number) == bool(proposal_number):
        _fail("请给出文号，或用 --proposal 给出建议/提案编号（二者选一）。")
    query = db.select(ReplyLetter)
    if doc_number:
        query = query.where(ReplyLetter.doc_number == doc_number.strip())
    else:
        query = query.where(ReplyLetter.proposal_number == proposal_number.strip())
        if session_name:
            query = query.where(ReplyLetter.session_name == session_name.strip())
    letters = (
        db.session.execute(query.order_by(ReplyLetter.round.desc(), ReplyLetter.id.desc()))
        .scalars()
        .all()
    )
    if not letters:
        _fail("找不到该答复函。")
    sessions = {le.session_name for le in letters}
    if proposal_number and len(sessions) > 1:
        _fail(
            "多个会议都有该编号，请用 --session 指定：" + "、".join(sorted(filter(None, sessions)))
        )
    letter = letters[0]
    Path(out).write_bytes(exporting.render(letter, fmt))
    click.echo(f"{letter.title or letter.doc_number} -> {out}")


@click.command("remind")
@click.option("--dry-run", is_flag=True, help="Print each user's digest; send and record nothing.")
@click.option(
    "--date",
    "date_",
    default=None,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Remind as of this day instead of today.",
)
@click.option("--user", "username", default=None, help="Only this user.")
@with_appcontext
def remind(dry_run: bool, date_, username: str | None) -> None:
    """Send each user a digest of what is due soon or overdue (for cron, once a day).

    In-app always; e-mail when SMTP_HOST is set; SMS when SMS_WEBHOOK_URL is set. An item
    goes to a user at most once a day per channel. Exits 1 when a channel failed (what
    failed is not recorded, so the next run retries it)."""
    from tracker import current
    from tracker.models import User
    from tracker.services import reminders
    from tracker.services.digest import absolute
    from tracker.services.notifiers import CHANNEL_LABELS

    day: date = date_.date() if date_ else current.today()
    users = None
    if username:
        user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one_or_none()
        if user is None:
            _fail(f"找不到用户 {username}。")
        if not user.active:
            _fail(f"用户 {username} 已停用。")
        users = [user]
    report = reminders.run(
        day,
        notifiers=current.reminder_channels(),
        soon_days=current.due_soon_days(),
        link=current.site_path,
        dry_run=dry_run,
        users=users,
    )

    def counts(sent: dict[str, int], unreachable: list[str]) -> str:
        return "，".join(
            f"{CHANNEL_LABELS.get(c, c)}{'—' if c in unreachable else sent.get(c, 0)}"
            for c in report.channels
        )

    base_url = current_app.config["BASE_URL"]
    if dry_run:
        click.echo(f"试运行（{day.isoformat()}）：只显示提醒内容，不发送，不记录。")
    for result in report.users:
        click.echo(
            f"{result.username}: {len(result.items)}项（{counts(result.sent, result.unreachable)}）"
        )
        if dry_run:
            for item in result.items:
                click.echo(f"  {item.text}")
                click.echo(f"    {absolute(base_url, item.url)}")
        for error in result.errors:
            click.echo(f"  错误：{error}", err=True)
    total = {c: report.sent(c) for c in report.channels}
    click.echo(
        f"合计：{len(report.users)}位用户，{report.item_count}项（{counts(total, [])}）"
        + ("，试运行未发送" if dry_run else "")
    )
    if report.failed:
        sys.exit(1)


@click.command("backup")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="The backup file to write."
)
@with_appcontext
def backup(out: str) -> None:
    """Back up the database, the uploaded files and the instance key while the app runs."""
    from pathlib import Path

    from tracker import backup as backups
    from tracker import current

    try:
        report = backups.create(
            Path(out),
            engine=db.engine,
            upload_dir=current.upload_dir(),
            instance_dir=Path(current_app.instance_path),
        )
    except backups.BackupError as exc:
        _fail(str(exc))
    click.echo(
        f"backup written: {out} ({report.dialect}, {report.rows} rows in "
        f"{len(report.tables)} tables, {report.files} files)"
    )


@click.command("verify-backup")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
def verify_backup(archive: str) -> None:
    """Check a backup file without restoring it: checksums, the database's integrity and
    its row counts."""
    from pathlib import Path

    from tracker import backup as backups

    try:
        report = backups.verify(Path(archive))
    except backups.BackupError as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(1)
    click.echo(
        f"backup OK: made {report.created_at} from {report.dialect} "
        f"(schema {report.revision or 'unknown'}), {report.rows} rows in "
        f"{len(report.tables)} tables, {report.files} files, {report.bytes} bytes"
    )
    for name, count in report.tables.items():
        click.echo(f"  {name}: {count}")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore(archive: str) -> None:
    """Restore a backup into an empty database and upload folder, then rebuild the search
    index."""
    from pathlib import Path

    from flask_migrate import upgrade

    from tracker import backup as backups
    from tracker import current, search_hooks
    from tracker.services import dbstats

    try:
        report = backups.restore(
            Path(archive),
            engine=db.engine,
            upload_dir=current.upload_dir(),
            instance_dir=Path(current_app.instance_path),
        )
    except backups.BackupError as exc:
        _fail(str(exc))
    if report.revision:
        upgrade()  # a backup made by an older version gets the newer schema
    dbstats.refresh(db.engine)
    count = search_hooks.rebuild(current_app._get_current_object())
    click.echo(
        f"restored: {report.rows} rows in {len(report.tables)} tables, {report.files} files "
        f"into {_safe_url(current_app.config['DATABASE_URL'])}; index rebuilt: {count} letters"
    )


COMMANDS = [
    init_db,
    create_user,
    demo_data,
    demo_logins,
    check_deadlines,
    assess,
    parse_letter,
    import_letters,
    import_proposals,
    run_jobs,
    reindex,
    search,
    gen_corpus,
    export_letter,
    remind,
    backup,
    verify_backup,
    restore,
]


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
