"""Background jobs: work longer than a page load, run by `tracker run-jobs` in a process of
its own, never in a web worker (which a 120-second timeout or a restart can kill).

A job is a row: kind, owner, parameters, status (queued → running → done | failed),
progress (done of total) and one JobItem per finished item. The database is the queue, so
nothing else needs installing (SQLite by default, PostgreSQL for several servers):

- a runner *claims* a job with one conditional UPDATE (queued, or running with a heartbeat
  older than JOB_STALE_SECONDS), which SQLite and PostgreSQL both apply atomically: of two
  runners, one gets the row and the other changes nothing;
- while it runs, the runner beats ``heartbeat_at``, and every commit of its work first
  checks, in the same transaction, that the job is still its own; a runner that lost its
  job (it was taken for dead) rolls back and stops;
- a job's items are recorded with the work they did, so a runner that takes over skips
  exactly the items already done; the rest is safe to repeat (imports are idempotent).

These functions flush; the runner (tracker.runner) and the views commit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, func, or_, select, update

from tracker.extensions import db
from tracker.models import Job, JobItem, User, utcnow
from tracker.services import permissions

ACTIVE = ("queued", "running")


class LostJob(Exception):
    """Another runner has taken the job over: this one's uncommitted work is dropped."""


def create(actor: User | None, kind: str, params: dict) -> Job:
    job = Job(kind=kind, owner=actor, params=params, status="queued")
    db.session.add(job)
    db.session.flush()
    return job


def can_view(user: User, job: Job) -> bool:
    """A job and its report: the one who started it, and the admin."""
    return sees_every_job(user) or job.owner_id == user.id


def sees_every_job(user: User) -> bool:
    """Every user's jobs: the admin; others see their own."""
    return permissions.is_admin(user)


def visible(user: User, kind: str, limit: int = 20) -> list[Job]:
    query = select(Job).where(Job.kind == kind).order_by(Job.id.desc()).limit(limit)
    if not sees_every_job(user):
        query = query.where(Job.owner_id == user.id)
    return list(db.session.execute(query).scalars())


def _claimable(stale_seconds: float):
    stale = utcnow() - timedelta(seconds=stale_seconds)
    return or_(
        Job.status == "queued",
        and_(Job.status == "running", or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale)),
    )


def claim(runner: str, *, stale_seconds: float, job_id: int | None = None) -> Job | None:
    """Take the oldest runnable job (or that one) for `runner`; None when there is none.
    The caller commits at once, so that the claim is seen by every other runner."""
    candidates = select(Job.id).where(_claimable(stale_seconds)).order_by(Job.id)
    if job_id is not None:
        candidates = candidates.where(Job.id == job_id)
    for candidate in db.session.execute(candidates.limit(20)).scalars().all():
        now = utcnow()
        taken = db.session.execute(
            update(Job)
            .where(Job.id == candidate, _claimable(stale_seconds))
            .values(
                status="running",
                runner=runner,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
                started_at=func.coalesce(Job.started_at, now),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken == 1:
            job = db.session.get(Job, candidate)
            db.session.refresh(job)
            return job
    return None


def beat(job_id: int, runner: str) -> bool:
    """The runner is alive and the job still its own (False: it was taken over)."""
    return (
        db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.runner == runner, Job.status == "running")
            .values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def finish(job: Job, status: str, error: str | None = None) -> None:
    job.status = status
    job.error = error
    job.finished_at = utcnow()
    job.runner = None
    db.session.flush()


def done_items(job: Job) -> set[int]:
    return set(db.session.execute(select(JobItem.seq).where(JobItem.job_id == job.id)).scalars())


def add_item(job: Job, seq: int, label: str, status: str, **fields) -> JobItem:
    item = JobItem(job_id=job.id, seq=seq, label=label[:500], status=status, **fields)
    db.session.add(item)
    return item


def counts_for(job_ids: list[int]) -> dict[int, dict[str, int]]:
    """Each job's items by status, in one query."""
    found: dict[int, dict[str, int]] = {}
    if job_ids:
        rows = db.session.execute(
            select(JobItem.job_id, JobItem.status, func.count())
            .where(JobItem.job_id.in_(job_ids))
            .group_by(JobItem.job_id, JobItem.status)
        )
        for job_id, status, count in rows:
            found.setdefault(job_id, {})[status] = count
    return found


def wants_runner(job: Job, stale_seconds: float) -> bool:
    """The job waits for a runner (new, or its runner stopped beating) and none was started
    for it within the stale period (a page polled every few seconds starts one runner, not
    one per poll): records that one is being started; True: start one."""
    since = utcnow() - timedelta(seconds=stale_seconds)
    return (
        db.session.execute(
            update(Job)
            .where(
                Job.id == job.id,
                _claimable(stale_seconds),
                or_(Job.spawned_at.is_(None), Job.spawned_at < since),
            )
            .values(spawned_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
