"""Proposal list, proposal page and the handling actions on it."""

from __future__ import annotations

import re
from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from tracker import downloads
from tracker.current import deadline_policy, search_engine, today, upload_dir
from tracker.extensions import db
from tracker.formutil import as_id, filter_options, options
from tracker.models import (
    Assignment,
    ExtensionRequest,
    Proposal,
)
from tracker.paging import paginate
from tracker.proposals import forms
from tracker.rules import proposal_status
from tracker.rules.labels import DRAFT_LETTER_STATUSES, NOT_CONTACTED, PROPOSAL_STATUS
from tracker.services import (
    audit,
    cosign,
    permissions,
    proposal_batch,
    proposals,
    search,
    tabular,
    timeline,
    users,
    vocab,
)
from tracker.services.errors import DomainError
from tracker.services.users import chosen_unit
from tracker.views_common import Done, get_or_404, perform

bp = Blueprint("proposals", __name__)


# -- helpers -------------------------------------------------------------------------


def _viewable(proposal: Proposal) -> bool:
    return permissions.can_view(current_user, proposal)


def _get_proposal(proposal_id: int, *options) -> Proposal:
    return get_or_404(Proposal, proposal_id, _viewable, options=options)


# The proposal's page lists each assignment with its extension requests: read for every
# assignment in one query, not one query per unit (a proposal with ten co-units: ten)
PAGE = (selectinload(Proposal.assignments).selectinload(Assignment.extensions),)


def _get_assignment(assignment_id: int) -> Assignment:
    return get_or_404(Assignment, assignment_id, lambda a: _viewable(a.proposal))


def _split_names(text: str | None) -> list[str]:
    return [n.strip() for n in re.split(r"[、，,；;\s]+", text or "") if n.strip()]


def _assign_form(proposal: Proposal) -> forms.AssignForm:
    form = forms.AssignForm(prefix="assign", assigned_on=today())
    form.lead_units.choices = form.co_units.choices = options(users.unit_choices())
    return form


def _contact_form(proposal: Proposal) -> forms.ContactForm:
    form = forms.ContactForm(prefix="contact", contacted_on=today())
    form.channel.choices = options(vocab.choices("contact_channel"))
    return form


def _reply_form(proposal: Proposal) -> forms.ReplyForm:
    form = forms.ReplyForm(prefix="reply", letter_on=today(), title=_reply_title(proposal))
    form.classification.choices = options(vocab.choices("classification"))
    form.disclosure.choices = options(vocab.choices("disclosure"))
    return form


def _rating_form(proposal: Proposal) -> forms.RatingForm:
    form = forms.RatingForm(prefix="rating", rated_on=today())
    form.satisfaction.choices = options(vocab.choices("satisfaction"))
    form.attitude.choices = options([("", "（表中未填）"), *vocab.choices("satisfaction")])
    form.contact_method.choices = options(
        [("", "（表中未填）"), *vocab.choices("contact_channel"), (NOT_CONTACTED, "未联系")]
    )
    return form


def _reassign_decision_form(proposal: Proposal) -> forms.ReassignDecisionForm:
    form = forms.ReassignDecisionForm(prefix="decide")
    form.new_unit.choices = options([(0, "（不指定，另行交办）")] + users.unit_choices())
    return form


# The blank form of each action the proposal page may show, with database-backed choices.
ACTION_FORMS = {
    "assign_form": _assign_form,
    "contact_form": _contact_form,
    "reply_form": _reply_form,
    "rating_form": _rating_form,
    "opinion_form": lambda _: forms.OpinionForm(prefix="opinion", opinion_on=today()),
    "reassign_form": lambda _: forms.ReassignRequestForm(prefix="reassign"),
    "reassign_decision_form": _reassign_decision_form,
    "extension_form": lambda _: forms.ExtensionForm(prefix="extension"),
    "decision_form": lambda _: forms.DecisionForm(prefix="extdecide"),
}


def _action_form(name: str, proposal: Proposal):
    return ACTION_FORMS[name](proposal)


