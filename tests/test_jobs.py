"""Background jobs: an upload becomes a job; runners claim it atomically, beat a heartbeat,
and a runner that dies mid-job is replaced by one that resumes and finishes it."""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from letterfiles import docx_bytes, letter_text, pdf_bytes, scanned_pdf_bytes, zip_bytes
from sqlalchemy import select, update

from tracker import runner as job_runner
from tracker.extensions import db
from tracker.letters import reading
from tracker.models import Job, JobItem, ReplyLetter, User, utcnow
from tracker.services import imports, jobs
from tracker.services.errors import PermissionDenied


def user(name: str) -> User:
    return db.session.execute(select(User).filter_by(username=name)).scalar_one()


def upload(app, files: dict[str, bytes], owner="liaison") -> int:
    with app.app_context():
        job = imports.start(
            user(owner),
            [(name, io.BytesIO(data)) for name, data in files.items()],
            app.config["UPLOAD_DIR"],
        )
        db.session.commit()
        return job.id


def archive_of(count: int, first: int = 20232100) -> bytes:
    return zip_bytes(
        {f"答复/{n}.txt": letter_text(str(first + n), 200 + n).encode() for n in range(count)}
    )


def report(app, job_id) -> list[tuple[int, str, str, str]]:
    with app.app_context():
        items = db.session.execute(
            select(JobItem).where(JobItem.job_id == job_id).order_by(JobItem.seq)
        ).scalars()
        return [(i.seq, i.label, i.fmt, i.status) for i in items]


def get_job(app, job_id) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def letter_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(db.func.count(ReplyLetter.id))).scalar()


def run(app, **kwargs) -> int:
    with app.app_context():
        return job_runner.run_pending(app, **kwargs)


def test_an_upload_is_saved_queued_and_imported_with_a_report(app, people):
    job_id = upload(
        app,
        {
            "交通局.docx": docx_bytes("20232048", 156),
            "汇编.zip": zip_bytes({"2023/答复.pdf": pdf_bytes("20232049", 157)}, gbk_names=True),
            "扫描件.pdf": scanned_pdf_bytes(),
        },
    )
    queued = get_job(app, job_id)
    assert (queued.status, queued.kind, queued.total, queued.done) == (
        "queued",
        "import_letters",
        3,
        0,
    )
    folder = Path(app.config["UPLOAD_DIR"]) / queued.params["folder"]
    assert sorted(p.name for p in folder.iterdir()) == ["0001", "0002", "0003"]
    assert [f["name"] for f in queued.params["files"]] == ["交通局.docx", "汇编.zip", "扫描件.pdf"]
    assert letter_count(app) == 0  # nothing is imported in the request

    assert run(app) == 1
    job = get_job(app, job_id)
    assert (job.status, job.total, job.done, job.error) == ("done", 3, 3, None)
    assert report(app, job_id) == [
        (0, "交通局.docx", "docx", "imported"),
        (1, "汇编.zip/2023/答复.pdf", "pdf", "imported"),
        (2, "扫描件.pdf", "pdf", "failed"),
    ]
    assert letter_count(app) == 2
    assert not folder.exists()  # the letters hold the text; the uploads are gone
    assert run(app) == 0  # nothing left to run


def test_only_those_who_import_may_start_an_import(app, people):
    with app.app_context(), pytest.raises(PermissionDenied):
        imports.start(user("clerk"), [("a.txt", io.BytesIO(b"x"))], app.config["UPLOAD_DIR"])


class Died(BaseException):
    """The runner's process ends here (a worker restart, a reboot): nothing is cleaned up."""


def test_a_runner_that_dies_mid_job_is_replaced_by_one_that_resumes_and_finishes(
    app, people, monkeypatch
):
    monkeypatch.setattr(imports, "CHUNK_ITEMS", 2)
    job_id = upload(
        app, {"汇编.zip": archive_of(5), "单独.txt": letter_text("20232199", 299).encode()}
    )
    read_and_parse = reading.read_and_parse
    calls = []

    def dies_on_the_third_file(*args):
        calls.append(args[0].label)
        if len(calls) == 3:
            raise Died()
        return read_and_parse(*args)

    monkeypatch.setattr(reading, "read_and_parse", dies_on_the_third_file)
    with pytest.raises(Died):
        run(app, runner="host-a:1:aaaa")
    job = get_job(app, job_id)
    # the first window of two files was committed; the third file's window was not
    assert (job.status, job.runner, job.done, job.total, job.attempts) == (
        "running",
        "host-a:1:aaaa",
        2,
        6,
        1,
    )
    assert [row[1] for row in report(app, job_id)] == ["汇编.zip/答复/0.txt", "汇编.zip/答复/1.txt"]
    assert letter_count(app) == 2

    monkeypatch.setattr(reading, "read_and_parse", read_and_parse)
    # while the dead runner's heartbeat is fresh, no other runner takes the job
    assert run(app, runner="host-b:2:bbbb") == 0
    # once it is older than JOB_STALE_SECONDS, the next runner takes over
    with app.app_context():
        stale = utcnow() - timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 1)
        db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=stale))
        db.session.commit()
    assert run(app, runner="host-b:2:bbbb") == 1
    job = get_job(app, job_id)
    assert (job.status, job.done, job.total, job.attempts) == ("done", 6, 6, 2)
    rows = report(app, job_id)
    assert [row[0] for row in rows] == list(range(6))  # every file once, none twice
    assert {row[3] for row in rows} == {"imported"}  # the first two keep their first result
    assert rows[-1][1] == "单独.txt"
    assert letter_count(app) == 6
    with app.app_context():
        sources = db.session.execute(select(ReplyLetter.source_file)).scalars().all()
        assert sorted(sources) == sorted([f"答复/{n}.txt" for n in range(5)] + ["单独.txt"])


