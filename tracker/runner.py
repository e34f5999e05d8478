"""Running background jobs outside the web worker (the design is in tracker.services.jobs).

- `tracker run-jobs` claims and runs every runnable job, then exits: run it from cron every
  minute, or as a service with `--forever`; it resumes jobs whose runner died.
- When a job is created, or its page finds it waiting for a runner (the runner never
  started, or stopped beating), the web app starts `python -m tracker run-jobs` in a
  session of its own, so that a worker's restart does not end it.

This module is the process side: it commits, like a command."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import update
from sqlalchemy.engine import Engine

from tracker import current, search_hooks
from tracker.extensions import db
from tracker.models import Job, utcnow
from tracker.services import imports, jobs

log = logging.getLogger(__name__)

# the settings a started runner gets from the app that starts it (tests configure the
# app with a mapping, not the environment)
CHILD_CONFIG = (
    "SECRET_KEY",
    "DATABASE_URL",
    "INDEX_DIR",
    "UPLOAD_DIR",
    "TODAY",
    "IMPORT_MAX_FILE_MB",
    "IMPORT_MAX_ARCHIVE_FILES",
    "IMPORT_MAX_ARCHIVE_MB",
    "SOFFICE",
    "SOFFICE_TIMEOUT",
    "JOB_HEARTBEAT_SECONDS",
    "JOB_STALE_SECONDS",
    "JOB_MAX_ATTEMPTS",
)


@dataclass(frozen=True)
class Kind:
    run: Callable[[Job, Callable[[], None]], None]  # does the work, calling checkpoint
    cleanup: Callable[[Job], None] = lambda job: None  # once the job has ended


def _import_letters(job: Job, checkpoint: Callable[[], None]) -> None:
    imports.run(job, checkpoint, options=current.read_options(), upload_dir=current.upload_dir())


def _discard_uploads(job: Job) -> None:
    imports.discard_files(job, current.upload_dir())


KINDS = {imports.KIND: Kind(_import_letters, _discard_uploads)}


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def run_pending(app: Flask, *, job_id: int | None = None, runner: str | None = None) -> int:
    """Claim and run runnable jobs (or that one) until none is left; how many ran."""
    runner = runner or runner_id()
    count = 0
    while True:
        job = jobs.claim(runner, stale_seconds=app.config["JOB_STALE_SECONDS"], job_id=job_id)
        db.session.commit()
        if job is None:
            return count
        run_one(job, runner)
        count += 1


def run_one(job: Job, runner: str) -> None:
    """Run a claimed job to its end; a job another runner took over is left to it."""
    config = current_app.config
    kind = KINDS.get(job.kind)
    job_id = job.id

    def checkpoint() -> None:
        if not jobs.beat(job_id, runner):
            raise jobs.LostJob()
        db.session.commit()

    try:
        if kind is None:
            _end(job, runner, "failed", f"未知的任务类型：{job.kind}")
            return
        if job.attempts > config["JOB_MAX_ATTEMPTS"]:
            _end(job, runner, "failed", "任务多次中断，已停止；请检查文件后重新导入。")
        else:
            # the search index follows once, at the end (a crash leaves the outbox rows,
            # which the next start applies)
            with (
                search_hooks.deferred(db.session()),
                Heartbeat(db.engine, job_id, runner, config["JOB_HEARTBEAT_SECONDS"]),
            ):
                try:
                    kind.run(job, checkpoint)
                    _end(job, runner, "done")
                except BaseException:
                    db.session.rollback()  # before the index is brought up to date
                    raise
    except jobs.LostJob:
        db.session.rollback()
        log.warning("job %s was taken over by another runner; %s stops", job_id, runner)
        return
    except Exception as error:
        db.session.rollback()
        log.exception("job %s failed", job_id)
        try:
            _end(db.session.get(Job, job_id), runner, "failed", f"任务出错：{error}")
        except jobs.LostJob:
            db.session.rollback()
            return
    kind.cleanup(db.session.get(Job, job_id))


def _end(job: Job, runner: str, status: str, error: str | None = None) -> None:
    if not jobs.beat(job.id, runner):
        raise jobs.LostJob()
    jobs.finish(job, status, error)
    db.session.commit()


class Heartbeat:
    """Beats the job's heartbeat from a thread while the work runs (a single file can take
    long: a LibreOffice conversion, a big PDF), in short transactions of its own."""

    def __init__(self, engine: Engine, job_id: int, runner: str, interval: float) -> None:
        self.engine, self.job_id, self.runner, self.interval = engine, job_id, runner, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.engine.begin() as connection:
                    kept = connection.execute(
                        update(Job)
                        .where(
                            Job.id == self.job_id,
                            Job.runner == self.runner,
                            Job.status == "running",
                        )
                        .values(heartbeat_at=utcnow())
                    ).rowcount
            except Exception:  # the database is busy: the next beat, or the work's commit
                log.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
                continue
            if not kept:
                return  # taken over or ended: the work's next checkpoint stops it


def spawn(app: Flask) -> bool:
    """Start `python -m tracker run-jobs` with this app's settings, in a session of its own
    (a worker's restart or timeout does not end it); its output goes to JOB_LOG."""
    env = dict(os.environ)
    for key in CHILD_CONFIG:
        if app.config.get(key) is not None:
            env[f"TRACKER_{key}"] = json.dumps(app.config[key])
    env["TRACKER_INSTANCE_DIR"] = app.instance_path
    try:
        os.makedirs(os.path.dirname(app.config["JOB_LOG"]) or ".", exist_ok=True)
        with open(app.config["JOB_LOG"], "ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "tracker", "run-jobs"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
    except OSError:
        log.exception("could not start a job runner; `tracker run-jobs` from cron will run it")
        return False
    threading.Thread(target=process.wait, daemon=True).start()  # reap it when it ends
    return True


def wanted(app: Flask, job: Job) -> bool:
    """The job needs a runner started (see jobs.wants_runner) and this app starts them;
    the caller commits, then calls spawn."""
    return bool(app.config["JOB_SPAWN"]) and jobs.wants_runner(job, app.config["JOB_STALE_SECONDS"])
