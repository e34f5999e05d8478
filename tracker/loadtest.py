"""`make loadtest`: the pages people use, under load, at a province's scale.

Builds (or reuses) a database of LOADTEST_LETTERS synthetic reply letters (default 100,000)
imported as an archive would be (the importer makes each letter's proposal, contacts and
commitment candidates); each proposal then gets its lead assignment (a third also a
co-handling unit with its opinion) and two contact logs, a fifth of the candidates are
confirmed, and for one letter in twenty a proposal of the same session is still being
handled, due around today. One in forty belongs to the demo clerk's unit, so 我的待办 has
real work in it.

It serves that database with gunicorn (WORKERS, default 2; THREADS each, default 1: gunicorn's
sync worker, one request at a time, as `make run` and the README's deployment serve), logs in as the
clerk, the unit supervisor, the coordinating office and the liaison, and runs wrk
(LOADTEST_CONNECTIONS, default 8, for LOADTEST_SECONDS, default 20) against each page; then
times the streamed proposal export (CSV and xlsx). One JSON line per page on standard output:
{"page", "db", "p50_ms", "p95_ms", "p99_ms", "rps", "errors"}; progress goes to stderr.

Environment: LOADTEST_DIR (default var/loadtest: the database, index and corpus, reused
while LOADTEST_LETTERS and the database URL are unchanged), TRACKER_DATABASE_URL (default a
SQLite file in LOADTEST_DIR; a PostgreSQL URL loads there), LOADTEST_PORT (default 5391),
LOADTEST_PAGES (comma-separated page names, default all), LOADTEST_FROM (a folder where the
loadtest built its SQLite database of as many letters: a PostgreSQL database is then copied
from it, table by table with COPY, and its search table filled, instead of importing the
letters again — an import into PostgreSQL on a busy 2-core machine takes hours).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 1
TODAY = date.today()

WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "RESULT %d %d %d %d %d %f\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, errors, summary.duration / 1e6))
end
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the data ----------------------------------------------------------------------------


def _settings(work: Path) -> dict:
    url = os.environ.get("TRACKER_DATABASE_URL") or f"sqlite:///{work / 'loadtest.db'}"
    return {
        "SECRET_KEY": "loadtest",
        "DATABASE_URL": url,
        "INDEX_DIR": str(work / "index"),
        "UPLOAD_DIR": str(work / "uploads"),
        "JOB_SPAWN": False,
        "JOB_LOG": str(work / "jobs.log"),
        "LOGIN_MAX_FAILURES": 1000,
        "LOGIN_ADDRESS_MAX_FAILURES": 1000,
    }


def build(work: Path, letters: int) -> dict:
    """The database, made once per (letters, database URL) and reused."""
    settings = _settings(work)
    marker = work / "built.json"
    wanted = {"letters": letters, "url": settings["DATABASE_URL"]}
    from flask_migrate import upgrade

    from tracker import create_app, current, demo, search_hooks
    from tracker.extensions import db

    if marker.exists() and json.loads(marker.read_text()) == wanted:
        log(f"reusing the database in {work}")
        with create_app(settings).app_context():
            upgrade()  # the indexes a newer schema adds
            refresh_statistics(db)  # as `tracker init-db` does
        return settings
    from tracker.letters.synth import write_corpus
    from tracker.services import vocab
    from tracker.services.corpus import Importer, iter_files

    marker.unlink(missing_ok=True)
    source = os.environ.get("LOADTEST_FROM")
    if source and not settings["DATABASE_URL"].startswith("sqlite"):
        copy_from(Path(source), letters, settings)
        marker.write_text(json.dumps(wanted))
        return settings
    if settings["DATABASE_URL"].startswith("sqlite:///"):
        Path(settings["DATABASE_URL"].removeprefix("sqlite:///")).unlink(missing_ok=True)
    shutil.rmtree(work / "index", ignore_errors=True)
    corpus = work / "corpus"
    if len(list(corpus.glob("*.txt"))) != letters:
        shutil.rmtree(corpus, ignore_errors=True)
        started = time.perf_counter()
        write_corpus(corpus, letters, SEED)
        log(f"generated {letters} letters in {time.perf_counter() - started:.0f} s")
    app = create_app(settings)
    with app.app_context():
        upgrade()
        vocab.ensure_defaults()
        demo.load()
        db.session.commit()
        started = time.perf_counter()
        files = list(iter_files([corpus]))
        importer = Importer(options=current.read_options(), search=current.search_engine())
        with search_hooks.deferred(db.session()):
            for number, _outcome in enumerate(importer.import_many(files), 1):
                if number % 1000 == 0:
                    db.session.commit()
                if number % 10000 == 0:
                    log(
                        f"  imported {number} letters, {number / (time.perf_counter() - started):.0f}/s"
                    )
            db.session.commit()
        log(f"imported {len(files)} letters in {time.perf_counter() - started:.0f} s")
    with app.app_context():  # a session of its own, nothing left of the import's
        started = time.perf_counter()
        _handling(db)
        refresh_statistics(db)  # as an import does
        log(
            f"proposals, assignments, contacts, commitments in {time.perf_counter() - started:.0f} s"
        )
        started = time.perf_counter()
        count = search_hooks.rebuild(app)
        log(f"indexed {count} letters in {time.perf_counter() - started:.0f} s")
    marker.write_text(json.dumps(wanted))
    return settings


def copy_from(source: Path, letters: int, settings: dict) -> None:
    """The SQLite database the loadtest built in `source`, copied into the (empty,
    PostgreSQL) database of `settings`; then its search index built."""
    from flask_migrate import upgrade
    from psycopg.types.json import Jsonb
    from sqlalchemy import JSON, create_engine, inspect, select, text

    from tracker import create_app, search_hooks
    from tracker.extensions import db

    built = json.loads((source / "built.json").read_text())
    if built["letters"] != letters or not built["url"].startswith("sqlite"):
        raise SystemExit(f"{source} holds no SQLite loadtest database of {letters} letters")
    app = create_app(settings)
    reader = create_engine(built["url"])
    with app.app_context():
        upgrade()
        present = set(inspect(reader).get_table_names())
        tables = [t for t in db.metadata.sorted_tables if t.name in present]
        with db.engine.begin() as connection:
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for table in tables:
                started = time.perf_counter()
                columns = [c.name for c in table.columns]
                wrap = [isinstance(c.type, JSON) for c in table.columns]
                quoted = ", ".join(f'"{name}"' for name in columns)
                count = 0
                with (
                    reader.connect() as source_db,
                    cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy,
                ):
                    result = source_db.execution_options(yield_per=5000).execute(select(table))
                    for row in result:
                        copy.write_row(
                            [
                                Jsonb(v) if w and v is not None else v
                                for v, w in zip(row, wrap, strict=True)
                            ]
                        )
                        count += 1
                if "id" in table.c:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'COALESCE((SELECT max(id) FROM "{table.name}"), 1))'
                    )
                log(f"  {table.name}: {count} rows in {time.perf_counter() - started:.0f} s")
            raw.commit()
        finally:
            raw.close()
        with db.engine.connect() as connection:  # the planner's statistics, the visibility map
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE")
            )
        started = time.perf_counter()
        count = search_hooks.rebuild(app)
        log(f"indexed {count} letters in {time.perf_counter() - started:.0f} s")


def refresh_statistics(db) -> None:
    from tracker.services import dbstats

    db.session.commit()
    dbstats.refresh(db.engine, changed=0)


def _handling(db) -> None:
    """A proposal for every imported letter, handled as an office would have handled it."""
    _Handling(db.session).run()


class _Handling:
    """Writes the proposals, assignments and contacts of the imported letters in batches."""

    BATCH = 500

    def __init__(self, session) -> None:
        from sqlalchemy import select

        from tracker.models import CongressSession, Proposal, Unit, User

        self.session = session
        self.rng = random.Random(SEED)
        clerk = session.execute(select(User).filter_by(username="clerk")).scalar_one()
        self.home = clerk.unit_id
        self.units = {u.name: u.id for u in session.execute(select(Unit)).scalars()}
        self.unit_ids = list(self.units.values())
        self.sessions = {s.name: s.id for s in session.execute(select(CongressSession)).scalars()}
        self.taken = {
            tuple(row) for row in session.execute(select(Proposal.session_id, Proposal.number))
        }

    def run(self) -> None:
        """The importer made a proposal for each letter from what the letter prints; here
        each gets its lead (and co) assignment and contacts, and one letter in twenty also
        brings a new proposal of the same session still being handled, due around today."""
        from sqlalchemy import exists, select, update

        from tracker.models import Assignment, Commitment, Proposal, ReplyLetter

        rows = self.session.execute(
            select(
                ReplyLetter.id,
                ReplyLetter.proposal_id,
                ReplyLetter.issuer,
                ReplyLetter.letter_on,
                Proposal.session_id,
                Proposal.kind,
                Proposal.title,
                Proposal.lead_proposer,
            )
            .join(Proposal, Proposal.id == ReplyLetter.proposal_id)
            .where(~exists().where(Assignment.proposal_id == Proposal.id))
        ).all()
        batch = []
        for n, row in enumerate(rows):
            batch.append(self.plan(n, row))
            if n % 20 == 0:
                batch.append(self.open_item(n, row))
            if len(batch) >= self.BATCH:
                self.write(batch)
                if n % 10000 < self.BATCH:
                    log(f"  {n} letters handled")
        self.write(batch)
        # a fifth of the found commitments confirmed: still open from the last two years'
        # letters, done from older ones (an office closes its old promises)
        recent = select(ReplyLetter.id).where(ReplyLetter.letter_on >= TODAY - timedelta(days=730))
        confirmed = (Commitment.id % 5 == 0, Commitment.proposal_id.is_not(None))
        for status, when in (
            ("open", Commitment.letter_id.in_(recent)),
            ("done", Commitment.letter_id.not_in(recent)),
        ):
            self.session.execute(
                update(Commitment)
                .where(*confirmed, when)
                .values(
                    status=status,
                    confirmed_at=datetime.now(),
                    done_on=TODAY - timedelta(days=30) if status == "done" else None,
                )
            )
        self.session.commit()

    def plan(self, n: int, row) -> dict:
        """The replied proposal of an imported letter."""
        letter_on = row.letter_on or date(2022, 6, 30)
        unit_id = self.home if n % 40 == 0 else self.unit_id(row.issuer or "")
        return {
            "letter_id": row.id,
            "proposal_id": row.proposal_id,
            "unit_id": unit_id,
            "assigned_on": letter_on - timedelta(days=60),
            "replied_on": letter_on,
            "proposal": None,
        }

    def open_item(self, n: int, row) -> dict:
        """A proposal like the letter's, assigned weeks ago and not answered yet."""
        number = f"L{n}"
        while (row.session_id, number) in self.taken:
            number += "x"
        self.taken.add((row.session_id, number))
        assigned = TODAY - timedelta(days=self.rng.randint(20, 85))
        unit_id = self.home if n % 40 == 0 else self.unit_id(row.issuer or "")
        proposal = {
            "session_id": row.session_id,
            "kind": row.kind,
            "number": number,
            "title": row.title,
            "lead_proposer": row.lead_proposer,
            "co_signers": [],
            "submitted_on": assigned - timedelta(days=10),
            "assigned_on": assigned,
            "status": "handling",
        }
        return {
            "letter_id": None,
            "proposal_id": None,
            "unit_id": unit_id,
            "assigned_on": assigned,
            "replied_on": None,
            "proposal": proposal,
        }

    def session_id(self, name: str, year: int) -> int:
        from tracker.models import CongressSession

        if name not in self.sessions:
            body = "政协" if "政协" in name else "人大"
            row = CongressSession(name=name[:80], body=body, year=year)
            self.session.add(row)
            self.session.flush()
            self.sessions[name] = row.id
        return self.sessions[name]

    def unit_id(self, issuer: str) -> int:
        from sqlalchemy import insert

        from tracker.models import Unit

        if issuer and issuer not in self.units:
            uid = self.session.execute(
                insert(Unit).values(name=issuer[:120], short_names=[]).returning(Unit.id)
            ).scalar()
            self.units[issuer] = uid
            self.unit_ids.append(uid)
        return self.units.get(issuer) or self.rng.choice(self.unit_ids)

    def write(self, batch: list[dict]) -> None:
        from sqlalchemy import update

        from tracker.models import Assignment, Commitment, ContactLog, Proposal, ReplyLetter

        new = {id(item): Proposal(**item["proposal"]) for item in batch if item["proposal"]}
        self.session.add_all(new.values())
        self.session.flush()  # their ids
        for item in batch:
            pid = new[id(item)].id if item["proposal"] else item["proposal_id"]
            unit_id, on = item["unit_id"], item["assigned_on"]
            self.session.add_all(
                Assignment(**values) for values in self.assignments(pid, unit_id, on, item)
            )
            self.session.add_all(
                ContactLog(
                    proposal_id=pid,
                    unit_id=unit_id,
                    contacted_on=on + timedelta(days=d),
                    channel=channel,
                    phase=phase,
                    participants="承办人",
                    summary="沟通办理意见。",
                )
                for d, channel, phase in ((10, "电话", "before"), (40, "微信", "during"))
            )
            if item["letter_id"] is not None:
                self.session.execute(
                    update(Proposal)
                    .where(Proposal.id == pid)
                    .values(assigned_on=on, status="replied")
                    .execution_options(synchronize_session=False)
                )
                for model, key in (
                    (ReplyLetter, ReplyLetter.id),
                    (Commitment, Commitment.letter_id),
                ):
                    self.session.execute(
                        update(model)
                        .where(key == item["letter_id"])
                        .values(unit_id=unit_id)
                        .execution_options(synchronize_session=False)
                    )
        batch.clear()
        self.session.commit()
        self.session.expunge_all()

    def assignments(self, pid: int, unit_id: int, on: date, item: dict) -> list[dict]:
        """The lead unit, and in a third of the items a co-handling unit with its opinion."""
        due = on + timedelta(days=91)
        lead = {
            "proposal_id": pid,
            "unit_id": unit_id,
            "role": "lead",
            "assigned_on": on,
            "due_on": due,
            "original_due_on": due,
            "max_due_on": on + timedelta(days=182),
            "reassign_until": on + timedelta(days=7),
            "signed_for_at": datetime.combine(on + timedelta(days=1), datetime.min.time()),
            "replied_on": item["replied_on"],
            "opinion_on": None,
            "opinion_text": None,
        }
        co = self.rng.choice(self.unit_ids) if self.rng.random() < 0.33 else unit_id
        if co == unit_id:
            return [lead]
        return [
            lead,
            {
                **lead,
                "unit_id": co,
                "role": "co",
                "due_on": on + timedelta(days=30),
                "original_due_on": on + timedelta(days=30),
                "max_due_on": None,
                "replied_on": None,
                "opinion_on": on + timedelta(days=20),
                "opinion_text": "同意主办单位意见。",
            },
        ]


