"""Drafting, approving, issuing and publishing a reply letter.

draft → submitted → approved (签发, a supervisor of the unit; the document number is
allocated then) → issued (sent to the deputy) → published (主动公开). A supervisor may
return a submitted letter with comments, correcting the grade. Every save keeps a version;
two people editing the same draft cannot overwrite each other (optimistic locking)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.models import (
    Assignment,
    DocNumberCounter,
    LetterVersion,
    Proposal,
    ReplyLetter,
    Unit,
    User,
)
from tracker.rules.chinese import cn_date
from tracker.rules.deadlines import DeadlinePolicy
from tracker.rules.docnumbers import DocNumberError, format_doc_number, parse_doc_number
from tracker.rules.labels import DRAFT_LETTER_STATUSES
from tracker.rules.letter_checks import CheckResult, LetterFacts, check_letter
from tracker.rules.proposal_status import derive_status
from tracker.services import audit, commitments, cosign, deputies, permissions, repeats, vocab
from tracker.services.digest import Link
from tracker.services.errors import DomainError, PermissionDenied
from tracker.services.settings import get_setting

EDITABLE = ("draft",)
DEFAULT_CC = {"人大": ["市府办公厅", "市人大选联工委"], "政协": ["市府办公厅", "市政协提案委"]}
FIELDS = (
    "title",
    "addressee",
    "classification",
    "doc_number",
    "letter_on",
    "contact_person",
    "contact_phone",
    "disclosure",
    "disclosure_reason",
    "cc",
)


class EditConflict(DomainError):
    """Someone else saved the draft since this editor loaded it."""

    def __init__(self, latest: LetterVersion | None):
        who = latest.saved_by.label if latest and latest.saved_by else "其他人"
        super().__init__(
            f"{who}已在您打开之后保存了这份草稿，您的修改未保存。请查看对方的修改，合并后再保存。"
        )
        self.latest = latest


def _now() -> datetime:
    return datetime.now(UTC)


# -- the prefilled draft -----------------------------------------------------------------


def self_reference(unit_name: str) -> str:
    """How a unit refers to itself in a letter: 我局, 我委, 我厅, 我办…"""
    for suffix, word in (
        ("委员会", "我委"),
        ("办公厅", "我厅"),
        ("办公室", "我办"),
        ("局", "我局"),
        ("厅", "我厅"),
        ("委", "我委"),
        ("办", "我办"),
        ("院", "我院"),
        ("中心", "我中心"),
    ):
        if unit_name.endswith(suffix):
            return word
    return "我单位"


def salutation(proposal: Proposal) -> str:
    if proposal.proposer_kind == "单位":
        return f"{proposal.lead_proposer}："
    if proposal.co_signers:
        return (
            f"{proposal.lead_proposer}等{len(proposal.co_signers) + 1}位{proposal.proposer_kind}："
        )
    return f"{proposal.lead_proposer}{proposal.proposer_kind}："


def contacts_phrase(contacts: list[tuple[date, str]]) -> str:
    """'4月28、29日进行了微信、电话沟通交流' from the logged contacts (date, channel label)."""
    if not contacts:
        return ""
    days: OrderedDict[int, list[int]] = OrderedDict()
    for day, _channel in sorted(contacts):
        days.setdefault(day.month, [])
        if day.day not in days[day.month]:
            days[day.month].append(day.day)
    when = "、".join(f"{month}月{'、'.join(str(d) for d in ds)}日" for month, ds in days.items())
    channels = list(OrderedDict.fromkeys(channel for _day, channel in contacts))
    return f"在{when}进行了{'、'.join(channels)}沟通交流"


def prefill(proposal: Proposal, unit: Unit, actor: User) -> dict:
    """The draft's fields and Markdown body, built from what the tracker has recorded."""
    co_units = [
        a.unit for a in proposal.active_assignments if a.is_co and a.round <= proposal.round
    ]
    contacts = [
        (c.contacted_on, vocab.label("contact_channel", c.channel))
        for c in proposal.contacts
        if (c.unit_id == unit.id or c.unit_id is None) and not c.disputed
    ]
    me = self_reference(unit.name)
    person = f"{proposal.lead_proposer}{proposal.proposer_kind if proposal.proposer_kind != '单位' else ''}"
    opening = f"您提出的《{proposal.title}》（第{proposal.number}号）已收悉。{me}高度重视，"
    if co_units:
        opening += f"会同{'、'.join(u.short_name for u in co_units)}认真研究办理"
    else:
        opening += "认真研究办理"
    phrase = contacts_phrase(contacts)
    if phrase:
        opening += f"，并与{person}{phrase}"
    opening += "。"
    opening += (
        "经综合会办单位意见，现将有关办理情况答复如下："
        if co_units
        else "现将有关办理情况答复如下："
    )
    body = "\n\n".join(
        [
            opening,
            "一、目前工作推进情况",
            "（请写明已开展的工作和取得的成效。）",
            "二、下一步工作安排",
            "（请写明下一步的工作措施，尽量写明完成时限和可衡量的目标。）",
            "感谢您对我们工作的关心和支持，欢迎继续提出宝贵意见和建议。",
        ]
    )
    offices = get_setting("default_cc", DEFAULT_CC).get(proposal.session.body, [])
    cc = list(OrderedDict.fromkeys([*offices, *(u.short_name for u in co_units)]))
    return {
        "title": f"{unit.name}关于{proposal.session.name}第{proposal.number}号{proposal.kind}答复的函",
        "addressee": salutation(proposal),
        "classification": None,
        "doc_number": None,
        "letter_on": None,
        "contact_person": (actor.display_name or "").split(" ")[-1] or None,
        "contact_phone": actor.phone,
        "disclosure": "主动公开",
        "disclosure_reason": None,
        "cc": cc,
        "body": body,
    }


