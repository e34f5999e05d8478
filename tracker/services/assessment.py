"""The year's assessment (考评): the scheme versions, the facts counted for each unit, and
the scores (tracker.rules.assessment computes them).

Counting is grouped SQL, one query per family of facts for every unit at once, so the
cost does not grow with the units or the items' count beyond what the database scans. The
reply, rating and re-handling counts are 督办统计's own (services.dashboard.counts_by_unit),
so the two pages agree; this module adds the contacts before the reply, the in-person
contacts, the rated attitude and the commitments done on time.

Versions: the scheme is edited as a draft version; finalizing (定稿) a year binds the year
to the version in force and freezes it; a later edit of a frozen version makes a new one.
A year not finalized is scored with the current version.

Disputed contacts (沟通情况有异议): contacts the deputy answered online as disputed
(ContactLog.deputy_status, from the deputies' own accounts). A disputed contact is not a
contact made: it counts for neither 办前沟通 nor 面复.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import (
    AssessmentScheme,
    AssessmentYear,
    Assignment,
    Commitment,
    ContactLog,
    Feedback,
    Proposal,
    ReplyLetter,
    Unit,
    User,
)
from tracker.rules import assessment as rule
from tracker.services import audit, permissions, vocab
from tracker.services import dashboard as stats
from tracker.services.commitments import CONFIRMED
from tracker.services.errors import DomainError, PermissionDenied

DISPUTED = "disputed"  # ContactLog.deputy_status of a contact the deputy disputed
DEFAULT_NAME = "承办单位建议提案办理工作年度考评方案"
DEFAULT_SOURCE = (
    "参照《凤阳县人大代表议案、建议和政协委员提案办理情况考核细则》（2015年）的扣分制与"
    "“办理时限”“办前协商率”“满意率”等考核标准，以及宝鸡市政协《政协提案办理工作考核办法"
    "（暂行）》“每件扣分、扣完为止”的减分办法。"
)


def can_edit_scheme(user: User) -> bool:
    return permissions.is_admin(user)


def can_finalize(user: User) -> bool:
    """The admin and the coordinating office (督办) finalize a year's assessment."""
    return permissions.is_admin(user) or (
        user.role == "supervisor" and user.unit is not None and user.unit.is_coordinating
    )


# -- scheme versions -----------------------------------------------------------------------


def current_scheme() -> AssessmentScheme:
    """The newest version; while none is saved, the default one (not stored: a page that
    reads it writes nothing; _scheme_to_change stores it)."""
    scheme = db.session.execute(
        select(AssessmentScheme).order_by(AssessmentScheme.version.desc()).limit(1)
    ).scalar()
    if scheme is None:
        scheme = AssessmentScheme(
            version=1,
            name=DEFAULT_NAME,
            source=DEFAULT_SOURCE,
            items=[dict(i) for i in rule.DEFAULT_ITEMS],
            in_person_channels=list(rule.DEFAULT_IN_PERSON),
        )
    return scheme


def _scheme_to_change() -> AssessmentScheme:
    """The current version as a stored row (the default one is stored the first time)."""
    scheme = current_scheme()
    if scheme.id is None:
        db.session.add(scheme)
        db.session.flush()
    return scheme


def versions() -> list[AssessmentScheme]:
    return list(
        db.session.execute(
            select(AssessmentScheme).order_by(AssessmentScheme.version.desc())
        ).scalars()
    )


def save_scheme(
    actor: User,
    *,
    name: str,
    source: str,
    items: list[dict[str, Any]],
    in_person_channels: list[str],
) -> AssessmentScheme:
    """Save the scheme: into the current version while no finalized year uses it, else as a
    new version (the frozen one stays for its years)."""
    if not can_edit_scheme(actor):
        raise PermissionDenied("只有系统管理员可以修改考评方案。")
    errors = rule.check_items(items)
    if errors:
        raise DomainError(" ".join(errors))
    scheme = _scheme_to_change()
    if scheme.frozen_at is not None:
        scheme = AssessmentScheme(version=scheme.version + 1, created_by_id=actor.id)
        db.session.add(scheme)
    scheme.name = name.strip() or DEFAULT_NAME
    scheme.source = source.strip()
    scheme.items = [dict(i) for i in items]
    scheme.in_person_channels = [c for c in in_person_channels if c]
    db.session.flush()
    audit.record(
        actor,
        "assessment_scheme_saved",
        f"保存考评方案第{scheme.version}版",
        entity="assessment_scheme",
        entity_id=scheme.id,
        items=scheme.items,
    )
    return scheme


