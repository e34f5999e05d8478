"""会签: the co-handling units co-sign the lead unit's reply before its sign-off.

Where the jurisdiction's policy asks for it (DeadlinePolicy.co_sign_required) and the
proposal has co-handling units, the lead clerk's 提交 sends the draft to each co-unit that has
not agreed yet (status ``cosigning``). A co-unit's clerk or supervisor reads the letter — the
letter alone, not the lead unit's versions, checklist or notes — and agrees (同意) or returns
it with comments (退回). A return puts the draft back in the lead clerk's hands; the
resubmitted version is sent again only to the units that returned it (and to any that had not
answered). When every co-unit has agreed the letter goes to the lead unit's supervisor
(``submitted``); the supervisor's sign-off is refused until then.

Each request has its due date (DeadlinePolicy.co_sign, 5 working days by default, from the
day it is sent). Like every service here, these functions take the actor and only flush."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import contains_eager, joinedload

from tracker.extensions import db
from tracker.models import Assignment, CoSignRequest, Proposal, ReplyLetter, Unit, User
from tracker.rules.deadlines import DeadlinePolicy, co_sign_due
from tracker.rules.labels import COSIGN_STATUS, SENT_LETTER_STATUSES
from tracker.services import audit, permissions
from tracker.services.errors import DomainError, PermissionDenied
from tracker.services.settings import work_calendar


@dataclass
class Line:
    """One co-unit's 会签 of a letter: its latest request (None: not sent yet) and every
    request it had, the earliest first."""

    unit: Unit
    request: CoSignRequest | None
    history: list[CoSignRequest]

    @property
    def status(self) -> str | None:
        return self.request.status if self.request else None

    @property
    def agreed(self) -> bool:
        return self.status == "agreed"

    @property
    def label(self) -> str:
        return COSIGN_STATUS[self.status] if self.status else "提交后送会签"


def co_assignments(letter: ReplyLetter) -> list[Assignment]:
    """The co-handling units' assignments a lead unit's letter is co-signed by (none for a
    unit that answers separately, 分办)."""
    proposal = letter.proposal
    if proposal is None:
        return []
    active = proposal.active_assignments
    if not any(a.unit_id == letter.unit_id and a.role == "lead" for a in active):
        return []
    seen: set[int] = set()
    cos = []
    for a in active:
        if a.is_co and a.unit_id not in seen:
            seen.add(a.unit_id)
            cos.append(a)
    return cos


def applies(letter: ReplyLetter, policy: DeadlinePolicy | None) -> bool:
    """The letter must be co-signed before its sign-off."""
    return bool(policy and policy.co_sign_required and co_assignments(letter))


def lines(letter: ReplyLetter, policy: DeadlinePolicy | None) -> list[Line]:
    """Each co-unit's 会签 of the letter, in the order the units were assigned: the co-units
    of the proposal when the policy asks for 会签; none where the policy is switched off
    (the 会办意见 alone is collected); without a policy, the units already asked."""
    if policy is not None and not policy.co_sign_required:
        return []
    requests: dict[int, list[CoSignRequest]] = {}
    for r in letter.co_signs:
        requests.setdefault(r.unit_id, []).append(r)
    if applies(letter, policy):
        units = [a.unit for a in co_assignments(letter)]
    else:
        units = [history[0].unit for history in requests.values()]
    return [
        Line(u, requests[u.id][-1] if u.id in requests else None, requests.get(u.id, []))
        for u in units
    ]


def all_agreed(letter: ReplyLetter, policy: DeadlinePolicy | None) -> bool:
    return all(line.agreed for line in lines(letter, policy))


def blocking(letter: ReplyLetter, policy: DeadlinePolicy | None) -> list[Line]:
    """The co-units whose agreement the sign-off still waits for."""
    return [line for line in lines(letter, policy) if not line.agreed]


def send(
    actor: User, letter: ReplyLetter, *, policy: DeadlinePolicy, today: date
) -> list[CoSignRequest]:
    """Ask every co-unit that has not agreed to co-sign the letter's current version (a
    request still unanswered is sent again with this version and a new due date). Returns
    the requests now waiting; none when every co-unit has agreed."""
    due = co_sign_due(today, policy, work_calendar())
    waiting = []
    for line in lines(letter, policy):
        if line.agreed:
            continue
        request = line.request
        if request is None or request.status == "returned":
            request = CoSignRequest(letter=letter, unit=line.unit, letter_version=letter.version)
            db.session.add(request)
        request.letter_version = letter.version
        request.due_on = due.on
        request.due_estimated = due.estimated
        request.requested_at = datetime.now(UTC)
        request.requested_by_id = actor.id
        waiting.append(request)
    db.session.flush()
    return waiting


def request_of(user: User, letter: ReplyLetter) -> CoSignRequest | None:
    """The latest request the user's unit had for this letter (None: the unit was not
    asked)."""
    if not permissions.handles_items(user):
        return None
    mine = [r for r in letter.co_signs if r.unit_id == user.unit_id]
    return mine[-1] if mine else None


def asked(user: User, letter: ReplyLetter) -> bool:
    """The user is a clerk or supervisor of a unit asked to co-sign the letter: they may
    read the letter (and nothing else of the lead unit's drafting)."""
    return request_of(user, letter) is not None


def history_of(user: User, letter: ReplyLetter) -> list[CoSignRequest]:
    """The user's unit's requests for this letter, the earliest first."""
    return [r for r in letter.co_signs if permissions.in_unit(user, r.unit_id)]


def can_decide(user: User, letter: ReplyLetter) -> bool:
    request = request_of(user, letter)
    return request is not None and request.status == "requested" and letter.status == "cosigning"


def decide(
    actor: User,
    letter: ReplyLetter,
    *,
    agree: bool,
    comment: str,
    policy: DeadlinePolicy,
) -> CoSignRequest:
    """The co-unit agrees (同意) or returns the letter with comments (退回)."""
    request = request_of(actor, letter)
    if request is None:
        raise PermissionDenied("贵单位未被请求会签该答复函。")
    if letter.status != "cosigning" or request.status != "requested":
        raise DomainError(
            "该答复函已退回主办单位修改，待重新提交后再会签。"
            if letter.status == "draft"
            else "贵单位已对此版本作出会签意见。"
        )
    comment = comment.strip()
    if not agree and not comment:
        raise DomainError("退回时请写明修改意见。")
    request.status = "agreed" if agree else "returned"
    request.comment = comment or None
    request.decided_at = datetime.now(UTC)
    request.decided_by_id = actor.id
    unit = request.unit.name
    if agree:
        message = f"{unit}会签同意答复函（第{request.letter_version}版）"
    else:
        message = f"{unit}退回答复函（第{request.letter_version}版）：{comment}"
    if comment and agree:
        message += f"，意见：{comment}"
    audit.record(
        actor,
        "cosign_agree" if agree else "cosign_return",
        message,
        proposal_id=letter.proposal_id,
        entity="letter",
        entity_id=letter.id,
        unit_id=request.unit_id,
        version=request.letter_version,
    )
    if not agree:
        letter.status = "draft"
    elif all_agreed(letter, policy):
        letter.status = "submitted"
        audit.record(
            actor,
            "cosign_done",
            "会办单位均已会签同意，答复函送负责人签发",
            proposal_id=letter.proposal_id,
            entity="letter",
            entity_id=letter.id,
        )
    db.session.flush()
    return request


# -- what waits for whom (我的待办, reminders) --------------------------------------------------


def owed_by_unit(unit_id: int | None) -> list[CoSignRequest]:
    """The unit's requests waiting for its 会签, the earliest due first."""
    if unit_id is None:
        return []
    return list(
        db.session.execute(
            db.select(CoSignRequest)
            .join(CoSignRequest.letter)  # joined once: for the condition and as the letter
            .where(
                CoSignRequest.unit_id == unit_id,
                CoSignRequest.status == "requested",
                ReplyLetter.status == "cosigning",
            )
            .options(
                contains_eager(CoSignRequest.letter)
                .joinedload(ReplyLetter.proposal)
                .joinedload(Proposal.session),
                contains_eager(CoSignRequest.letter).joinedload(ReplyLetter.unit),
            )
            .order_by(CoSignRequest.due_on, CoSignRequest.id)
        ).scalars()
    )


def returned_to_unit(unit_id: int | None) -> list[tuple[ReplyLetter, list[CoSignRequest]]]:
    """The unit's drafts that co-units returned, with the returns to answer."""
    if unit_id is None:
        return []
    letters = (
        db.session.execute(
            db.select(ReplyLetter)
            .where(
                ReplyLetter.unit_id == unit_id,
                ReplyLetter.status == "draft",
                ReplyLetter.co_signs.any(CoSignRequest.status == "returned"),
            )
            .options(
                joinedload(ReplyLetter.proposal).joinedload(Proposal.session),
                joinedload(ReplyLetter.co_signs).joinedload(CoSignRequest.unit),
            )
            .order_by(ReplyLetter.id)
        )
        .unique()
        .scalars()
    )
    waiting = []
    for letter in letters:
        latest: dict[int, CoSignRequest] = {}
        for r in letter.co_signs:
            latest[r.unit_id] = r
        returns = [r for r in latest.values() if r.status == "returned"]
        if returns:
            waiting.append((letter, returns))
    return waiting


def asks_on(proposal: Proposal, user: User) -> list[tuple[ReplyLetter, CoSignRequest]]:
    """The proposal's letters the user's unit was asked to co-sign, with its latest request."""
    asks = []
    for letter in proposal.letters:
        request = request_of(user, letter)
        if request is not None and letter.status not in SENT_LETTER_STATUSES:
            asks.append((letter, request))
    return asks
