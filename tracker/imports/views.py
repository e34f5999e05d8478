"""导入答复函: several files or .zip archives uploaded at once become a background job
(tracker.runner); its page shows the progress and then the per-file report."""

from __future__ import annotations

import shutil

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from tracker import runner
from tracker.current import upload_dir
from tracker.extensions import csrf
from tracker.imports.forms import ImportForm
from tracker.letters.formats import MB
from tracker.models import Job, JobItem
from tracker.paging import paginate
from tracker.rules.labels import IMPORT_OUTCOME, JOB_STATUS
from tracker.services import imports, jobs, permissions
from tracker.services.corpus import STATUSES
from tracker.views_common import Done, commit, get_or_404, lock_for_write, perform

bp = Blueprint("imports", __name__, url_prefix="/imports")
PER_PAGE = 100


def _limits() -> dict:
    config = current_app.config
    return {
        "files": config["IMPORT_MAX_FILES"],
        "upload_mb": config["IMPORT_MAX_UPLOAD_MB"],
        "file_mb": config["IMPORT_MAX_FILE_MB"],
        "archive_files": config["IMPORT_MAX_ARCHIVE_FILES"],
        "archive_mb": config["IMPORT_MAX_ARCHIVE_MB"],
        "soffice": bool(config.get("SOFFICE") and shutil.which(config["SOFFICE"])),
    }


@bp.route("", methods=["GET", "POST"])
@csrf.exempt  # checked below, once this page's larger upload limit is set
@login_required
def index():
    if not permissions.can_import(current_user):
        abort(403)
    limits = _limits()
    if request.method == "GET":
        return _page(ImportForm(max_files=limits["files"]), 200)
    request.max_content_length = int(limits["upload_mb"] * MB)
    too_large = False
    try:
        csrf.protect()
        form = ImportForm(max_files=limits["files"])
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:
        form = ImportForm(formdata=None, max_files=limits["files"])
        form.form_errors.append(
            f"上传的文件合计超过 {limits['upload_mb']} MB：请分批上传，或分成几个压缩包。"
        )
        valid, too_large = False, True

    def action():
        uploads = [(f.filename, f.stream) for f in form.chosen()]
        job = imports.start(current_user, uploads, upload_dir())
        start_runner = runner.wanted(current_app, job)
        app = current_app._get_current_object()
        return Done(
            None,
            url_for("imports.job", job_id=job.id),
            after_commit=(lambda: runner.spawn(app)) if start_runner else None,
        )

    return perform(
        form,
        action,
        valid=valid,
        failed=lambda status: _page(form, 413 if too_large else status),
    )


def _page(form: ImportForm, status: int):
    recent = jobs.visible(current_user, imports.KIND)
    return render_template(
        "imports/index.html",
        form=form,
        limits=_limits(),
        recent=recent,
        counts=jobs.counts_for([j.id for j in recent]),
        job_status=JOB_STATUS,
        outcome=IMPORT_OUTCOME,
        sees_all_jobs=jobs.sees_every_job(current_user),
    ), status


def _visible_job(job_id: int) -> Job:
    job = get_or_404(
        Job,
        job_id,
        lambda j: jobs.can_view(current_user, j),
        named=lambda j: j.kind == imports.KIND,
    )
    # the job waits for a runner (its runner never started or died): start one. A write
    # without a form, on a GET: the runner reads the job once it is committed.
    with lock_for_write():  # the claim is an UPDATE: this GET takes the write lock
        if runner.wanted(current_app, job):
            commit()
            runner.spawn(current_app._get_current_object())
    return job


def _progress(job: Job) -> dict:
    percent = 100 if job.status == "done" else (job.done * 100 // job.total if job.total else 0)
    return {
        "id": job.id,
        "status": job.status,
        "status_label": JOB_STATUS[job.status],
        "done": job.done,
        "total": job.total,
        "percent": percent,
        "finished": job.status not in jobs.ACTIVE,
        "counts": jobs.counts_for([job.id]).get(job.id, {}),
        "error": job.error,
    }


@bp.route("/<int:job_id>")
@login_required
def job(job_id: int):
    job = _visible_job(job_id)
    shown = request.args.get("status")
    query = select(JobItem).where(JobItem.job_id == job.id).order_by(JobItem.seq)
    if shown in STATUSES:
        query = query.where(JobItem.status == shown)
    page = paginate(query, per_page=PER_PAGE)
    return render_template(
        "imports/job.html",
        job=job,
        progress=_progress(job),
        page=page,
        shown=shown if shown in STATUSES else None,
        statuses=STATUSES,
        outcome=IMPORT_OUTCOME,
    )


@bp.route("/<int:job_id>/status")
@login_required
def status(job_id: int):
    """The job's progress as JSON, for the page's progress bar and for scripts."""
    return jsonify(_progress(_visible_job(job_id)))