def answering_assignment(actor: User, proposal: Proposal) -> Assignment:
    mine = [
        a
        for a in proposal.active_assignments
        if permissions.works_for(actor, a) and not a.is_co and a.round == proposal.round
    ]
    if not mine:
        raise PermissionDenied("只有主办（或分办）单位的人员可以起草答复。")
    return mine[0]


def start_draft(actor: User, proposal: Proposal, *, today: date) -> ReplyLetter:
    """Open this round's draft of the actor's unit, creating it pre-filled when needed."""
    assignment = answering_assignment(actor, proposal)
    # two clicks on 起草答复 at once must open one draft (see services.repeats)
    repeats.hold(assignment)
    if assignment.replied_on:
        raise DomainError("本轮已答复。")
    existing = (
        db.session.execute(
            select(ReplyLetter).where(
                ReplyLetter.proposal_id == proposal.id,
                ReplyLetter.unit_id == assignment.unit_id,
                ReplyLetter.round == proposal.round,
                ReplyLetter.status.in_(DRAFT_LETTER_STATUSES),
            )
        )
        .scalars()
        .first()
    )
    if existing is not None:
        return existing
    values = prefill(proposal, assignment.unit, actor)
    letter = ReplyLetter(
        proposal=proposal,
        unit=assignment.unit,
        round=proposal.round,
        status="draft",
        issuer=assignment.unit.name,
        proposal_kind=proposal.kind,
        session_name=proposal.session.name,
        proposal_number=proposal.number,
        proposal_title=proposal.title,
        proposers=proposal.proposers,
        co_units=[a.unit.short_name for a in proposal.active_assignments if a.is_co],
        created_by_id=actor.id,
        version=1,
        **values,
    )
    db.session.add(letter)
    db.session.flush()
    _keep_version(letter, actor, "起草（系统预填）")
    commitments.refresh_commitments(letter, today=today)
    audit.record(
        actor,
        "draft",
        "开始起草答复函",
        proposal_id=proposal.id,
        entity="letter",
        entity_id=letter.id,
    )
    return letter


# -- saving with versions ------------------------------------------------------------------


def snapshot(letter: ReplyLetter) -> dict:
    values = {name: getattr(letter, name) for name in FIELDS}
    values["letter_on"] = letter.letter_on.isoformat() if letter.letter_on else None
    return values


def _keep_version(letter: ReplyLetter, actor: User | None, comment: str | None) -> LetterVersion:
    version = LetterVersion(
        letter=letter,
        number=letter.version,
        body=letter.body,
        fields=snapshot(letter),
        saved_by_id=actor.id if actor else None,
        comment=comment,
    )
    db.session.add(version)
    db.session.flush()
    return version


