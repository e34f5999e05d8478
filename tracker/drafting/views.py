"""The reply-letter editor and its sign-off workflow."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from tracker.current import deadline_policy, search_engine, today
from tracker.drafting import forms
from tracker.formutil import as_id, options
from tracker.models import Proposal, ReplyLetter
from tracker.rendering import letter_markdown
from tracker.rules.textdiff import field_changes, side_by_side
from tracker.services import cosign, drafting, permissions, search, vocab
from tracker.views_common import Done, get_or_404, perform

bp = Blueprint("drafting", __name__)

FIELD_LABELS = {
    "title": "标题",
    "addressee": "称谓",
    "classification": "答复类别",
    "doc_number": "文号",
    "letter_on": "成文日期",
    "contact_person": "联系人",
    "contact_phone": "联系电话",
    "disclosure": "公开方式",
    "disclosure_reason": "不公开理由",
    "cc": "抄送",
}


def _letter(letter_id: int) -> ReplyLetter:
    """A drafted letter (one with its proposal) of a unit the user reads."""
    return get_or_404(
        ReplyLetter,
        letter_id,
        lambda letter: permissions.sees_unit(current_user, letter.unit_id),
        named=lambda letter: letter.proposal is not None,
    )


def _split_cc(text: str | None) -> list[str]:
    return [p.strip() for p in re.split(r"[、，,；;\n]+", text or "") if p.strip()]


def _choices(form) -> None:
    grades = vocab.classification_terms()
    form.classification.choices = options([("", "（未定）")] + [(t.code, t.label) for t in grades])
    if hasattr(form, "disclosure"):
        form.disclosure.choices = options([("", "（未定）")] + vocab.choices("disclosure"))


def _draft_form(letter: ReplyLetter, data=None) -> forms.DraftForm:
    form = forms.DraftForm(
        formdata=data,
        obj=None if data else letter,
        cc="、".join(letter.cc or []),
        base_version=str(letter.version),
    )
    if data is None:
        form.cc.data = "、".join(letter.cc or [])
        form.base_version.data = str(letter.version)
    _choices(form)
    return form


def _editor(letter: ReplyLetter, form, status=200, conflict=None, preview=None):
    proposal = letter.proposal
    co = [a for a in proposal.active_assignments if a.is_co]
    similar = search.similar(
        f"{proposal.title} {proposal.content}",
        user=current_user,
        exclude=(letter.id,),
        engine=search_engine(),
    )
    grades = {t.code: t.description for t in vocab.classification_terms()}
    policy = deadline_policy()
    return render_template(
        "drafting/edit.html",
        letter=letter,
        proposal=proposal,
        form=form,
        checklist=drafting.checklist(letter, today=today(), policy=policy),
        cosign_lines=cosign.lines(letter, policy),
        cosign_applies=cosign.applies(letter, policy),
        co_assignments=co,
        similar=similar,
        grade_definitions=grades,
        can_edit=drafting.can_edit(current_user, letter),
        can_approve=drafting.can_approve(current_user, letter),
        can_send=permissions.in_unit(current_user, letter.unit_id),  # issue and publish
        conflict=conflict,
        preview=preview,
        approve_form=_approve_form(letter),
        return_form=_return_form(),
        issue_form=forms.IssueForm(issued_on=today()),
        versions=drafting.count_versions(letter),
    ), status


def _approve_form(letter: ReplyLetter) -> forms.ApproveForm:
    form = forms.ApproveForm(
        classification=letter.classification, letter_on=letter.letter_on or today()
    )
    _choices(form)
    return form


def _return_form() -> forms.ReturnForm:
    form = forms.ReturnForm()
    _choices(form)
    return form


@bp.route("/proposals/<int:proposal_id>/draft", methods=["POST"])
@login_required
def start(proposal_id: int):
    proposal = get_or_404(Proposal, proposal_id, lambda p: permissions.can_view(current_user, p))
    if not forms.SubmitForm().validate_on_submit():
        abort(400)

    def action():
        letter = drafting.start_draft(current_user, proposal, today=today())
        return Done(None, url_for("drafting.edit", letter_id=letter.id))

    back = url_for("proposals.detail", proposal_id=proposal.id)
    return perform(None, action, failed=lambda status: redirect(back))


@bp.route("/letters/<int:letter_id>/edit", methods=["GET", "POST"])
@login_required
def edit(letter_id: int):
    letter = _letter(letter_id)
    if request.method == "GET":
        return _editor(letter, _draft_form(letter))[0]
    if not drafting.can_edit(current_user, letter):
        abort(403)
    form = _draft_form(letter, request.form)
    if request.form.get("action") == "preview":  # without JavaScript: re-render with preview
        return _editor(letter, form, preview=letter_markdown(form.body.data))
    if not form.validate_on_submit():
        return _editor(letter, form, 400)
    values = {
        "title": form.title.data.strip(),
        "addressee": form.addressee.data.strip(),
        "classification": form.classification.data or None,
        "doc_number": form.doc_number.data,
        "letter_on": form.letter_on.data,
        "contact_person": (form.contact_person.data or "").strip() or None,
        "contact_phone": (form.contact_phone.data or "").strip() or None,
        "disclosure": form.disclosure.data or None,
        "disclosure_reason": (form.disclosure_reason.data or "").strip() or None,
        "cc": _split_cc(form.cc.data),
    }
    base = int(form.base_version.data) if (form.base_version.data or "").isdigit() else -1

    def action():
        changed = drafting.save_draft(
            current_user,
            letter,
            values=values,
            body=form.body.data or "",
            base_version=base,
            comment=form.comment.data or "",
            today=today(),
        )
        if changed:
            return "草稿已保存。"
        return Done("没有修改。", category="info")

    def conflict_page(error):
        if not isinstance(error, drafting.EditConflict):
            return None
        fresh = _letter(letter_id)
        mine = {
            **values,
            "letter_on": values["letter_on"].isoformat() if values["letter_on"] else None,
        }
        theirs = error.latest
        details = {
            "version": theirs,
            "rows": side_by_side(form.body.data or "", theirs.body if theirs else ""),
            "fields": field_changes(mine, theirs.fields if theirs else {}, FIELD_LABELS),
        }
        form.base_version.data = str(fresh.version)
        return _editor(fresh, form, 409, conflict=details)

    return perform(
        form,
        action,
        valid=True,
        then=url_for("drafting.edit", letter_id=letter.id),
        failed=lambda status: _editor(letter, form, status),
        on_error=conflict_page,
    )


@bp.route("/letters/<int:letter_id>/preview", methods=["POST"])
@login_required
def preview(letter_id: int):
    """The editor's live preview (JavaScript posts the body; the answer is sanitised HTML)."""
    _letter(letter_id)
    if not forms.SubmitForm().validate_on_submit():
        abort(400)
    return Response(letter_markdown(request.form.get("body", "")), mimetype="text/html")