def _shown_forms(proposal: Proposal, mine: list[Assignment], may: dict[str, bool]) -> list[str]:
    """The action forms the page shows this user (see proposals/detail.html): only those
    are made (a clerk's page made nine forms and the unit list for four it never shows)."""
    shown = []
    if may["can_assign"] and proposal.status != "closed":
        shown.append("assign_form")
    if mine:
        shown += ["contact_form", "reassign_form", "opinion_form", "reply_form", "extension_form"]
    if may["can_decide_reassignment"] and any(
        a.reassign_status == "requested" for a in proposal.assignments
    ):
        shown.append("reassign_decision_form")
    if any(a.pending_extension for a in proposal.assignments):
        shown.append("decision_form")
    if may["can_rate"] and proposal.status == "replied":
        shown.append("rating_form")
    return shown


def _reply_title(proposal: Proposal) -> str:
    unit = current_user.unit.name if current_user.unit else ""
    return f"{unit}关于{proposal.session.name}第{proposal.number}号{proposal.kind}答复的函"


def _render_detail(proposal: Proposal, status: int = 200, **overrides):
    events = audit.events(proposal_id=proposal.id)
    mine = [a for a in proposal.active_assignments if permissions.works_for(current_user, a)]
    may = {
        "can_assign": permissions.can_assign(current_user, proposal),
        "can_rate": permissions.can_rate(current_user),
        "can_register": permissions.can_register(current_user),
        "can_decide_reassignment": permissions.can_decide_reassignment(current_user),
    }
    context = {
        name: _action_form(name, proposal)
        for name in _shown_forms(proposal, mine, may)
        if name not in overrides
    }
    context.update(overrides)
    similar = search.similar(
        f"{proposal.title} {proposal.content}",
        user=current_user,
        exclude=tuple(letter.id for letter in proposal.letters),
        engine=search_engine(),
    )
    return render_template(
        "proposals/detail.html",
        proposal=proposal,
        timeline=timeline.build(proposal, current_user),
        events=timeline.visible_events(current_user, events),
        show_grade=timeline.grade_visible(current_user, proposal),
        mine=mine,
        similar=similar,
        letters=[le for le in proposal.letters if search.visible_letter(current_user, le)],
        drafts=[
            le
            for le in proposal.letters
            if le.status in DRAFT_LETTER_STATUSES
            and le.round == proposal.round
            and le.unit_id == current_user.unit_id
        ],
        **may,
        can_decide_extension=lambda a: permissions.can_decide_extension(current_user, a),
        can_open_draft=lambda letter: permissions.sees_unit(current_user, letter.unit_id),
        cosign_asks=cosign.asks_on(proposal, current_user),
        **context,
    ), status


def _act(proposal: Proposal, form_name: str, form, action):
    """Validate → one service call → commit → back to the page; errors re-render it with
    the form open."""
    return perform(
        form,
        action,
        then=url_for("proposals.detail", proposal_id=proposal.id),
        failed=lambda status: _render_detail(
            proposal, status, **{form_name: form, "open_form": form_name}
        ),
    )


# -- list and detail --------------------------------------------------------------------


def _filter_form() -> forms.FilterForm:
    """The list's filters from the query string, with database-backed choices."""
    form = forms.FilterForm(request.args)
    form.session.choices = filter_options(proposals.session_choices())
    form.status.choices = filter_options(PROPOSAL_STATUS.items())
    form.unit.choices = filter_options(users.unit_choices())
    form.classification.choices = filter_options(vocab.choices("classification"))
    form.checked()
    return form


def _filters(form: forms.FilterForm) -> proposals.ListFilters:
    return proposals.ListFilters(
        q=form.q.data or "",
        session_id=as_id(form.session.data),
        kind=form.kind.data or "",
        status=form.status.data or "",
        classification=form.classification.data or "",
        unit_id=as_id(form.unit.data),
        overdue=bool(form.overdue.data),
    )


def _filtered_proposals(form: forms.FilterForm):
    """The proposals the current user may see that match the list's filters, in list order."""
    return proposals.list_query(current_user, _filters(form), today())


