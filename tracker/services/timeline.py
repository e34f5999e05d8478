"""The proposal page's timeline: what happened, in date order, by stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker.models import Proposal
from tracker.rules.clock import beijing_day
from tracker.rules.labels import ASSIGNMENT_ROLES, CONTACT_PHASES, EXTENSION_STATUS
from tracker.services import vocab


@dataclass
class Entry:
    on: date
    stage: str  # 交办 / 签收 / 沟通 / 会办意见 / 答复 / 评价 / 重新办理 / 延期 / 调整
    text: str
    round: int = 1
    detail: str = ""


_day = beijing_day


def build(proposal: Proposal) -> list[Entry]:
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
                + (f"：{c.participants}" if c.participants else ""),
                c.round,
                c.summary,
            )
        )
    for letter in proposal.letters:
        on = letter.issued_on or letter.letter_on
        if on is None or letter.status in ("draft", "submitted"):
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
