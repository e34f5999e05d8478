"""Files users upload, written below the upload folder (UPLOAD_DIR, which the caller passes
in as `root`: see tracker.current.upload_dir), each in a folder of its own that belongs to
the transaction saving it: kept when the transaction commits, removed when it does not
(rolled back, failed to commit, or ended without a commit), and removed at once when
writing the file fails. So a failed upload leaves neither a file nor an empty folder."""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tracker.extensions import db
from tracker.rules.filenames import file_name, own_name
from tracker.services.errors import DomainError

log = logging.getLogger(__name__)

STORAGE_FAILED = "文件未能保存（服务器存储出错），请稍后再试或联系管理员。"
_PENDING = "pending_uploads"  # in Session.info: folders written in the open transaction


def uploaded_name(raw: str | None, fallback: str = "file") -> str:
    """The name an uploaded file is stored under: its own name, made a file system's
    (rules.filenames: at most 255 bytes, its extension kept)."""
    return file_name(own_name(raw), fallback=fallback)


def new_folder(root: str | Path, area: str, name: str | None = None) -> str:
    """A new folder below `root`/`area` (named `name`, or a random one) that belongs to the
    open transaction; returns its path relative to `root`."""
    relative = f"{area}/{name or uuid.uuid4().hex}"
    folder = Path(root) / relative
    remove_unless_committed(folder)  # before it exists: nothing can be left behind
    with _storing(folder):
        folder.mkdir(parents=True)
    return relative


def save(stream: BinaryIO, root: str | Path, area: str, name: str) -> str:
    """Write `stream` as `name` (already an uploaded_name) in a new folder of `area` below
    `root`; returns the file's path relative to `root`. Any error while writing removes
    the folder."""
    folder = new_folder(root, area)
    relative = f"{folder}/{name}"
    try:
        write(stream, Path(root) / relative)
    except BaseException:
        discard(root, folder)
        raise
    return relative


def write(stream: BinaryIO, path: Path) -> None:
    """Write an uploaded file into a folder from new_folder."""
    with _storing(path), open(path, "wb") as out:
        shutil.copyfileobj(stream, out)


@contextmanager
def _storing(path: Path) -> Iterator[None]:
    """The server failing to store an upload (a full disk, a quota, a folder it may not
    write) is the user's to hear about, as a DomainError; the details go to the log."""
    try:
        yield
    except OSError as error:
        log.error("upload not saved to %s: %s", path, error)
        raise DomainError(STORAGE_FAILED) from error


def discard(root: str | Path, relative: str) -> None:
    """Remove a folder (or file) below `root` now."""
    path = Path(root) / relative
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_unless_committed(path: Path) -> None:
    """`path` (a folder) is removed unless the open transaction commits."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that its end, committed or not, is seen
    session.info.setdefault(_PENDING, []).append(path)


@event.listens_for(Session, "after_commit")
def _keep(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _drop(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit (after_commit took the committed
    ones): a rollback, a failed commit, or a session closed at the end of a request."""
    if transaction.parent is not None:
        return
    for path in session.info.pop(_PENDING, []):
        shutil.rmtree(path, ignore_errors=True)
