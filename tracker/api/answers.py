"""The API's answers built from the rows: what each schema of schemas.py says, as JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import url_for

from tracker import models
from tracker.api import schemas
from tracker.replies.views import EXPORTABLE
from tracker.rules import proposal_status
from tracker.rules.labels import (
    ASSIGNMENT_ROLES,
    COMMITMENT_STATUS,
    CONTACT_PHASES,
    LETTER_STATUS,
    PROPOSAL_STATUS,
    SENT_LETTER_STATUSES,
)
from tracker.search.base import Hit, SearchResult
from tracker.services import commitments, proposals, search, vocab
from tracker.services.exporting import FORMATS


def utc(value: datetime | None) -> datetime | None:
    """A stored time (UTC; SQLite hands it back without a zone) with its zone."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def page(items: list, *, number: int, per_page: int, total: int, as_of: datetime) -> dict:
    return {
        "page": number,
        "per_page": per_page,
        "total": total,
        "pages": max(1, -(-total // per_page)),
        "as_of": as_of,
        "items": items,
    }


def unit(row: models.Unit) -> schemas.Unit:
    return schemas.Unit(
        id=row.id,
        name=row.name,
        short_names=list(row.short_names or []),
        is_coordinating=row.is_coordinating,
    )


def proposal_summary(p: models.Proposal, today: date) -> dict:
    return {
        "id": p.id,
        "session_id": p.session_id,
        "session": p.session.name,
        "kind": p.kind,
        "number": p.number,
        "title": p.title,
        "lead_proposer": p.lead_proposer,
        "co_signers": list(p.co_signers or []),
        "status": p.status,
        "status_label": PROPOSAL_STATUS.get(p.status, p.status),
        "is_key": p.is_key,
        "round": p.round,
        "classification": p.classification,
        "submitted_on": p.submitted_on,
        "assigned_on": p.assigned_on,
        "due_on": proposal_status.reply_due_on(p),
        "overdue": proposal_status.is_overdue(p, today),
        "lead_units": proposals.unit_names(p, "lead"),
        "co_units": proposals.unit_names(p, "co"),
        "separate_units": proposals.unit_names(p, "separate"),
        "created_at": utc(p.created_at),
        "updated_at": utc(p.updated_at),
    }


def letter_summary(letter: models.ReplyLetter) -> dict:
    return {
        "id": letter.id,
        "title": letter.title,
        "status": letter.status,
        "status_label": LETTER_STATUS.get(letter.status, letter.status),
        "issuer": letter.issuer,
        "doc_number": letter.doc_number,
        "classification": letter.classification,
        "letter_on": letter.letter_on,
        "issued_on": letter.issued_on,
        "disclosure": letter.disclosure,
        "proposal_id": letter.proposal_id,
        "updated_at": utc(letter.updated_at),
    }


def proposal(p: models.Proposal, viewer: models.User, today: date) -> schemas.Proposal:
    channels, satisfactions = vocab.labels("contact_channel"), vocab.labels("satisfaction")
    return schemas.Proposal(
        **proposal_summary(p, today),
        proposer_kind=p.proposer_kind,
        content=p.content or "",
        assignments=[
            schemas.Assignment(
                unit_id=a.unit_id,
                unit=a.unit.name,
                role=a.role,
                role_label=ASSIGNMENT_ROLES.get(a.role, a.role),
                round=a.round,
                active=a.active,
                assigned_on=a.assigned_on,
                due_on=a.due_on,
                max_due_on=a.max_due_on,
                signed_for_at=utc(a.signed_for_at),
                replied_on=a.replied_on,
                opinion_on=a.opinion_on,
                overdue=a.active and proposal_status.part_overdue(a, p, today),
            )
            for a in p.assignments
        ],
        contacts=[
            schemas.Contact(
                contacted_on=c.contacted_on,
                channel=c.channel,
                channel_label=channels.get(c.channel, c.channel),
                phase=c.phase,
                phase_label=CONTACT_PHASES.get(c.phase, c.phase),
                unit=c.unit.name if c.unit else None,
                participants=c.participants or "",
                summary=c.summary or "",
            )
            for c in p.contacts
        ],
        replies=[
            letter_summary(le)
            for le in p.letters
            if le.status in SENT_LETTER_STATUSES and search.visible_letter(viewer, le)
        ],
        ratings=[
            schemas.Rating(
                round=f.round,
                satisfaction=f.satisfaction,
                satisfaction_label=satisfactions.get(f.satisfaction, f.satisfaction),
                rated_on=f.rated_on,
                comment=f.comment or "",
            )
            for f in p.feedback
        ],
    )


def letter(row: models.ReplyLetter) -> schemas.Letter:
    exports = []
    if row.status in EXPORTABLE:
        exports = [
            schemas.Export(format=fmt, url=url_for("api.letter_export", letter_id=row.id, fmt=fmt))
            for fmt in FORMATS
        ]
    return schemas.Letter(
        **letter_summary(row),
        unit_id=row.unit_id,
        addressee=row.addressee,
        proposal_kind=row.proposal_kind,
        session_name=row.session_name,
        proposal_number=row.proposal_number,
        proposal_title=row.proposal_title,
        proposers=list(row.proposers or []),
        published_at=utc(row.published_at),
        co_units=list(row.co_units or []),
        cc=list(row.cc or []),
        contact_person=row.contact_person,
        contact_phone=row.contact_phone,
        text=row.body or "",
        exports=exports,
    )


def hit(h: Hit) -> dict:
    return search.hit_json(h)


def search_result(text: str, result: SearchResult) -> schemas.SearchResult:
    return schemas.SearchResult(
        q=text,
        page=result.page,
        per_page=result.per_page,
        total=result.total,
        pages=result.pages,
        error=result.error,
        items=[hit(h) for h in result.hits],
    )


def commitment_summary(c: models.Commitment, today: date) -> dict:
    status = commitments.effective_status(c, today)
    return {
        "id": c.id,
        "text": c.text,
        "target": c.target,
        "due_on": c.due_on,
        "status": status,
        "status_label": COMMITMENT_STATUS.get(status, status),
        "unit_id": c.unit_id,
        "unit": c.unit.name if c.unit else None,
        "letter_id": c.letter_id,
        "proposal_id": c.proposal_id,
        "proposal_number": c.proposal.number if c.proposal else None,
        "updated_at": utc(c.updated_at),
    }


def commitment(c: models.Commitment, today: date) -> schemas.Commitment:
    return schemas.Commitment(
        **commitment_summary(c, today),
        section=c.section,
        drop_reason=c.drop_reason,
        done_on=c.done_on,
        reported_back_on=c.reported_back_on,
        progress=[
            schemas.Progress(
                noted_on=u.noted_on,
                note=u.note,
                evidence_url=u.evidence_url or None,
                has_evidence_file=bool(u.evidence_file),
            )
            for u in c.updates
        ],
    )
