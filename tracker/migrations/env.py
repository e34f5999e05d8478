"""Alembic environment for the tracker: runs inside the Flask app (via Flask-Migrate)."""

import logging
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from flask import current_app

from tracker.services.pgsearch import schema as search_schema

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def _url() -> str:
    return db.engine.url.render_as_string(hide_password=False).replace("%", "%%")


config.set_main_option("sqlalchemy.url", _url())


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    with db.engine.connect() as connection, _sqlite_foreign_keys_off(connection) as check:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            process_revision_directives=process_revision_directives,
            render_as_batch=True,  # SQLite needs batch mode to alter tables
            compare_type=True,
            include_object=search_schema.include_object,  # its table is not a model
        )
        with context.begin_transaction():
            context.run_migrations()
        check()


@contextmanager
def _sqlite_foreign_keys_off(connection):
    """SQLite alters a table in batch mode by copying it and dropping the old one; with
    foreign keys enforced, dropping a table other rows refer to fails (or would delete
    them), so an installation with data could not upgrade. SQLite's own recipe: foreign
    keys off around the change (a pragma it takes only outside a transaction, so on the
    driver's connection, outside Alembic's transaction of each migration), the references
    checked when the migrations have run (the `check` this yields), and on again after."""
    if connection.dialect.name != "sqlite":
        yield lambda: None
        return
    raw = connection.connection.driver_connection

    def check() -> None:
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migrations left rows referring to nothing: {broken[:10]}")

    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield check
    finally:
        if raw.in_transaction:  # the pragma would be ignored: the pool must not keep it
            connection.invalidate()
        else:
            raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
