"""导入答复函: several files or .zip archives uploaded at once become a background job
(tracker.runner); its page shows the progress and then the per-file report."""

from __future__ import annotations

import shutil

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from tracker import runner
from tracker.current import upload_dir
from tracker.extensions import csrf, db
from tracker.imports.forms import ImportForm
from tracker.letters.formats import MB
from tracker.models import Job, JobItem
from tracker.paging import paginate
from tracker.rules.labels import IMPORT_OUTCOME, JOB_STATUS
from tracker.services import imports, jobs, permissions
from tracker.services.corpus import STATUSES
from tracker.services.errors import DomainError

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
    form = None
    status = 200
    if request.method == "POST":
        request.max_content_length = int(limits["upload_mb"] * MB)
        try:
            csrf.protect()
            form = ImportForm(max_files=limits["files"])
            valid = form.validate_on_submit()
        except RequestEntityTooLarge:
            form = ImportForm(formdata=None, max_files=limits["files"])
            form.form_errors.append(
                f"上传的文件合计超过 {limits['upload_mb']} MB：请分批上传，或分成几个压缩包。"
            )
            valid, status = False, 413
        if valid:
            uploads = [(f.filename, f.stream) for f in form.chosen()]
            try:
                job = imports.start(current_user, uploads, upload_dir())
            except DomainError as error:
                db.session.rollback()
                form.form_errors.append(str(error))
            else:
                start_runner = runner.wanted(current_app, job)
                db.session.commit()
                if start_runner:
                    runner.spawn(current_app._get_current_object())
                return redirect(url_for("imports.job", job_id=job.id))
        status = status if status != 200 else 400
    form = form or ImportForm(max_files=limits["files"])
    recent = jobs.visible(current_user, imports.KIND)
    return render_template(
        "imports/index.html",
        form=form,
        limits=limits,
        recent=recent,
        counts=jobs.counts_for([j.id for j in recent]),
        job_status=JOB_STATUS,
        outcome=IMPORT_OUTCOME,
    ), status


def _visible_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.kind != imports.KIND:
        abort(404)
    if not jobs.can_view(current_user, job):
        abort(403)
    # the job waits for a runner (its runner never started or died): start one
    if runner.wanted(current_app, job):
        db.session.commit()
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
