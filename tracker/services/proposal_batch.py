"""批量导入: a session's 交办清单 registered (and assigned) in one go.

The interface (the 批量导入 page, `tracker import-proposals` and the JSON API all use it):

1. Rows. ``tracker.rules.proposal_sheet.read_sheet(data, filename) -> SheetRows`` reads an
   .xlsx or .csv file (UTF-8 or GB18030) into ``ProposalRow``s, matching the Chinese
   headings (raises ``SheetError``). ``row_from_mapping(obj, line)`` makes the same row from
   a mapping keyed by English field names, for the API's JSON objects:

       number, title, kind (建议/提案/议案), lead_proposer, co_signers (list or "甲、乙"),
       delegation (代表团/界别/党派), session (届次, the session's name), submitted_on
       ("2026-01-20"), lead_units, co_units, separate_units (unit full or short names, list
       or "、"-joined), assigned_on, is_key (bool or 是/否), content

   A key that is absent or null is "not given": a new proposal goes without it, an existing
   one keeps what it has.

2. ``plan(actor, rows, *, session=None, assign_on=None, today, policy) -> BatchPlan``
   checks every row and writes nothing (but for a flush of nothing). ``session`` names the
   session of rows without 届次; ``assign_on`` is the 交办日期 of rows with units and no date.
   Each ``PlannedRow`` has an ``action``:
   - ``new``: will be registered (and assigned when it names units);
   - ``update``: exists and differs; not yet past assignment, so it will be updated
     (``changes`` says what, in Chinese);
   - ``unchanged``: exists as given;
   - ``refused``: exists and differs, but has moved past assignment (signed for, a
     reassignment request, an opinion, a contact, a reply…): reported, never changed;
   - ``error``: ``errors`` says why (same rules as the registration and assignment forms;
     unknown or ambiguous unit names; a number twice in the file).
   ``PermissionDenied`` unless the actor may (permissions.can_import_proposals: the
   liaison, the coordinating office, the admin).

3. ``apply(actor, plan, *, policy, today) -> BatchResult`` saves the ``new`` and ``update`` rows:
   registrations, assignments with due dates from the deadline rules, audit events (marked
   批量导入); reminders follow from the assignments as for one registration. It only
   flushes: the caller commits once, so all rows are saved or none. Call it in the same
   transaction as ``plan`` (plan again after a reload: the data may have moved). A
   ``DomainError`` from it (an item changed meanwhile) names the row: roll back.
   After it, each saved row's ``proposal`` is set, and ``PlannedRow.as_dict()`` gives
   {line, action, number, session, proposal_id, errors, changes} for a JSON answer.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import selectinload, undefer

from tracker.extensions import db
from tracker.models import Assignment, CongressSession, Proposal, Unit, User
from tracker.rules import dates, deadlines
from tracker.rules.chinese import cn_date
from tracker.rules.deadlines import DeadlinePolicy, WorkCalendar
from tracker.rules.labels import ASSIGNMENT_ROLES, PROPOSAL_STATUS
from tracker.rules.proposal_sheet import LABELS, ProposalRow, SheetError, SheetRows, read_sheet
from tracker.rules.proposal_status import derive_status
from tracker.services import audit, permissions, proposals, repeats
from tracker.services.errors import DomainError, PermissionDenied
from tracker.services.imports import clean_name
from tracker.services.settings import work_calendar
from tracker.services.uploads import new_folder, write

VIA = "批量导入"
ACTIONS = {
    "new": "新增",
    "update": "更新",
    "unchanged": "无变化",
    "refused": "不予更新",
    "error": "有错误",
}
# the registration form's limits (proposals/forms.py ProposalForm) and the model's
MAX_LENGTH = {
    "number": 32,
    "title": 300,
    "lead_proposer": 120,
    "delegation": 80,
    "session": 80,
    "content": 20000,
}
MAX_CO_SIGNERS_TEXT = 1000
ROLE_FIELDS = (("lead", "lead_units"), ("co", "co_units"), ("separate", "separate_units"))
# a lead proposer who is a group rather than a person (党派, 代表团, 委员小组 …)
_GROUP = re.compile(
    r"(代表团|小组|委员会|界别|民革|民盟|民建|民进|农工党|致公党|九三学社|台盟|工商联|共青团|妇联|总工会)"
)


@dataclass
class PlannedRow:
    """A row as it will be saved (the values are those given, completed: the session, kind,
    units resolved) and what will happen to it."""

    row: ProposalRow
    action: str = "new"
    errors: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    session_name: str | None = None
    kind: str | None = None
    proposer_kind: str = "代表"
    units: dict[str, list[Unit]] = field(default_factory=dict)  # role -> units
    assigned_on: date | None = None  # the 交办日期 the row's units will be assigned on
    due_on: date | None = None  # their reply due date (shown in the preview)
    assigns: bool = False  # the row makes assignments
    proposal: Proposal | None = None  # the existing proposal

    @property
    def line(self) -> int:
        return self.row.line

    @property
    def action_label(self) -> str:
        return ACTIONS[self.action]

    def as_dict(self) -> dict:
        """The row's outcome for a JSON answer (the API)."""
        return {
            "line": self.line,
            "action": self.action,
            "number": self.row.number,
            "session": self.session_name,
            "proposal_id": self.proposal.id if self.proposal is not None else None,
            "errors": list(self.errors),
            "changes": list(self.changes),
        }

    def unit_names(self, role: str) -> list[str]:
        """The units of a role as the row will leave them (as written, where a name is not
        a unit's; the existing ones, where the row names none)."""
        given = getattr(self.row, dict(ROLE_FIELDS)[role]) or []
        if role in self.units:
            names = [u.name for u in self.units[role]]
            return names if len(names) == len(given) else given
        if self.proposal is not None:
            names = [a.unit.name for a in self.proposal.active_assignments if a.role == role]
            return list(dict.fromkeys(names))  # a unit answering again in a later round
        return []


