"""The commitment tracker: candidates to confirm per letter, the list with its exports,
and a page per commitment with progress updates, status changes and the report-back."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from tracker import downloads
from tracker.commitments import forms
from tracker.current import today, upload_dir
from tracker.extensions import db
from tracker.formutil import as_id, filter_options, options
from tracker.models import (
    Commitment,
    CommitmentUpdate,
    ReplyLetter,
)
from tracker.paging import paginate
from tracker.rendering import letter_markdown, letter_paragraphs
from tracker.rules.labels import COMMITMENT_STATUS, SENT_LETTER_STATUSES
from tracker.services import audit, permissions, proposals, search, tabular, users, vocab
from tracker.services import commitments as svc
from tracker.views_common import get_or_404, perform

bp = Blueprint("commitments", __name__)


# -- helpers ---------------------------------------------------------------------------------


def _get(commitment_id: int) -> Commitment:
    return get_or_404(Commitment, commitment_id, lambda c: svc.can_view(current_user, c))


def _get_letter(letter_id: int) -> ReplyLetter:
    return get_or_404(ReplyLetter, letter_id, can_review)


def _with_units(form, commitment: Commitment):
    form.unit.choices = options([(u.id, u.name) for u in svc.owner_units(commitment)])
    return form


def _status_form(commitment: Commitment) -> forms.StatusForm:
    form = forms.StatusForm(prefix="status", done_on=today())
    allowed = svc.TRANSITIONS.get(commitment.status, set())
    form.status.choices = options(
        [(code, label) for code, label in COMMITMENT_STATUS.items() if code in allowed]
    )
    return form


def _report_form() -> forms.ReportForm:
    form = forms.ReportForm(prefix="report", reported_on=today())
    form.channel.choices = options(vocab.choices("contact_channel"))
    return form


def _edit_form(commitment: Commitment, cls=forms.EditForm, prefix="edit"):
    form = cls(
        prefix=prefix,
        text=commitment.text,
        due_on=commitment.due_on,
        target=commitment.target,
        unit=commitment.unit_id,
    )
    return _with_units(form, commitment)


# -- the list --------------------------------------------------------------------------------


def _filter_form() -> forms.FilterForm:
    form = forms.FilterForm(request.args)
    form.unit.choices = filter_options(users.unit_choices())
    form.session.choices = filter_options(proposals.session_choices())
    form.grade.choices = filter_options(vocab.choices("classification"))
    form.checked()
    return form


def _filtered(form: forms.FilterForm):
    """The commitments the user may see, with the list's filters applied."""
    filters = svc.ListFilters(
        status=form.status.data or "",
        overdue=bool(form.overdue.data),
        unit_id=as_id(form.unit.data),
        session_id=as_id(form.session.data),
        grade=form.grade.data or "",
        due_from=form.due_from.data,  # None when it failed its checks (FilterForm.checked)
        due_to=form.due_to.data,
        q=form.q.data or "",
        report=bool(form.report.data),
    )
    return svc.list_query(current_user, filters, today())


@bp.route("/commitments")
@login_required
def index():
    form = _filter_form()
    page = paginate(_filtered(form), per_page=25)
    latest = svc.latest_updates([c.id for c in page.items])
    follow = vocab.followup_grades()
    return render_template(
        "commitments/list.html",
        form=form,
        page=page,
        args=form.query_args(),
        latest=latest,
        status_of=lambda c: svc.effective_status(c, today()),
        needs_report=lambda c: svc.needs_report_back(c, follow),
        grade_labels=vocab.labels("classification"),
    ), (400 if form.errors else 200)


EXPORT_HEADERS = [
    "承诺事项",
    "量化目标",
    "承诺期限",
    "状态",
    "责任单位",
    "会议",
    "建议/提案编号",
    "建议/提案标题",
    "领衔人",
    "答复文号",
    "答复类别",
    "答复日期",
    "完成日期",
    "无法落实原因",
    "最新进展",
    "进展日期",
    "向代表反馈日期",
    "确认日期",
]


