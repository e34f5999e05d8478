"""Deputies and members online (代表/委员): the proposals that name them, the contacts the
units logged with them, which they confirm or dispute, the replies sent to them, and the
notice that a reply is waiting for their rating.

A deputy user is linked to proposals by ``User.deputy_name``: the name a proposal gives as
lead proposer (领衔) or co-signer (附议). Co-signers read; the lead proposer answers the
contacts and rates the reply (through ``proposals.record_rating``, the one rating path).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import String, cast, or_
from sqlalchemy.orm import selectinload

from tracker.extensions import db
from tracker.models import (
    Assignment,
    ContactLog,
    Feedback,
    Proposal,
    ReminderDelivery,
    ReplyLetter,
    User,
)
from tracker.rules.chinese import cn_date
from tracker.rules.labels import DEPUTY_CONTACT_STATUS, SENT_LETTER_STATUSES
from tracker.services import audit, permissions, vocab
from tracker.services.digest import Item, Link
from tracker.services.errors import DomainError, PermissionDenied
from tracker.services.notifiers import InAppNotifier, Recipient


def _names_filter(name: str):
    """Proposals naming `name` as lead proposer or among the co-signers (a JSON list, read
    as text: the name as stored, escaped or not; each hit is checked again in Python)."""
    escaped = json.dumps(name)[1:-1]
    # autoescape: LIKE with an ESCAPE character of its own, so that the backslashes of
    # "\u66fe…" are themselves (PostgreSQL's LIKE reads a backslash as its escape)
    return or_(
        Proposal.lead_proposer == name,
        cast(Proposal.co_signers, String).contains(name, autoescape=True),
        cast(Proposal.co_signers, String).contains(escaped, autoescape=True),
    )


def proposals_of(user: User) -> list[Proposal]:
    """The deputy's proposals, the newest session first, with what the list shows."""
    if not permissions.is_deputy(user) or not user.deputy_name:
        return []
    rows = db.session.execute(
        db.select(Proposal)
        .where(_names_filter(user.deputy_name))
        .options(
            selectinload(Proposal.session),
            selectinload(Proposal.assignments).selectinload(Assignment.unit),
            selectinload(Proposal.letters),
            selectinload(Proposal.feedback),
        )
        .order_by(Proposal.submitted_on.desc(), Proposal.id.desc())
    ).scalars()
    return [p for p in rows if permissions.is_proposer(user, p)]


def letters_to(proposal: Proposal) -> list[ReplyLetter]:
    """The replies sent to the deputy, whatever their disclosure (不予公开 included: the
    letter is addressed to them); drafts never."""
    return [le for le in proposal.letters if le.status in SENT_LETTER_STATUSES]


def rating_due(user: User, proposal: Proposal) -> ReplyLetter | None:
    """The reply this lead deputy may rate now: the current round's, once sent and not yet
    rated (the proposal is 已答复)."""
    if proposal.status != "replied" or not permissions.is_lead_proposer(user, proposal):
        return None
    letters = [le for le in letters_to(proposal) if le.round == proposal.round]
    return letters[-1] if letters else None


def rating_of(letter: ReplyLetter) -> Feedback | None:
    proposal = letter.proposal
    if proposal is None:
        return None
    return next((f for f in proposal.feedback if f.letter_id == letter.id), None)


def answer_contact(
    actor: User, contact: ContactLog, *, status: str, comment: str, now: datetime | None = None
) -> None:
    """The lead deputy confirms a logged contact, or disputes it (有异议) with a comment.
    A disputed contact shows to the unit and the coordinating office and is not counted
    as a contact made (the sign-off checklist, drafting.letter_facts)."""
    if not permissions.is_lead_proposer(actor, contact.proposal):
        raise PermissionDenied("只有领衔代表/委员可以确认沟通记录。")
    if status not in DEPUTY_CONTACT_STATUS:
        raise DomainError("请选择确认或有异议。")
    comment = comment.strip()
    if status == "disputed" and not comment:
        raise DomainError("有异议时请写明情况（例如：当天没有与我联系）。")
    if contact.deputy_status == status and (contact.deputy_comment or "") == comment:
        return  # the same answer sent again
    contact.deputy_status = status
    contact.deputy_comment = comment or None
    contact.deputy_answered_at = now or datetime.now(UTC)
    contact.deputy_answered_by_id = actor.id
    channel = vocab.label("contact_channel", contact.channel)
    audit.record(
        actor,
        "contact_answer",
        f"{actor.deputy_name}{DEPUTY_CONTACT_STATUS[status].removeprefix('代表')}："
        f"{cn_date(contact.contacted_on)}{channel}沟通" + (f"（{comment}）" if comment else ""),
        proposal_id=contact.proposal_id,
        entity="contact",
        entity_id=contact.id,
    )


# -- notices --------------------------------------------------------------------------------


def _deputies_named(proposal: Proposal) -> list[User]:
    names = proposal.proposers
    users = db.session.execute(
        db.select(User).where(
            User.role == "deputy", User.active.is_(True), User.deputy_name.in_(names)
        )
    ).scalars()
    return list(users)


def _reply_item(user: User, proposal: Proposal, letter: ReplyLetter, link: Link) -> Item:
    ref = f"{proposal.session.name}第{proposal.number}号{proposal.kind}"
    issuer = letter.issuer or (letter.unit.name if letter.unit else "承办单位")
    if permissions.is_lead_proposer(user, proposal):
        return Item(
            key=f"letter:{letter.id}:deputy-rate",
            kind="deputy-rate",
            text=f"【请评价】{issuer}已答复您的{ref}《{proposal.title}》，请查看答复并在线评价",
            url=link("deputy.rate", proposal_id=proposal.id),
            brief=f"第{proposal.number}号{proposal.kind}已答复，请评价",
        )
    return Item(
        key=f"letter:{letter.id}:deputy-reply",
        kind="deputy-reply",
        text=f"【已答复】{issuer}已答复您附议的{ref}《{proposal.title}》",
        url=link("deputy.detail", proposal_id=proposal.id),
        brief=f"第{proposal.number}号{proposal.kind}已答复",
    )


def tell_reply_sent(letter: ReplyLetter, *, day: date, link: Link) -> int:
    """A reply went out: each deputy named on the proposal is told in-app now (their
    e-mail and SMS follow with `tracker remind`, which sees the same item and does not
    repeat today's in-app line). Returns how many deputies were told."""
    proposal = letter.proposal
    if proposal is None:
        return 0
    told = 0
    for user in _deputies_named(proposal):
        item = _reply_item(user, proposal, letter, link)
        InAppNotifier().deliver(Recipient.of(user), [item], day)
        delivered = db.session.execute(
            db.select(ReminderDelivery.id).filter_by(
                user_id=user.id, channel="inapp", item_key=item.key, day=day
            )
        ).first()
        if delivered is None:
            db.session.add(
                ReminderDelivery(user_id=user.id, channel="inapp", item_key=item.key, day=day)
            )
        told += 1
    db.session.flush()
    return told


def reminder_items(user: User, link: Link) -> list[Item]:
    """For `tracker remind`: the lead deputy's replies waiting for a rating (every day
    until rated, over each configured channel)."""
    items = []
    for proposal in proposals_of(user):
        letter = rating_due(user, proposal)
        if letter is not None:
            items.append(_reply_item(user, proposal, letter, link))
    return items
