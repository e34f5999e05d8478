"""Backups that restore: `tracker backup` while the app has data, `tracker restore` into an
empty database elsewhere gives back every row of every table and every uploaded file, and
the search finds the letters again; a damaged backup or a target that is not empty is
refused with nothing written."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from conftest import app_settings, close, expression_indexes_unreflected
from sqlalchemy import MetaData, select
from test_route_permissions import world  # noqa: F401

from tracker import create_app, search_hooks
from tracker.extensions import db
from tracker.services import search

EVIDENCE = {
    "evidence/12/现场照片.jpg": b"\xff\xd8\xff\xe0 photo " * 200,
    "evidence/12/整改报告（第二稿）.pdf": "%PDF-1.4 整改报告".encode() * 50,
    "imports/job-3/2024年答复函.zip": b"PK\x03\x04" + bytes(range(256)) * 8,
}


def _tables(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with app.app_context():
        metadata = MetaData()
        with expression_indexes_unreflected():
            metadata.reflect(db.engine)
        with db.engine.connect() as connection:
            return {
                name: [
                    tuple(row)
                    for row in connection.execute(
                        select(table).order_by(*(table.primary_key.columns or table.columns))
                    )
                ]
                for name, table in sorted(metadata.tables.items())
            }


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def backed_up(app, world, tmp_path):  # noqa: F811
    app.instance_path = str(tmp_path / "instance")
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "secret_key").write_text("k" * 64)
    uploads = Path(app.config["UPLOAD_DIR"])
    for rel, data in EVIDENCE.items():
        (uploads / rel).parent.mkdir(parents=True, exist_ok=True)
        (uploads / rel).write_bytes(data)
    out = tmp_path / "backups" / "tracker-2026-06-15.tar.gz"
    result = app.test_cli_runner().invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = len(_files(uploads)) + 1  # and the instance key
    assert "backup written" in result.output and f"{files} files" in result.output
    return out


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A second installation with an empty database, no uploads and its own instance key."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    monkeypatch.setenv("TRACKER_INSTANCE_DIR", str(target / "instance"))
    app = create_app({**app_settings(target), "SECRET_KEY": None})
    yield app
    close(app)


def test_a_backup_restores_every_row_and_file_and_the_search(app, backed_up, elsewhere):
    result = elsewhere.test_cli_runner().invoke(args=["restore", str(backed_up)])
    assert result.exit_code == 0, result.output
    assert "restored:" in result.output
    with app.app_context():
        letters = search_hooks.rebuild(app)  # what the original's index holds
    assert f"index rebuilt: {letters} letters" in result.output

    before, after = _tables(app), _tables(elsewhere)
    assert sorted(after) == sorted(before)
    assert after == before
    assert sum(map(len, after.values())) > 50  # users, units, proposals, letters, audit…
    restored = _files(Path(elsewhere.config["UPLOAD_DIR"]))
    assert restored == _files(Path(app.config["UPLOAD_DIR"]))
    assert EVIDENCE.items() <= restored.items()
    # sessions and form tokens signed on the old server stay valid on the new one
    assert (Path(elsewhere.instance_path) / "secret_key").read_text() == "k" * 64

    with elsewhere.app_context():
        found = search.run("答复函119", engine=search_hooks.engine(elsewhere), per_page=10)
        assert [hit.title for hit in found.hits] == ["答复函119"]


def test_verify_backup_checks_without_restoring(app, backed_up, runner):
    result = runner.invoke(args=["verify-backup", str(backed_up)])
    assert result.exit_code == 0, result.output
    files = len(_files(Path(app.config["UPLOAD_DIR"]))) + 1
    assert "backup OK" in result.output and f"{files} files" in result.output
    for name, rows in _tables(app).items():
        assert f"  {name}: {len(rows)}\n" in result.output


def _rewrite(archive: Path, out: Path, change) -> Path:
    """A copy of the archive with `change(name, data)` applied to each member."""
    with tarfile.open(archive, "r:gz") as tar, tarfile.open(out, "w:gz") as copy:
        for member in tar:
            data = tar.extractfile(member).read()
            data = change(member.name, data)
            if data is None:
                continue
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return out


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda n, d: d[:-1] + b"?" if n.endswith(".jpg") else d, "备份中的文件校验不符"),
        (lambda n, d: None if n.endswith(".pdf") else d, "备份不完整，缺少"),
        (lambda n, d: d.replace(b'"format": 1', b'"format": 9') if n == "manifest.json" else d,
         "不支持的备份格式"),
    ],
)  # fmt: skip
def test_a_damaged_backup_is_refused_and_nothing_is_written(
    backed_up, elsewhere, tmp_path, runner, damage, message
):
    bad = _rewrite(backed_up, tmp_path / "bad.tar.gz", damage)
    for args in (["verify-backup", str(bad)], ["restore", str(bad)]):
        result = elsewhere.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1 and message in result.output, result.output
    assert _tables(elsewhere) == {}
    assert not Path(elsewhere.config["UPLOAD_DIR"]).exists()


def test_a_truncated_file_is_not_a_backup(backed_up, elsewhere, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(backed_up.read_bytes()[: backed_up.stat().st_size // 2])
    result = elsewhere.test_cli_runner().invoke(args=["restore", str(cut)])
    assert result.exit_code == 1 and "备份文件已损坏" in result.output
    assert _tables(elsewhere) == {}
    notes = tmp_path / "notes.txt.gz"
    notes.write_bytes(gzip.compress("会议纪要".encode()))
    result = elsewhere.test_cli_runner().invoke(args=["verify-backup", str(notes)])
    assert result.exit_code == 1 and "错误：" in result.output


def test_a_member_that_would_climb_out_is_refused(backed_up, elsewhere, tmp_path):
    photo, escape = "uploads/evidence/12/现场照片.jpg", "uploads/../../escape.txt"
    bad = tmp_path / "climb.tar.gz"
    with tarfile.open(backed_up, "r:gz") as tar, tarfile.open(bad, "w:gz") as copy:
        for member in tar:
            data = tar.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["members"][escape] = manifest["members"].pop(photo)
                data = json.dumps(manifest).encode()
            elif member.name == photo:
                member.name = escape
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    result = elsewhere.test_cli_runner().invoke(args=["restore", str(bad)])
    assert result.exit_code == 1 and "备份中有不应有的内容" in result.output
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()
    assert _tables(elsewhere) == {}


def test_restoring_over_data_is_refused(app, backed_up, runner):
    before = _tables(app)
    result = runner.invoke(args=["restore", str(backed_up)])
    assert result.exit_code == 1
    assert "目标数据库不是空的" in result.output
    assert _tables(app) == before


def test_a_failed_backup_leaves_no_file_with_the_final_name(app, tmp_path, monkeypatch):
    from tracker import backup

    def broken(*args, **kwargs):
        raise OSError("磁盘已满")

    out = tmp_path / "full" / "tracker.tar.gz"
    monkeypatch.setattr(backup, "_add_file", broken)
    with pytest.raises(OSError), app.app_context():
        backup.create(out, engine=db.engine, upload_dir=tmp_path / "none")
    assert list(out.parent.iterdir()) == []


def test_pg_dump_gets_the_urls_settings_percent_encoded_and_no_password():
    # the app's URL carries libpq options with spaces (TRACKER_POSTGRES_OPTIONS): SQLAlchemy
    # writes a space in a query as "+", which libpq reads as itself, and pg_dump failed
    # with 'unrecognized configuration parameter "+max_parallel_workers_per_gather"'
    from sqlalchemy import create_engine

    from tracker import connection_url
    from tracker.backup import _libpq

    url = connection_url(
        "postgresql+psycopg://tracker:s3cret@db.internal:5433/tracker?connect_timeout=5",
        "-c max_parallel_workers_per_gather=0",
    )
    engine = create_engine(url)
    try:
        uri, env = _libpq(engine)
    finally:
        engine.dispose()
    assert uri == (
        "postgresql://tracker@db.internal:5433/tracker"
        "?connect_timeout=5&options=-c%20max_parallel_workers_per_gather%3D0"
    )
    assert env["PGPASSWORD"] == "s3cret" and "s3cret" not in uri