def year_record(year: int) -> AssessmentYear | None:
    return db.session.execute(select(AssessmentYear).where(AssessmentYear.year == year)).scalar()


def finalize(actor: User, year: int) -> AssessmentYear:
    """Bind the year to the scheme in force and freeze that version."""
    if not can_finalize(actor):
        raise PermissionDenied("只有督办部门或系统管理员可以确定考评结果。")
    if year_record(year) is not None:
        raise DomainError(f"{year}年度考评已定稿。")
    scheme = _scheme_to_change()
    scheme.frozen_at = scheme.frozen_at or datetime.now(UTC)
    record = AssessmentYear(year=year, scheme_id=scheme.id, finalized_by_id=actor.id)
    db.session.add(record)
    db.session.flush()
    audit.record(
        actor,
        "assessment_finalized",
        f"{year}年度考评定稿（考评方案第{scheme.version}版）",
        entity="assessment_year",
        entity_id=record.id,
    )
    return record


def finalized_years() -> dict[int, list[int]]:
    """Scheme id → the years finalized under it."""
    out: dict[int, list[int]] = {}
    for record in db.session.execute(
        select(AssessmentYear).order_by(AssessmentYear.year)
    ).scalars():
        out.setdefault(record.scheme_id, []).append(record.year)
    return out


def scheme_for(year: int) -> tuple[AssessmentScheme, AssessmentYear | None]:
    record = year_record(year)
    return (record.scheme, record) if record is not None else (current_scheme(), None)


# -- the facts -----------------------------------------------------------------------------


def year_period(year: int) -> stats.Period:
    return stats.Period(date(year, 1, 1), date(year, 12, 31))


def satisfied_codes() -> list[str]:
    """Satisfaction levels that count as satisfied (满意, 基本满意): those not reopening."""
    return [t.code for t in vocab.terms("satisfaction") if not t.reopens]


def _contact_of(a_round, channels: Collection[str] | None = None):
    """A contact by the assignment's unit with the deputy on its proposal, in its round,
    on or before its reply."""
    conditions = [
        ContactLog.proposal_id == Assignment.proposal_id,
        ContactLog.unit_id == Assignment.unit_id,
        ContactLog.round == a_round,
        ContactLog.contacted_on <= Assignment.replied_on,
        or_(ContactLog.deputy_status.is_(None), ContactLog.deputy_status != DISPUTED),
    ]
    if channels is not None:
        conditions.append(ContactLog.channel.in_(list(channels)))
    return exists().where(*conditions)


def _contact_condition(kind: str, channels: Collection[str]):
    if kind == "contact_before":
        return _contact_of(Assignment.round)
    return _contact_of(Assignment.round, channels)


def _replied_in(period: stats.Period):
    return and_(
        Assignment.role.in_(stats.ANSWERING),
        Assignment.replied_on.is_not(None),
        Assignment.replied_on.between(period.start, period.end),
    )


def _disputed_contacts(period: stats.Period) -> dict[int | None, int]:
    """Contacts of the year that the deputy disputed (有异议), by the unit that logged them."""
    query = (
        select(ContactLog.unit_id, func.count())
        .where(
            ContactLog.deputy_status == DISPUTED,
            ContactLog.contacted_on.between(period.start, period.end),
        )
        .group_by(ContactLog.unit_id)
    )
    return dict(db.session.execute(query).all())


