"""The proposal page's timeline: what happened, in date order, by stage; and the page's
操作记录 (audit events) as the viewer may read them.

A reply letter is its unit's own business until it is sent. Another unit on the same
proposal (a co-handling unit, or another unit answering separately) sees a letter on the
timeline and in the 操作记录 only once it is issued (or published, or imported as a sent
letter), and never the unit's internal steps on the way (drafting, the reasons written for
the sign-off checklist's warnings, returns, grade corrections, the sign-off itself), but for
its own 会签 of the letter when it was asked for one. A sent
letter that may not be read outside its unit (不予公开) shows only that a reply was sent.
The letter's own unit and the roles that see every item see everything."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from tracker.extensions import db
from tracker.models import AuditEvent, Commitment, Proposal, ReplyLetter, User
from tracker.rules.clock import beijing_day
from tracker.rules.labels import (
    ASSIGNMENT_ROLES,
    CONTACT_PHASES,
    DEPUTY_CONTACT_STATUS,
    EXTENSION_STATUS,
    SENT_LETTER_STATUSES,
)
from tracker.services import permissions, search, vocab


@dataclass
class Entry:
    on: date
    stage: str  # 交办 / 签收 / 沟通 / 会办意见 / 答复 / 评价 / 重新办理 / 延期 / 调整
    text: str
    round: int = 1
    detail: str = ""


_day = beijing_day


def _own(viewer: User, letter: ReplyLetter) -> bool:
    """The viewer sees the letter as its own unit does: its unit and see-all roles."""
    return permissions.sees_unit(viewer, letter.unit_id)


def _readable(viewer: User, letter: ReplyLetter) -> bool:
    """Another unit may read this letter: it is sent and not kept inside its unit."""
    return letter.status in SENT_LETTER_STATUSES and search.visible_letter(viewer, letter)


def _sent_only(letter: ReplyLetter) -> str:
    return f"{letter.issuer or '主办单位'}已答复（答复函不予公开）"


def build(proposal: Proposal, viewer: User) -> list[Entry]:
    entries: list[Entry] = []
    for a in proposal.assignments:
        role = ASSIGNMENT_ROLES[a.role]
        if a.round == 1 or a.reassign_status:
            entries.append(Entry(a.assigned_on, "交办", f"交{a.unit.name}{role}", a.round))
        else:
            entries.append(
                Entry(a.assigned_on, "重新办理", f"{a.unit.name}第{a.round}轮重新办理", a.round)
            )
        if a.signed_for_at and a.round == 1:
            entries.append(Entry(_day(a.signed_for_at), "签收", f"{a.unit.name}签收", a.round))
        if a.reassign_requested_at:
            entries.append(
                Entry(
                    _day(a.reassign_requested_at),
                    "调整",
                    f"{a.unit.name}申请调整",
                    a.round,
                    a.reassign_reason or "",
                )
            )
        if a.reassign_decided_at:
            verdict = "同意调整" if a.reassign_status == "approved" else "不同意调整"
            entries.append(
                Entry(
                    _day(a.reassign_decided_at),
                    "调整",
                    f"督办{verdict}（{a.unit.name}）",
                    a.round,
                    a.reassign_decision_note or "",
                )
            )
        if a.opinion_on:
            entries.append(
                Entry(
                    a.opinion_on,
                    "会办意见",
                    f"{a.unit.name}提交会办意见",
                    a.round,
                    a.opinion_text or "",
                )
            )
        for e in a.extensions:
            entries.append(
                Entry(
                    _day(e.requested_at),
                    "延期",
                    f"{a.unit.name}申请延期至{e.requested_due_on.isoformat()}",
                    a.round,
                    e.reason,
                )
            )
            if e.decided_at:
                entries.append(
                    Entry(
                        _day(e.decided_at),
                        "延期",
                        f"延期申请{EXTENSION_STATUS[e.status]}",
                        a.round,
                        e.decision_note or "",
                    )
                )
    for c in proposal.contacts:
        entries.append(
            Entry(
                c.contacted_on,
                "沟通",
                f"{vocab.label('contact_channel', c.channel)}沟通（{CONTACT_PHASES.get(c.phase, c.phase)}）"
                + (f"：{c.participants}" if c.participants else "")
                + (f"【{DEPUTY_CONTACT_STATUS[c.deputy_status]}】" if c.deputy_status else ""),
                c.round,
                "\n".join(
                    part
                    for part in (
                        c.summary,
                        f"代表/委员的意见：{c.deputy_comment}" if c.deputy_comment else "",
                    )
                    if part
                ),
            )
        )
    for letter in proposal.letters:
        on = letter.issued_on or letter.letter_on
        if on is None or letter.status in ("draft", "cosigning", "submitted"):
            continue
        if not _own(viewer, letter):
            if letter.status not in SENT_LETTER_STATUSES:
                continue  # signed off but not sent: still the unit's own business
            if not _readable(viewer, letter):
                entries.append(Entry(on, "答复", _sent_only(letter), letter.round))
                continue
        grade = vocab.label("classification", letter.classification)
        entries.append(
            Entry(
                on,
                "答复",
                f"{letter.issuer or ''}答复（{grade}"
                f"{'，' + letter.doc_number if letter.doc_number else ''}）",
                letter.round,
                letter.title or "",
            )
        )
    for f in proposal.feedback:
        entries.append(
            Entry(
                f.rated_on,
                "评价",
                f"代表评价：{vocab.label('satisfaction', f.satisfaction)}",
                f.round,
                f.comment,
            )
        )
    order = ["交办", "调整", "签收", "延期", "沟通", "会办意见", "答复", "评价", "重新办理"]
    entries.sort(key=lambda e: (e.on, e.round, order.index(e.stage)))
    return entries


def grade_visible(viewer: User, proposal: Proposal) -> bool:
    """The proposal's reply grade may be shown: it is not only in letters the viewer may
    not read (a 不予公开 reply of another unit)."""
    letters = [
        le
        for le in proposal.letters
        if le.status in SENT_LETTER_STATUSES and le.classification == proposal.classification
    ]
    return not letters or any(_own(viewer, le) or _readable(viewer, le) for le in letters)


@dataclass
class Shown:
    """An audit event as the viewer sees it in 操作记录."""

    at: datetime
    actor: User | None
    message: str


# a co-unit's own 会签 of another unit's draft, which that co-unit sees in 操作记录
COSIGN_DECISIONS = ("cosign_agree", "cosign_return")


def visible_events(viewer: User, events: Iterable[AuditEvent]) -> list[Shown]:
    """The proposal's audit events for this viewer: everything about another unit's reply
    letter (and the commitments taken from it) is left out until the letter is sent, and
    then only its sending, publication and commitments show; a 不予公开 letter's sending
    shows as "已答复" alone."""
    events = list(events)
    letter_ids = {e.entity_id for e in events if e.entity == "letter" and e.entity_id}
    commitment_ids = {e.entity_id for e in events if e.entity == "commitment" and e.entity_id}
    letters = _by_id(ReplyLetter, letter_ids)
    commitments = _by_id(Commitment, commitment_ids)
    shown = []
    for event in events:
        letter = None
        if event.entity == "letter":
            letter = letters.get(event.entity_id)
        elif event.entity == "commitment" and event.entity_id in commitments:
            commitment = commitments[event.entity_id]
            if not permissions.sees_unit(viewer, commitment.unit_id):
                letter = commitment.letter
        readable = letter is not None and _readable(viewer, letter)
        after_sending = event.action == "letter_publish" or event.entity == "commitment"
        if letter is None or _own(viewer, letter) or (after_sending and readable):
            shown.append(Shown(event.at, event.actor, event.message))
        elif event.action == "reply" and letter.status in SENT_LETTER_STATUSES:
            message = event.message if readable else _sent_only(letter)
            shown.append(Shown(event.at, event.actor, message))
        elif event.action in COSIGN_DECISIONS and permissions.in_unit(
            viewer, (event.data or {}).get("unit_id")
        ):
            shown.append(Shown(event.at, event.actor, event.message))  # the unit's own 会签
        # anything else about another unit's letter is that unit's internal work
    return shown


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    rows = db.session.execute(db.select(model).where(model.id.in_(ids))).scalars()
    return {row.id: row for row in rows}
