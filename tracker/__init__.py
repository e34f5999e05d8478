"""The tracker: handling deputies' suggestions and CPPCC proposals."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_openapi3 import Info, OpenAPI

from tracker.config import ROOT, defaults


def _secret_key(app: Flask) -> str:
    """A configured key, else one generated once into the instance folder, so that all
    workers of a deployment share it and sessions survive restarts."""
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def connection_url(database_url: str, postgres_options: str) -> str:
    """The URL the app connects with: a PostgreSQL URL without options of its own gets
    `postgres_options` (POSTGRES_OPTIONS) as its connections' settings."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql" or not postgres_options or "options" in url.query:
        return database_url
    return url.update_query_dict({"options": postgres_options}).render_as_string(
        hide_password=False
    )


def create_app(config: dict | None = None) -> Flask:
    from tracker.api.schemas import Problem
    from tracker.api.views import SECURITY_SCHEMES
    from tracker.errors import validation_problem

    # Flask, with the OpenAPI document of the API's routes (flask-openapi3; tracker/api)
    app = OpenAPI(
        __name__,
        info=Info(title="建议提案办理系统 API", version="1.0.0"),
        security_schemes=SECURITY_SCHEMES,
        doc_ui=False,  # the document and its page are the API's own routes (api/views.py)
        validation_error_status=422,
        validation_error_model=Problem,
        validation_error_callback=validation_problem,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get(
            "TRACKER_INSTANCE_DIR",
            str(Path(os.environ.get("TRACKER_VAR_DIR", ROOT / "var")) / "instance"),
        ),
    )
    app.config.from_mapping(defaults(app.instance_path))
    if config is None:
        app.config.from_prefixed_env("TRACKER")
    else:
        app.config.from_mapping(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = connection_url(
        app.config["DATABASE_URL"], app.config["POSTGRES_OPTIONS"]
    )
    from tracker.search import engine_name

    engine_name(app.config)  # a search engine the database cannot have stops here
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=float(app.config["REMEMBER_DAYS"]))
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        Path(app.config["DATABASE_URL"].removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )

    if int(app.config["TRUSTED_PROXIES"]):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from tracker import cli, errors, headers, search_hooks, web
    from tracker.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    headers.init_app(app)
    _sqlite_pragmas(app)
    _postgres_time_zone(app)

    web.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    search_hooks.init_app(app)
    return app


def _postgres_time_zone(app: Flask) -> None:
    """PostgreSQL: every connection's TimeZone is UTC. The models keep UTC times in columns
    without a time zone (as on SQLite) and psycopg sends an aware datetime as a timestamptz,
    which the server turns into the column's time in the session's TimeZone: on a server
    set to Asia/Shanghai (a Chinese office's, from the machine's clock) every time was
    stored eight hours ahead, and read back as UTC. (services/bulk.py's COPY writes UTC
    times as well.)"""
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        return
    from sqlalchemy import event

    from tracker.extensions import db

    with app.app_context():

        @event.listens_for(db.engine, "connect", insert=True)
        def _utc(dbapi_connection, _record):
            # outside a transaction, so that it holds for the session (SQLAlchemy's
            # documented way for a connection's settings)
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET TIME ZONE 'UTC'")
            dbapi_connection.autocommit = autocommit


def _sqlite_pragmas(app: Flask) -> None:
    """SQLite: enforce foreign keys, write-ahead log, transactions that wait for the write
    lock instead of failing (several gunicorn workers share the file), reads through a
    memory map."""
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        return
    from sqlalchemy import event

    from tracker.extensions import db
    from tracker.views_common import reads_only

    # the listeners keep what they need of the app, not the app: Flask-SQLAlchemy holds each
    # app's engine in a WeakKeyDictionary, whose entry would never go if the engine's
    # listeners held its key (every app a test made stayed in memory)
    testing, logger = app.testing, app.logger
    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # SQLAlchemy, not the driver, starts transactions (see _on_begin)
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            # pages read through a memory map (shared by the workers, no copy per read) and
            # a larger page cache: at 100,000 letters a list's rows are spread over GBs
            cursor.execute("PRAGMA mmap_size=1073741824")
            cursor.execute("PRAGMA cache_size=-16384")
            cursor.close()

        @event.listens_for(db.engine, "begin")
        def _on_begin(connection):
            # A transaction that may write takes the write lock when it starts: one that read
            # first and wrote later would fail at once with "database is locked" when another
            # worker wrote in between, instead of waiting its turn. A page that only reads (a
            # GET) takes no lock, so it never queues behind the writers (at 100,000 letters
            # that queue was the pages' p95 of 2-5 s); its few writes say so first
            # (views_common.lock_for_write).
            deferred = reads_only()
            connection.info["deferred"] = deferred
            connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        @event.listens_for(db.engine, "before_cursor_execute")
        def _no_write_without_the_lock(connection, _cursor, statement, *_args):
            if connection.info.get("deferred") and statement.lstrip()[:6].upper() in WRITES:
                message = (
                    "a write in a transaction begun without the write lock (a GET): "
                    "wrap it in views_common.lock_for_write()"
                )
                if testing:
                    raise RuntimeError(message)
                logger.warning(message)


WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLAC"})