EXPORT_BATCH = 500  # commitments read at a time by an export


@bp.route("/commitments/export.<fmt>")
@login_required
def export(fmt: str):
    if fmt not in tabular.FORMATS:
        abort(404)
    form = _filter_form()
    if form.errors:
        abort(400)
    query = _filtered(form).execution_options(yield_per=EXPORT_BATCH)
    day = today()
    grades = vocab.labels("classification")

    def rows():
        # read a batch at a time while the file is sent (in the response's own session)
        found = db.session.execute(query).scalars()
        while batch := found.fetchmany(EXPORT_BATCH):
            latest = svc.latest_updates([c.id for c in batch])
            for c in batch:
                yield _export_row(c, latest.get(c.id), grades, day)

    sheet = tabular.Sheet("承诺事项", EXPORT_HEADERS, rows())
    return downloads.table(sheet, fmt, f"承诺事项_{day.isoformat()}")


def _export_row(c: Commitment, update, grades: dict, day) -> list:
    letter, proposal = c.letter, c.proposal
    return [
        c.text,
        c.target,
        c.due_on,
        COMMITMENT_STATUS[svc.effective_status(c, day)],
        c.unit.name if c.unit else "",
        proposal.session.name if proposal else (letter.session_name if letter else ""),
        proposal.number if proposal else (letter.proposal_number if letter else ""),
        proposal.title if proposal else (letter.proposal_title if letter else ""),
        proposal.lead_proposer if proposal else "",
        letter.doc_number if letter else "",
        grades.get(letter.classification or "", letter.classification) if letter else "",
        letter.letter_on if letter else None,
        c.done_on,
        c.drop_reason,
        update.note if update else "",
        update.noted_on if update else None,
        c.reported_back_on,
        c.confirmed_at.date() if c.confirmed_at else None,
    ]


# -- one commitment --------------------------------------------------------------------------


_TAG_OR_ENTITY_RE = re.compile(r"<[^>]*>|&[#\w]+;")


def _find_in_text(html: str, needle: str) -> int:
    """Where `needle` first occurs in the page's text — never inside a tag (a commitment
    reading "class" must not mark an attribute) nor splitting a character reference."""
    if not needle:
        return -1
    spans = [m.span() for m in _TAG_OR_ENTITY_RE.finditer(html)]
    at = html.find(needle)
    while at >= 0:
        end = at + len(needle)
        cut = any(s < end and e > at and not (at <= s and e <= end) for s, e in spans)
        if not cut:
            return at
        at = html.find(needle, at + 1)
    return -1


def source_in_letter(letter: ReplyLetter | None, sentence: str) -> tuple[Markup, bool]:
    """The letter's text with the commitment's sentence marked; False when not found."""
    if letter is None:
        return Markup(""), False
    html = str(letter_paragraphs(letter) if letter.source_file else letter_markdown(letter.body))
    needle = str(escape(sentence))
    at = _find_in_text(html, needle)
    if at < 0:
        return Markup(html), False
    marked = f'<mark id="source">{needle}</mark>'
    return Markup(html[:at] + marked + html[at + len(needle) :]), True


def _render(commitment: Commitment, status: int = 200, **overrides):
    events = audit.events(entity="commitment", entity_id=commitment.id)
    letter_visible = commitment.letter is not None and search.visible_letter(
        current_user, commitment.letter
    )
    # the letter's text only for those who may read the letter (a 不予公开 reply stays in
    # its unit even when a commitment from it is handed to another unit)
    source, found = (
        source_in_letter(commitment.letter, commitment.text) if letter_visible else ("", False)
    )
    context = {
        "update_form": forms.UpdateForm(prefix="update", noted_on=today()),
        "status_form": _status_form(commitment),
        "report_form": _report_form(),
        "edit_form": _edit_form(commitment),
        "confirm_form": _edit_form(commitment, forms.ConfirmForm, "confirm"),
    }
    context.update(overrides)
    return render_template(
        "commitments/detail.html",
        c=commitment,
        status=svc.effective_status(commitment, today()),
        events=events,
        source=source,
        source_found=found,
        can_handle=svc.can_handle(current_user, commitment),
        needs_report=svc.needs_report_back(commitment),
        letter_visible=letter_visible,
        reviewable=commitment.letter is None or commitment.letter.status in SENT_LETTER_STATUSES,
        evidence_name=svc.evidence_name,
        **context,
    ), status