@dataclass
class BatchPlan:
    rows: list[PlannedRow]
    new_sessions: list[str]
    session: str | None = None
    assign_on: date | None = None

    def counts(self) -> dict[str, int]:
        found = Counter(r.action for r in self.rows)
        return {action: found.get(action, 0) for action in ACTIONS}

    @property
    def to_save(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.action in ("new", "update")]

    @property
    def failed(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.action == "error"]

    def summary(self) -> str:
        """The counts in one line: 共N行：新增a，更新b，无变化c，不予更新d，有错误e."""
        counts = self.counts()
        return f"共{len(self.rows)}行：" + "，".join(
            f"{label}{counts[action]}" for action, label in ACTIONS.items()
        )


@dataclass
class BatchResult:
    created: list[Proposal]
    updated: list[Proposal]
    counts: dict[str, int]

    def summary(self) -> str:
        return (
            f"已导入：新增{len(self.created)}件，更新{len(self.updated)}件"
            f"（无变化{self.counts['unchanged']}行，不予更新{self.counts['refused']}行，"
            f"有错误未导入{self.counts['error']}行）。"
        )


# -- units ----------------------------------------------------------------------------------


class _Units:
    """Units by full name and by short name, read once."""

    def __init__(self) -> None:
        self.by_name: dict[str, Unit] = {}
        self.by_short: dict[str, list[Unit]] = defaultdict(list)
        for unit in db.session.execute(db.select(Unit)).scalars():
            self.by_name[_squeeze(unit.name)] = unit
            for short in unit.short_names or []:
                self.by_short[_squeeze(short)].append(unit)

    def find(self, name: str, label: str, errors: list[str]) -> Unit | None:
        key = _squeeze(name)
        unit = self.by_name.get(key)
        if unit is None:
            found = self.by_short.get(key, [])
            if len(found) > 1:
                names = "、".join(u.name for u in found)
                errors.append(f"{label}“{name}”有多个单位使用该简称（{names}），请填写全称。")
                return None
            unit = found[0] if found else None
        if unit is None:
            errors.append(f"{label}“{name}”：找不到该单位，请填写系统中单位的全称或简称。")
        elif not unit.active:
            errors.append(f"{label}“{name}”已停用，不能交办。")
        elif unit.is_coordinating:
            errors.append(f"{label}“{name}”是交办部门，不承办建议提案。")
        else:
            return unit
        return None


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- planning -------------------------------------------------------------------------------


