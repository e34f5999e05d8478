"""导入答复函 from the browser: the uploaded files are saved and become a job; a runner
(tracker.runner) imports them with the same reader and importer as `tracker
import-letters`, recording one report line per file."""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from tracker.extensions import db
from tracker.letters import reading
from tracker.letters.formats import ReadOptions
from tracker.models import Job, ReplyLetter, User
from tracker.rules.filenames import own_name
from tracker.services import corpus, dbstats, jobs, permissions
from tracker.services.errors import DomainError, PermissionDenied
from tracker.services.uploads import discard, new_folder, write

KIND = "import_letters"
FOLDER = "imports"  # below UPLOAD_DIR
CHUNK_ITEMS = 20  # files read before their results are written and committed
CHUNK_SECONDS = 2.0  # ... or fewer, when reading them takes this long


def clean_name(raw: str | None) -> str:
    """An uploaded file's own name, as a label only (it never names a file on disk)."""
    name = own_name(raw)
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    return name[-200:] or "未命名文件"


def start(actor: User, uploads: list[tuple[str, BinaryIO]], upload_dir: str | Path) -> Job:
    """Save the uploaded files under UPLOAD_DIR/imports/ and queue their import."""
    if not permissions.can_import(actor):
        raise PermissionDenied()
    if not uploads:
        raise DomainError("请选择要导入的文件。")
    job = jobs.create(actor, KIND, {})
    # the folder goes when the job is not committed (see services.uploads)
    relative = new_folder(upload_dir, FOLDER, f"{job.id}-{secrets.token_hex(4)}")
    try:
        files = []
        for number, (name, stream) in enumerate(uploads, 1):
            stored = f"{relative}/{number:04d}"
            write(stream, Path(upload_dir) / stored)
            files.append({"name": clean_name(name), "path": stored})
    except BaseException:
        discard(upload_dir, relative)
        raise
    job.params = {"folder": relative, "files": files}
    job.total = len(files)  # until archives are opened
    db.session.flush()
    return job


def sources(job: Job, upload_dir: str | Path, options: ReadOptions) -> list[reading.Source]:
    """The job's letters in a fixed order (archives opened), the same on every run."""
    root = Path(upload_dir).resolve()
    found: list[reading.Source] = []
    for entry in job.params.get("files", []):
        path = (root / entry["path"]).resolve()
        if root / FOLDER not in path.parents:
            found.append(reading.Source(str(path), entry["name"], entry["name"], error="无效路径"))
        elif not path.is_file():
            found.append(
                reading.Source(
                    str(path), entry["name"], entry["name"], error="上传的文件已不在服务器上"
                )
            )
        else:
            found.extend(reading.sources(str(path), entry["name"], options))
    return found


def run(
    job: Job, checkpoint: Callable[[], None], *, options: ReadOptions, upload_dir: str | Path
) -> None:
    """Import the job's files (saved under `upload_dir`, read with `options`) after the
    items an earlier run finished. `checkpoint`, the runner's, commits the work so far
    (letters, report lines, progress) if the job is still this runner's."""
    found = sources(job, upload_dir, options)
    finished = jobs.done_items(job)
    todo = [(seq, source) for seq, source in enumerate(found) if seq not in finished]
    job.total = len(found)
    job.done = len(finished)
    importer = corpus.Importer(options)
    importer.learn()  # what exists: the window's new letters are then written together
    known = _known_hashes(todo[:CHUNK_ITEMS])
    checkpoint()
    position = 0
    while position < len(todo):
        window = todo[position : position + CHUNK_ITEMS]
        parsed = _read_window(window, known, options)  # no transaction open meanwhile
        importer.exist(known)  # (imported meanwhile by another job: updated, not added)
        for (seq, _), outcome in zip(window, importer.apply_many(parsed), strict=False):
            jobs.add_item(
                job,
                seq,
                outcome.file,
                outcome.status,
                fmt=outcome.fmt,
                reason=outcome.reason,
                letter_id=outcome.letter_id,
            )
        position += len(parsed)
        job.done += len(parsed)
        known = _known_hashes(todo[position : position + CHUNK_ITEMS])
        checkpoint()
    # an archive changes what the planner should choose
    dbstats.refresh(db.engine, changed=len(todo))


def _read_window(window, known: dict[str, str], options: ReadOptions) -> list[reading.Parsed]:
    """Read and parse the window's files, stopping early when it takes long (so that the
    progress moves and the work commits every few seconds)."""
    started = time.monotonic()
    parsed = []
    with closing(reading.load([source for _, source in window], options)) as loaded:
        for source, data in loaded:
            parsed.append(reading.read_and_parse(source, data, known.get(source.name), options))
            if time.monotonic() - started > CHUNK_SECONDS:
                break
    return parsed


def _known_hashes(window) -> dict[str, str]:
    names = {source.name for _, source in window}
    if not names:
        return {}
    rows = db.session.execute(
        select(ReplyLetter.source_file, ReplyLetter.source_hash).where(
            ReplyLetter.source_file.in_(names)
        )
    )
    return {row.source_file: row.source_hash for row in rows}


def discard_files(job: Job, upload_dir: str | Path) -> None:
    """The uploaded files, once the job has ended (the letters hold their text)."""
    folder = job.params.get("folder")
    if folder:
        shutil.rmtree(Path(upload_dir) / folder, ignore_errors=True)