@bp.route("/proposals")
@login_required
def index():
    form = _filter_form()
    page = paginate(
        _filtered_proposals(form),
        per_page=25,
        count=proposals.count_query(current_user, _filters(form), today()),
    )
    return render_template(
        "proposals/list.html",
        form=form,
        page=page,
        args=form.query_args(),
        can_register=permissions.can_register(current_user),
        can_import=permissions.can_import_proposals(current_user),
    ), (400 if form.errors else 200)


EXPORT_BATCH = 500  # proposals read at a time by an export

EXPORT_HEADERS = (
    "会议",
    "类型",
    "编号",
    "标题",
    "领衔人",
    "联名人",
    "主办单位",
    "会办单位",
    "分办单位",
    "交办日期",
    "答复期限",
    "答复日期",
    "状态",
    "答复类别",
    "满意度",
    "轮次",
    "重点",
    "提出日期",
    "代表团/界别/党派",
)


def _export_row(proposal: Proposal, classifications: dict, satisfactions: dict) -> list:
    # the current round's answering units, as the proposal's status reads them
    due_on = proposal_status.reply_due_on(proposal)
    replied = [a.replied_on for a in proposal_status.answering(proposal)]
    replied_on = max(replied) if replied and all(replied) else None
    latest = proposal.feedback[-1] if proposal.feedback else None
    return [
        proposal.session.name,
        proposal.kind,
        proposal.number,
        proposal.title,
        proposal.lead_proposer,
        list(proposal.co_signers or ()),
        proposals.unit_names(proposal, "lead"),
        proposals.unit_names(proposal, "co"),
        proposals.unit_names(proposal, "separate"),
        proposal.assigned_on,
        due_on,
        replied_on,
        PROPOSAL_STATUS.get(proposal.status, proposal.status),
        classifications.get(proposal.classification, proposal.classification or ""),
        satisfactions.get(latest.satisfaction, latest.satisfaction) if latest else "",
        proposal.round,
        proposal.is_key,
        proposal.submitted_on,
        proposal.delegation or "",
    ]


@bp.route("/proposals/export.<fmt>")
@login_required
def export(fmt: str):
    """The list as a spreadsheet: the same filters and scope, every row."""
    if fmt not in tabular.FORMATS:
        abort(404)
    form = _filter_form()
    query = _filtered_proposals(form).options(selectinload(Proposal.feedback))
    classifications, satisfactions = vocab.labels("classification"), vocab.labels("satisfaction")

    def rows():
        # read in batches while the file is sent (in the response's own session: the
        # view's is closed by then), so 100,000 proposals never sit in memory at once
        found = db.session.execute(query.execution_options(yield_per=EXPORT_BATCH)).scalars()
        for proposal in found:
            yield _export_row(proposal, classifications, satisfactions)

    return downloads.table(
        tabular.Sheet("建议提案", EXPORT_HEADERS, rows()), fmt, f"建议提案_{today().isoformat()}"
    )


@bp.route("/proposals/<int:proposal_id>")
@login_required
def detail(proposal_id: int):
    return _render_detail(_get_proposal(proposal_id, *PAGE))[0]


@bp.route("/proposals/new", methods=["GET", "POST"])
@login_required
def new():
    if not permissions.can_register(current_user):
        abort(403)
    form = forms.ProposalForm()
    form.session_id.choices = options([(0, "（新增会议）")] + proposals.session_choices())

    def action():
        proposal = proposals.register_proposal(
            current_user,
            session=proposals.chosen_session(
                form.session_id.data, form.new_session.data, form.new_session_year.data
            ),
            kind=form.kind.data,
            number=form.number.data,
            title=form.title.data,
            lead_proposer=form.lead_proposer.data,
            proposer_kind=form.proposer_kind.data,
            co_signers=_split_names(form.co_signers.data),
            submitted_on=form.submitted_on.data,
            is_key=form.is_key.data,
            content=form.content.data or "",
        )
        return (
            f"已登记第{proposal.number}号{proposal.kind}。",
            url_for("proposals.detail", proposal_id=proposal.id),
        )

    return perform(
        form,
        action,
        failed=lambda status: (render_template("proposals/new.html", form=form), status),
    )