def _errors(form) -> str:
    """A form's errors on one line."""
    return "；".join(e for errs in form.errors.values() for e in errs)


def _act(letter: ReplyLetter, action, message: str):
    """One service call → commit → back to the editor, the outcome flashed."""

    def act():
        action()
        return message

    return perform(None, act, then=url_for("drafting.edit", letter_id=letter.id))


@bp.route("/letters/<int:letter_id>/submit", methods=["POST"])
@login_required
def submit(letter_id: int):
    letter = _letter(letter_id)
    if not drafting.can_edit(current_user, letter):
        abort(403)
    policy = deadline_policy()
    warnings = drafting.checklist(letter, today=today(), policy=policy).warnings
    form = forms.SubmitForm.with_reasons((c.code, c.label) for c in warnings)()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_errors(form), "error")
        return redirect(url_for("drafting.edit", letter_id=letter.id))

    def act():
        drafting.submit(current_user, letter, form.reasons(), today=today(), policy=policy)
        if letter.status == "cosigning":
            return "已送会办单位会签；会办单位全部同意后送负责人签发。"
        return "已提交负责人签发。"

    return perform(None, act, then=url_for("drafting.edit", letter_id=letter.id))


@bp.route("/letters/<int:letter_id>/approve", methods=["POST"])
@login_required
def approve(letter_id: int):
    letter = _letter(letter_id)
    if not drafting.can_approve(current_user, letter):
        abort(403)
    form = _approve_form(letter)
    if not form.validate_on_submit():
        flash(_errors(form), "error")
        return redirect(url_for("drafting.edit", letter_id=letter.id))
    return _act(
        letter,
        lambda: drafting.approve(
            current_user,
            letter,
            classification=form.classification.data or None,
            letter_on=form.letter_on.data,
            today=today(),
            policy=deadline_policy(),
        ),
        "已签发。",
    )


