"""督办统计: the supervisor's numbers for a period and a unit, and the rows behind each.

Pure queries: nothing here flushes, commits or reads the request. Every number comes from a
grouped query (one per family of metrics, grouped by unit), so the page costs a handful of
queries however many letters there are; the drill-down lists are plain selects the view
paginates.

Definitions (the page states them in its 口径说明):

- replies: lead/separate assignments (any round) replied in the period, on time if
  ``replied_on <= due_on``, late otherwise; plus 逾期未答复: active lead/separate assignments
  of the proposal's current round, not replied, proposal not closed, due in the period and
  before today. On-time rate = on time / (on time + late + overdue unreplied).
- grades: letters issued, published or imported, dated in the period, by classification.
- satisfaction: ratings made in the period; the unit is the rated letter's unit, or without a
  letter the proposal's lead unit for that round.
- commitments: confirmed commitments due in the period.
- follow-up: graded letters as above whose grade needs follow-up and that have no confirmed
  commitment.
- re-handled: lead/separate assignments of round 2 or later assigned in the period, one per
  proposal and unit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import (
    Assignment,
    Commitment,
    Feedback,
    Proposal,
    ReplyLetter,
    Unit,
    VocabularyTerm,
)
from tracker.rules.labels import (
    ASSIGNMENT_ROLES,
    COMMITMENT_STATUS,
    LETTER_STATUS,
    SENT_LETTER_STATUSES,
)
from tracker.services import session_memo, vocab
from tracker.services.commitments import CONFIRMED, effective_status, overdue_clause

ANSWERING = ("lead", "separate")  # roles that write a reply (co-units send opinions)
UNGRADED = "none"  # the grade code standing for "no classification" in links and keys


@dataclass(frozen=True)
class Period:
    start: date
    end: date


# -- vocabularies as columns ---------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    flag: bool = False  # grade: needs follow-up; satisfaction: reopens (不满意)


def _terms_by_code(vocabulary: str) -> dict[str, VocabularyTerm]:
    """The vocabulary's terms of every scheme, active or not, by code (the first in order
    where two schemes share one), from the vocabularies the request has read."""
    found: dict[str, VocabularyTerm] = {}
    for row in vocab.terms(vocabulary, active_only=False):
        found.setdefault(row.code, row)
    return found


def grade_codes(period: Period, unit_ids: Collection[int] | None = None) -> list[Code]:
    """The grades to show: the current scheme's, then codes other schemes left in the data
    (an imported D), then 未分类 when some letters have no grade."""
    scheme = vocab.classification_terms()
    codes = [Code(t.code, t.label, t.needs_followup) for t in scheme]
    known = {c.code for c in codes}
    query = select(ReplyLetter.classification).where(_letter_base(period)).distinct()
    if unit_ids is not None:
        query = query.where(ReplyLetter.unit_id.in_(unit_ids))
    present = set(db.session.execute(query).scalars())
    others = _terms_by_code("classification")
    for code in sorted(c for c in present if c and c not in known):
        term = others.get(code)
        codes.append(Code(code, term.label if term else code, bool(term and term.needs_followup)))
    if None in present or "" in present:
        codes.append(Code(UNGRADED, "未分类"))
    return codes


def satisfaction_codes() -> list[Code]:
    return [Code(t.code, t.label, t.reopens) for t in vocab.terms("satisfaction")]


def followup_codes(grades: Iterable[Code]) -> list[str]:
    return [g.code for g in grades if g.flag and g.code != UNGRADED]


def followup_grades(grades: Iterable[Code]) -> list[str]:
    """Labels of the grades that need follow-up (B, and C in some schemes)."""
    return [g.label for g in grades if g.flag and g.code != UNGRADED]


def followup_label(grades: Iterable[Code]) -> str:
    """ "B类答复未跟踪落实"; with more grades the first two and 等."""
    labels = followup_grades(grades)
    shown = "、".join(labels[:2]) + ("等" if len(labels) > 2 else "")
    return f"{shown or '需跟踪'}答复未跟踪落实"


# -- conditions ----------------------------------------------------------------------------


def _replied(period: Period) -> ColumnElement[bool]:
    return and_(
        Assignment.role.in_(ANSWERING),
        Assignment.replied_on.is_not(None),
        Assignment.replied_on.between(period.start, period.end),
    )


def _on_time(period: Period) -> ColumnElement[bool]:
    return and_(_replied(period), Assignment.replied_on <= Assignment.due_on)


def _late(period: Period) -> ColumnElement[bool]:
    return and_(_replied(period), Assignment.replied_on > Assignment.due_on)


def _overdue_unreplied(period: Period, today: date) -> ColumnElement[bool]:
    """Needs Proposal joined."""
    return and_(
        Assignment.role.in_(ANSWERING),
        Assignment.active.is_(True),
        Assignment.replied_on.is_(None),
        Assignment.round == Proposal.round,
        Proposal.status != "closed",
        Assignment.due_on.between(period.start, period.end),
        Assignment.due_on < today,
    )


def _rehandled(period: Period) -> ColumnElement[bool]:
    return and_(
        Assignment.role.in_(ANSWERING),
        Assignment.round >= 2,
        Assignment.assigned_on.between(period.start, period.end),
    )


def _letter_base(period: Period) -> ColumnElement[bool]:
    return and_(
        ReplyLetter.status.in_(SENT_LETTER_STATUSES),
        ReplyLetter.letter_on.is_not(None),
        ReplyLetter.letter_on.between(period.start, period.end),
    )


def _grade_is(code: str) -> ColumnElement[bool]:
    if code == UNGRADED:
        return or_(ReplyLetter.classification.is_(None), ReplyLetter.classification == "")
    return ReplyLetter.classification == code


def _without_followup(codes: Collection[str]) -> ColumnElement[bool]:
    return and_(
        ReplyLetter.classification.in_(list(codes)),
        ~exists().where(Commitment.letter_id == ReplyLetter.id, Commitment.status.in_(CONFIRMED)),
    )


def _feedback_unit() -> ColumnElement[Any]:
    """The rated letter's unit, or the proposal's lead unit for the rated round.
    Needs ReplyLetter outer-joined on Feedback.letter_id."""
    lead = (
        select(Assignment.unit_id)
        .where(
            Assignment.proposal_id == Feedback.proposal_id,
            Assignment.round == Feedback.round,
            Assignment.role == "lead",
        )
        .order_by(Assignment.active.desc(), Assignment.id.desc())
        .limit(1)
        .correlate(Feedback)
        .scalar_subquery()
    )
    return func.coalesce(ReplyLetter.unit_id, lead)


def _commitment_base(period: Period) -> ColumnElement[bool]:
    return and_(
        Commitment.status.in_(CONFIRMED),
        Commitment.due_on.is_not(None),
        Commitment.due_on.between(period.start, period.end),
    )


def _count(condition: ColumnElement[bool]):
    return func.count(case((condition, 1)))


# -- the numbers ---------------------------------------------------------------------------

# commitment counts: key → the status the commitment list filters on ("" = all confirmed)
COMMITMENT_LINKS = {
    "c_due": "",
    "c_done": "done",
    "c_overdue": "overdue",
    "c_dropped": "dropped",
    "c_open": "open",
    "c_in_progress": "in_progress",
}
COMMITMENT_LABELS = {
    "c_due": "到期承诺",
    "c_done": COMMITMENT_STATUS["done"],
    "c_overdue": COMMITMENT_STATUS["overdue"],
    "c_dropped": COMMITMENT_STATUS["dropped"],
    "c_open": "未开始（未到期）",
    "c_in_progress": "推进中（未到期）",
}


def counts_by_unit(
    period: Period, today: date, unit_ids: Collection[int] | None, followup: Collection[str]
) -> dict[int | None, Counter]:
    """Raw counts per unit id (None: rows without a unit, e.g. letters whose issuer was not
    recognised). Keys: on_time, late, overdue_unreplied, grade:<code>, b_nofollow,
    sat:<code>, c_* (see COMMITMENT_LINKS), rehandled. ``unit_ids`` None means every unit."""
    out: dict[int | None, Counter] = defaultdict(Counter)

    def restrict(query: Select, column) -> Select:
        return query if unit_ids is None else query.where(column.in_(list(unit_ids)))

    # replies: those answered in the period off the assignments alone; those overdue and
    # unanswered with their proposals (their round, whether closed). In one pass (answered
    # OR overdue) every answered assignment was joined to its proposal: PostgreSQL read
    # all 89,000 proposals for it, and a year's 9,600 replies took 40 ms (now 15 ms)
    query = (
        select(Assignment.unit_id, _count(_on_time(period)), _count(_late(period)))
        .where(_replied(period))
        .group_by(Assignment.unit_id)
    )
    for unit_id, n_on_time, n_late in db.session.execute(restrict(query, Assignment.unit_id)):
        out[unit_id].update(on_time=n_on_time, late=n_late)
    query = (
        select(Assignment.unit_id, func.count())
        .join(Proposal, Assignment.proposal_id == Proposal.id)
        .where(_overdue_unreplied(period, today))
        .group_by(Assignment.unit_id)
    )
    for unit_id, n_overdue in db.session.execute(restrict(query, Assignment.unit_id)):
        out[unit_id]["overdue_unreplied"] = n_overdue

    # re-handled: distinct proposals per unit, counted here from the (few) pairs: grouped
    # (or DISTINCT) in SQL, SQLite read every assignment in unit order to skip the sort
    # instead of the handful of round >= 2 through (round, assigned_on): 1.3 s at 100,000
    query = select(Assignment.unit_id, Assignment.proposal_id).where(_rehandled(period))
    pairs = {(u, p) for u, p in db.session.execute(restrict(query, Assignment.unit_id))}
    for unit_id, n in Counter(unit_id for unit_id, _ in pairs).items():
        out[unit_id]["rehandled"] = n

    # grades
    query = (
        select(ReplyLetter.unit_id, ReplyLetter.classification, func.count())
        .where(_letter_base(period))
        .group_by(ReplyLetter.unit_id, ReplyLetter.classification)
    )
    for unit_id, code, n in db.session.execute(restrict(query, ReplyLetter.unit_id)):
        out[unit_id][f"grade:{code or UNGRADED}"] += n
        out[unit_id]["letters"] += n

    # graded letters needing follow-up that have no confirmed commitment
    if followup:
        query = (
            select(ReplyLetter.unit_id, func.count())
            .where(_letter_base(period), _without_followup(followup))
            .group_by(ReplyLetter.unit_id)
        )
        for unit_id, n in db.session.execute(restrict(query, ReplyLetter.unit_id)):
            out[unit_id]["b_nofollow"] = n

    # satisfaction, by the rated letter's unit
    unit = _feedback_unit()
    rated = (
        select(unit.label("unit_id"), Feedback.satisfaction.label("code"))
        .select_from(Feedback)
        .outerjoin(ReplyLetter, Feedback.letter_id == ReplyLetter.id)
        .where(Feedback.rated_on.between(period.start, period.end))
    )
    rated = restrict(rated, unit).subquery()
    query = select(rated.c.unit_id, rated.c.code, func.count()).group_by(
        rated.c.unit_id, rated.c.code
    )
    for unit_id, code, n in db.session.execute(query):
        out[unit_id][f"sat:{code}"] += n
        out[unit_id]["rated"] += n

    # commitments due in the period
    not_due = Commitment.due_on >= today
    query = (
        select(
            Commitment.unit_id,
            func.count(),
            _count(Commitment.status == "done"),
            _count(overdue_clause(today)),
            _count(Commitment.status == "dropped"),
            _count(and_(Commitment.status == "open", not_due)),
            _count(and_(Commitment.status == "in_progress", not_due)),
        )
        .where(_commitment_base(period))
        .group_by(Commitment.unit_id)
    )
    for unit_id, *numbers in db.session.execute(restrict(query, Commitment.unit_id)):
        out[unit_id].update(dict(zip(COMMITMENT_LINKS, numbers, strict=True)))
    return out


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def finish(raw: Counter, satisfactions: Iterable[Code]) -> dict[str, Any]:
    """Raw counts plus the derived totals and rates."""
    numbers: dict[str, Any] = dict(raw)
    for key in ("on_time", "late", "overdue_unreplied", "letters", "rated", "rehandled"):
        numbers.setdefault(key, 0)
    for key in (*COMMITMENT_LINKS, "b_nofollow"):
        numbers.setdefault(key, 0)
    numbers["replied"] = numbers["on_time"] + numbers["late"]
    numbers["reply_total"] = numbers["replied"] + numbers["overdue_unreplied"]
    numbers["on_time_rate"] = _ratio(numbers["on_time"], numbers["reply_total"])
    unhappy = sum(raw.get(f"sat:{s.code}", 0) for s in satisfactions if s.flag)
    numbers["sat_rate"] = _ratio(numbers["rated"] - unhappy, numbers["rated"])
    return numbers


# -- the league table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A league-table column: where its number comes from and what it links to."""

    key: str
    label: str
    group: str
    kind: str = "count"  # count / rate / text
    metric: str | None = None  # drill-down metric (/dashboard/items)
    code: str | None = None
    commitment: str | None = None  # commitment list status ("" = all confirmed)


def league_columns(grades: list[Code], satisfactions: list[Code], followup: str) -> list[Column]:
    columns = [
        Column("unit", "单位", "", kind="text"),
        Column("reply_total", "应答复", "答复及时性", metric="reply_total"),
        Column("on_time", "按时答复", "答复及时性", metric="on_time"),
        Column("late", "逾期答复", "答复及时性", metric="late"),
        Column("overdue_unreplied", "逾期未答复", "答复及时性", metric="overdue_unreplied"),
        Column("on_time_rate", "按时答复率", "答复及时性", kind="rate", metric="reply_total"),
    ]
    columns += [
        Column(f"grade:{g.code}", g.label, "答复类别", metric="grade", code=g.code) for g in grades
    ]
    columns += [
        Column(f"sat:{s.code}", s.label, "代表满意度", metric="satisfaction", code=s.code)
        for s in satisfactions
    ]
    columns += [
        Column("sat_rate", "满意率", "代表满意度", kind="rate", metric="rated"),
        Column("c_due", "到期", "承诺事项", commitment=""),
        Column("c_done", "已完成", "承诺事项", commitment="done"),
        Column("c_overdue", "已逾期", "承诺事项", commitment="overdue"),
        Column("b_nofollow", followup, "跟踪督办", metric="b_nofollow"),
        Column("rehandled", "重新办理", "跟踪督办", metric="rehandled"),
    ]
    return columns


def handling_units(unit_ids: Collection[int] | None = None) -> list[Unit]:
    """Handling units (not the coordinating office), by name; inactive ones too, so that past
    periods keep their rows (the caller drops inactive units without numbers). Read once a
    request (session_memo): the dashboard's unit choices and its league table both list
    them."""

    def read() -> list[Unit]:
        query = select(Unit).where(Unit.is_coordinating.is_(False)).order_by(Unit.name)
        if unit_ids is not None:
            query = query.where(Unit.id.in_(list(unit_ids)))
        return list(db.session.execute(query).scalars())

    key = ("handling units", None if unit_ids is None else tuple(sorted(set(unit_ids))))
    return list(session_memo.once(key, read))


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Rows ordered by one column; empty rates (no items) always go last, ties by unit name."""
    rows = sorted(rows, key=lambda r: r["unit"])
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    present.sort(key=lambda r: r.get(key, 0), reverse=descending)
    return present + missing


@dataclass
class Dashboard:
    period: Period
    today: date
    unit: Unit | None  # the chosen unit; None: every unit the viewer may see
    grades: list[Code]
    satisfactions: list[Code]
    followup_label: str
    followup_grades: list[str]
    totals: dict[str, Any]
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)  # the league table, by name
    unattributed: bool = False  # some counted rows have no unit


def build(
    period: Period, today: date, *, unit: Unit | None, visible_units: Collection[int] | None
) -> Dashboard:
    """Everything the dashboard page shows. ``visible_units`` limits the league table (None:
    every handling unit); ``unit`` picks whose numbers the overview shows."""
    grades = grade_codes(period, visible_units)
    satisfactions = satisfaction_codes()
    followup = followup_codes(grades)
    raw = counts_by_unit(period, today, visible_units, followup)
    label = followup_label(grades)
    # a rating whose level an admin has since deactivated still counts, under its own name
    known = {s.code for s in satisfactions}
    terms = _terms_by_code("satisfaction")
    present = {key[4:] for counts in raw.values() for key in counts if key.startswith("sat:")}
    for code in sorted(present - known):
        term = terms.get(code)
        satisfactions.append(Code(code, term.label if term else code, bool(term and term.reopens)))
    zeros = {f"grade:{g.code}": 0 for g in grades} | {f"sat:{s.code}": 0 for s in satisfactions}
    rows = []
    for u in handling_units(visible_units):
        numbers = zeros | finish(raw.get(u.id, Counter()), satisfactions)
        if not u.active and not any(raw.get(u.id, Counter()).values()):
            continue
        rows.append({**numbers, "unit": u.name, "unit_id": u.id, "short_name": u.short_name})
    overall = raw.get(unit.id, Counter()) if unit is not None else sum(raw.values(), Counter())
    handled = {r["unit_id"] for r in rows}
    unattributed = unit is None and any(
        any(counts.values()) for key, counts in raw.items() if key not in handled
    )
    return Dashboard(
        period=period,
        today=today,
        unit=unit,
        grades=grades,
        satisfactions=satisfactions,
        followup_label=label,
        followup_grades=followup_grades(grades),
        totals=zeros | finish(overall, satisfactions),
        columns=league_columns(grades, satisfactions, label),
        rows=rows,
        unattributed=unattributed,
    )


def commitment_range(key: str, period: Period, today: date) -> tuple[date, date]:
    """The due-date range of the commitment list behind a count: not-yet-due counts start
    today."""
    if key in ("c_open", "c_in_progress"):
        return max(period.start, today), period.end
    return period.start, period.end


# -- the lists behind the numbers ----------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    label: str
    family: str  # reply / letter / feedback / rehandled
    needs_code: bool = False


METRICS: dict[str, Metric] = {
    "reply_total": Metric("应答复", "reply"),
    "on_time": Metric("按时答复", "reply"),
    "late": Metric("逾期答复", "reply"),
    "overdue_unreplied": Metric("逾期未答复", "reply"),
    "letters": Metric("答复函", "letter"),
    "grade": Metric("答复类别", "letter", needs_code=True),
    "b_nofollow": Metric("需跟踪落实而未登记承诺的答复", "letter"),
    "rated": Metric("已评价", "feedback"),
    "satisfaction": Metric("代表满意度", "feedback", needs_code=True),
    "rehandled": Metric("重新办理", "rehandled"),
}

HEADERS = {
    "reply": [
        "会议",
        "编号",
        "标题",
        "承办单位",
        "办理方式",
        "轮次",
        "交办日期",
        "答复期限",
        "答复日期",
        "逾期天数",
        "答复情况",
    ],
    "letter": ["会议", "编号", "标题", "答复单位", "文号", "成文日期", "答复类别", "状态"],
    "feedback": ["会议", "编号", "标题", "答复单位", "轮次", "评价日期", "满意度", "代表意见"],
    "rehandled": [
        "会议",
        "编号",
        "标题",
        "承办单位",
        "轮次",
        "重新交办日期",
        "答复期限",
        "答复日期",
    ],
}
# which cells link where: header → "proposal" or "letter"
LINKS = {
    "reply": {"编号": "proposal", "标题": "proposal"},
    "letter": {"编号": "proposal", "标题": "proposal", "文号": "letter"},
    "feedback": {"编号": "proposal", "标题": "proposal"},
    "rehandled": {"编号": "proposal", "标题": "proposal"},
}


def item_query(
    metric: str,
    code: str | None,
    period: Period,
    today: date,
    unit_ids: Collection[int] | None,
) -> Select:
    """The rows behind one number, newest first, with what the list shows eagerly loaded."""
    family = METRICS[metric].family
    if family in ("reply", "rehandled"):
        if family == "reply":
            condition = {
                "reply_total": or_(_replied(period), _overdue_unreplied(period, today)),
                "on_time": _on_time(period),
                "late": _late(period),
                "overdue_unreplied": _overdue_unreplied(period, today),
            }[metric]
            query = (
                select(Assignment)
                .join(Proposal, Assignment.proposal_id == Proposal.id)
                .where(condition)
            )
        else:
            latest = select(func.max(Assignment.id)).where(_rehandled(period))
            if unit_ids is not None:
                latest = latest.where(Assignment.unit_id.in_(list(unit_ids)))
            latest = latest.group_by(Assignment.proposal_id, Assignment.unit_id)
            query = select(Assignment).where(Assignment.id.in_(latest))
        if unit_ids is not None:
            query = query.where(Assignment.unit_id.in_(list(unit_ids)))
        return query.options(
            joinedload(Assignment.proposal).joinedload(Proposal.session),
            joinedload(Assignment.unit),
        ).order_by(
            func.coalesce(Assignment.replied_on, Assignment.assigned_on).desc(),
            Assignment.due_on.desc(),
            Assignment.id.desc(),
        )
    if family == "letter":
        query = select(ReplyLetter).where(_letter_base(period))
        if metric == "grade":
            query = query.where(_grade_is(code or ""))
        elif metric == "b_nofollow":
            query = query.where(_without_followup(followup_codes(grade_codes(period, unit_ids))))
        if unit_ids is not None:
            query = query.where(ReplyLetter.unit_id.in_(list(unit_ids)))
        return query.options(
            joinedload(ReplyLetter.unit),
            joinedload(ReplyLetter.proposal).joinedload(Proposal.session),
        ).order_by(ReplyLetter.letter_on.desc(), ReplyLetter.id.desc())
    # feedback
    unit = _feedback_unit()
    query = (
        select(Feedback)
        .outerjoin(ReplyLetter, Feedback.letter_id == ReplyLetter.id)
        .where(Feedback.rated_on.between(period.start, period.end))
    )
    if metric == "satisfaction":
        query = query.where(Feedback.satisfaction == code)
    if unit_ids is not None:
        query = query.where(unit.in_(list(unit_ids)))
    return query.options(
        joinedload(Feedback.proposal).joinedload(Proposal.session),
        joinedload(Feedback.letter),
    ).order_by(Feedback.rated_on.desc(), Feedback.id.desc())


@dataclass
class ItemRow:
    cells: list[Any]
    proposal_id: int | None = None
    letter_id: int | None = None


def _feedback_units(feedback_ids: list[int]) -> dict[int, Unit]:
    if not feedback_ids:
        return {}
    unit = _feedback_unit()
    pairs = []
    for start in range(0, len(feedback_ids), 900):  # an export may list tens of thousands
        pairs += db.session.execute(
            select(Feedback.id, unit)
            .select_from(Feedback)
            .outerjoin(ReplyLetter, Feedback.letter_id == ReplyLetter.id)
            .where(Feedback.id.in_(feedback_ids[start : start + 900]))
        ).all()
    ids = {u for _, u in pairs if u is not None}
    units = {u.id: u for u in db.session.execute(select(Unit).where(Unit.id.in_(ids))).scalars()}
    return {fid: units[u] for fid, u in pairs if u in units}


def _reply_state(a: Assignment, today: date) -> tuple[int | None, str]:
    if a.replied_on is None:
        return (today - a.due_on).days, "逾期未答复"
    days = (a.replied_on - a.due_on).days
    return (days, "逾期答复") if days > 0 else (None, "按时答复")


def item_rows(metric: str, items: list[Any], today: date) -> list[ItemRow]:
    """Table rows (cells in HEADERS order) for the objects ``item_query`` returned."""
    family = METRICS[metric].family
    rows = []
    if family in ("reply", "rehandled"):
        for a in items:
            p = a.proposal
            common = [p.session.name, p.number, p.title, a.unit.name]
            if family == "reply":
                late_days, state = _reply_state(a, today)
                cells = [
                    *common,
                    ASSIGNMENT_ROLES.get(a.role, a.role),
                    a.round,
                    a.assigned_on,
                    a.due_on,
                    a.replied_on,
                    late_days,
                    state,
                ]
            else:
                cells = [*common, a.round, a.assigned_on, a.due_on, a.replied_on]
            rows.append(ItemRow(cells, proposal_id=p.id))
    elif family == "letter":
        grades = {c.code: c.label for c in vocab_labels("classification")}
        for le in items:
            p = le.proposal
            rows.append(
                ItemRow(
                    [
                        p.session.name if p else le.session_name,
                        p.number if p else le.proposal_number,
                        (p.title if p else le.proposal_title) or le.title,
                        le.unit.name if le.unit else le.issuer,
                        le.doc_number,
                        le.letter_on,
                        grades.get(le.classification or "", le.classification) or "未分类",
                        LETTER_STATUS.get(le.status, le.status),
                    ],
                    proposal_id=p.id if p else None,
                    letter_id=le.id,
                )
            )
    else:
        units = _feedback_units([f.id for f in items])
        levels = {c.code: c.label for c in vocab_labels("satisfaction")}
        for f in items:
            p = f.proposal
            unit = units.get(f.id)
            rows.append(
                ItemRow(
                    [
                        p.session.name,
                        p.number,
                        p.title,
                        unit.name if unit else "",
                        f.round,
                        f.rated_on,
                        levels.get(f.satisfaction, f.satisfaction),
                        f.comment,
                    ],
                    proposal_id=p.id,
                    letter_id=f.letter_id,
                )
            )
    return rows


def vocab_labels(vocabulary: str) -> list[Code]:
    """Every code of a vocabulary with its label, the current grade scheme first."""
    seen: dict[str, Code] = {}
    if vocabulary == "classification":
        for t in vocab.classification_terms():
            seen.setdefault(t.code, Code(t.code, t.label))
    for code, t in _terms_by_code(vocabulary).items():
        seen.setdefault(code, Code(code, t.label))
    return list(seen.values())


def commitment_rows(
    period: Period, today: date, unit_ids: Collection[int] | None
) -> list[list[Any]]:
    """The commitments due in the period, for the export."""
    query = (
        select(Commitment)
        .where(_commitment_base(period))
        .options(
            joinedload(Commitment.unit),
            joinedload(Commitment.proposal),
            joinedload(Commitment.letter),
        )
        .order_by(Commitment.due_on, Commitment.id)
    )
    if unit_ids is not None:
        query = query.where(Commitment.unit_id.in_(list(unit_ids)))
    rows = []
    for c in db.session.execute(query).scalars():
        rows.append(
            [
                c.proposal.number if c.proposal else "",
                c.unit.name if c.unit else "",
                c.text,
                c.letter.doc_number if c.letter else "",
                c.due_on,
                COMMITMENT_STATUS.get(effective_status(c, today), c.status),
                c.done_on,
            ]
        )
    return rows


COMMITMENT_HEADERS = [
    "编号",
    "责任单位",
    "承诺事项",
    "来源答复文号",
    "完成期限",
    "状态",
    "完成日期",
]