@bp.route("/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    """更正登记信息: those who may register correct a registered item's number, title and
    dates (the first 交办日期 once assigned), with the old and new values audited."""
    proposal = _get_proposal(proposal_id)
    if not permissions.can_register(current_user):
        abort(403)
    form = forms.ProposalEditForm(obj=proposal)
    if proposal.assigned_on is None:
        del form.assigned_on  # nothing assigned yet: 交办 sets the date

    def action():
        changes = proposals.correct_registration(
            current_user,
            proposal,
            number=form.number.data,
            title=form.title.data,
            submitted_on=form.submitted_on.data,
            assigned_on=form.assigned_on.data if "assigned_on" in form else None,
            reason=form.reason.data or "",
            today=today(),
            policy=deadline_policy(),
        )
        return ("已更正：" + "；".join(changes) + "。") if changes else "没有修改。"

    return perform(
        form,
        action,
        then=url_for("proposals.detail", proposal_id=proposal.id),
        failed=lambda status: (
            render_template("proposals/edit.html", form=form, proposal=proposal),
            status,
        ),
    )


# -- actions ---------------------------------------------------------------------------


@bp.route("/proposals/<int:proposal_id>/assign", methods=["POST"])
@login_required
def assign(proposal_id: int):
    proposal = _get_proposal(proposal_id)
    if not permissions.can_assign(current_user, proposal):
        abort(403)
    form = _action_form("assign_form", proposal)

    def action():
        by_id = {u.id: u for u in users.active_handling_units()}
        leads = [by_id[i] for i in form.lead_units.data if i in by_id]
        cos = [by_id[i] for i in form.co_units.data or [] if i in by_id]
        separate = form.mode.data == "separate"
        if proposal.lead_assignment and not separate and cos and not leads:
            proposals.add_co_units(
                current_user, proposal, cos, form.assigned_on.data, policy=deadline_policy()
            )
        else:
            proposals.assign_units(
                current_user,
                proposal,
                lead_units=leads,
                co_units=cos,
                assigned_on=form.assigned_on.data,
                separate=separate,
                policy=deadline_policy(),
            )
        return "已交办。"

    return _act(proposal, "assign_form", form, action)


@bp.route("/assignments/<int:assignment_id>/sign", methods=["POST"])
@login_required
def sign(assignment_id: int):
    assignment = _get_assignment(assignment_id)
    if not permissions.works_for(current_user, assignment):
        abort(403)

    def action():
        proposals.sign_for(current_user, assignment)
        return "已签收。"

    return _act(assignment.proposal, "sign_form", forms.ButtonForm(), action)


@bp.route("/assignments/<int:assignment_id>/reassign", methods=["POST"])
@login_required
def reassign_request(assignment_id: int):
    assignment = _get_assignment(assignment_id)
    if not permissions.works_for(current_user, assignment):
        abort(403)
    form = forms.ReassignRequestForm(prefix="reassign")
    return _act(
        assignment.proposal,
        "reassign_form",
        form,
        lambda: (
            proposals.request_reassignment(
                current_user,
                assignment,
                form.reason.data,
                form.suggested_unit.data or "",
                today=today(),
            ),
            "已提交调整申请，请等待督办部门决定。",
        )[1],
    )


@bp.route("/assignments/<int:assignment_id>/reassign/decide", methods=["POST"])
@login_required
def reassign_decide(assignment_id: int):
    assignment = _get_assignment(assignment_id)
    if not permissions.can_decide_reassignment(current_user):
        abort(403)
    form = _action_form("reassign_decision_form", assignment.proposal)

    def action():
        new_unit = chosen_unit(form.new_unit.data)
        proposals.decide_reassignment(
            current_user,
            assignment,
            approve=form.decision.data == "approve",
            note=form.note.data or "",
            new_unit=new_unit,
            today=today(),
            policy=deadline_policy(),
        )
        return "已处理调整申请。"

    return _act(assignment.proposal, "reassign_decision_form", form, action)


@bp.route("/proposals/<int:proposal_id>/contacts", methods=["POST"])
@login_required
def contact(proposal_id: int):
    proposal = _get_proposal(proposal_id)
    if not any(permissions.works_for(current_user, a) for a in proposal.active_assignments):
        abort(403)
    form = _action_form("contact_form", proposal)

    def action():
        proposals.log_contact(
            current_user,
            proposal,
            contacted_on=form.contacted_on.data,
            channel=form.channel.data,
            phase=form.phase.data,
            participants=form.participants.data or "",
            summary=form.summary.data,
            today=today(),
        )
        return "已记录沟通情况。"

    return _act(proposal, "contact_form", form, action)


@bp.route("/assignments/<int:assignment_id>/opinion", methods=["POST"])
@login_required
def opinion(assignment_id: int):
    assignment = _get_assignment(assignment_id)
    if not permissions.works_for(current_user, assignment):
        abort(403)
    form = forms.OpinionForm(prefix="opinion")

    def action():
        proposals.submit_opinion(
            current_user,
            assignment,
            text=form.text.data,
            opinion_on=form.opinion_on.data,
            today=today(),
        )
        return "会办意见已提交主办单位。"

    return _act(assignment.proposal, "opinion_form", form, action)


@bp.route("/assignments/<int:assignment_id>/reply", methods=["POST"])
@login_required
def reply(assignment_id: int):
    assignment = _get_assignment(assignment_id)
    if not permissions.works_for(current_user, assignment):
        abort(403)
    form = _action_form("reply_form", assignment.proposal)

    def action():
        proposals.record_reply(
            current_user,
            assignment,
            title=form.title.data,
            classification=form.classification.data,
            doc_number=form.doc_number.data or "",
            letter_on=form.letter_on.data,
            issued_on=form.issued_on.data,
            disclosure=form.disclosure.data,
            disclosure_reason=form.disclosure_reason.data or "",
            body=form.body.data or "",
            today=today(),
            link=url_for,
        )
        return "已登记答复。"

    return _act(assignment.proposal, "reply_form", form, action)


@bp.route("/proposals/<int:proposal_id>/rating", methods=["POST"])
@login_required
def rating(proposal_id: int):
    proposal = _get_proposal(proposal_id)
    if not permissions.can_rate(current_user):
        abort(403)
    form = _action_form("rating_form", proposal)

    def action():
        proposals.record_rating(
            current_user,
            proposal,
            satisfaction=form.satisfaction.data,
            attitude=form.attitude.data or None,
            contact_method=form.contact_method.data or None,
            rated_on=form.rated_on.data,
            comment=form.comment.data or "",
            today=today(),
            policy=deadline_policy(),
        )
        if proposal.status == "rehandling":
            return f"已登记评价；该件进入第{proposal.round}轮重新办理。"
        return "已登记评价，该件办结。"

    return _act(proposal, "rating_form", form, action)


@bp.route("/assignments/<int:assignment_id>/extension", methods=["POST"])
@login_required
def extension_request(assignment_id: int):
    assignment = _get_assignment(assignment_id)
    if not permissions.works_for(current_user, assignment):
        abort(403)
    form = forms.ExtensionForm(prefix="extension")

    def action():
        proposals.request_extension(
            current_user,
            assignment,
            requested_due_on=form.requested_due_on.data,
            reason=form.reason.data,
        )
        return "已提交延期申请，待负责人审批。"

    return _act(assignment.proposal, "extension_form", form, action)


@bp.route("/extensions/<int:extension_id>/decide", methods=["POST"])
@login_required
def extension_decide(extension_id: int):
    extension = get_or_404(
        ExtensionRequest, extension_id, lambda e: _viewable(e.assignment.proposal)
    )
    assignment = extension.assignment
    if not permissions.can_decide_extension(current_user, assignment):
        abort(403)
    form = forms.DecisionForm(prefix="extdecide")

    def action():
        proposals.decide_extension(
            current_user, extension, grant=form.decision.data == "grant", note=form.note.data or ""
        )
        return "已审批延期申请。"

    return _act(assignment.proposal, "decision_form", form, action)


# -- 批量导入: a session's 交办清单 ------------------------------------------------------------


def _can_batch() -> None:
    if not permissions.can_import_proposals(current_user):
        abort(403)


def _batch_form() -> forms.BatchUploadForm:
    form = forms.BatchUploadForm()
    form.session_id.choices = options([(0, "（按文件中的届次）")] + proposals.session_choices())
    return form


def _max_bytes() -> int:
    return int(current_app.config["PROPOSAL_IMPORT_MAX_MB"] * 1024 * 1024)


@bp.route("/proposals/batch", methods=["GET", "POST"])
@login_required
def batch():
    """批量导入: upload the list; it is kept (not saved) until confirmed on the preview."""
    _can_batch()
    form = _batch_form()

    def action():
        upload = form.file.data
        data = upload.stream.read(_max_bytes() + 1)
        proposal_batch.read_upload(data, upload.filename or "", _max_bytes())
        chosen = (form.new_session.data or "").strip()
        if form.session_id.data:
            chosen = proposals.chosen_session(form.session_id.data, None, None).name
        assign_on = form.assign_on.data.isoformat() if form.assign_on.data else None
        token = proposal_batch.store_upload(
            current_user,
            data,
            upload.filename or "",
            {"session": chosen or None, "assign_on": assign_on},
            upload_dir(),
        )
        return Done(None, url_for("proposals.batch_preview", token=token))

    return perform(
        form,
        action,
        failed=lambda status: (
            render_template("proposals/batch.html", form=form, max_mb=_max_bytes() // 2**20),
            status,
        ),
    )


def _batch_plan(token: str):
    """The stored list read and checked again (the data may have moved since the upload)."""
    stored = proposal_batch.load_upload(current_user, token, upload_dir())
    if stored is None:
        return None, None, None
    data, meta = stored
    sheet = proposal_batch.read_upload(data, meta.get("filename", ""), _max_bytes())
    assign_on = meta.get("assign_on")
    plan = proposal_batch.plan(
        current_user,
        sheet.rows,
        session=meta.get("session"),
        assign_on=date.fromisoformat(assign_on) if assign_on else None,
        today=today(),
        policy=deadline_policy(),
    )
    return meta, sheet, plan


@bp.route("/proposals/batch/<token>")
@login_required
def batch_preview(token: str):
    """The preview: every row as it will be saved, the errors and what exists already."""
    _can_batch()
    meta, sheet, plan = _batch_plan(token)
    if plan is None:
        flash("该清单已导入或已过期，请重新上传。", "error")
        return redirect(url_for("proposals.batch"))
    return render_template(
        "proposals/batch_preview.html",
        token=token,
        meta=meta,
        sheet=sheet,
        plan=plan,
        labels_of=proposal_batch.ACTIONS,
    )


@bp.route("/proposals/batch/<token>", methods=["POST"])
@login_required
def batch_confirm(token: str):
    """确认导入: the list is checked again and its valid rows saved in one transaction."""
    _can_batch()

    def action():
        meta, _sheet, plan = _batch_plan(token)
        if plan is None:
            raise DomainError("该清单已导入或已过期，请重新上传。")
        if request.form.get("expected") != plan.summary():
            raise DomainError("系统中的数据在预览后有变化，请核对下面的预览后再确认。")
        if not plan.to_save:
            raise DomainError("没有可导入的行。")
        result = proposal_batch.apply(current_user, plan, policy=deadline_policy(), today=today())
        user = current_user._get_current_object()
        root = upload_dir()
        return Done(
            result.summary(),
            url_for("proposals.index"),
            after_commit=lambda: proposal_batch.discard_upload(user, token, root),
        )

    return perform(None, action, then=url_for("proposals.batch_preview", token=token))
