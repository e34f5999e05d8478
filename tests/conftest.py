"""Test fixtures: an app on a temporary database, a browser-like client with CSRF on, and
factories for units, users and proposals that go through the services.

The apps' database is SQLite, or PostgreSQL with TRACKER_TEST_DATABASE=postgres (``make test
TEST_DATABASE=postgres``): then every test's app has a database of its own on the session's
server (tests/postgres_cluster.py), made from a template database in one CREATE DATABASE and
dropped after the test."""

from __future__ import annotations

import atexit
import functools
import gc
import hashlib
import logging
import os
import re
import shutil
import sqlite3
import sys
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from postgres_cluster import pg_server  # noqa: F401  (the session's PostgreSQL server)
from scratch import memory_folder
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from werkzeug.routing import Rule

from tracker import create_app, current
from tracker.extensions import db
from tracker.models import Proposal, Unit, User
from tracker.services import proposals as svc
from tracker.services import users, vocab

# the database of the tests' apps: "sqlite" (a file per test) or "postgres"
DATABASE = os.environ.get("TRACKER_TEST_DATABASE", "").strip().lower() or "sqlite"
if DATABASE not in ("sqlite", "postgres"):
    raise pytest.UsageError(f"TRACKER_TEST_DATABASE is sqlite or postgres, not {DATABASE!r}")
ON_POSTGRES = DATABASE == "postgres"

TODAY = date(2026, 6, 15)  # a Monday; the official calendar covers 2026
PASSWORD = "correct-horse-9"
CSRF_RE = re.compile(
    r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"'
    r'|name="csrf_token" value="([^"]+)"'
)


def _exit_without_finalizing() -> None:
    """A pytest-xdist worker ends as soon as its results are sent: Python's own shutdown
    (freeing every object of a worker's session one by one) kept the run waiting 2-6 s for
    the workers to exit. Registered as the conftest loads: what the tests register later
    runs before it; the handlers of modules loaded before it are skipped with the rest of
    the shutdown (logging's, which flushes the logs, is called here)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if os.environ.get("PYTEST_XDIST_WORKER"):
    atexit.register(_exit_without_finalizing)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config) -> None:
    """The tests' folders (tmp_path) in memory when there is room (scratch.py): a folder
    for the run (its process id in the name, so that two runs in one checkout keep apart),
    the workers' folders inside it (pytest-xdist); removed when the run passes, else kept
    to be looked at until a later run of the checkout finds its process gone. Unless
    --basetemp says where."""
    if config.option.basetemp is not None or hasattr(config, "workerinput"):
        return
    folder = memory_folder()
    if folder is None:
        return
    checkout = hashlib.sha1(str(config.rootpath).encode()).hexdigest()[:10]
    prefix = f"tracker-tests-{os.getuid()}-{checkout}-"
    for left in folder.glob(f"{prefix}*"):
        run = left.name.removeprefix(prefix)
        if run.isdigit() and not _running(int(run)):
            shutil.rmtree(left, ignore_errors=True)
    config.option.basetemp = str(folder / f"{prefix}{os.getpid()}")
    config.stash[_IN_MEMORY] = Path(config.option.basetemp)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_IN_MEMORY = pytest.StashKey[Path]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    """A run that passed leaves nothing in memory (a failed run's folders are kept, to be
    looked at). Last, after pytest-xdist has stopped the workers."""
    folder = session.config.stash.get(_IN_MEMORY, None)
    if folder is not None and exitstatus == 0:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_collection_modifyitems(config, items) -> None:
    """The tests that take seconds (marked slow or long) first, the others in their order:
    a worker that drew a long test near the end kept the run waiting for it while the other
    had nothing left (pytest-xdist's worksteal takes the waiting tests from the end)."""
    items.sort(
        key=lambda item: not (item.get_closest_marker("slow") or item.get_closest_marker("long"))
    )


def pytest_collection_finish(session) -> None:
    """The collector's full passes walked every object of a worker's session, 250 ms each,
    about forty times (6 s of a worker's 75): what the imports and the collection made is
    set aside for good (as wsgi.py does for a server), and a full pass waits for a hundred
    younger ones instead of ten, the youngest for 20,000 new objects instead of 700 (an app
    and its pages are mostly gone by then). Every object is still collected: cycles a test
    leaves are found by the next full pass (test_suite_rules: closed apps are freed)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 100)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Every test runs: a skipped test (a missing tool or package, say) fails the suite, with
    the reason it gave, instead of passing it quietly."""
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} was skipped ({reason}); every test must run: "
            "install what it needs (pip install -e '.[test]', see the README)."
        )
    return report