def facts_by_unit(year: int, today: date, channels: Collection[str]) -> dict[int | None, Counter]:
    """Every fact the scheme's kinds read, per unit id, for the calendar year."""
    period = year_period(year)
    raw = stats.counts_by_unit(period, today, None, ())
    satisfied = satisfied_codes()
    out: dict[int | None, Counter] = defaultdict(Counter)
    for unit_id, counts in raw.items():
        facts = out[unit_id]
        facts["on_time"] = counts["on_time"]
        facts["replied"] = counts["on_time"] + counts["late"]
        facts["overdue"] = counts["late"] + counts["overdue_unreplied"]
        facts["replies_due"] = facts["replied"] + counts["overdue_unreplied"]
        facts["rehandled"] = counts["rehandled"]
        facts["rated"] = counts["rated"]
        facts["result_satisfied"] = sum(counts[f"sat:{c}"] for c in satisfied)

    # contacts before the reply, and in person: one pass over the replies of the year
    query = (
        select(
            Assignment.unit_id,
            stats._count(_contact_condition("contact_before", channels)),
            stats._count(_contact_condition("in_person", channels)),
        )
        .where(_replied_in(period))
        .group_by(Assignment.unit_id)
    )
    for unit_id, before, in_person in db.session.execute(query):
        out[unit_id].update(contacted_before=before, met_in_person=in_person)

    # the attitude rated (办理态度), by the rated letter's unit as 督办统计 counts ratings
    unit = stats._feedback_unit()
    rated = (
        select(unit.label("unit_id"), Feedback.attitude.label("code"))
        .select_from(Feedback)
        .outerjoin(ReplyLetter, Feedback.letter_id == ReplyLetter.id)
        .where(
            Feedback.rated_on.between(period.start, period.end),
            Feedback.attitude.is_not(None),
            Feedback.attitude != "",
        )
        .subquery()
    )
    query = select(
        rated.c.unit_id, func.count(), stats._count(rated.c.code.in_(satisfied))
    ).group_by(rated.c.unit_id)
    for unit_id, n, good in db.session.execute(query):
        out[unit_id].update(attitude_rated=n, attitude_satisfied=good)

    # commitments due in the year, and those done by their due date
    query = (
        select(
            Commitment.unit_id,
            func.count(),
            stats._count(
                and_(
                    Commitment.status == "done",
                    or_(Commitment.done_on.is_(None), Commitment.done_on <= Commitment.due_on),
                )
            ),
        )
        .where(
            Commitment.status.in_(CONFIRMED),
            Commitment.due_on.between(period.start, period.end),
        )
        .group_by(Commitment.unit_id)
    )
    for unit_id, due, done in db.session.execute(query):
        out[unit_id].update(commitments_due=due, commitments_done_on_time=done)

    for unit_id, n in _disputed_contacts(period).items():
        out[unit_id]["disputed_contacts"] = n
    return out


# -- the scores ----------------------------------------------------------------------------


@dataclass
class UnitScore:
    unit: Unit
    score: float
    items: list[rule.ItemScore]
    rank: int = 0


@dataclass
class Assessment:
    year: int
    scheme: AssessmentScheme
    finalized: AssessmentYear | None
    rows: list[UnitScore]  # ranked, best first
    full_marks: float


def assess(year: int, today: date) -> Assessment:
    """Every handling unit with something to assess in the year, scored and ranked."""
    scheme, record = scheme_for(year)
    facts = facts_by_unit(year, today, scheme.in_person_channels or [])
    units = {u.id: u for u in stats.handling_units()}
    rows = []
    for unit_id, counts in facts.items():
        unit = units.get(unit_id) if unit_id is not None else None
        if unit is None or not any(counts.values()):
            continue
        total, parts = rule.score(scheme.items, counts)
        rows.append(UnitScore(unit, total, parts))
    rows.sort(key=lambda r: (-r.score, r.unit.name))
    for row, place in zip(rows, rule.ranks([r.score for r in rows]), strict=True):
        row.rank = place
    return Assessment(year, scheme, record, rows, rule.full_marks(scheme.items))


def as_json(row: UnitScore) -> dict[str, Any]:
    """One unit's result as `tracker assess --json` prints it."""
    return {
        "unit": row.unit.name,
        "rank": row.rank,
        "score": row.score,
        "items": [
            {
                "kind": p.kind,
                "label": p.label,
                "points": p.points,
                "earned": round(p.earned, 2),
                "count": p.numerator,
                **({"of": p.denominator} if p.mode == "rate" else {}),
            }
            for p in row.items
        ],
    }


# -- the items behind a fact ---------------------------------------------------------------


