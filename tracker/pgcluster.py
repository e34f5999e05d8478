"""A throwaway PostgreSQL cluster, for the tests and ``make bench`` (not for the app).

A server URL (e.g. ``postgresql+psycopg://postgres@/postgres?host=/tmp/pg&port=5433``)
uses a running server, on which databases are created and dropped. Otherwise the PostgreSQL
binaries (``initdb``, ``pg_ctl``: on the PATH or in ``/usr/lib/postgresql/*/bin``) start a
cluster in a temporary folder, on a Unix socket there (no TCP port); as root, it runs as
the ``postgres`` user (initdb refuses root). ``stop()`` stops it and removes the folder.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# durability off: a cluster for tests, thrown away
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def binaries() -> Path | None:
    """The folder with initdb and pg_ctl (the newest installed), or None."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


class Cluster:
    """A server to create databases on: the one at `url`, or a new cluster started with
    these server `options` (``-c name=value`` …)."""

    def __init__(
        self, url: str | None = None, options: str = FAST, parent: str | None = None
    ) -> None:
        """`parent`: the folder to make the cluster's folder in (default: the system's
        temporary folder)."""
        self.folder: Path | None = None
        if url:
            self.server_url = make_url(url)
            return
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError("no PostgreSQL binaries")
        self.bin = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="tracker-pg-", dir=parent))
        self.user = None
        if os.geteuid() == 0:  # initdb refuses root
            self.user = pwd.getpwnam("postgres")
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = f"-k {self.folder} -p 5432 -c listen_addresses= -c max_connections=60 {options}"
        self._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )
        self.server_url = make_url(
            f"postgresql+psycopg://postgres@/postgres?host={self.folder}&port=5432"
        )

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.folder)

    def create_database(self, prefix: str = "t", template: str | None = None) -> str:
        """A new database, empty or a copy of the one at the URL `template` (which nothing
        may be connected to); its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        source = make_url(template).database if template else "template0"
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}" ENCODING UTF8'))
        engine.dispose()
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    def stop(self) -> None:
        if self.folder is None:
            return
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
