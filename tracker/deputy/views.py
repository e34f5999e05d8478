"""我的建议: a deputy's (代表/委员) own proposals, the contacts logged with them (confirm or
dispute), the replies sent to them and the online rating. Only deputies reach these pages;
a deputy reaches nothing else (tracker.web's guard)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user, login_required

from tracker.current import deadline_policy, today
from tracker.deputy import forms
from tracker.formutil import options
from tracker.models import ContactLog, Proposal, ReplyLetter
from tracker.rules.labels import NOT_CONTACTED, NOT_CONTACTED_LABEL, SENT_LETTER_STATUSES
from tracker.services import deputies, permissions, proposals, vocab
from tracker.views_common import get_or_404, perform

bp = Blueprint("deputy", __name__, url_prefix="/my")


@bp.before_request
@login_required
def _deputies_only():
    if not permissions.is_deputy(current_user):
        abort(403)


def _own_proposal(proposal_id: int) -> Proposal:
    """The deputy's proposal; another's is not found (its existence is not told)."""
    return get_or_404(
        Proposal, proposal_id, named=lambda p: permissions.is_proposer(current_user, p)
    )


def _contact_form(contact: ContactLog) -> forms.ContactAnswerForm:
    """The form of one contact on the page, showing the deputy's answer if any."""
    form = forms.ContactAnswerForm(prefix=f"c{contact.id}", formdata=None)
    if contact.deputy_status:
        form.status.data = contact.deputy_status
        form.comment.data = contact.deputy_comment or ""
    return form


def _rating_form() -> forms.DeputyRatingForm:
    form = forms.DeputyRatingForm(prefix="rating")
    levels = options(vocab.choices("satisfaction"))
    form.attitude.choices = levels
    form.satisfaction.choices = levels
    form.contact_method.choices = options(
        [*vocab.choices("contact_channel"), (NOT_CONTACTED, NOT_CONTACTED_LABEL)]
    )
    return form


@bp.route("/")
def index():
    mine = deputies.proposals_of(current_user)
    return render_template(
        "deputy/index.html",
        proposals=mine,
        to_rate={p.id for p in mine if deputies.rating_due(current_user, p) is not None},
    )


def _render_detail(proposal: Proposal, status: int = 200, failed_form=None, failed_id=None):
    lead = permissions.is_lead_proposer(current_user, proposal)
    contact_forms = {}
    if lead:
        for contact in proposal.contacts:
            contact_forms[contact.id] = (
                failed_form if contact.id == failed_id else _contact_form(contact)
            )
    return render_template(
        "deputy/detail.html",
        proposal=proposal,
        is_lead=lead,
        contact_forms=contact_forms,
        letters=deputies.letters_to(proposal),
        rating_letter=deputies.rating_due(current_user, proposal),
        rating_of=deputies.rating_of,
    ), status


@bp.route("/proposals/<int:proposal_id>")
def detail(proposal_id: int):
    return _render_detail(_own_proposal(proposal_id))


@bp.route("/contacts/<int:contact_id>", methods=["POST"])
def contact(contact_id: int):
    found = get_or_404(
        ContactLog,
        contact_id,
        named=lambda c: permissions.is_proposer(current_user, c.proposal),
    )
    form = forms.ContactAnswerForm(prefix=f"c{found.id}")

    def action():
        deputies.answer_contact(
            current_user, found, status=form.status.data, comment=form.comment.data or ""
        )
        said = (
            "已确认这次沟通。"
            if form.status.data == "confirmed"
            else "已提出异议，承办单位和督办部门会看到。"
        )
        return said, url_for("deputy.detail", proposal_id=found.proposal_id) + f"#c{found.id}"

    return perform(
        form,
        action,
        failed=lambda status: _render_detail(
            found.proposal, status, failed_form=form, failed_id=found.id
        ),
    )


@bp.route("/proposals/<int:proposal_id>/rate", methods=["GET", "POST"])
def rate(proposal_id: int):
    proposal = _own_proposal(proposal_id)
    letter = deputies.rating_due(current_user, proposal)
    form = _rating_form()

    def action():
        proposals.record_rating(
            current_user,
            proposal,
            satisfaction=form.satisfaction.data,
            attitude=form.attitude.data,
            contact_method=form.contact_method.data,
            comment=form.comment.data or "",
            rated_on=today(),
            today=today(),
            policy=deadline_policy(),
        )
        if proposal.status == "rehandling":
            return (
                "谢谢您的评价。承办单位将重新办理，并在期限内再次答复您。",
                url_for("deputy.detail", proposal_id=proposal.id),
            )
        return "谢谢您的评价，该件已办结。", url_for("deputy.detail", proposal_id=proposal.id)

    rated = [f for f in proposal.feedback if f.round == proposal.round]
    return perform(
        form,
        action,
        failed=lambda status: (
            render_template(
                "deputy/rate.html",
                proposal=proposal,
                letter=letter,
                form=form,
                rating=rated[-1] if rated else None,
                is_lead=permissions.is_lead_proposer(current_user, proposal),
            ),
            status,
        ),
    )


@bp.route("/letters/<int:letter_id>")
def letter(letter_id: int):
    """A reply sent to the deputy, whatever its disclosure: it is addressed to them."""
    found = get_or_404(
        ReplyLetter,
        letter_id,
        named=lambda le: (
            le.status in SENT_LETTER_STATUSES
            and le.proposal is not None
            and permissions.is_proposer(current_user, le.proposal)
        ),
    )
    return render_template(
        "deputy/letter.html",
        letter=found,
        proposal=found.proposal,
        rating=deputies.rating_of(found),
        can_rate=deputies.rating_due(current_user, found.proposal) is found,
    )