def test_a_runner_whose_job_was_taken_over_writes_nothing_more(app, people):
    job_id = upload(app, {"a.txt": letter_text("20232048", 156).encode()})
    stale_seconds = app.config["JOB_STALE_SECONDS"]
    with app.app_context():
        jobs.claim("runner-a", stale_seconds=stale_seconds)
        db.session.commit()
        # runner A stalls; its heartbeat ages and runner B takes the job
        old = utcnow() - timedelta(seconds=stale_seconds + 1)
        db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=old))
        db.session.commit()
        assert jobs.claim("runner-b", stale_seconds=stale_seconds).id == job_id
        db.session.commit()
        job_runner.run_one(db.session.get(Job, job_id), "runner-a")  # A wakes up
        assert db.session.get(Job, job_id).runner == "runner-b"
    assert report(app, job_id) == [] and letter_count(app) == 0
    with app.app_context():
        job_runner.run_one(db.session.get(Job, job_id), "runner-b")
    assert get_job(app, job_id).status == "done" and letter_count(app) == 1


def test_runners_claiming_at_once_never_take_the_same_job(app, people):
    ids = [upload(app, {"a.txt": b"x"}) for _ in range(12)]
    claimed: list[int] = []
    errors: list[BaseException] = []

    def claim_all(name: str) -> None:
        try:
            with app.app_context():
                while True:
                    job = jobs.claim(name, stale_seconds=60)
                    db.session.commit()
                    if job is None:
                        return
                    claimed.append(job.id)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=claim_all, args=(f"runner-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(claimed) == ids  # each job claimed exactly once


def test_the_heartbeat_goes_on_while_one_file_takes_long(app, people, monkeypatch):
    app.config["JOB_HEARTBEAT_SECONDS"] = 0.05
    job_id = upload(app, {"a.txt": letter_text("20232048", 156).encode()})
    read_and_parse = reading.read_and_parse
    beats = []

    def heartbeat():
        with db.engine.connect() as connection:
            return connection.execute(select(Job.heartbeat_at).where(Job.id == job_id)).scalar()

    def slow(*args):
        beats.append(heartbeat())
        time.sleep(0.5)  # a long conversion
        beats.append(heartbeat())
        return read_and_parse(*args)

    monkeypatch.setattr(reading, "read_and_parse", slow)
    assert run(app) == 1
    assert beats[1] > beats[0]


def test_a_job_that_keeps_killing_its_runner_is_stopped(app, people):
    job_id = upload(app, {"a.txt": letter_text("20232048", 156).encode()})
    with app.app_context():
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="running", runner="dead", attempts=app.config["JOB_MAX_ATTEMPTS"])
        )
        db.session.commit()
    assert run(app) == 1
    job = get_job(app, job_id)
    assert job.status == "failed" and job.error.startswith("任务多次中断，已停止")
    assert letter_count(app) == 0
    assert not (Path(app.config["UPLOAD_DIR"]) / job.params["folder"]).exists()


def test_an_unexpected_error_fails_the_job_and_keeps_nothing_half_written(app, people, monkeypatch):
    job_id = upload(app, {"a.txt": letter_text("20232048", 156).encode()})

    def broken(job, checkpoint):
        db.session.add(ReplyLetter(status="imported", title="半截", source_file="half.txt"))
        db.session.flush()
        raise OSError("No space left on device")

    monkeypatch.setitem(job_runner.KINDS, "import_letters", job_runner.Kind(broken))
    assert run(app) == 1
    job = get_job(app, job_id)
    assert (job.status, job.error) == ("failed", "任务出错：No space left on device")
    assert letter_count(app) == 0


def test_run_jobs_command_runs_what_waits_and_says_so(app, runner, people):
    upload(app, {"a.txt": letter_text("20232048", 156).encode()})
    result = runner.invoke(args=["run-jobs"])
    assert result.exit_code == 0 and result.output == "1 job(s) run\n"
    assert runner.invoke(args=["run-jobs"]).output == ""


@pytest.mark.slow
def test_the_app_starts_a_runner_process_that_finishes_the_job(app, people):
    app.config["JOB_SPAWN"] = True
    job_id = upload(app, {"a.docx": docx_bytes("20232048", 156)})
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job_runner.wanted(app, job)
        db.session.commit()
        assert not job_runner.wanted(app, job)  # one runner per stale period, not one per look
        assert job_runner.spawn(app)
    deadline = time.monotonic() + 60
    while get_job(app, job_id).status != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    job = get_job(app, job_id)
    assert job.status == "done", Path(app.config["JOB_LOG"]).read_text()
    assert report(app, job_id) == [(0, "a.docx", "docx", "imported")]