def _check_text(row: ProposalRow, errors: list[str], *, new: bool) -> None:
    required = ("number", "title", "lead_proposer") if new else ("number", "title")
    for name in required:
        if not getattr(row, name):
            errors.append(f"缺少{LABELS[name]}。")
    for name, limit in MAX_LENGTH.items():
        value = getattr(row, name)
        if value and len(value) > limit:
            errors.append(f"{LABELS[name]}不能超过{limit}个字（现有{len(value)}个）。")
    if row.co_signers and len("、".join(row.co_signers)) > MAX_CO_SIGNERS_TEXT:
        errors.append(f"{LABELS['co_signers']}不能超过{MAX_CO_SIGNERS_TEXT}个字。")


def _check_dates(planned: PlannedRow, submitted_on: date | None, today: date) -> None:
    window = dates.event_window(today)
    for label, day in (("提出日期", submitted_on), ("交办日期", planned.assigned_on)):
        if day is not None:
            problem = dates.window_error(label, day, window, today)
            if problem:
                planned.errors.append(problem)
    if submitted_on and planned.assigned_on and planned.assigned_on < submitted_on:
        planned.errors.append("交办日期不能早于提出日期。")


def _resolve_units(planned: PlannedRow, units: _Units) -> None:
    row, errors = planned.row, planned.errors
    given = {role: getattr(row, name) for role, name in ROLE_FIELDS if getattr(row, name)}
    for role, names in given.items():
        label = f"{ASSIGNMENT_ROLES[role]}单位"
        found = [units.find(n, label, errors) for n in names]
        planned.units[role] = [u for u in found if u is not None]
    if len(given.get("lead", [])) > 1:
        errors.append("主办单位只能有一个；多个单位分别答复请填在“分办单位”列。")
    if given.get("lead") and given.get("separate"):
        errors.append("同一件不能既有主办单位又有分办单位。")
    if given.get("co") and not (given.get("lead") or given.get("separate")):
        errors.append("有会办单位时须填写主办单位。")
    ids = [u.id for us in planned.units.values() for u in us]
    if len(set(ids)) != len(ids):
        errors.append("同一单位不能重复交办（既是主办又是会办，或填了两次）。")


def _proposer_kind(kind: str, lead_proposer: str | None) -> str:
    if lead_proposer and _GROUP.search(lead_proposer):
        return "单位"
    return "委员" if kind == "提案" else "代表"


def _past_assignment(p: Proposal) -> str | None:
    """Why an existing proposal may no longer be changed by an import (None: it may): a
    unit has begun handling it."""
    for a in p.assignments:
        if a.signed_for_at:
            return f"{a.unit.name}已签收"
        if a.reassign_status or a.opinion_on or a.replied_on or a.extensions:
            return f"{a.unit.name}已在办理"
    if p.letters or p.contacts or p.feedback:
        return "该件已在办理"
    if p.status not in ("registered", "assigned"):
        return f"该件状态为“{PROPOSAL_STATUS.get(p.status, p.status)}”"
    return None


def _fmt(value) -> str:
    if value is None or value == "" or value == []:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return cn_date(value)
    if isinstance(value, list):
        return "、".join(value)
    if isinstance(value, str) and len(value) > 30:
        return f"“{value[:30]}…”"
    return f"“{value}”"


def _field_changes(planned: PlannedRow, p: Proposal) -> dict[str, tuple]:
    """The given fields whose values differ from the proposal's: name -> (old, new)."""
    row = planned.row
    given = {
        "title": row.title,
        "kind": row.kind,
        "lead_proposer": row.lead_proposer,
        "co_signers": row.co_signers,
        "delegation": row.delegation,
        "submitted_on": row.submitted_on,
        "is_key": row.is_key,
        "content": row.content,
    }
    found = {}
    for name, new in given.items():
        old = getattr(p, name)
        if name == "co_signers":
            old = list(old or [])
        if new is not None and new != old:
            found[name] = (old, new)
    return found


def _unit_change(planned: PlannedRow, p: Proposal) -> bool:
    """The row names units or a 交办日期 other than the proposal's assignments."""
    if not planned.units:
        return False
    have = {(a.unit_id, a.role) for a in p.active_assignments}
    want = {(u.id, role) for role, us in planned.units.items() for u in us}
    return have != want or (p.assigned_on is not None and planned.assigned_on != p.assigned_on)