@bp.route("/commitments/<int:commitment_id>")
@login_required
def detail(commitment_id: int):
    return _render(_get(commitment_id))[0]


def _act(commitment: Commitment, form_name: str, form, action, back: str | None = None):
    """Validate → one service call → commit → back to the page (or ``back``); errors
    re-render the commitment's page."""
    if not svc.can_handle(current_user, commitment):
        abort(403)

    def then() -> str:
        if back is not None:
            return back
        if svc.can_view(current_user, commitment):
            return url_for("commitments.detail", commitment_id=commitment.id)
        # handed over to another unit: back to where the user can still look
        letter = commitment.letter
        if letter is not None and can_review(letter):
            return url_for("commitments.review", letter_id=letter.id)
        return url_for("commitments.index")

    return perform(
        form,
        action,
        then=then,
        failed=lambda status: _render(
            commitment, status, **{form_name: form, "open_form": form_name}
        ),
    )


@bp.route("/commitments/<int:commitment_id>/confirm", methods=["POST"])
@login_required
def confirm(commitment_id: int):
    commitment = _get(commitment_id)
    # the letter's candidates page names each row's form c<id> (and the clerk goes back
    # there to go on with the next candidate); the commitment's own page "confirm"
    from_review = f"c{commitment.id}-text" in request.form and commitment.letter is not None
    prefix = f"c{commitment.id}" if from_review else "confirm"
    form = _with_units(forms.ConfirmForm(prefix=prefix), commitment)
    back = url_for("commitments.review", letter_id=commitment.letter_id) if from_review else None

    def action():
        svc.confirm(
            current_user,
            commitment,
            text=form.text.data,
            due_on=form.due_on.data,
            target=form.target.data,
            unit_id=form.unit.data,
        )
        return "已确认为承诺事项，将跟踪至办结。"

    return _act(commitment, "confirm_form", form, action, back)


@bp.route("/commitments/<int:commitment_id>/edit", methods=["POST"])
@login_required
def edit(commitment_id: int):
    commitment = _get(commitment_id)
    form = _with_units(forms.EditForm(prefix="edit"), commitment)

    def action():
        changes = svc.edit(
            current_user,
            commitment,
            text=form.text.data,
            due_on=form.due_on.data,
            target=form.target.data,
            unit_id=form.unit.data,
            reason=form.reason.data or "",
        )
        return ("已修改：" + "，".join(changes)) if changes else "没有修改。"

    return _act(commitment, "edit_form", form, action)


@bp.route("/commitments/<int:commitment_id>/updates", methods=["POST"])
@login_required
def add_update(commitment_id: int):
    commitment = _get(commitment_id)
    form = forms.UpdateForm(prefix="update")

    def action():
        svc.add_update(
            current_user,
            commitment,
            noted_on=form.noted_on.data,
            note=form.note.data,
            evidence_url=form.evidence_url.data or "",
            upload=form.evidence.data or None,
            upload_dir=upload_dir(),
            today=today(),
        )
        return "已记录进展。"

    return _act(commitment, "update_form", form, action)