def contact_items(kind: str, year: int, unit_id: int, channels: Collection[str], missing: bool):
    """The replies of the year behind a contact fact: those with (or, ``missing``, without)
    the contact the item counts."""
    condition = _contact_condition(kind, channels)
    query = select(Assignment).where(
        _replied_in(year_period(year)),
        Assignment.unit_id == unit_id,
        ~condition if missing else condition,
    )
    return query.options(
        joinedload(Assignment.proposal).joinedload(Proposal.session),
        joinedload(Assignment.unit),
    ).order_by(Assignment.replied_on.desc(), Assignment.id.desc())


def attitude_items(year: int, unit_id: int):
    """The ratings of the year with an attitude rated, for the unit."""
    period = year_period(year)
    unit = stats._feedback_unit()
    return (
        select(Feedback)
        .outerjoin(ReplyLetter, Feedback.letter_id == ReplyLetter.id)
        .where(
            Feedback.rated_on.between(period.start, period.end),
            Feedback.attitude.is_not(None),
            Feedback.attitude != "",
            unit == unit_id,
        )
        .options(
            joinedload(Feedback.proposal).joinedload(Proposal.session),
            joinedload(Feedback.letter),
        )
        .order_by(Feedback.rated_on.desc(), Feedback.id.desc())
    )


# -- the platforms' rates on 督办统计 -------------------------------------------------------


@dataclass
class Rates:
    assigned: int  # 交办件数
    closed: int  # of those, answered (办结)
    replied: int  # answered in the period
    in_person: int  # of those, met in person before the reply (面复)

    @property
    def closed_rate(self) -> float | None:
        return self.closed / self.assigned if self.assigned else None

    @property
    def in_person_rate(self) -> float | None:
        return self.in_person / self.replied if self.replied else None


def platform_rates(period: stats.Period, unit_ids: Collection[int] | None) -> Rates:
    """办结率 and 面复率 as the handling platforms define them (满意率 is 督办统计's own):
    办结率 = lead/separate assignments of the first round assigned in the period that are
    answered ÷ all of them; 面复率 = replies in the period whose unit met the deputy in
    person (the current scheme's in-person channels) on or before the reply ÷ replies."""
    channels = current_scheme().in_person_channels or []
    first = and_(
        Assignment.role.in_(stats.ANSWERING),
        Assignment.round == 1,
        Assignment.assigned_on.between(period.start, period.end),
    )
    assigned = select(func.count(), stats._count(Assignment.replied_on.is_not(None))).where(first)
    replied = select(func.count(), stats._count(_contact_condition("in_person", channels))).where(
        _replied_in(period)
    )
    if unit_ids is not None:
        assigned = assigned.where(Assignment.unit_id.in_(list(unit_ids)))
        replied = replied.where(Assignment.unit_id.in_(list(unit_ids)))
    n_assigned, n_closed = db.session.execute(assigned).one()
    n_replied, n_in_person = db.session.execute(replied).one()
    return Rates(n_assigned, n_closed, n_replied, n_in_person)


DISPUTED_HEADERS = ["会议", "编号", "标题", "登记单位", "联系日期", "联系方式", "代表意见"]


def disputed_items(year: int, unit_id: int):
    """The unit's contacts of the year that the deputy disputed."""
    period = year_period(year)
    return (
        select(ContactLog)
        .where(
            ContactLog.unit_id == unit_id,
            ContactLog.deputy_status == DISPUTED,
            ContactLog.contacted_on.between(period.start, period.end),
        )
        .options(
            joinedload(ContactLog.proposal).joinedload(Proposal.session),
            joinedload(ContactLog.unit),
        )
        .order_by(ContactLog.contacted_on.desc(), ContactLog.id.desc())
    )


def disputed_rows(contacts: list[ContactLog]) -> list[stats.ItemRow]:
    channels = {t.code: t.label for t in vocab.terms("contact_channel")}
    return [
        stats.ItemRow(
            [
                c.proposal.session.name,
                c.proposal.number,
                c.proposal.title,
                c.unit.name if c.unit else "",
                c.contacted_on,
                channels.get(c.channel, c.channel),
                c.deputy_comment or "",
            ],
            proposal_id=c.proposal_id,
        )
        for c in contacts
    ]