def _existing(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Proposal]:
    keys = list(keys)
    found: dict[tuple[int, str], Proposal] = {}
    numbers = sorted({n for _, n in keys})
    sessions = sorted({s for s, _ in keys})
    for start in range(0, len(numbers), 500):
        query = (
            db.select(Proposal)
            .where(
                Proposal.session_id.in_(sessions),
                Proposal.number.in_(numbers[start : start + 500]),
            )
            .options(
                undefer(Proposal.content),  # compared with the row's (_field_changes)
                selectinload(Proposal.assignments).selectinload(Assignment.unit),
                selectinload(Proposal.assignments).selectinload(Assignment.extensions),
                selectinload(Proposal.letters),
                selectinload(Proposal.contacts),
                selectinload(Proposal.feedback),
                selectinload(Proposal.session),
            )
        )
        for p in db.session.execute(query).scalars():
            found[(p.session_id, p.number)] = p
    return found


DUPLICATES_LISTED = 5  # lines named in the error of a number that repeats


def _duplicate_error(planned: PlannedRow, same: list[int]) -> str:
    """The error of a row whose number other rows of the file use: their lines, the first
    DUPLICATES_LISTED and how many in all (a file of thousands of rows with one number gets
    short errors, written in time proportional to its rows)."""
    others = [n for n in same[: DUPLICATES_LISTED + 1] if n != planned.line][:DUPLICATES_LISTED]
    listed = "、".join(map(str, others))
    if len(same) - 1 > len(others):
        listed += f"等共{len(same) - 1}"
    return f"编号{planned.row.number}与第{listed}行重复。"


def plan(
    actor: User,
    rows: Sequence[ProposalRow],
    *,
    session: str | None = None,
    assign_on: date | None = None,
    today: date,
    policy: DeadlinePolicy,
) -> BatchPlan:
    """Check every row against the registration and assignment rules and what exists; write
    nothing. See the module's docstring."""
    if not permissions.can_import_proposals(actor):
        raise PermissionDenied("只有联络员、督办部门和管理员可以批量导入建议/提案。")
    session = (session or "").strip() or None
    units = _Units()
    calendar = work_calendar()
    sessions = {s.name: s for s in db.session.execute(db.select(CongressSession)).scalars()}
    planned_rows = []
    for row in rows:
        planned = PlannedRow(row=row, errors=list(row.problems))
        planned.session_name = row.session or session
        if not planned.session_name:
            planned.errors.append("缺少届次：请在文件中填写“届次”列，或导入时指定会议。")
        planned.kind = row.kind or (
            "提案" if planned.session_name and "政协" in planned.session_name else "建议"
        )
        planned.proposer_kind = _proposer_kind(planned.kind, row.lead_proposer)
        _resolve_units(planned, units)
        planned_rows.append(planned)

    # the same number twice in the file: neither row is taken
    lines: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    for planned in planned_rows:
        if planned.row.number:
            lines[(planned.session_name, planned.row.number)].append(planned.line)
    for planned in planned_rows:
        same = lines.get((planned.session_name, planned.row.number or ""), [])
        if len(same) > 1:
            planned.errors.append(_duplicate_error(planned, same))

    existing = _existing(
        (sessions[p.session_name].id, p.row.number)
        for p in planned_rows
        if p.session_name in sessions and p.row.number
    )
    new_sessions: list[str] = []
    for planned in planned_rows:
        row = planned.row
        known = sessions.get(planned.session_name or "")
        proposal = existing.get((known.id, row.number)) if known and row.number else None
        planned.proposal = proposal
        _check_text(row, planned.errors, new=proposal is None)
        submitted_on = row.submitted_on or (proposal.submitted_on if proposal else None)
        # a row without a date keeps an assigned proposal's date; else the import's date
        planned.assigned_on = (
            row.assigned_on or (proposal.assigned_on if proposal else None) or assign_on
        )
        if proposal is not None and row.kind is None:
            planned.kind = proposal.kind
        if planned.units and planned.assigned_on is None:
            planned.errors.append("缺少交办日期：请填写“交办日期”列，或导入时指定交办日期。")
        _check_dates(planned, submitted_on, today)
        if proposal is not None and row.kind and row.kind != proposal.kind:
            planned.errors.append(
                f"{proposal.session.name}第{row.number}号是{proposal.kind}，不是{row.kind}。"
            )
        if planned.errors:
            planned.action = "error"
            continue
        if proposal is None:
            planned.action = "new"
            planned.assigns = bool(planned.units)
            if known is None and planned.session_name not in new_sessions:
                new_sessions.append(planned.session_name)
        else:
            changed = _field_changes(planned, proposal)
            planned.changes = [
                f"{LABELS[name]}由{_fmt(old)}改为{_fmt(new)}"
                for name, (old, new) in changed.items()
            ]
            planned.assigns = _unit_change(planned, proposal)
            if planned.assigns:
                planned.changes.append(_assignment_change(planned, proposal))
            past = _past_assignment(proposal) if planned.changes else None
            if not planned.changes:
                planned.action = "unchanged"
            elif past:
                planned.action = "refused"
                planned.errors.append(f"{past}，已过交办阶段，未更新（如需更正请在该件页面办理）。")
            else:
                planned.action = "update"
        if planned.assigns and planned.assigned_on:
            try:
                planned.due_on = deadlines.reply_due(planned.assigned_on, policy, calendar).on
            except deadlines.DeadlineError as exc:
                planned.errors.append(str(exc))
                planned.action = "error"
    return BatchPlan(planned_rows, new_sessions, session=session, assign_on=assign_on)