@bp.route("/letters/<int:letter_id>/return", methods=["POST"])
@login_required
def return_(letter_id: int):
    letter = _letter(letter_id)
    if not drafting.can_approve(current_user, letter):
        abort(403)
    form = _return_form()
    if not form.validate_on_submit():
        flash("退回时请写明修改意见。", "error")
        return redirect(url_for("drafting.edit", letter_id=letter.id))
    return _act(
        letter,
        lambda: drafting.return_letter(
            current_user, letter, form.comment.data, form.classification.data or None
        ),
        "已退回承办人修改。",
    )


@bp.route("/letters/<int:letter_id>/issue", methods=["POST"])
@login_required
def issue(letter_id: int):
    letter = _letter(letter_id)
    if not permissions.in_unit(current_user, letter.unit_id):
        abort(403)
    form = forms.IssueForm()
    if not form.validate_on_submit():
        flash("请填写有效的发出日期。", "error")
        return redirect(url_for("drafting.edit", letter_id=letter.id))
    return _act(
        letter,
        lambda: drafting.issue(
            current_user, letter, form.issued_on.data, today=today(), link=url_for
        ),
        "已登记发出。",
    )


@bp.route("/letters/<int:letter_id>/publish", methods=["POST"])
@login_required
def publish(letter_id: int):
    letter = _letter(letter_id)
    if not permissions.in_unit(current_user, letter.unit_id):
        abort(403)
    if not forms.SubmitForm().validate_on_submit():
        abort(400)
    return _act(letter, lambda: drafting.publish(current_user, letter), "已在网上公开。")


@bp.route("/letters/<int:letter_id>/versions")
@login_required
def versions(letter_id: int):
    letter = _letter(letter_id)
    return render_template(
        "drafting/versions.html", letter=letter, versions=drafting.versions(letter)
    )


@bp.route("/letters/<int:letter_id>/compare")
@login_required
def compare(letter_id: int):
    letter = _letter(letter_id)
    numbers = [as_id(request.args.get("a")), as_id(request.args.get("b"))]
    found = drafting.versions_numbered(letter, [n for n in numbers if n])
    if None in numbers or any(n not in found for n in numbers):
        abort(404)
    old, new = found[numbers[0]], found[numbers[1]]
    return render_template(
        "drafting/compare.html",
        letter=letter,
        old=old,
        new=new,
        rows=side_by_side(old.body, new.body),
        fields=field_changes(old.fields, new.fields, FIELD_LABELS),
    )


# -- 会签: a co-handling unit co-signs the lead unit's draft --------------------------------


def _asked_letter(letter_id: int) -> ReplyLetter:
    """A drafted letter the user's unit was asked to co-sign; any other user is refused."""
    return get_or_404(
        ReplyLetter,
        letter_id,
        lambda letter: cosign.asked(current_user, letter),
        named=lambda letter: letter.proposal is not None,
    )


def _cosign_page(letter: ReplyLetter, form: forms.CoSignForm, status: int = 200):
    """The letter as the co-unit reads it — the letter alone, none of the lead unit's
    versions, checklist, notes or other units' comments — with the unit's own 会签."""
    return render_template(
        "drafting/cosign.html",
        letter=letter,
        proposal=letter.proposal,
        request_=cosign.request_of(current_user, letter),
        history=cosign.history_of(current_user, letter),
        can_decide=cosign.can_decide(current_user, letter),
        form=form,
    ), status


@bp.route("/letters/<int:letter_id>/cosign", methods=["GET", "POST"])
@login_required
def cosign_letter(letter_id: int):
    letter = _asked_letter(letter_id)
    form = forms.CoSignForm()
    if request.method == "GET":
        return _cosign_page(letter, form)[0]

    def action():
        agree = form.decision.data == "agree"
        cosign.decide(
            current_user,
            letter,
            agree=agree,
            comment=form.comment.data or "",
            policy=deadline_policy(),
        )
        return "已会签同意。" if agree else "已退回主办单位修改。"

    return perform(
        form,
        action,
        then=url_for("drafting.cosign_letter", letter_id=letter.id),
        failed=lambda status: _cosign_page(letter, form, status),
    )