def _fast_hashing(monkeypatch) -> None:
    """Production hashes with scrypt; tests use a cheap pbkdf2 so the suite stays fast.
    (Login still goes through check_password_hash, which reads the method from the hash.)"""
    from functools import partial

    from werkzeug.security import generate_password_hash

    import tracker.models

    monkeypatch.setattr(
        tracker.models,
        "generate_password_hash",
        partial(generate_password_hash, method="pbkdf2:sha256:1000"),
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    _fast_hashing(monkeypatch)


def pytest_report_header(config) -> str:
    return f"tracker: the apps' database is {DATABASE}"


def app_settings(tmp_path) -> dict:
    """The configuration of the test app (another app on the same files shares its data)."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": database_url(tmp_path),
        "INDEX_DIR": str(tmp_path / "index"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "TODAY": TODAY.isoformat(),
        "JOB_SPAWN": False,  # tests run job runners themselves
        "JOB_LOG": str(tmp_path / "jobs.log"),
    }


class _Postgres:
    """On PostgreSQL, the database of each test folder (the one app_settings points at): a
    copy of a template database, or an empty one; those made for a test are dropped after it
    (see the drop_test_databases fixture), the templates at the end of the session."""

    server = None  # the session's server (postgres_cluster.Cluster)
    admin: Engine | None = None  # a connection to it that creates and drops databases
    by_folder: dict[Path, str] = {}
    of_test: list[str] = []
    templates: list[str] = []

    @classmethod
    def start(cls, server) -> None:
        cls.server = server
        cls.admin = create_engine(server.server_url, isolation_level="AUTOCOMMIT")

    @classmethod
    def create(cls, folder: Path, template: str = "template0") -> str:
        """A new database for the apps on `folder`, a copy of `template`; its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with cls.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        url = cls.server.server_url.set(database=name).render_as_string(hide_password=False)
        cls.by_folder[folder] = url
        cls.of_test.append(url)
        return url

    @classmethod
    def keep(cls, folder: Path) -> str:
        """The database of `folder` becomes a template: kept until the end of the session."""
        url = cls.by_folder.pop(folder)
        cls.of_test.remove(url)
        cls.templates.append(url)
        return url

    @classmethod
    def drop(cls, urls: list[str]) -> None:
        with cls.admin.connect() as conn:
            for url in urls:
                name = make_url(url).database
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    @classmethod
    def end_test(cls) -> None:
        made, cls.of_test = cls.of_test, []
        cls.by_folder = {f: u for f, u in cls.by_folder.items() if u not in made}
        cls.drop(made)


def database_url(folder: Path) -> str:
    """The database of the apps on the files in `folder`: SQLite's file there, or on
    PostgreSQL the folder's database (an empty one, made now, if it has none yet)."""
    if not ON_POSTGRES:
        return f"sqlite:///{folder / 'test.db'}"
    return _Postgres.by_folder.get(folder) or _Postgres.create(folder)


@pytest.fixture(scope="session")
def postgres_server(request):
    """On PostgreSQL, the session's server, ready for database_url; else None."""
    if not ON_POSTGRES:
        yield None
        return
    _Postgres.start(request.getfixturevalue("pg_server"))
    yield _Postgres.server
    _Postgres.drop(_Postgres.templates)
    _Postgres.admin.dispose()


@pytest.fixture(autouse=True)
def drop_test_databases(postgres_server):
    """On PostgreSQL, the databases made for the test are dropped after it (set up before
    any fixture that makes one, so torn down after all of them)."""
    yield
    if postgres_server is not None:
        _Postgres.end_test()


@dataclass(frozen=True)
class Template:
    """What a test's app starts from, built once and copied into each test's folder: a
    database (a file, or a PostgreSQL template database), with the search index and uploads
    that go with it, if any (in the folder of `path`)."""

    path: Path
    people: dict[str, int] = field(default_factory=dict)
    data: Any = None  # what the build returned (the ids of the rows it made)
    database: str | None = None  # on PostgreSQL: the template database's URL

    @property
    def url(self) -> str:
        return self.database or f"sqlite:///{self.path}"

    def copy_to(self, folder: Path) -> None:
        if self.database:
            _Postgres.create(folder, template=make_url(self.database).database)
        else:
            shutil.copyfile(self.path, folder / "test.db")
        for name in ("index", "uploads"):
            if (self.path.parent / name).is_dir():
                shutil.copytree(self.path.parent / name, folder / name)


def _snapshot(app, path: Path) -> None:
    """Copy the app's database into one self-contained file (no -wal beside it)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    source = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    try:
        source.execute("VACUUM INTO ?", (str(path),))
    finally:
        source.close()


def build_template(tmp_path_factory, base: Template, build: Callable[[Flask], Any]) -> Template:
    """A template of `base` plus what `build(app)` adds: for a module whose tests all start
    from the same data (use it from a module-scoped fixture and override `template`)."""
    folder = tmp_path_factory.mktemp("template")
    base.copy_to(folder)
    app = new_app(folder)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _fast_hashing(monkeypatch)
        data = build(app)
    close(app)
    if ON_POSTGRES:
        return Template(folder / "template", base.people, data, _Postgres.keep(folder))
    _snapshot(app, folder / "template.db")
    return Template(folder / "template.db", base.people, data)


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory, postgres_server) -> dict[str, Template]:
    """The schema with the default vocabularies ("empty"), and the same with the standard
    people of the `people` fixture ("people"): built once, copied per test, so that every
    test still starts from a database of its own."""
    if postgres_server is not None:
        return _postgres_templates(tmp_path_factory)
    folder = tmp_path_factory.mktemp("templates")
    app = create_app(app_settings(folder / "build"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        _fast_hashing(monkeypatch)
        with app.app_context():
            db.create_all()
            vocab.ensure_defaults()
            db.session.commit()
        _snapshot(app, folder / "empty.db")
        with app.app_context():
            ids = add_people()
        _snapshot(app, folder / "people.db")
    close(app)
    return {"empty": Template(folder / "empty.db"), "people": Template(folder / "people.db", ids)}


def _postgres_templates(tmp_path_factory) -> dict[str, Template]:
    """database_templates on PostgreSQL: the schema as `tracker init-db` makes it (the
    migrations from empty, the vocabularies, the search table), then the people."""
    empty = tmp_path_factory.mktemp("template-empty")
    app = create_app(app_settings(empty))
    done = app.test_cli_runner().invoke(args=["init-db"])
    assert done.exit_code == 0, done.output
    close(app)
    templates = {"empty": Template(empty / "template", database=_Postgres.keep(empty))}
    folder = tmp_path_factory.mktemp("template-people")
    templates["empty"].copy_to(folder)
    app = new_app(folder)
    with pytest.MonkeyPatch.context() as monkeypatch, app.app_context():
        _fast_hashing(monkeypatch)
        ids = add_people()
    close(app)
    templates["people"] = Template(folder / "template", ids, database=_Postgres.keep(folder))
    return templates


class _SharedBytecode(BytecodeCache):
    """Jinja's compiled templates, kept for the whole session: each test's new app loads them
    instead of compiling every template again (a changed template has a new checksum)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecode()


def _share_url_builders() -> None:
    """Werkzeug compiles a Python function for every URL rule of every new app, the same for
    the same rule: compile each once per session (most of what a test's create_app costs).
    Without the private method (another Werkzeug) nothing is shared, and nothing breaks."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:
        return
    builders: dict[tuple, object] = {}

    @functools.wraps(compile_builder)
    def shared(rule, append_unknown=True):
        defaults = tuple(sorted((rule.defaults or {}).items()))
        key = (rule.rule, tuple(rule._trace), defaults, append_unknown)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    Rule._compile_builder = shared


_share_url_builders()


def _share_rule_parsing() -> None:
    """Werkzeug parses every URL rule of every new app again (its parts, converters and
    weights: half of what a test's create_app costs), the same for the same rule on maps
    with the same converters: parse each once per session. The converters are shared
    between the apps' maps (a converter keeps its map but reads nothing of it). Without
    the private attributes (another Werkzeug) nothing is shared, and nothing breaks."""
    compile_rule = Rule.compile
    if not all(hasattr(Rule("/"), name) for name in ("_parts", "_trace", "_converters")):
        return
    parsed: dict[tuple, tuple] = {}

    @functools.wraps(compile_rule)
    def shared(rule):
        rule_map = rule.map
        key = (
            rule.rule,
            rule.host,
            rule.subdomain,
            rule.merge_slashes,
            rule_map.host_matching,
            tuple(sorted(rule_map.converters.items())),
        )
        if key not in parsed:
            before = set(rule.arguments)
            compile_rule(rule)
            parsed[key] = (
                list(rule._parts),
                list(rule._trace),
                dict(rule._converters),
                frozenset(rule.arguments - before),
            )
            return
        parts, trace, converters, arguments = parsed[key]
        rule._parts, rule._trace, rule._converters = list(parts), list(trace), dict(converters)
        rule.arguments |= arguments
        rule._build = rule._compile_builder(False).__get__(rule, None)
        rule._build_unknown = rule._compile_builder(True).__get__(rule, None)

    Rule.compile = shared


_share_rule_parsing()


def _match_cookies_without_the_query() -> None:
    """Werkzeug's test client works out each request's URL, query string and all (unquoted
    character by character), twice per request, only to match cookies to its host and path:
    for the hostile walk's long query strings that was a fifth of what the walk cost. The
    client is given the URL without its query; the cookies it sends are the same."""
    import werkzeug.test

    full_url = werkzeug.test.get_current_url

    @functools.wraps(full_url)
    def without_query(environ):
        return full_url({**environ, "QUERY_STRING": ""})

    werkzeug.test.get_current_url = without_query


_match_cookies_without_the_query()


@event.listens_for(Engine, "connect")
def _no_fsync(dbapi_connection, _record) -> None:
    """Test databases are thrown away: SQLite need not wait for the disk at each commit.
    (Locking, and so every test of concurrent writers, is unchanged.)"""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


class _SharedSQL:
    """SQLAlchemy compiles each statement once per engine, and every test's app has a new
    engine: a third of what the tests of pages cost. The tests' engines are all alike
    (SQLite, the same options), so they share one dialect, the first engine's once it has
    connected (it then knows the SQLite version), and one cache of compiled statements."""

    dialect = None
    cache = None

    @classmethod
    def share(cls, engine) -> None:
        if cls.dialect is None:
            with engine.connect():
                pass
            cls.dialect, cls.cache = engine.dialect, {}
        elif type(engine.dialect) is not type(cls.dialect):
            return  # another database: nothing to share
        engine.dialect = cls.dialect
        engine.update_execution_options(compiled_cache=cls.cache)


def new_app(tmp_path, **settings):
    """An app on the files in `tmp_path`, as the tests build it."""
    app = create_app({**app_settings(tmp_path), **settings})
    app.jinja_env.bytecode_cache = _BYTECODE
    with app.app_context():
        _SharedSQL.share(db.engine)
    return app


def standard_template(request, database_templates) -> Template:
    """The world of test_route_permissions (an item of every kind) when the test uses it
    with the standard settings, the template with the standard people when the test uses
    them (directly or through another fixture), else the one without users."""
    if "world" in request.fixturenames and not request.getfixturevalue("app_config"):
        # (an app of other settings, e.g. the Whoosh engine on PostgreSQL, builds its own)
        return request.getfixturevalue("route_world_template")
    return database_templates["people" if "people" in request.fixturenames else "empty"]


@pytest.fixture(scope="session")
def route_world_template(tmp_path_factory, database_templates) -> Template:
    """test_route_permissions.build_world, built once in the session (each test that uses
    it used to build it: half a second each)."""
    from test_route_permissions import build_world

    return build_template(tmp_path_factory, database_templates["people"], build_world)


@pytest.fixture
def template(request, database_templates) -> Template:
    """What the test's app starts from (a module may override this fixture)."""
    return standard_template(request, database_templates)


@pytest.fixture
def app_config() -> dict:
    """Settings of the test's app besides app_settings' (a module or a test may override
    it: {"SEARCH_ENGINE": "whoosh"} for the tests of the Whoosh index's files, the engine of
    an app on SQLite but not on PostgreSQL)."""
    return {}


@pytest.fixture
def app(tmp_path, template, app_config):
    """An app on a database of its own, copied from the test's template."""
    template.copy_to(tmp_path)
    app = new_app(tmp_path, **app_config)
    yield app
    close(app)


# Indexes on an expression, which SQLAlchemy's reflection skips (with a warning), so that
# compare_metadata cannot see them: schema_differences checks them by name instead.
EXPRESSION_INDEXES = (
    "ix_commitment_unit_list",
    "ix_commitment_tracked_list",
    "ix_commitment_tracked_status_list",
)


@contextmanager
def expression_indexes_unreflected():
    """Inside, reflection skips the EXPRESSION_INDEXES without its warning."""
    import warnings

    with warnings.catch_warnings():
        for name in EXPRESSION_INDEXES:
            warnings.filterwarnings("ignore", message=f".*expression-based index '?{name}")
        yield


def schema_differences(connection, **opts) -> list:
    """What compare_metadata finds between the models and the database on `connection`,
    and each index on an expression of the models that the database lacks."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with expression_indexes_unreflected():
        found = compare_metadata(MigrationContext.configure(connection, opts=opts), db.metadata)
    if connection.dialect.name == "sqlite":
        listed = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        listed = "SELECT indexname FROM pg_indexes"
    present = set(connection.execute(text(listed)).scalars())
    return found + [("missing index", name) for name in EXPRESSION_INDEXES if name not in present]


def lose_database(app) -> None:
    """The app's database goes away under it: SQLite's file is deleted, PostgreSQL's
    database dropped."""
    with app.app_context():
        db.engine.dispose()
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink()
    else:
        _Postgres.drop([url])


def close(app):
    """Release what an app holds: the search engine's files and the database pool."""
    engine = app.extensions.pop("search", None)
    if engine is not None:
        engine.close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def previous_index_version(monkeypatch):
    """Inside, the search engine writes indexes as the previous version did: version 3,
    without the character pairs."""
    from tracker.search import whoosh_engine

    make_schema = whoosh_engine.make_schema

    def schema_without_pairs():
        schema = make_schema()
        schema.remove(whoosh_engine.PAIRS)
        return schema

    with monkeypatch.context() as m:
        m.setattr(whoosh_engine, "make_schema", schema_without_pairs)
        m.setattr(whoosh_engine, "SCHEMA_VERSION", "tracker-search-3")
        yield


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Browser:
    """The test client used as a browser: logs in through the form and posts forms with the
    CSRF token taken from a page, as a user's browser would."""

    def __init__(self, client):
        self.client = client
        self._token: str | None = None

    def get(self, url, **kwargs):
        response = self.client.get(url, **kwargs)
        self._remember_token(response)
        return response

    def _remember_token(self, response):
        if response.mimetype != "text/html":
            return
        match = CSRF_RE.search(response.get_data(as_text=True))
        if match:
            self._token = match.group(1) or match.group(2)

    def token(self) -> str:
        if self._token is None:
            self.get("/login")
            if self._token is None:
                self.get("/todo")
        assert self._token, "no CSRF token found on the page"
        return self._token

    def post(self, url, data=None, *, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        response = self.client.post(url, data=data, **kwargs)
        self._remember_token(response)
        return response

    def login(self, username, password=PASSWORD):
        """Log in as `username`, ending any previous user's session first."""
        with self.client.session_transaction() as session:
            session.clear()
        self.client.delete_cookie("remember_token")
        self._token = None
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        if response.status_code != 302:
            self._token = None
        # else the login page's token stays valid: signing in keeps the session's CSRF
        # secret (a page after it would carry a token of the same secret)
        return response

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def browser(app):
    return Browser(app.test_client())


def add_unit(name="广州市教育局", short=("市教育局",), prefix="穗教案", coordinating=False) -> int:
    """The unit of that name, created if missing (inside an app context). Returns its id."""
    unit = users.find_unit(name)
    if unit is None:
        unit = Unit(
            name=name,
            short_names=list(short),
            doc_prefix=prefix,
            is_coordinating=coordinating,
        )
        db.session.add(unit)
        db.session.commit()
    return unit.id


def add_user(username, role="clerk", unit: str | None = "广州市教育局", **unit_kwargs) -> int:
    """Create a user (inside an app context), in `unit`, created if missing. Returns the id."""
    unit_obj = db.session.get(Unit, add_unit(unit, **unit_kwargs)) if unit else None
    user = users.create_user(
        None,
        username=username,
        password=PASSWORD,
        role=role,
        unit=unit_obj,
        display_name=username,
    )
    db.session.commit()
    return user.id


def add_people() -> dict[str, int]:
    """One user per role, plus a coordinating-office supervisor and a second unit's clerk
    (inside an app context). Returns their ids by name."""
    add_unit("广州市卫生健康委员会", short=("市卫生健康委",), prefix="穗卫函")
    add_unit("广州市民政局", short=("市民政局",), prefix="穗民函")
    return {
        "admin": add_user("admin", "admin", None),
        "liaison": add_user("liaison", "liaison", None),
        "supervisor": add_user("supervisor", "supervisor"),
        "clerk": add_user("clerk", "clerk"),
        "duban": add_user(
            "duban",
            "supervisor",
            "广州市人民政府办公厅",
            short=("市府办公厅",),
            prefix="穗府办函",
            coordinating=True,
        ),
        "clerk_health": add_user("clerk-health", "clerk", "广州市卫生健康委员会"),
        "clerk_civil": add_user("clerk-civil", "clerk", "广州市民政局"),
    }


@pytest.fixture
def make_unit(app):
    def make(name="广州市教育局", short=("市教育局",), prefix="穗教案", coordinating=False) -> int:
        with app.app_context():
            return add_unit(name, short, prefix, coordinating)

    return make


@pytest.fixture
def make_user(app):
    def make(username, role="clerk", unit: str | None = "广州市教育局", **unit_kwargs) -> int:
        with app.app_context():
            return add_user(username, role, unit, **unit_kwargs)

    return make


@pytest.fixture
def people(app, database_templates):
    """The standard people (see add_people), already in the test's database: the app fixture
    copied them from the session's template."""
    return dict(database_templates["people"].people)


def _by_name(model, **where):
    return db.session.execute(db.select(model).filter_by(**where)).scalar_one()


@pytest.fixture
def make_proposal(app, people):
    """Register a proposal as the liaison and optionally assign it as the coordinating office.
    Returns the proposal id."""
    return proposal_maker(app)


def proposal_maker(app):
    """make_proposal's function for `app` (to build a module's template with)."""

    def make(
        number="20222174",
        *,
        title="关于进一步加强广州市中小学生心理健康管理工作的建议",
        proposer="曾志伟",
        session="市十六届人大一次会议",
        year=2026,
        kind="建议",
        lead="广州市教育局",
        co=("广州市卫生健康委员会",),
        assigned_on=date(2026, 3, 2),
        sign=False,
    ) -> int:
        with app.app_context():
            liaison = _by_name(User, username="liaison")
            p = svc.register_proposal(
                liaison,
                session=svc.get_or_create_session(session, year=year),
                kind=kind,
                number=number,
                title=title,
                lead_proposer=proposer,
                submitted_on=date(2026, 1, 20),
            )
            if lead:
                duban = _by_name(User, username="duban")
                svc.assign_units(
                    duban,
                    p,
                    lead_units=[_by_name(Unit, name=lead)],
                    co_units=[_by_name(Unit, name=c) for c in co],
                    assigned_on=assigned_on,
                    policy=current.deadline_policy(),
                )
                if sign:
                    clerk = (
                        db.session.execute(
                            db.select(User).where(
                                User.unit_id == p.assignments[0].unit_id, User.role == "clerk"
                            )
                        )
                        .scalars()
                        .first()
                    )
                    svc.sign_for(clerk, p.assignments[0])
            db.session.commit()
            return p.id

    return make


def get_proposal(proposal_id) -> Proposal:
    return db.session.get(Proposal, proposal_id)