def can_edit(actor: User, letter: ReplyLetter) -> bool:
    return letter.status in EDITABLE and permissions.in_unit(actor, letter.unit_id)


def save_draft(
    actor: User,
    letter: ReplyLetter,
    *,
    values: dict,
    body: str,
    base_version: int,
    comment: str = "",
    today: date,
) -> bool:
    """Save the editor's content if nobody saved since `base_version`; returns False when
    nothing changed. Raises EditConflict when someone else saved first."""
    if not can_edit(actor, letter):
        raise PermissionDenied("只有本单位人员可以修改草稿；已提交的函须退回后才能修改。")
    doc_number = (values.get("doc_number") or "").strip() or None
    values = {**values, "doc_number": doc_number}
    if letter.version != base_version:
        if _repeats_own_save(actor, letter, values, body):
            return True  # the same save posted twice: the first one saved it
        raise EditConflict(latest_version(letter))
    if doc_number:
        check_manual_number(letter, doc_number, values.get("letter_on") or today)
    changed = body != letter.body or any(values.get(k) != getattr(letter, k) for k in values)
    if not changed:
        return False
    # atomic compare-and-set: a concurrent save between our read and this write loses
    bumped = db.session.execute(
        update(ReplyLetter)
        .where(ReplyLetter.id == letter.id, ReplyLetter.version == base_version)
        .values(version=base_version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if bumped != 1:
        db.session.expire(letter)
        if _repeats_own_save(actor, letter, values, body):
            return True
        raise EditConflict(latest_version(letter))
    db.session.expire(letter, ["version"])
    for key, value in values.items():
        setattr(letter, key, value)
    letter.body = body
    db.session.flush()
    _keep_version(letter, actor, comment or None)
    commitments.refresh_commitments(letter, today=today)
    return True


def _repeats_own_save(actor: User, letter: ReplyLetter, values: dict, body: str) -> bool:
    """The letter's latest version is this user's, saved just now with exactly this content:
    the editor's form was posted twice and the first post saved it."""
    latest = latest_version(letter)
    if latest is None or latest.saved_by_id != actor.id or not repeats.just_now(latest.saved_at):
        return False
    return body == letter.body and all(values.get(k) == getattr(letter, k) for k in values)


def latest_version(letter: ReplyLetter) -> LetterVersion | None:
    return (
        db.session.execute(
            select(LetterVersion)
            .where(LetterVersion.letter_id == letter.id)
            .order_by(LetterVersion.number.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )


def check_manual_number(letter: ReplyLetter, text: str, letter_on: date) -> str:
    """A document number typed by hand, checked against the unit's prefix and the year of
    `letter_on` (an undated letter: today's)."""
    unit = letter.unit
    try:
        number = parse_doc_number(
            text,
            expected_prefix=unit.doc_prefix if unit else None,
            expected_year=letter_on.year,
        )
    except DocNumberError as error:
        raise DomainError(str(error)) from None
    value = str(number)
    taken = db.session.execute(
        select(ReplyLetter.id).where(ReplyLetter.doc_number == value, ReplyLetter.id != letter.id)
    ).first()
    if taken:
        raise DomainError(f"文号{value}已被使用。")
    return value


# -- the checklist -------------------------------------------------------------------------


def facts(letter: ReplyLetter, *, today: date, policy: DeadlinePolicy | None = None) -> LetterFacts:
    proposal = letter.proposal
    grade = vocab.term("classification", letter.classification)
    mode = vocab.term("disclosure", letter.disclosure)
    co = [a for a in proposal.active_assignments if a.is_co] if proposal else []
    lead = (
        next(
            (a for a in proposal.active_assignments if a.unit_id == letter.unit_id and not a.is_co),
            None,
        )
        if proposal
        else None
    )
    return LetterFacts(
        classification=letter.classification,
        classification_needs_followup=bool(grade and grade.needs_followup),
        disclosure=letter.disclosure,
        disclosure_public=bool(mode and mode.is_public),
        disclosure_reason=letter.disclosure_reason,
        body=letter.body or "",
        commitment_count=len(commitments.commitments_in(letter, today=today)),
        cc=tuple(letter.cc or ()),
        co_units=tuple((a.unit.name, tuple(a.unit.short_names or ())) for a in co),
        co_units_without_opinion=tuple(a.unit.name for a in co if a.opinion_on is None),
        # a contact the deputy disputed counts as not made
        contact_dates=tuple(c.contacted_on for c in proposal.contacts if not c.disputed)
        if proposal
        else (),
        disputed_contact_dates=tuple(c.contacted_on for c in proposal.contacts if c.disputed)
        if proposal
        else (),
        letter_on=letter.letter_on or today,
        due_on=lead.due_on if lead else None,
        title=letter.title or "",
        proposal_number=proposal.number if proposal else "",
        proposal_title=proposal.title if proposal else "",
        co_signs=tuple(
            (line.unit.name, line.status, _cosign_note(line))
            for line in cosign.lines(letter, policy)
        ),
    )


def _cosign_note(line: cosign.Line) -> str:
    """What the checklist says of a co-unit's 会签 that is not agreed yet."""
    request = line.request
    if request is None:
        return "提交后送该单位会签"
    if request.status == "returned":
        return f"已退回：{request.comment or ''}"
    if request.status == "requested":
        return f"待会签，期限{cn_date(request.due_on)}"
    return ""


def checklist(
    letter: ReplyLetter, *, today: date, policy: DeadlinePolicy | None = None
) -> CheckResult:
    """The sign-off checks; an undated draft is checked as if dated `today`. With the
    jurisdiction's `policy`, each co-unit's 会签 is listed (without it, only the 会签 already
    asked for)."""
    return check_letter(facts(letter, today=today, policy=policy))


# -- the sign-off workflow -------------------------------------------------------------------


def submit(
    actor: User,
    letter: ReplyLetter,
    reasons: dict[str, str],
    *,
    today: date,
    policy: DeadlinePolicy | None = None,
) -> None:
    """Submit the draft: to the co-units for 会签 first when the `policy` asks for it and
    some co-unit has not agreed yet, else to the unit's supervisor for sign-off."""
    if not can_edit(actor, letter):
        raise PermissionDenied("只有本单位人员可以提交草稿。")
    result = checklist(letter, today=today, policy=policy)
    if result.errors:
        raise DomainError("请先改正：" + "；".join(c.message for c in result.errors))
    missing = [c for c in result.warnings if not (reasons.get(c.code) or "").strip()]
    if missing:
        raise DomainError("以下提醒须填写说明后才能提交：" + "；".join(c.label for c in missing))
    letter.status = "submitted"
    letter.version += 1
    explained = {c.code: reasons[c.code].strip() for c in result.warnings}
    asked = (
        cosign.send(actor, letter, policy=policy, today=today)
        if policy is not None and cosign.applies(letter, policy)
        else []
    )
    if asked:
        letter.status = "cosigning"
        units = "、".join(r.unit.short_name for r in asked)
        _keep_version(letter, actor, f"提交会签（{units}）")
        action = f"提交答复函会签（送{units}）"
    else:
        _keep_version(letter, actor, "提交签发")
        action = "提交答复函签发"
    audit.record(
        actor,
        "letter_submit",
        action
        + (
            "（说明："
            + "；".join(f"{c.label}：{explained[c.code]}" for c in result.warnings)
            + "）"
            if result.warnings
            else ""
        ),
        proposal_id=letter.proposal_id,
        entity="letter",
        entity_id=letter.id,
        overrides=explained,
    )


def can_approve(actor: User, letter: ReplyLetter) -> bool:
    return actor.role == "supervisor" and actor.unit_id == letter.unit_id


def return_letter(
    actor: User, letter: ReplyLetter, comment: str, classification: str | None = None
) -> None:
    if not can_approve(actor, letter):
        raise PermissionDenied("只有本单位负责人可以退回。")
    # a letter in 会签 may be pulled back as well: the unanswered 会签 waits for the
    # resubmission (and a co-unit that never answers cannot hold the letter)
    if letter.status not in ("submitted", "cosigning"):
        raise DomainError("只有待签发或会签中的函可以退回。")
    if not comment.strip():
        raise DomainError("退回时请写明修改意见。")
    _correct_grade(actor, letter, classification)
    letter.status = "draft"
    letter.version += 1
    _keep_version(letter, actor, f"退回修改：{comment.strip()}")
    audit.record(
        actor,
        "letter_return",
        f"退回答复函：{comment.strip()}",
        proposal_id=letter.proposal_id,
        entity="letter",
        entity_id=letter.id,
    )


def _correct_grade(actor: User, letter: ReplyLetter, classification: str | None) -> None:
    if classification and classification != letter.classification:
        if vocab.term("classification", classification) is None:
            raise DomainError("答复类别无效。")
        old = letter.classification
        letter.classification = classification
        audit.record(
            actor,
            "letter_grade",
            f"负责人将答复类别由{old or '未定'}更正为{classification}",
            proposal_id=letter.proposal_id,
            entity="letter",
            entity_id=letter.id,
        )


def allocate_doc_number(unit: Unit, year: int) -> str:
    """The unit's next serial of the year, never the same twice, also when several workers
    approve at the same moment: the counter row is incremented atomically, and serials
    already taken by hand are skipped."""
    if not unit.doc_prefix:
        raise DomainError(f"{unit.name}未设置机关代字（文号前缀），请管理员在单位设置中填写。")
    for _attempt in range(5):
        serial = db.session.execute(
            update(DocNumberCounter)
            .where(DocNumberCounter.unit_id == unit.id, DocNumberCounter.year == year)
            .values(last_serial=DocNumberCounter.last_serial + 1)
            .returning(DocNumberCounter.last_serial)
        ).scalar()
        if serial is None:
            try:
                with db.session.begin_nested():
                    db.session.add(
                        DocNumberCounter(
                            unit_id=unit.id, year=year, last_serial=_highest_serial(unit, year)
                        )
                    )
            except IntegrityError:
                pass  # another worker created it first; increment theirs
            continue
        number = format_doc_number(unit.doc_prefix, year, serial)
        taken = db.session.execute(
            select(ReplyLetter.id).where(ReplyLetter.doc_number == number)
        ).first()
        if not taken:
            return number
    raise DomainError("文号分配失败，请重试。")


def _highest_serial(unit: Unit, year: int) -> int:
    """Serials used before the counter existed (imported or entered by hand)."""
    numbers = db.session.execute(
        select(ReplyLetter.doc_number).where(
            ReplyLetter.doc_number.startswith(f"{unit.doc_prefix}〔{year}〕", autoescape=True)
        )
    ).scalars()
    serials = []
    for text in numbers:
        try:
            serials.append(parse_doc_number(text).serial)
        except DocNumberError:
            continue
    return max(serials, default=0)


def approve(
    actor: User,
    letter: ReplyLetter,
    *,
    classification: str | None = None,
    letter_on: date | None = None,
    today: date,
    policy: DeadlinePolicy | None = None,
) -> None:
    """签发: the supervisor signs off; the document number is allocated now. Where the
    `policy` asks for 会签, every co-unit must have agreed first."""
    if not can_approve(actor, letter):
        raise PermissionDenied("只有本单位负责人可以签发。")
    if letter.status == "cosigning":
        raise DomainError("答复函正在会签，会办单位全部同意后才能签发。")
    if letter.status != "submitted":
        raise DomainError("只有待签发的函可以签发。")
    waiting = cosign.blocking(letter, policy)
    if waiting:
        raise DomainError(
            "会签未完成，不能签发："
            + "；".join(f"{line.unit.name}{line.label}" for line in waiting)
            + "。请退回承办人重新提交会签。"
        )
    _correct_grade(actor, letter, classification)
    letter.letter_on = letter_on or letter.letter_on or today
    if letter.doc_number:
        letter.doc_number = check_manual_number(letter, letter.doc_number, letter.letter_on)
    else:
        letter.doc_number = allocate_doc_number(letter.unit, letter.letter_on.year)
    letter.status = "approved"
    letter.approved_at = _now()
    letter.approved_by_id = actor.id
    letter.version += 1
    _keep_version(letter, actor, f"签发，文号{letter.doc_number}")
    audit.record(
        actor,
        "letter_approve",
        f"签发答复函，文号{letter.doc_number}",
        proposal_id=letter.proposal_id,
        entity="letter",
        entity_id=letter.id,
    )


def issue(
    actor: User, letter: ReplyLetter, issued_on: date, *, today: date, link: Link | None = None
) -> None:
    """The signed letter is sent to the deputy: the unit's reply for this round is done.
    With `link` (how to make a page's URL), the deputies named on the proposal are told."""
    if not permissions.in_unit(actor, letter.unit_id):
        raise PermissionDenied("只有本单位人员可以登记发出。")
    if letter.status != "approved":
        raise DomainError("只有已签发的函可以发出。")
    if issued_on > today:
        raise DomainError("发出日期不能晚于今天。")
    if letter.letter_on and issued_on < letter.letter_on:
        raise DomainError("发出日期不能早于成文日期。")
    letter.status = "issued"
    letter.issued_on = issued_on
    proposal = letter.proposal
    for assignment in proposal.active_assignments:
        if (
            assignment.unit_id == letter.unit_id
            and not assignment.is_co
            and assignment.round == letter.round
        ):
            assignment.replied_on = issued_on
    proposal.classification = letter.classification
    letter.version += 1
    _keep_version(letter, actor, f"发出（{issued_on.isoformat()}）")
    audit.record(
        actor,
        "reply",
        f"{letter.issuer}答复（{vocab.label('classification', letter.classification)}，"
        f"{letter.doc_number}），{issued_on.isoformat()}发出",
        proposal_id=proposal.id,
        entity="letter",
        entity_id=letter.id,
    )
    proposal.status = derive_status(proposal)
    if link is not None:
        deputies.tell_reply_sent(letter, day=today, link=link)


def publish(actor: User, letter: ReplyLetter) -> None:
    if not permissions.in_unit(actor, letter.unit_id):
        raise PermissionDenied("只有本单位人员可以公开答复。")
    mode = vocab.term("disclosure", letter.disclosure)
    if not (mode and mode.is_public):
        raise DomainError("该答复的公开方式不是主动公开，不能在网上公开。")
    if letter.status != "issued":
        raise DomainError("答复函发出后才能公开。")
    letter.status = "published"
    letter.published_at = _now()
    audit.record(
        actor,
        "letter_publish",
        "答复函已在网上公开",
        proposal_id=letter.proposal_id,
        entity="letter",
        entity_id=letter.id,
    )


def decide_disclosure(actor: User, letter: ReplyLetter, disclosure: str, reason: str = "") -> None:
    """An imported letter with no disclosure line waits for a person to decide."""
    if not permissions.sees_all(actor) and actor.unit_id != letter.unit_id:
        raise PermissionDenied()
    if letter.disclosure is not None:
        raise DomainError("该答复函已确定公开方式；签发后的公开方式不能在此更改。")
    mode = vocab.term("disclosure", disclosure)
    if mode is None:
        raise DomainError("请选择公开方式。")
    if not mode.is_public and not reason.strip():
        raise DomainError("选择不公开或依申请公开时，请填写理由。")
    letter.disclosure = disclosure
    letter.disclosure_reason = reason.strip() or None
    audit.record(
        actor,
        "letter_disclosure",
        f"确定公开方式：{disclosure}",
        proposal_id=letter.proposal_id,
        entity="letter",
        entity_id=letter.id,
    )


def count_versions(letter: ReplyLetter) -> int:
    return db.session.execute(
        select(func.count(LetterVersion.id)).where(LetterVersion.letter_id == letter.id)
    ).scalar_one()


def versions(letter: ReplyLetter) -> list[LetterVersion]:
    """The letter's saved versions, the latest first."""
    return list(
        db.session.execute(
            select(LetterVersion)
            .where(LetterVersion.letter_id == letter.id)
            .order_by(LetterVersion.number.desc())
        ).scalars()
    )


def versions_numbered(letter: ReplyLetter, numbers: list[int]) -> dict[int, LetterVersion]:
    """The letter's versions with these numbers, by number (those that exist)."""
    return {
        v.number: v
        for v in db.session.execute(
            select(LetterVersion).where(
                LetterVersion.letter_id == letter.id, LetterVersion.number.in_(numbers)
            )
        ).scalars()
    }