@bp.route("/commitments/<int:commitment_id>/status", methods=["POST"])
@login_required
def set_status(commitment_id: int):
    commitment = _get(commitment_id)
    form = _status_form(commitment)
    form.process(request.form)

    def action():
        svc.set_status(
            current_user,
            commitment,
            form.status.data or "",
            reason=form.reason.data or "",
            done_on=form.done_on.data,
            today=today(),
        )
        return f"状态已改为“{COMMITMENT_STATUS[commitment.status]}”。"

    return _act(commitment, "status_form", form, action)


@bp.route("/commitments/<int:commitment_id>/report", methods=["POST"])
@login_required
def report_back(commitment_id: int):
    commitment = _get(commitment_id)
    form = _report_form()
    form.process(request.form)

    def action():
        svc.report_back(
            current_user,
            commitment,
            reported_on=form.reported_on.data,
            channel=form.channel.data,
            note=form.note.data,
            today=today(),
        )
        return "已记录向代表反馈的情况，并记入沟通记录。"

    return _act(commitment, "report_form", form, action)


@bp.route("/commitment-updates/<int:update_id>/evidence")
@login_required
def evidence(update_id: int):
    update_row = get_or_404(
        CommitmentUpdate, update_id, lambda u: svc.can_view(current_user, u.commitment)
    )
    path = svc.evidence_path(update_row, upload_dir())
    if path is None:
        abort(404)
    return downloads.stored_file(path, svc.evidence_name(update_row))


# -- a letter's candidates -------------------------------------------------------------------


def _render_review(letter: ReplyLetter, status: int = 200, bulk_form=None, errors=None):
    items = [c for c in letter.commitments if c.status != "discarded"]
    candidates = [c for c in items if c.status == "candidate"]
    return render_template(
        "commitments/review.html",
        letter=letter,
        candidates=candidates,
        confirmed=[c for c in items if c.status != "candidate"],
        discarded=[c for c in letter.commitments if c.status == "discarded"],
        forms={c.id: _edit_form(c, forms.ConfirmForm, f"c{c.id}") for c in candidates},
        bulk_form=bulk_form or forms.BulkForm(),
        errors=errors or [],
        can_handle=permissions.in_unit(current_user, letter.unit_id),
        reviewable=letter.status in SENT_LETTER_STATUSES,
        status_of=lambda c: svc.effective_status(c, today()),
    ), status


@bp.app_template_global()
def can_review(letter: ReplyLetter) -> bool:
    """The user may open the letter's commitments page: its unit, and see-all roles."""
    return search.visible_letter(current_user, letter) and permissions.sees_unit(
        current_user, letter.unit_id
    )


@bp.route("/letters/<int:letter_id>/commitments", methods=["GET", "POST"])
@login_required
def review(letter_id: int):
    letter = _get_letter(letter_id)
    if request.method == "GET":
        return _render_review(letter)[0]
    if not permissions.in_unit(current_user, letter.unit_id):
        abort(403)
    form = forms.BulkForm()
    if not form.validate_on_submit():
        return _render_review(letter, 400, form)
    by_id = {c.id: c for c in letter.commitments}
    ids = [i for i in map(as_id, request.form.getlist("ids")) if i is not None]
    chosen = [by_id[i] for i in ids if i in by_id]
    if not chosen:
        return _render_review(letter, 400, form, ["请先勾选候选承诺。"])
    if not all(svc.can_handle(current_user, c) for c in chosen):
        return _render_review(letter, 400, form, ["所选条目中有不属于本单位的事项。"])

    def action():
        if form.action.data == "confirm":
            for c in chosen:
                svc.confirm(current_user, c, keep_inferred=True)
            return f"已确认{len(chosen)}条承诺事项。"
        if form.action.data == "merge":
            merged = svc.merge(current_user, chosen)
            return f"已合并为一条候选承诺（#{merged.id}），请核对后确认。"
        for c in chosen:
            svc.discard(current_user, c)
        return f"已舍弃{len(chosen)}条候选承诺。"

    return perform(
        form,
        action,
        valid=True,
        then=url_for("commitments.review", letter_id=letter.id),
        failed=lambda status: _render_review(letter, status, form),
    )