def _assignment_change(planned: PlannedRow, p: Proposal) -> str:
    wanted = "；".join(
        f"{ASSIGNMENT_ROLES[role]}：{'、'.join(u.name for u in us)}"
        for role, us in planned.units.items()
        if us
    )
    if not p.active_assignments:
        return f"交办（{cn_date(planned.assigned_on)}）{wanted}"
    return f"重新交办（{cn_date(planned.assigned_on)}）{wanted}"


# -- saving ---------------------------------------------------------------------------------


def _session_for(name: str, planned: PlannedRow, today: date) -> CongressSession:
    year = next(
        (int(m) for m in re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", name)),
        (planned.row.submitted_on or planned.assigned_on or today).year,
    )
    return proposals.get_or_create_session(name, year=year)


def _assign(
    actor: User,
    proposal: Proposal,
    planned: PlannedRow,
    policy: DeadlinePolicy,
    calendar: WorkCalendar,
) -> None:
    separate = bool(planned.units.get("separate"))
    proposals.record_assignment(
        actor,
        proposal,
        lead_units=planned.units.get("separate" if separate else "lead", []),
        co_units=planned.units.get("co", []),
        assigned_on=planned.assigned_on,
        separate=separate,
        policy=policy,
        via=VIA,
        calendar=calendar,
        held=True,
    )


def _update(
    actor: User, planned: PlannedRow, policy: DeadlinePolicy, calendar: WorkCalendar
) -> Proposal:
    p = planned.proposal
    repeats.hold(p)  # no other change to it until this import commits
    past = _past_assignment(p)
    if past:  # a unit began on it since the plan was made
        raise DomainError(f"{past}，已过交办阶段，未更新。")
    changed = _field_changes(planned, p)
    for name, (_old, new) in changed.items():
        setattr(p, name, new)
    if changed:
        if "lead_proposer" in changed:
            p.proposer_kind = planned.proposer_kind
        audit.record(
            actor,
            "correct",
            f"{VIA}更新登记信息：" + "；".join(planned.changes[: len(changed)]),
            proposal_id=p.id,
            old={k: _json(v[0]) for k, v in changed.items()},
            new={k: _json(v[1]) for k, v in changed.items()},
        )
    if planned.assigns:
        # nothing was done on these assignments yet (else the row is refused): the list's
        # units replace them, with their clocks counted from the list's 交办日期
        for a in list(p.assignments):
            p.assignments.remove(a)
        p.assigned_on = None
        db.session.flush()
        _assign(actor, p, planned, policy, calendar)
    p.status = derive_status(p)
    return p


def _json(value):
    return value.isoformat() if isinstance(value, date) else value


def apply(actor: User, plan: BatchPlan, *, policy: DeadlinePolicy, today: date) -> BatchResult:
    """Save the plan's new and changed rows (flush only; the caller commits once)."""
    if not permissions.can_import_proposals(actor):
        raise PermissionDenied("只有联络员、督办部门和管理员可以批量导入建议/提案。")
    created: list[Proposal] = []
    updated: list[Proposal] = []
    sessions: dict[str, CongressSession] = {}
    calendar = work_calendar()  # one for every row: it reads the official tables once
    with db.session.no_autoflush:  # the services flush where they need ids
        for planned in plan.to_save:
            _save(actor, planned, sessions, policy, calendar, today, created, updated)
    db.session.flush()
    return BatchResult(created, updated, plan.counts())


def _save(
    actor: User,
    planned: PlannedRow,
    sessions: dict[str, CongressSession],
    policy: DeadlinePolicy,
    calendar: WorkCalendar,
    today: date,
    created: list[Proposal],
    updated: list[Proposal],
) -> None:
    """Save one row (new or update); a refusal names the row."""
    try:
        if planned.action == "update":
            updated.append(_update(actor, planned, policy, calendar))
            return
        name = planned.session_name or ""
        if name not in sessions:
            sessions[name] = _session_for(name, planned, today)
            repeats.hold(sessions[name])  # once for all its rows (see record_registration)
        row = planned.row
        proposal = proposals.record_registration(
            actor,
            session=sessions[name],
            kind=planned.kind or "建议",
            number=row.number or "",
            title=row.title or "",
            lead_proposer=row.lead_proposer or "",
            proposer_kind=planned.proposer_kind,
            co_signers=row.co_signers or (),
            submitted_on=row.submitted_on,
            is_key=bool(row.is_key),
            content=row.content or "",
            delegation=row.delegation,
            via=VIA,
            held=True,
        )
        if planned.assigns:
            _assign(actor, proposal, planned, policy, calendar)
        planned.proposal = proposal
        created.append(proposal)
    except DomainError as error:
        raise DomainError(f"第{planned.line}行：{error}") from None


def read_upload(data: bytes, filename: str, max_bytes: int) -> SheetRows:
    """An uploaded list's rows (rules.proposal_sheet), or a DomainError saying why not."""
    if len(data) > max_bytes:
        raise DomainError(f"文件超过 {max_bytes // (1024 * 1024)} MB，请分成几个文件导入。")
    try:
        return read_sheet(data, filename)
    except SheetError as error:
        raise DomainError(str(error)) from None


# -- the file between preview and confirm (the 批量导入 page) -------------------------------

FOLDER = "batch"  # below UPLOAD_DIR
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
KEEP_UPLOADS = timedelta(days=1)


def store_upload(actor: User, data: bytes, filename: str, options: dict, root: str | Path) -> str:
    """Keep an uploaded list until it is confirmed: in a folder of its own below
    UPLOAD_DIR/batch/ named by the user and a random token (returned), kept when the
    transaction commits. The file's own name is a label only; older uploads are dropped."""
    if not permissions.can_import_proposals(actor):
        raise PermissionDenied()
    _drop_stale(Path(root) / FOLDER)
    token = secrets.token_hex(16)
    relative = new_folder(root, FOLDER, f"{actor.id}-{token}")
    folder = Path(root) / relative
    write(io.BytesIO(data), folder / "list")
    meta = {"filename": clean_name(filename), **options}
    write(io.BytesIO(json.dumps(meta, ensure_ascii=False).encode()), folder / "meta.json")
    return token


def _folder(actor: User, token: str, root: str | Path) -> Path | None:
    if not _TOKEN.match(token or ""):
        return None
    folder = Path(root) / FOLDER / f"{actor.id}-{token}"
    return folder if (folder / "list").is_file() else None


def load_upload(actor: User, token: str, root: str | Path) -> tuple[bytes, dict] | None:
    """The actor's stored list and its options (filename, session, assign_on), or None
    (another user's token, a token that never was, a list already imported)."""
    folder = _folder(actor, token, root)
    if folder is None:
        return None
    meta = json.loads((folder / "meta.json").read_text("utf-8"))
    return (folder / "list").read_bytes(), meta


def discard_upload(actor: User, token: str, root: str | Path) -> None:
    folder = _folder(actor, token, root)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _drop_stale(area: Path) -> None:
    if not area.is_dir():
        return
    cutoff = time.time() - KEEP_UPLOADS.total_seconds()
    for folder in area.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue
