"""Commitments (承诺事项): candidates found in replies, confirmed by clerks, followed up
until done or dropped.

States: candidate → (confirmed) open → in_progress → done / dropped; a candidate may be
discarded (kept as a row so a re-import does not bring it back). "Overdue" is never
stored: an open or in-progress commitment whose due date has passed is overdue, derived
here, so nobody has to set it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    not_,
    select,
    true,
)
from sqlalchemy.orm import joinedload, load_only, selectinload
from werkzeug.datastructures import FileStorage

from tracker.extensions import db
from tracker.letters.commitments import find_commitments
from tracker.letters.parser import NotALetter, parse_letter
from tracker.models import (
    Commitment,
    CommitmentUpdate,
    ContactLog,
    Proposal,
    ReplyLetter,
    Unit,
    User,
    utcnow,
)
from tracker.rules.clock import iso_date
from tracker.rules.labels import COMMITMENT_STATUS, SENT_LETTER_STATUSES
from tracker.rules.letter_checks import PLACEHOLDER
from tracker.services import audit, permissions, repeats, uploads, vocab
from tracker.services.dbstats import count_rows, newest_letters_first
from tracker.services.errors import DomainError, PermissionDenied

CONFIRMED = ("open", "in_progress", "done", "dropped")
ACTIVE = ("open", "in_progress")
CLOSED = ("done", "dropped")


def overdue_clause(today: date) -> ColumnElement[bool]:
    """WHERE clause: confirmed, not finished, due date passed."""
    return and_(
        Commitment.status.in_(ACTIVE),
        Commitment.due_on.is_not(None),
        Commitment.due_on < today,
    )


def is_overdue(commitment: Commitment, today: date) -> bool:
    return (
        commitment.status in ACTIVE and commitment.due_on is not None and commitment.due_on < today
    )


def effective_status(commitment: Commitment, today: date) -> str:
    """The status users see: the stored one, or "overdue" when the due date has passed."""
    return "overdue" if is_overdue(commitment, today) else commitment.status


# -- candidates ------------------------------------------------------------------------------


def replace_candidates(
    letter_id: int,
    found: list[dict],
    *,
    proposal_id: int | None,
    unit_id: int | None,
    fresh: bool = False,
) -> int:
    """Replace a letter's unconfirmed candidates with what its text promises now.

    Confirmed and discarded rows stay; a sentence already confirmed or discarded is not
    offered again. ``fresh`` (a letter just inserted) skips the lookups. Core statements,
    so that importing 20,000 letters stays fast. Returns the number of candidates."""
    kept: set[str] = set()
    if not fresh:
        db.session.execute(
            delete(Commitment).where(
                Commitment.letter_id == letter_id, Commitment.status == "candidate"
            )
        )
        kept = set(
            db.session.execute(
                select(Commitment.text).where(Commitment.letter_id == letter_id)
            ).scalars()
        )
    rows = candidate_rows(letter_id, found, proposal_id=proposal_id, unit_id=unit_id, kept=kept)
    if rows:
        db.session.connection().execute(insert(Commitment.__table__), rows)
    return len(rows)


def candidate_rows(
    letter_id: int,
    found: list[dict],
    *,
    proposal_id: int | None,
    unit_id: int | None,
    kept: set[str] | frozenset[str] = frozenset(),
) -> list[dict]:
    """The commitment table's rows of a letter's candidates (those whose sentences are not
    `kept`): what ``replace_candidates`` inserts, and an import of many letters at once."""
    return [
        {
            "letter_id": letter_id,
            "proposal_id": proposal_id,
            "unit_id": unit_id,
            "section": (item.get("section") or None) and item["section"][:200],
            "text": item["text"],
            "due_on": iso_date(item.get("due_on")),
            "target": item.get("target"),
            "status": "candidate",
            "created_at": utcnow(),
        }
        for item in found
        if item["text"] not in kept
    ]


def commitments_in(letter: ReplyLetter, *, today: date) -> list[dict]:
    """Commitments the letter's text promises (the same finder as for imported letters);
    an undated draft counts its due dates from `today`."""
    body = "\n".join(
        line
        for line in (letter.body or "").splitlines()
        if not line.strip().startswith(PLACEHOLDER)
    )
    text = f"{letter.title or ''}\n{letter.addressee or ''}\n{body}"
    dated = letter.letter_on or today
    try:
        return parse_letter(text, undated=dated).commitments
    except NotALetter:  # an unfinished draft need not read as a letter yet
        return find_commitments([{"heading": None, "text": body}], dated)


def refresh_commitments(letter: ReplyLetter, *, today: date) -> int:
    """A saved letter's promises become commitment candidates (replacing the last save's);
    they are confirmed once the letter is sent."""
    count = replace_candidates(
        letter.id,
        commitments_in(letter, today=today),
        proposal_id=letter.proposal_id,
        unit_id=letter.unit_id,
    )
    db.session.expire(letter, ["commitments"])
    return count


# -- permissions -----------------------------------------------------------------------------


def scope(user: User) -> ColumnElement[bool]:
    """WHERE clause: the commitments a user may see (clerks and supervisors: their unit's)."""
    if permissions.sees_all(user):
        return true()
    if user.role in permissions.HANDLING_ROLES and user.unit_id:
        return Commitment.unit_id == user.unit_id
    return false()


def can_view(user: User, commitment: Commitment) -> bool:
    return permissions.sees_unit(user, commitment.unit_id)


def can_handle(user: User, commitment: Commitment) -> bool:
    """Confirm, edit, update and close: the owning unit's clerks and supervisors."""
    return permissions.in_unit(user, commitment.unit_id)


def _require_handle(user: User, commitment: Commitment) -> None:
    if not can_handle(user, commitment):
        raise PermissionDenied("只有责任单位的人员可以办理该承诺事项。")


def _audit(actor: User, commitment: Commitment, action: str, message: str, **data) -> None:
    audit.record(
        actor,
        action,
        message,
        proposal_id=commitment.proposal_id,
        entity="commitment",
        entity_id=commitment.id,
        **data,
    )


def _short(text: str, size: int = 30) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


# -- confirming candidates -------------------------------------------------------------------


def _check_values(text: str, due_on: date | None, target: str | None) -> tuple[str, str | None]:
    text = (text or "").strip()
    if len(text) < 4:
        raise DomainError("承诺内容不能少于4个字。")
    if len(text) > 2000:
        raise DomainError("承诺内容过长（最多2000字）。")
    target = (target or "").strip() or None
    if target and len(target) > 60:
        raise DomainError("量化目标最多60个字。")
    if due_on and due_on.year < 1990:
        raise DomainError("承诺期限不正确。")
    return text, target


def owner_units(commitment: Commitment) -> list[Unit]:
    """Units that may own a commitment: the replying unit and the proposal's other
    handling units (a co-handling unit often carries out part of the promise)."""
    units: dict[int, Unit] = {}
    if commitment.letter is not None and commitment.letter.unit is not None:
        units[commitment.letter.unit.id] = commitment.letter.unit
    if commitment.unit is not None:
        units[commitment.unit.id] = commitment.unit
    if commitment.proposal is not None:
        for a in commitment.proposal.active_assignments:
            units.setdefault(a.unit.id, a.unit)
    return [u for u in units.values() if u.active and not u.is_coordinating]


def _check_unit(commitment: Commitment, unit_id: int | None) -> Unit:
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit is None or unit not in owner_units(commitment):
        raise DomainError("责任单位须是答复单位或该件的承办单位。")
    return unit


def _require_candidate(commitment: Commitment) -> None:
    if commitment.status != "candidate":
        raise DomainError("该条已处理过（已确认、已合并或已舍弃）。")
    letter = commitment.letter
    if letter is not None and letter.status not in SENT_LETTER_STATUSES:
        raise DomainError("答复函发出后才能确认承诺事项；草稿中的承诺随修改自动更新。")


def confirm(
    actor: User,
    commitment: Commitment,
    *,
    text: str | None = None,
    due_on: date | None = None,
    target: str | None = None,
    unit_id: int | None = None,
    keep_inferred: bool = False,
) -> None:
    """A candidate becomes a commitment owned by a unit (the letter's unless another is
    chosen). ``keep_inferred`` confirms the candidate as found (bulk confirmation)."""
    _require_handle(actor, commitment)
    repeats.hold(commitment)
    if keep_inferred:
        text, due_on, target = commitment.text, commitment.due_on, commitment.target
    if (
        commitment.status == "open"
        and commitment.confirmed_by_id == actor.id
        and repeats.just_now(commitment.confirmed_at)
        and (text or "").strip() == commitment.text
        and due_on == commitment.due_on
        and ((target or "").strip() or None) == commitment.target
        and (unit_id or commitment.unit_id) == commitment.unit_id
    ):
        return  # the same confirmation sent twice
    _require_candidate(commitment)
    text, target = _check_values(text or "", due_on, target)
    unit = _check_unit(commitment, unit_id or commitment.unit_id)
    edited = text != commitment.text or due_on != commitment.due_on or target != commitment.target
    commitment.text, commitment.due_on, commitment.target = text, due_on, target
    commitment.unit = unit
    commitment.status = "open"
    commitment.confirmed_at = utcnow()
    commitment.confirmed_by_id = actor.id
    due = f"，期限{due_on.isoformat()}" if due_on else "，无明确期限"
    _audit(
        actor,
        commitment,
        "commitment_confirm",
        f"确认承诺事项“{_short(text)}”{due}，责任单位{unit.name}"
        + ("（已修改）" if edited else ""),
    )


def discard(actor: User, commitment: Commitment) -> None:
    _require_handle(actor, commitment)
    if commitment.status != "candidate":
        raise DomainError("只有待确认的条目可以舍弃。")
    commitment.status = "discarded"
    _audit(actor, commitment, "commitment_discard", f"舍弃候选承诺“{_short(commitment.text)}”")


def merge(actor: User, items: list[Commitment]) -> Commitment:
    """Join candidates of one letter into the first: texts joined, the latest due date
    (the merged promise is kept when every part is), the first target. The others are
    discarded. The result is still a candidate, to be checked and confirmed."""
    if len(items) < 2:
        raise DomainError("请至少选择两条候选承诺进行合并。")
    items = sorted(items, key=lambda c: c.id)
    if len({c.letter_id for c in items}) != 1:
        raise DomainError("只能合并同一答复函中的候选承诺。")
    for c in items:
        _require_handle(actor, c)
        _require_candidate(c)
    first, rest = items[0], items[1:]
    first.text = "；".join(c.text.rstrip("。；;") for c in items) + "。"
    dues = [c.due_on for c in items if c.due_on]
    first.due_on = max(dues) if dues else None
    first.target = next((c.target for c in items if c.target), None)
    for c in rest:
        c.status = "discarded"
    _audit(
        actor,
        first,
        "commitment_merge",
        f"合并{len(items)}条候选承诺为“{_short(first.text)}”",
        merged=[c.id for c in rest],
    )
    return first


def edit(
    actor: User,
    commitment: Commitment,
    *,
    text: str,
    due_on: date | None,
    target: str | None,
    unit_id: int | None,
    reason: str = "",
) -> list[str]:
    """Correct a commitment's wording, due date, target or owner; returns what changed."""
    _require_handle(actor, commitment)
    if commitment.status == "discarded":
        raise DomainError("已舍弃的条目不能修改。")
    text, target = _check_values(text, due_on, target)
    unit = _check_unit(commitment, unit_id or commitment.unit_id)
    if commitment.status == "candidate" and unit.id != commitment.unit_id:
        raise DomainError("候选承诺的责任单位在确认时选择。")
    changes = []
    if text != commitment.text:
        changes.append("承诺内容")
    if due_on != commitment.due_on:
        old = commitment.due_on.isoformat() if commitment.due_on else "无"
        changes.append(f"期限{old}→{due_on.isoformat() if due_on else '无'}")
    if target != commitment.target:
        changes.append(f"目标{commitment.target or '无'}→{target or '无'}")
    if unit.id != commitment.unit_id:
        changes.append(f"责任单位改为{unit.name}")
    if not changes:
        return []
    if commitment.status != "candidate" and not reason.strip():
        if any(c.startswith("期限") for c in changes):
            raise DomainError("修改已确认承诺的期限须说明理由。")
        if unit.id != commitment.unit_id:
            raise DomainError("更换责任单位须说明理由。")
    commitment.text, commitment.due_on, commitment.target = text, due_on, target
    commitment.unit = unit
    _audit(
        actor,
        commitment,
        "commitment_edit",
        "修改承诺事项："
        + "，".join(changes)
        + (f"（理由：{reason.strip()}）" if reason.strip() else ""),
    )
    return changes


# -- following up ----------------------------------------------------------------------------

EVIDENCE_AREA = "commitments"  # below UPLOAD_DIR
EVIDENCE_EXTENSIONS = {
    ".pdf", ".ofd", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et", ".ppt", ".pptx",
    ".txt", ".jpg", ".jpeg", ".png", ".gif", ".zip", ".rar", ".7z",
}  # fmt: skip


def _require_confirmed(commitment: Commitment) -> None:
    if commitment.status not in CONFIRMED:
        raise DomainError("请先确认该承诺事项。")


def add_update(
    actor: User,
    commitment: Commitment,
    *,
    noted_on: date,
    note: str,
    evidence_url: str = "",
    upload: FileStorage | None = None,
    upload_dir: Path,
    today: date,
) -> CommitmentUpdate:
    """A dated progress note, with a link or a file as evidence (kept under `upload_dir`).
    An open commitment that gets its first progress note is in progress."""
    _require_handle(actor, commitment)
    _require_confirmed(commitment)
    note = (note or "").strip()
    if not note:
        raise DomainError("请填写进展情况。")
    if noted_on > today:
        raise DomainError("进展日期不能晚于今天。")
    evidence_url = (evidence_url or "").strip()
    if evidence_url:
        parsed = urlsplit(evidence_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise DomainError("佐证链接须以 http:// 或 https:// 开头。")
        if len(evidence_url) > 500:
            raise DomainError("佐证链接过长。")
    repeat = _repeated_update(actor, commitment, noted_on, note, evidence_url, upload)
    if repeat is not None:
        return repeat
    update_row = CommitmentUpdate(
        commitment=commitment,
        noted_on=noted_on,
        note=note,
        evidence_url=evidence_url or None,
        author_id=actor.id,
    )
    if upload is not None and upload.filename:
        name = uploads.uploaded_name(upload.filename, fallback="evidence")
        if Path(name).suffix.lower() not in EVIDENCE_EXTENSIONS:
            raise DomainError(
                "佐证文件格式不支持，请上传 PDF、OFD、Word、WPS、Excel、图片、文本或压缩包。"
            )
        relative = uploads.save(upload.stream, upload_dir, EVIDENCE_AREA, name)
        if (Path(upload_dir) / relative).stat().st_size == 0:
            uploads.discard(upload_dir, relative.rsplit("/", 1)[0])
            raise DomainError("上传的佐证文件是空的。")
        update_row.evidence_file = relative
    db.session.add(update_row)
    moved = ""
    if commitment.status == "open":
        commitment.status = "in_progress"
        moved = "，状态改为推进中"
    db.session.flush()
    _audit(
        actor,
        commitment,
        "commitment_update",
        f"记录进展（{noted_on.isoformat()}）：{_short(note.rstrip('。；;'), 60)}{moved}",
        update_id=update_row.id,
    )
    return update_row


def _repeated_update(
    actor: User,
    commitment: Commitment,
    noted_on: date,
    note: str,
    evidence_url: str,
    upload: FileStorage | None,
) -> CommitmentUpdate | None:
    """The same progress note just recorded by the same user (the form posted twice), with
    the same link and a file of the same name (or none), or None. Holds the commitment
    first (see services.repeats), and is asked before the upload is saved."""
    repeats.hold(commitment)
    repeat = repeats.recent(
        CommitmentUpdate,
        CommitmentUpdate.created_at,
        commitment_id=commitment.id,
        author_id=actor.id,
        noted_on=noted_on,
        note=note,
        evidence_url=evidence_url or None,
    )
    if repeat is None:
        return None
    name = (
        uploads.uploaded_name(upload.filename, fallback="evidence")
        if upload is not None and upload.filename
        else None
    )
    if (evidence_name(repeat) or None) != name:
        return None
    return repeat


def evidence_path(update_row: CommitmentUpdate, upload_dir: Path) -> Path | None:
    """The evidence file of a progress note, if it is still there under `upload_dir`."""
    if not update_row.evidence_file:
        return None
    root = Path(upload_dir).resolve()
    path = (root / update_row.evidence_file).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def evidence_name(update_row: CommitmentUpdate) -> str:
    return (update_row.evidence_file or "").rsplit("/", 1)[-1]


TRANSITIONS = {
    "open": {"in_progress", "done", "dropped"},
    "in_progress": {"open", "done", "dropped"},
    "done": {"in_progress"},
    "dropped": {"in_progress"},
}


def set_status(
    actor: User,
    commitment: Commitment,
    status: str,
    *,
    reason: str = "",
    done_on: date | None = None,
    today: date,
) -> None:
    """open ↔ in progress → done / dropped (with a reason); a finished item can be reopened
    (with a reason). Overdue is not a status anyone sets."""
    _require_handle(actor, commitment)
    _require_confirmed(commitment)
    old = commitment.status
    if status == old:
        raise DomainError("状态没有变化。")
    if status not in TRANSITIONS.get(old, set()):
        raise DomainError(
            f"不能从“{COMMITMENT_STATUS[old]}”改为“{COMMITMENT_STATUS.get(status, status)}”。"
        )
    reason = (reason or "").strip()
    if status == "dropped" and not reason:
        raise DomainError("无法落实的承诺须说明原因。")
    if old in CLOSED and not reason:
        raise DomainError("重新开始推进已办结的承诺须说明理由。")
    if status == "done":
        done_on = done_on or today
        if done_on > today:
            raise DomainError("完成日期不能晚于今天。")
        commitment.done_on = done_on
    else:
        commitment.done_on = None
    commitment.drop_reason = reason if status == "dropped" else None
    if old in CLOSED:
        commitment.reported_back_on = None
        commitment.reported_back_note = None
    commitment.status = status
    message = f"状态由“{COMMITMENT_STATUS[old]}”改为“{COMMITMENT_STATUS[status]}”"
    if status == "done":
        message += f"（完成日期{done_on.isoformat()}）"
    if reason:
        message += f"，{'原因' if status == 'dropped' else '说明'}：{reason}"
    _audit(actor, commitment, "commitment_status", message, old=old, new=status)


def needs_report_back(commitment: Commitment, followup: frozenset[str] | None = None) -> bool:
    """A follow-up-grade (B) reply's commitment that is done or cannot be done must be
    reported back to the deputy."""
    if commitment.status not in CLOSED or commitment.reported_back_on is not None:
        return False
    letter = commitment.letter
    grades = vocab.followup_grades() if followup is None else followup
    return letter is not None and letter.classification in grades


def report_back(
    actor: User,
    commitment: Commitment,
    *,
    reported_on: date,
    channel: str,
    note: str,
    today: date,
) -> None:
    """Record that the deputy was told the result; logged as a contact after handling."""
    _require_handle(actor, commitment)
    repeats.hold(commitment)
    note = (note or "").strip()
    if commitment.reported_back_on == reported_on and commitment.reported_back_note == note:
        return  # the same report-back sent again: it is recorded already
    if commitment.status not in CLOSED:
        raise DomainError("承诺事项完成或确认无法落实后，才向代表反馈结果。")
    if reported_on > today:
        raise DomainError("反馈日期不能晚于今天。")
    if vocab.term("contact_channel", channel) is None:
        raise DomainError("请选择反馈方式。")
    if not note:
        raise DomainError("请填写向代表反馈的内容。")
    commitment.reported_back_on = reported_on
    commitment.reported_back_note = note
    proposal = commitment.proposal
    if proposal is not None:
        db.session.add(
            ContactLog(
                proposal=proposal,
                unit_id=commitment.unit_id,
                round=proposal.round,
                contacted_on=reported_on,
                channel=channel,
                phase="after",
                participants=proposal.lead_proposer,
                summary=f"反馈承诺事项落实情况（{_short(commitment.text, 40)}）：{note}",
                logged_by_id=actor.id,
            )
        )
    outcome = COMMITMENT_STATUS[commitment.status]
    _audit(
        actor,
        commitment,
        "commitment_report",
        f"向代表反馈承诺事项{outcome}情况（{vocab.label('contact_channel', channel)}，"
        f"{reported_on.isoformat()}）：{_short(note, 60)}",
    )


# -- what waits for a unit -------------------------------------------------------------------


def _first_ids(queries, limit: int) -> list[int]:
    """The ids of the first `limit` rows of several queries, each ordered by the columns it
    selects (the id last), merged in that order (no value first). A unit's rows of one
    status are read in an index's order; PostgreSQL cannot read two statuses so at once and
    sorted a unit's 20,000 finished commitments for the first 20."""
    rows = [row for query in queries for row in db.session.execute(query.limit(limit)).all()]
    rows.sort(key=lambda row: tuple((value is not None, value) for value in row))
    return [row[-1] for row in rows[:limit]]


def _due_clause(unit_id: int, day: date, soon_days: int, statuses: tuple[str, ...] = ACTIVE):
    horizon = day + timedelta(days=soon_days)
    return (
        Commitment.unit_id == unit_id,
        Commitment.status.in_(statuses),
        Commitment.due_on.is_not(None),
        Commitment.due_on <= horizon,
    )


def due_for_unit(
    unit_id: int, day: date, soon_days: int, *, limit: int | None = None
) -> list[Commitment]:
    """The unit's confirmed, unfinished commitments that are overdue or due within
    ``soon_days``, earliest first (the first `limit` of them when given)."""
    query = (
        select(Commitment)
        .options(joinedload(Commitment.proposal))
        .order_by(Commitment.due_on, Commitment.id)
    )
    if limit is None:
        return list(
            db.session.execute(query.where(*_due_clause(unit_id, day, soon_days))).scalars()
        )
    ids = _first_ids(
        [
            select(Commitment.due_on, Commitment.id)
            .where(*_due_clause(unit_id, day, soon_days, (status,)))
            .order_by(Commitment.due_on, Commitment.id)
            for status in ACTIVE
        ],
        limit,
    )
    return list(db.session.execute(query.where(Commitment.id.in_(ids))).scalars())


def count_due_for_unit(unit_id: int, day: date, soon_days: int) -> int:
    """count(*): read off the (unit, status, due) index alone. Counting the id, which that
    index lacks, PostgreSQL chose the list's index, which has it, and read past a unit's
    122,000 other commitments (13.5 ms of 我的待办 against 0.3 at 100,000 letters)."""
    return db.session.execute(
        select(func.count()).select_from(Commitment).where(*_due_clause(unit_id, day, soon_days))
    ).scalar_one()


def _waiting_candidates():
    """The number of the letter's candidates, off the (letter, status) index alone."""
    return (
        select(func.count())
        .select_from(Commitment)
        .where(Commitment.letter_id == ReplyLetter.id, Commitment.status == "candidate")
        .correlate(ReplyLetter)
        .scalar_subquery()
    )


def _letters_with_candidates(unit_id: int) -> tuple:
    """The unit's sent letters with a candidate: one probe of the (letter, status) index
    each, stopping at the first candidate (counting them all cost the 12,000 letters of a
    unit's archive a third more)."""
    return (
        ReplyLetter.unit_id == unit_id,
        ReplyLetter.status.in_(SENT_LETTER_STATUSES),
        select(Commitment.id)
        .where(Commitment.letter_id == ReplyLetter.id, Commitment.status == "candidate")
        .exists(),
    )


def letters_to_confirm(unit_id: int, *, limit: int | None = None) -> list[tuple[ReplyLetter, int]]:
    """The unit's sent or imported letters with candidates waiting, newest first (those
    without a date last), with the number waiting (the first `limit` of them when given: a
    unit's imported archive has thousands). Driven from the unit's letters in the order of
    the (unit, date) index, each counted through the (letter, status) index: an imported
    archive holds a million candidates, and reading them all by status took seconds per
    我的待办; the dated letters and the undated ones are read apart, as no index of both
    databases holds "newest first, no date last" (dbstats.newest_letters_first)."""
    waiting = _waiting_candidates()
    query = (
        select(ReplyLetter, waiting)
        .where(*_letters_with_candidates(unit_id))
        .options(
            load_only(
                ReplyLetter.id,
                ReplyLetter.unit_id,
                ReplyLetter.doc_number,
                ReplyLetter.title,
                ReplyLetter.letter_on,
                ReplyLetter.proposal_number,
                ReplyLetter.session_name,
                ReplyLetter.proposal_kind,
                ReplyLetter.status,
            )
        )
    )
    return [(letter, count) for letter, count in newest_letters_first(db.session, query, limit)]


def count_letters_to_confirm(unit_id: int, *, most: int | None = None) -> int:
    """How many of the unit's letters have candidates waiting; at most `most` when given
    (a page that says "more than" need not probe each of a unit's 12,000 letters)."""
    letters = select(ReplyLetter.id).where(*_letters_with_candidates(unit_id))
    return count_rows(db.session, letters, most)


def _reports_owed_clause(unit_id: int, statuses: tuple[str, ...] = CLOSED) -> tuple:
    """Needs ReplyLetter joined."""
    return (
        Commitment.unit_id == unit_id,
        Commitment.status.in_(statuses),
        Commitment.reported_back_on.is_(None),
        ReplyLetter.classification.in_(vocab.followup_grades()),
    )


def reports_owed(unit_id: int, *, limit: int | None = None) -> list[Commitment]:
    """The unit's finished or dropped commitments of follow-up-grade replies that the
    deputy has not been told about yet, the dropped then the longest finished first (the
    first `limit` when given). The ids are chosen off the (unit, status, reported, done, id)
    index and only those rows read: sorting whole rows read the unit's 20,000 finished
    commitments."""
    if limit is None:
        chosen = (
            select(Commitment.id)
            .join(Commitment.letter)
            .where(*_reports_owed_clause(unit_id))
            .scalar_subquery()
        )
    else:
        chosen = _first_ids(
            [
                select(Commitment.done_on, Commitment.id)
                .join(Commitment.letter)
                .where(*_reports_owed_clause(unit_id, (status,)))
                # reported_back_on is NULL in every row: ordered by it too, the order is
                # the index's (PostgreSQL does not take IS NULL for one value, and sorted)
                .order_by(Commitment.reported_back_on, Commitment.done_on, Commitment.id)
                for status in CLOSED
            ],
            limit,
        )
    query = (
        select(Commitment)
        .where(Commitment.id.in_(chosen))
        .options(joinedload(Commitment.proposal))
        # the dropped (no day) first on both databases, then the longest finished
        .order_by(Commitment.done_on.asc().nulls_first(), Commitment.id)
    )
    return list(db.session.execute(query).scalars())


def count_reports_owed(unit_id: int, *, most: int | None = None) -> int:
    """How many reports the unit owes; at most `most` when given (a unit's finished
    commitments run to 20,000, each to be looked up for its letter's grade: with a bound,
    one status at a time in the index's order, which PostgreSQL reads row by row up to the
    bound; for both at once it hashed every letter of the grades, 11 ms against 3)."""
    owed = select(Commitment.id).join(Commitment.letter)
    if most is None:
        return count_rows(db.session, owed.where(*_reports_owed_clause(unit_id)))
    found = 0
    for status in CLOSED:
        one = owed.where(*_reports_owed_clause(unit_id, (status,))).order_by(
            Commitment.reported_back_on, Commitment.done_on, Commitment.id
        )
        found += count_rows(db.session, one, most - found)
        if found >= most:
            break
    return found


# -- the list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    """The commitment list's filters (empty: not filtered)."""

    status: str = ""  # a status, or "overdue"; empty: every confirmed commitment
    overdue: bool = False
    unit_id: int | None = None
    session_id: int | None = None
    grade: str = ""  # the letter's classification
    due_from: date | None = None
    due_to: date | None = None
    q: str = ""  # words of the text, all of them
    report: bool = False  # finished, of a follow-up grade, not yet reported back


def list_query(viewer: User, filters: ListFilters, today: date) -> Select:
    """The commitments the viewer may see that match the filters, the soonest due first
    (those without a date last)."""
    query = select(Commitment).where(scope(viewer))
    # the proposal joined only for a filter on it (and the letter's terms below): the
    # page's count otherwise looked up a letter and a proposal for each of a unit's 30,000
    # commitments
    if filters.session_id is not None:
        query = query.outerjoin(Commitment.proposal)
    if filters.status == "overdue":
        query = query.where(overdue_clause(today))
    elif filters.status in ACTIVE:
        query = query.where(Commitment.status == filters.status, not_(overdue_clause(today)))
    elif filters.status in COMMITMENT_STATUS:
        query = query.where(Commitment.status == filters.status)
    if filters.status not in COMMITMENT_STATUS or filters.status in CONFIRMED:
        query = query.where(_confirmed())
    if filters.overdue:
        query = query.where(overdue_clause(today))
    if filters.unit_id is not None:
        query = query.where(Commitment.unit_id == filters.unit_id)
    if filters.session_id is not None:
        query = query.where(Proposal.session_id == filters.session_id)
    if filters.due_from is not None:
        query = query.where(Commitment.due_on >= filters.due_from)
    if filters.due_to is not None:
        query = query.where(Commitment.due_on <= filters.due_to)
    for word in filters.q.split():
        query = query.where(Commitment.text.contains(word, autoescape=True))
    if filters.report:
        query = query.where(Commitment.status.in_(CLOSED), Commitment.reported_back_on.is_(None))
    graded = [ReplyLetter.classification == filters.grade] if filters.grade else []
    if filters.report:
        graded.append(ReplyLetter.classification.in_(vocab.followup_grades()))
    if graded and (filters.unit_id is not None or not permissions.sees_all(viewer)):
        # a unit's: each commitment's letter looked up (a few thousand, off the index)
        query = query.outerjoin(Commitment.letter).where(*graded)
    elif graded:
        # every unit's: the letters of the grade taken at once. Looked up one by one, the
        # 200,000 tracked commitments of 100,000 letters took 1.2 s on SQLite for a page
        query = query.where(Commitment.letter_id.in_(select(ReplyLetter.id).where(*graded)))
    # the page's letters and proposals are read after it (selectin): joined, every matching
    # row carried its letter's whole text through the sort; the letters without their text
    # and its sections (a list shows a letter's title and grade; their JSON decoded for 50
    # letters was a fifth of the page)
    return query.options(
        selectinload(Commitment.unit),
        selectinload(Commitment.letter).defer(ReplyLetter.body).defer(ReplyLetter.sections),
        selectinload(Commitment.proposal).selectinload(Proposal.session),
    ).order_by(*_list_order(filters))


def _confirmed() -> ColumnElement[bool]:
    """The confirmed commitments (CONFIRMED), the statuses written out in the statement as
    the partial indexes of the lists name them: SQLite uses a partial index only for a
    filter it can read in the statement, not one of bound parameters (every unit's list
    40 -> 0.1 ms, status=done 35 -> 0.1 ms on the loadtest database); PostgreSQL reads the
    same either way."""
    return Commitment.status.in_(
        bindparam("confirmed", list(CONFIRMED), expanding=True, literal_execute=True)
    )


def _list_order(filters: ListFilters) -> tuple:
    """The soonest due first, those without a date last. The overdue have a date and are
    ordered by it alone: in the order with "no date last" PostgreSQL read them off the
    index of every tracked commitment in that order, past the 180,000 done ones with
    earlier dates (the overdue are the recent ones): 40 -> 170 ms, a unit's 64 -> 160."""
    if filters.status == "overdue" or filters.overdue:
        return (Commitment.due_on, Commitment.id)
    return (Commitment.due_on.is_(None), Commitment.due_on, Commitment.id)


def latest_updates(ids: list[int]) -> dict[int, CommitmentUpdate]:
    """The latest progress update of each of these commitments (those that have one)."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(CommitmentUpdate)
        .where(CommitmentUpdate.commitment_id.in_(ids))
        .order_by(CommitmentUpdate.noted_on, CommitmentUpdate.id)
    ).scalars()
    return {u.commitment_id: u for u in rows}  # the last one per commitment wins