# -- serving and measuring ------------------------------------------------------------------


def port_in_use(port: int) -> bool:
    """Something already listens on the port (a server left from an earlier run): the
    figures would be that server's, on whatever database and code it has."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def serve(settings: dict, port: int, workers: int) -> subprocess.Popen:
    if port_in_use(port):
        raise SystemExit(
            f"port {port} is in use (a server left from an earlier run?): stop it, or set "
            "LOADTEST_PORT to a free port"
        )
    env = {
        **os.environ,
        **{f"TRACKER_{k}": v if isinstance(v, str) else json.dumps(v) for k, v in settings.items()},
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",
            os.environ.get("THREADS", "1"),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(600):
        if process.poll() is not None:  # (it could not bind the port, or the app failed)
            raise SystemExit(f"gunicorn exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return process
        except OSError:
            time.sleep(0.5)
    stop(process)
    raise SystemExit("gunicorn did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(base: str, username: str) -> str:
    """The Cookie header of a logged-in browser."""
    from tracker.demo import DEMO_PASSWORD

    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    with browser.open(f"{base}/login") as answer:
        page = answer.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrf_token": token, "username": username, "password": DEMO_PASSWORD}
    ).encode()
    request = urllib.request.Request(
        f"{base}/login", data=form, headers={"Referer": f"{base}/login"}
    )
    try:
        browser.open(request)
        status = 200
    except urllib.error.HTTPError as answer:  # the redirect after a successful login
        status = answer.code
    if status != 302:
        raise SystemExit(f"login as {username} failed: {status}")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(url: str, cookie: str | None, connections: int, seconds: int, script: Path) -> dict:
    command = [
        "wrk",
        "-t",
        str(min(2, connections)),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) ([\d.]+)", output)
    p50, p95, p99, requests_, errors, duration = found.groups()
    return {
        "p50_ms": round(int(p50) / 1000, 1),
        "p95_ms": round(int(p95) / 1000, 1),
        "p99_ms": round(int(p99) / 1000, 1),
        "rps": round(int(requests_) / float(duration), 1),
        "errors": int(errors),
    }


def _ids(settings: dict) -> dict:
    from sqlalchemy import select

    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import Assignment, ReplyLetter, User

    app = create_app(settings)
    with app.app_context():
        clerk = db.session.execute(select(User).filter_by(username="clerk")).scalar_one()
        proposal = db.session.execute(
            select(Assignment.proposal_id)
            .where(Assignment.unit_id == clerk.unit_id, Assignment.role == "lead")
            .order_by(Assignment.id.desc())
            .limit(1)
        ).scalar_one()
        letter = db.session.execute(
            select(ReplyLetter.id)
            .where(ReplyLetter.unit_id == clerk.unit_id, ReplyLetter.proposal_id.is_not(None))
            .order_by(ReplyLetter.id.desc())
            .limit(1)
        ).scalar_one()
        dialect = db.engine.dialect.name
    return {"proposal": proposal, "letter": letter, "db": dialect}


PAGES = [
    ("todo", "clerk", "/todo"),
    ("proposals", "duban", "/proposals"),
    (
        "proposals_filtered",
        "duban",
        "/proposals?status=replied&classification=A&q=%E5%BB%BA%E8%AE%BE",
    ),
    ("proposals_page_500", "duban", "/proposals?page=500"),
    ("proposal", "clerk", "/proposals/{proposal}"),
    ("letter", "clerk", "/letters/{letter}"),
    ("commitments", "supervisor", "/commitments"),
    ("dashboard", "duban", "/dashboard"),
    ("search", "liaison", "/search?q=%E5%B7%A5%E4%BD%9C"),
    ("public_search", None, "/public/?q=%E5%B7%A5%E4%BD%9C"),
]


def export_timing(base: str, cookie: str, fmt: str) -> dict:
    """The first byte and the whole of the unfiltered proposal export (csv or xlsx)."""
    request = urllib.request.Request(f"{base}/proposals/export.{fmt}", headers={"Cookie": cookie})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as answer:
        answer.read(1)
        first = time.perf_counter() - started
        size = 1
        while chunk := answer.read(65536):
            size += len(chunk)
        status = answer.status
    return {
        "page": f"export_{fmt}",
        "first_byte_ms": round(first * 1000, 1),
        "total_ms": round((time.perf_counter() - started) * 1000, 1),
        "mb": round(size / 1e6, 1),
        "status": status,
    }


def main() -> int:
    letters = int(os.environ.get("LOADTEST_LETTERS", "100000"))
    work = Path(os.environ.get("LOADTEST_DIR") or ROOT / "var" / "loadtest")
    work.mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("LOADTEST_PORT", "5391"))
    workers = int(os.environ.get("WORKERS", "2"))
    connections = int(os.environ.get("LOADTEST_CONNECTIONS", "8"))
    seconds = int(os.environ.get("LOADTEST_SECONDS", "20"))
    chosen = set(filter(None, os.environ.get("LOADTEST_PAGES", "").split(",")))
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    settings = build(work, letters)
    ids = _ids(settings)
    base = f"http://127.0.0.1:{port}"
    process = serve(settings, port, workers)
    try:
        cookies = {u: login(base, u) for u in ("clerk", "supervisor", "duban", "liaison")}
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_REPORT)
        for name, user, path in PAGES:
            if chosen and name not in chosen:
                continue
            url = base + path.format(**ids)
            wrk(url, cookies.get(user), 1, 2, Path(script.name))  # warm up
            figures = wrk(url, cookies.get(user), connections, seconds, Path(script.name))
            print(json.dumps({"page": name, "db": ids["db"], **figures}), flush=True)
        for fmt in ("csv", "xlsx"):
            if not chosen or f"export_{fmt}" in chosen:
                timing = export_timing(base, cookies["duban"], fmt)
                print(json.dumps({**timing, "db": ids["db"]}), flush=True)
        Path(script.name).unlink(missing_ok=True)
    finally:
        stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
