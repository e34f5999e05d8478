"""Backups that restore: one archive holding the database, the uploaded files and the
instance's secret key, with a manifest that lets anyone check it without restoring.

The archive is a gzip'd tar with, in this order:

- ``manifest.json``: the format, when and from what it was made, the schema revision, the
  number of rows of every table and the size and SHA-256 of every other member;
- ``database/tracker.sqlite`` (SQLite's online backup API: a consistent copy while the app
  writes) or ``database/tracker.pgdump`` (``pg_dump --format=custom`` of the snapshot the
  row counts were taken in, so the counts and the dump agree while the app writes);
- ``uploads/…``: evidence files and queued imports, as below UPLOAD_DIR;
- ``instance/secret_key`` when the key was generated into the instance folder, so sessions,
  remember cookies and form tokens stay valid on the restored server.

The search index is not in the archive: it is rebuilt from the database on restore.

This module is operations code called by the ``tracker backup``, ``tracker restore`` and
``tracker verify-backup`` commands with explicit paths and an engine; it reads no Flask
configuration itself.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlencode

from sqlalchemy import Engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/tracker.sqlite"
PGDUMP_MEMBER = "database/tracker.pgdump"
SECRET_MEMBER = "instance/secret_key"
CHUNK = 1 << 20


class BackupError(Exception):
    """What went wrong, in Chinese, for the operator."""


@dataclass
class Report:
    """What a backup holds or what a restore did."""

    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    dialect: str = ""
    revision: str | None = None
    created_at: str = ""

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# -- making a backup ---------------------------------------------------------------------


def create(
    out: Path, *, engine: Engine, upload_dir: Path, instance_dir: Path | None = None
) -> Report:
    """Write the backup to `out` (written beside it first and renamed when complete, so a
    backup that failed halfway never carries the final name)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.part")
    with tempfile.TemporaryDirectory(prefix="tracker-backup-") as work:
        dump, member, counts = _dump_database(engine, Path(work))
        files = [(f"uploads/{rel}", path) for rel, path in _files_below(Path(upload_dir))]
        secret = Path(instance_dir) / "secret_key" if instance_dir else None
        if secret is not None and secret.is_file():
            files.append((SECRET_MEMBER, secret))
        members = [(member, dump), *files]
        entries = {
            name: {"size": path.stat().st_size, "sha256": _sha256(path)} for name, path in members
        }
        report = Report(
            tables=counts,
            files=len(files),
            bytes=sum(e["size"] for e in entries.values()),
            dialect=engine.dialect.name,
            revision=_revision(engine),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        manifest = {
            "format": FORMAT,
            "created_at": report.created_at,
            "dialect": report.dialect,
            "revision": report.revision,
            "tables": counts,
            "members": entries,
        }
        try:
            with tarfile.open(partial, "w:gz") as tar:
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(datetime.now().timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
                for name, path in members:
                    _add_file(tar, name, path, entries[name])
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return report


def _add_file(tar: tarfile.TarFile, name: str, path: Path, entry: dict) -> None:
    """Add `path` as `name`, refusing a file that changed since it was hashed (an upload
    being written while the backup runs): the manifest must describe what is stored."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = entry["size"], 0o600
    info.mtime = int(path.stat().st_mtime)
    with path.open("rb") as fh:
        reader = _HashingReader(fh)
        try:
            tar.addfile(info, reader)
        except OSError as exc:  # shorter than when it was measured
            raise BackupError(f"备份期间文件被修改：{name}（{exc}），请重新备份。") from None
    if reader.digest.hexdigest() != entry["sha256"]:
        raise BackupError(f"备份期间文件被修改：{name}，请重新备份。")


class _HashingReader:
    """A file object that hashes what is read from it."""

    def __init__(self, fh) -> None:
        self.fh, self.digest, self.size = fh, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.fh.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def _files_below(root: Path) -> Iterator[tuple[str, Path]]:
    """Regular files below `root` (symbolic links are not followed), sorted, as POSIX paths
    relative to it."""
    if not root.is_dir():
        return
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def _dump_database(engine: Engine, work: Path) -> tuple[Path, str, dict[str, int]]:
    if engine.dialect.name == "sqlite":
        return _dump_sqlite(engine, work)
    if engine.dialect.name == "postgresql":
        return _dump_postgres(engine, work)
    raise BackupError(f"不支持备份{engine.dialect.name}数据库（支持SQLite和PostgreSQL）。")


def _dump_sqlite(engine: Engine, work: Path) -> tuple[Path, str, dict[str, int]]:
    source_path = engine.url.database
    if not source_path or source_path == ":memory:":
        raise BackupError("内存数据库无法备份。")
    target = work / "tracker.sqlite"
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # the online backup API: consistent while others write
        finally:
            copy.close()
    finally:
        source.close()
    return target, SQLITE_MEMBER, _sqlite_counts(target)


def _sqlite_counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {n: connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        connection.close()


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database as a libpq connection string without the password, which goes in the
    environment of the child process instead of its command line."""
    url = make_url(engine.url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # (URL.set(password=None) keeps the password: None there means "unchanged")
    plain = URL.create(
        "postgresql", username=url.username, host=url.host, port=url.port, database=url.database
    )
    uri = plain.render_as_string(hide_password=False)
    if url.query:  # percent-encoded: libpq reads a "+" as itself, not as a space
        uri += "?" + urlencode(sorted(url.query.items()), doseq=True, quote_via=quote)
    return uri, env


def _dump_postgres(engine: Engine, work: Path) -> tuple[Path, str, dict[str, int]]:
    """pg_dump of an exported snapshot, counted inside that same snapshot."""
    pg_dump = _tool("pg_dump")
    target = work / "tracker.pgdump"
    dsn, env = _libpq(engine)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = _counts(connection)
            result = subprocess.run(
                [pg_dump, "--format=custom", "--no-owner", "--no-privileges",
                 f"--snapshot={snapshot}", f"--file={target}", f"--dbname={dsn}"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_dump 失败：{result.stderr.strip()[:500]}")
    return target, PGDUMP_MEMBER, counts


def _counts(connection) -> dict[str, int]:
    """The rows of each table (by name: reflecting the tables whole read their indexes too,
    and warned about the one on an expression)."""
    return {
        name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
        for name in sorted(inspect(connection).get_table_names())
    }


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            if (folder / name).exists():
                return str(folder / name)
        raise BackupError(f"未找到{name}，请安装PostgreSQL客户端（Debian：postgresql-client）。")
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- reading a backup --------------------------------------------------------------------


@contextmanager
def _opened(archive: Path) -> Iterator[tuple[tarfile.TarFile, dict]]:
    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"无法读取备份文件{archive}：{exc}") from None
    with tar:
        try:
            first = tar.next()
            if first is None or first.name != MANIFEST:
                raise BackupError("这不是本系统的备份文件（缺少manifest.json）。")
            manifest = json.load(tar.extractfile(first))
        except (tarfile.TarError, OSError, ValueError) as exc:
            raise BackupError(f"备份文件已损坏：{exc}") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"不支持的备份格式：{manifest.get('format')}。")
        yield tar, manifest


def _members(
    tar: tarfile.TarFile, manifest: dict, sink: Callable[[str, _HashingReader], None]
) -> None:
    """Hand every member but the manifest to `sink` as a file object, checking each against
    the manifest: its name is safe, it is listed, its size and checksum match, none missing.
    `sink` must read the member to its end."""
    expected = dict(manifest["members"])
    try:
        for member in tar:
            name = member.name
            if name == MANIFEST and member.offset == 0:  # read already, by _opened
                continue
            if not _safe_name(name) or not member.isfile() or name not in expected:
                raise BackupError(f"备份中有不应有的内容：{name}")
            entry = expected.pop(name)
            reader = _HashingReader(tar.extractfile(member))
            sink(name, reader)
            if reader.size != entry["size"] or reader.digest.hexdigest() != entry["sha256"]:
                raise BackupError(f"备份中的文件校验不符：{name}")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"备份文件已损坏：{exc}") from None
    if expected:
        raise BackupError(f"备份不完整，缺少：{'、'.join(sorted(expected)[:5])}")


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        not path.is_absolute()
        and ".." not in path.parts
        and path.parts[:1] in (("database",), ("uploads",), ("instance",))
        and "\\" not in name
    )


def _read_report(manifest: dict) -> Report:
    members = manifest["members"]
    return Report(
        tables=dict(manifest["tables"]),
        files=sum(1 for n in members if not n.startswith("database/")),
        bytes=sum(e["size"] for e in members.values()),
        dialect=manifest["dialect"],
        revision=manifest.get("revision"),
        created_at=manifest["created_at"],
    )


def verify(archive: Path) -> Report:
    """Check a backup without restoring it: every member against its checksum, and the
    database itself (SQLite: integrity check and row counts; PostgreSQL: pg_restore can
    list the dump)."""
    with (
        tempfile.TemporaryDirectory(prefix="tracker-verify-") as work,
        _opened(archive) as (
            tar,
            manifest,
        ),
    ):
        stored: dict[str, Path] = {}

        def sink(name: str, reader: _HashingReader) -> None:
            if name.startswith("database/"):
                stored[name] = _write(Path(work) / Path(name).name, reader)
            else:
                while reader.read(CHUNK):
                    pass

        _members(tar, manifest, sink)
        if SQLITE_MEMBER in stored:
            _check_sqlite(stored[SQLITE_MEMBER], manifest["tables"])
        elif PGDUMP_MEMBER in stored:
            _check_pgdump(stored[PGDUMP_MEMBER])
        else:
            raise BackupError("备份中没有数据库。")
    return _read_report(manifest)


def _write(path: Path, reader: _HashingReader) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        shutil.copyfileobj(reader, fh, CHUNK)
    return path


def _check_sqlite(path: Path, tables: dict[str, int]) -> None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"备份中的数据库已损坏：{exc}") from None
    finally:
        connection.close()
    if result != "ok":
        raise BackupError(f"备份中的数据库未通过完整性检查：{result}")
    if _sqlite_counts(path) != tables:
        raise BackupError("备份中的数据库行数与清单不符。")


def _check_pgdump(path: Path) -> None:
    result = subprocess.run(
        [_tool("pg_restore"), "--list", str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"备份中的数据库无法读取：{result.stderr.strip()[:500]}")


# -- restoring ---------------------------------------------------------------------------


def restore(
    archive: Path, *, engine: Engine, upload_dir: Path, instance_dir: Path | None = None
) -> Report:
    """Load the backup into an empty database and an empty upload folder. Everything is
    checked before anything is written to the target, so a bad archive leaves it as it
    was. The caller upgrades the schema if the backup is older and rebuilds the index."""
    upload_dir = Path(upload_dir)
    _check_empty_target(engine, upload_dir)
    with (
        tempfile.TemporaryDirectory(prefix="tracker-restore-") as work,
        _opened(archive) as (
            tar,
            manifest,
        ),
    ):
        if manifest["dialect"] != engine.dialect.name:
            raise BackupError(
                f"备份来自{manifest['dialect']}数据库，不能恢复到{engine.dialect.name}数据库。"
            )
        staged = Path(work) / "staged"

        def sink(name: str, reader: _HashingReader) -> None:
            _write(staged / name, reader)

        _members(tar, manifest, sink)  # all checked before the target is touched
        if manifest["dialect"] == "sqlite":
            _check_sqlite(staged / SQLITE_MEMBER, manifest["tables"])
            _restore_sqlite(engine, staged / SQLITE_MEMBER)
        else:
            _restore_postgres(engine, staged / PGDUMP_MEMBER)
        with engine.connect() as connection:
            restored = _counts(connection)
        if restored != manifest["tables"]:
            raise BackupError("恢复后的行数与备份清单不符。")
        uploads = staged / "uploads"
        if uploads.is_dir():
            upload_dir.mkdir(parents=True, exist_ok=True)
            for rel, path in _files_below(uploads):
                target = upload_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(path, target)
        secret = staged / SECRET_MEMBER
        if instance_dir is not None and secret.is_file():
            Path(instance_dir).mkdir(parents=True, exist_ok=True)
            target = Path(instance_dir) / "secret_key"
            target.write_bytes(secret.read_bytes())
            target.chmod(0o600)
    return _read_report(manifest)


def _check_empty_target(engine: Engine, upload_dir: Path) -> None:
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
    if tables:
        raise BackupError(
            "目标数据库不是空的（已有数据表）。请为恢复新建一个空数据库，"
            "并用TRACKER_DATABASE_URL指向它。"
        )
    if upload_dir.is_dir() and any(upload_dir.iterdir()):
        raise BackupError(f"上传文件夹{upload_dir}不是空的，请指定一个空文件夹。")


def _restore_sqlite(engine: Engine, staged: Path) -> None:
    target = engine.url.database
    if not target or target == ":memory:":
        raise BackupError("不能恢复到内存数据库。")
    engine.dispose()
    source = sqlite3.connect(f"file:{staged}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target, timeout=30)
        try:
            source.backup(copy)  # writes the whole database in one go into the empty file
        finally:
            copy.close()
    finally:
        source.close()


def _restore_postgres(engine: Engine, dump: Path) -> None:
    dsn, env = _libpq(engine)
    engine.dispose()
    result = subprocess.run(
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", f"--dbname={dsn}", str(dump)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_restore 失败：{result.stderr.strip()[:500]}")
