"""Administration use cases: users, units, vocabularies, the deadline policy and the
working-day calendar.

Every function takes the acting user and refuses anyone but an admin
(:class:`PermissionDenied`), raises :class:`DomainError` with a Chinese message when a rule
is broken, writes an audit event and flushes. Callers (views, CLI commands) commit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from tracker.extensions import db
from tracker.models import CalendarDay, Unit, User, VocabularyTerm
from tracker.rules.deadlines import DeadlinePolicy, Period
from tracker.rules.labels import ROLES, VOCABULARIES
from tracker.services import audit, permissions, sessions, users, vocab
from tracker.services.errors import DomainError, PermissionDenied
from tracker.services.settings import POLICY_SETTING, deadline_policy, put_setting

#: Classification schemes an admin can choose between (VocabularyTerm.scheme values).
CLASSIFICATION_SCHEMES = {
    "npc": "全国人大四级（A/B/C/D）",
    "three": "三级（A/B/C）",
    "words": "文字类别",
}

#: The one flag each vocabulary's terms carry: (VocabularyTerm attribute, what it means).
TERM_FLAGS = {
    "classification": ("needs_followup", "须跟踪落实答复中的承诺事项"),
    "satisfaction": ("reopens", "须重新办理"),
    "disclosure": ("is_public", "答复对外公开"),
}

#: Short names of the deadline policy's settings (audit messages, the settings page).
POLICY_SHORT_LABELS = {
    "reply": "答复期限",
    "reply_max": "延期后最长期限",
    "co_opinion": "会办意见期限",
    "reassignment_window": "申请调整期限",
    "re_answer": "重新办理答复期限",
    "roll_forward": "遇节假日顺延",
    "co_sign": "会签期限",
    "co_sign_required": "会签",
}

MAX_NAME = 60  # a short name or alias
MAX_NOTE = 60  # CalendarDay.note


def require_admin(actor: User | None) -> None:
    if actor is None or not permissions.is_admin(actor):
        raise PermissionDenied("只有系统管理员可以执行此操作。")


def _clean_names(names: Iterable[str], *, drop: str = "") -> list[str]:
    """Stripped, without blanks, duplicates or ``drop`` (a unit's own full name)."""
    out: list[str] = []
    for name in names:
        name = name.strip()
        if name and name != drop and name not in out:
            out.append(name)
    return out


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


# -- users ------------------------------------------------------------------------------


def create_user(
    actor: User,
    *,
    username: str,
    password: str,
    role: str,
    unit: Unit | None,
    display_name: str = "",
    email: str | None = None,
    deputy_name: str | None = None,
    phone: str | None = None,
) -> User:
    require_admin(actor)
    if unit is not None and not unit.active:
        raise DomainError(f"{unit.name}已停用，不能为其创建用户。")
    return users.create_user(
        actor,
        username=username,
        password=password,
        role=role,
        unit=unit,
        display_name=display_name,
        email=(email or "").strip() or None,
        deputy_name=deputy_name,
        phone=phone,
    )


def update_user(
    actor: User,
    user: User,
    *,
    display_name: str,
    role: str,
    unit: Unit | None,
    email: str | None,
    active: bool,
    lifetimes: sessions.Lifetimes,
    deputy_name: str | None = None,
    phone: str | None = None,
) -> list[str]:
    """Change a user's details; returns the changes in words (empty: nothing changed).
    Deactivating a user ends their sessions (`lifetimes` tells the live ones)."""
    require_admin(actor)
    users.check_role_unit(role, unit, deputy_name)
    if user.id == actor.id:
        if role != "admin":
            raise DomainError("不能取消自己的系统管理员角色；请由另一位管理员操作。")
        if not active:
            raise DomainError("不能停用自己的账号；请由另一位管理员操作。")
    if unit is not None and not unit.active and unit.id != user.unit_id:
        raise DomainError(f"{unit.name}已停用，不能把用户调入该单位。")
    display_name = display_name.strip()
    email = (email or "").strip() or None
    changes: list[str] = []
    if display_name != user.display_name:
        changes.append(f"姓名“{user.display_name}”改为“{display_name}”")
        user.display_name = display_name
    if role != user.role:
        changes.append(f"角色{ROLES.get(user.role, user.role)}改为{ROLES[role]}")
        user.role = role
    if (unit.id if unit else None) != user.unit_id:
        old = user.unit.name if user.unit else "无"
        changes.append(f"单位{old}改为{unit.name if unit else '无'}")
        user.unit = unit
    if email != user.email:
        changes.append(f"邮箱改为{email or '空'}")
        user.email = email
    if phone is not None:  # None: the caller leaves the phone as it is
        phone = phone.strip() or None
        if phone != user.phone:
            changes.append(f"手机改为{phone or '空'}")
            user.phone = phone
    deputy_name = users.deputy_name_for(role, deputy_name)
    if deputy_name != user.deputy_name:
        changes.append(f"代表/委员署名改为{deputy_name or '空'}")
        user.deputy_name = deputy_name
    if active != user.active:
        user.active = active
        ended = 0 if active else sessions.end_all(user, lifetimes=lifetimes)
        changes.append(
            "启用账号" if active else f"停用账号并结束其登录会话{ended}个" if ended else "停用账号"
        )
    db.session.flush()
    if changes:
        audit.record(
            actor,
            "user_update",
            f"修改用户{user.username}：{'；'.join(changes)}",
            entity="user",
            entity_id=user.id,
        )
    return changes


def reset_password(
    actor: User, user: User, password: str, *, lifetimes: sessions.Lifetimes
) -> None:
    """An admin sets a new password for a user (who should change it after logging in)."""
    require_admin(actor)
    users.check_password_strength(password)
    user.set_password(password)
    # every session of the user ends (an admin resetting their own keeps this one)
    keep = actor.login_session if actor.id == user.id else None
    ended = sessions.end_all(user, lifetimes=lifetimes, keep=keep)
    note = f"，结束其登录会话{ended}个" if ended else ""
    audit.record(
        actor,
        "user_password",
        f"重置用户{user.username}的密码{note}",
        entity="user",
        entity_id=user.id,
    )


# -- units ------------------------------------------------------------------------------


def _check_unit_names(unit: Unit | None, name: str, short_names: list[str]) -> None:
    """Full names and short names identify one unit (letters name units either way)."""
    others = db.session.execute(
        db.select(Unit).where(Unit.id != unit.id) if unit is not None else db.select(Unit)
    ).scalars()
    taken: dict[str, Unit] = {}
    for other in others:
        taken.setdefault(other.name, other)
        for short in other.short_names or []:
            taken.setdefault(short, other)
    if name in taken:
        raise DomainError(f"单位名称“{name}”已被{taken[name].name}使用。")
    for short in short_names:
        if len(short) > MAX_NAME:
            raise DomainError(f"简称“{short}”过长（最多{MAX_NAME}字）。")
        if short in taken:
            raise DomainError(f"简称“{short}”已被{taken[short].name}使用。")


def _clean_doc_prefix(doc_prefix: str | None) -> str | None:
    doc_prefix = (doc_prefix or "").strip()
    if re.search(r"[〔〕\[\]【】\d号]", doc_prefix):
        raise DomainError("文号前缀只填机关代字（如“穗教案”），不含年份、序号和“号”字。")
    return doc_prefix or None


def create_unit(
    actor: User,
    *,
    name: str,
    short_names: Iterable[str] = (),
    doc_prefix: str | None = None,
    is_coordinating: bool = False,
    active: bool = True,
) -> Unit:
    require_admin(actor)
    name = name.strip()
    if not name:
        raise DomainError("请填写单位全称。")
    shorts = _clean_names(short_names, drop=name)
    _check_unit_names(None, name, shorts)
    unit = Unit(
        name=name,
        short_names=shorts,
        doc_prefix=_clean_doc_prefix(doc_prefix),
        is_coordinating=is_coordinating,
        active=active,
    )
    db.session.add(unit)
    db.session.flush()
    audit.record(actor, "unit_create", f"新增单位{name}", entity="unit", entity_id=unit.id)
    return unit


def update_unit(
    actor: User,
    unit: Unit,
    *,
    name: str,
    short_names: Iterable[str],
    doc_prefix: str | None,
    is_coordinating: bool,
    active: bool,
) -> list[str]:
    """Change a unit; returns the changes in words (empty: nothing changed)."""
    require_admin(actor)
    name = name.strip()
    if not name:
        raise DomainError("请填写单位全称。")
    shorts = _clean_names(short_names, drop=name)
    _check_unit_names(unit, name, shorts)
    doc_prefix = _clean_doc_prefix(doc_prefix)
    changes: list[str] = []
    if name != unit.name:
        changes.append(f"名称“{unit.name}”改为“{name}”")
        unit.name = name
    if shorts != list(unit.short_names or []):
        changes.append(f"简称改为“{'、'.join(shorts) or '无'}”")
        unit.short_names = shorts
    if doc_prefix != unit.doc_prefix:
        changes.append(f"文号前缀改为“{doc_prefix or '无'}”")
        unit.doc_prefix = doc_prefix
    if is_coordinating != unit.is_coordinating:
        changes.append(f"督办/交办部门：{_yes_no(is_coordinating)}")
        unit.is_coordinating = is_coordinating
    if active != unit.active:
        changes.append("启用" if active else "停用")
        unit.active = active
    db.session.flush()
    if changes:
        audit.record(
            actor,
            "unit_update",
            f"修改单位{unit.name}：{'；'.join(changes)}",
            entity="unit",
            entity_id=unit.id,
        )
    return changes


# -- vocabularies -----------------------------------------------------------------------


def _active_count(vocabulary: str, scheme: str, *, excluding: int | None = None) -> int:
    query = db.select(db.func.count(VocabularyTerm.id)).where(
        VocabularyTerm.vocabulary == vocabulary,
        VocabularyTerm.scheme == scheme,
        VocabularyTerm.active.is_(True),
    )
    if excluding is not None:
        query = query.where(VocabularyTerm.id != excluding)
    return db.session.execute(query).scalar_one()


def _term_values(
    term: VocabularyTerm,
    *,
    label: str,
    description: str,
    aliases: Iterable[str],
    sort_order: int,
    active: bool,
    flag: bool,
) -> dict[str, object]:
    label = label.strip()
    if not label:
        raise DomainError("请填写名称。")
    aliases = _clean_names(aliases)
    for alias in aliases:
        if len(alias) > MAX_NAME:
            raise DomainError(f"别名“{alias}”过长（最多{MAX_NAME}字）。")
    values = {
        "label": label,
        "description": (description or "").strip(),
        "aliases": aliases,
        "sort_order": int(sort_order),
        "active": bool(active),
    }
    if term.vocabulary in TERM_FLAGS:
        values[TERM_FLAGS[term.vocabulary][0]] = bool(flag)
    return values


def update_term(
    actor: User,
    term: VocabularyTerm,
    *,
    label: str,
    description: str,
    aliases: Iterable[str],
    sort_order: int,
    active: bool,
    flag: bool = False,
) -> list[str]:
    """Edit a term. The code is fixed: data refers to it; deactivate a term instead."""
    require_admin(actor)
    values = _term_values(
        term,
        label=label,
        description=description,
        aliases=aliases,
        sort_order=sort_order,
        active=active,
        flag=flag,
    )
    deactivating = term.active and not values["active"]
    if deactivating and not _active_count(term.vocabulary, term.scheme, excluding=term.id):
        raise DomainError("至少须保留一个启用的词条。")
    changed = [key for key, value in values.items() if getattr(term, key) != value]
    for key in changed:
        setattr(term, key, values[key])
    db.session.flush()
    if term.vocabulary == "disclosure" and "is_public" in changed:
        from tracker.services import indexing

        indexing.enqueue_disclosure(db.session(), term.code)  # public search follows
    if changed:
        audit.record(
            actor,
            "vocabulary_update",
            f"修改{VOCABULARIES[term.vocabulary]}“{term.label}”（代码{term.code}）",
            entity="vocabulary",
            entity_id=term.id,
            fields=changed,
        )
    return changed


def add_term(
    actor: User,
    vocabulary: str,
    *,
    code: str,
    label: str,
    scheme: str = "",
    description: str = "",
    aliases: Iterable[str] = (),
    sort_order: int = 0,
    active: bool = True,
    flag: bool = False,
) -> VocabularyTerm:
    require_admin(actor)
    if vocabulary not in VOCABULARIES:
        raise DomainError("词表无效。")
    if vocabulary == "classification":
        if scheme not in CLASSIFICATION_SCHEMES:
            raise DomainError("请选择类别体系。")
    else:
        scheme = ""
    code = unicodedata.normalize("NFKC", code).strip()
    if not code or re.search(r"\s", code) or len(code) > 24:
        raise DomainError("代码须为1–24个字符，不含空格。")
    duplicate = db.session.execute(
        db.select(VocabularyTerm.id).where(
            VocabularyTerm.vocabulary == vocabulary,
            VocabularyTerm.scheme == scheme,
            VocabularyTerm.code == code,
        )
    ).first()
    if duplicate:
        raise DomainError(f"代码“{code}”在该词表中已存在；如需停用或修改名称，请编辑该词条。")
    term = VocabularyTerm(vocabulary=vocabulary, scheme=scheme, code=code)
    values = _term_values(
        term,
        label=label,
        description=description,
        aliases=aliases,
        sort_order=sort_order,
        active=active,
        flag=flag,
    )
    for key, value in values.items():
        setattr(term, key, value)
    db.session.add(term)
    db.session.flush()
    audit.record(
        actor,
        "vocabulary_create",
        f"新增{VOCABULARIES[vocabulary]}“{term.label}”（代码{code}）",
        entity="vocabulary",
        entity_id=term.id,
        scheme=scheme or None,
    )
    return term


def set_classification_scheme(actor: User, scheme: str) -> None:
    """Choose the classification scheme new replies are graded in."""
    require_admin(actor)
    if scheme not in CLASSIFICATION_SCHEMES:
        raise DomainError("请选择类别体系。")
    if not _active_count("classification", scheme):
        raise DomainError(f"“{CLASSIFICATION_SCHEMES[scheme]}”没有启用的类别，请先添加或启用。")
    old = vocab.classification_scheme()
    if old == scheme:
        return
    put_setting(vocab.CLASSIFICATION_SCHEME_SETTING, scheme)
    db.session.flush()
    audit.record(
        actor,
        "setting_update",
        f"答复类别体系由{CLASSIFICATION_SCHEMES.get(old, old)}改为{CLASSIFICATION_SCHEMES[scheme]}",
        entity="setting",
        key=vocab.CLASSIFICATION_SCHEME_SETTING,
        old=old,
        new=scheme,
    )


# -- deadline policy --------------------------------------------------------------------


def _policy_value_zh(value: Period | bool) -> str:
    return value.label_zh() if isinstance(value, Period) else _yes_no(value)


def save_deadline_policy(
    actor: User, values: Mapping[str, str | bool], *, defaults: Mapping[str, str]
) -> list[str]:
    """Validate and save the deadline policy (over the app's `defaults`). It applies to
    assignments made from now on; due dates already computed are not recomputed. Returns
    the changes in words."""
    require_admin(actor)
    try:
        policy = DeadlinePolicy.from_mapping(values)
    except ValueError as exc:
        raise DomainError(str(exc)) from None
    old = deadline_policy(defaults)
    changes = [
        f"{label}由{_policy_value_zh(getattr(old, key))}改为{_policy_value_zh(getattr(policy, key))}"
        for key, label in POLICY_SHORT_LABELS.items()
        if getattr(old, key) != getattr(policy, key)
    ]
    if not changes:
        return []
    put_setting(POLICY_SETTING, policy.to_mapping())
    db.session.flush()
    audit.record(
        actor,
        "setting_update",
        f"修改期限设置：{'；'.join(changes)}",
        entity="setting",
        key=POLICY_SETTING,
        old=old.to_mapping(),
        new=policy.to_mapping(),
    )
    return changes


# -- working-day calendar ---------------------------------------------------------------

HOLIDAY_WORDS = {"休", "假", "放假", "休息", "节假日", "holiday", "off"}
WORKDAY_WORDS = {"班", "上班", "补班", "工作日", "workday", "work"}

_LINE_RE = re.compile(
    r"^(?P<start>\S+?)(?:\s*[~〜至到]\s*(?P<end>\S+?))?\s+(?P<kind>\S+)(?:\s+(?P<note>.+))?$"
)
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
LINE_EXAMPLE = "2027-02-05 休、2027-02-20 班 或 2027-02-05~2027-02-13 休 春节"


class CalendarInputError(DomainError):
    """Some lines of a bulk calendar entry are wrong; ``errors`` names each line."""

    def __init__(self, errors: list[str]):
        super().__init__(f"有{len(errors)}处错误，本次录入未保存任何内容：")
        self.errors = errors


@dataclass(frozen=True)
class CalendarEntry:
    day: date
    is_workday: bool
    note: str
    line: int


def _parse_day(text: str) -> date | None:
    match = _DATE_RE.match(text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def parse_calendar_lines(text: str, year: int) -> list[CalendarEntry]:
    """Read lines ``YYYY-MM-DD 休``, ``YYYY-MM-DD 班`` or ``YYYY-MM-DD~YYYY-MM-DD 休 春节``
    (a note may follow). Blank lines and lines starting with # are skipped. Raises
    :class:`CalendarInputError` listing every wrong line; nothing is returned then."""
    errors: list[str] = []
    entries: list[CalendarEntry] = []
    seen: dict[date, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = unicodedata.normalize("NFKC", raw).strip()
        if not line or line.startswith("#"):
            continue
        prefix = f"第{number}行："
        match = _LINE_RE.match(line)
        if match is None:
            errors.append(f"{prefix}格式无法识别（应为 {LINE_EXAMPLE}）")
            continue
        start = _parse_day(match["start"])
        end = _parse_day(match["end"]) if match["end"] else start
        if start is None or end is None:
            bad = match["start"] if start is None else match["end"]
            errors.append(f"{prefix}日期无效（“{bad}”，应为 年-月-日，如 2027-02-05）")
            continue
        if end < start:
            errors.append(f"{prefix}结束日期早于开始日期")
            continue
        if start.year != year or end.year != year:
            errors.append(f"{prefix}日期不在{year}年内")
            continue
        kind = match["kind"].lower()
        if kind in HOLIDAY_WORDS:
            is_workday = False
        elif kind in WORKDAY_WORDS:
            is_workday = True
        else:
            errors.append(f"{prefix}“{match['kind']}”应为“休”（放假）或“班”（调休上班）")
            continue
        note = (match["note"] or "").strip()
        if len(note) > MAX_NOTE:
            errors.append(f"{prefix}备注过长（最多{MAX_NOTE}字）")
            continue
        day = start
        while day <= end:
            if day in seen:
                errors.append(f"{prefix}{day.isoformat()}与第{seen[day]}行重复")
                break
            seen[day] = number
            entries.append(CalendarEntry(day, is_workday, note, number))
            day += timedelta(days=1)
    if errors:
        raise CalendarInputError(errors)
    if not entries:
        raise CalendarInputError([f"请至少填写一行，如 {LINE_EXAMPLE}"])
    return entries


def enter_calendar_days(actor: User, year: int, text: str) -> tuple[int, int]:
    """Save holidays and make-up working days for one year from the bulk-entry text.
    Dates already entered are overwritten. Once a year has rows it is counted from them
    (Monday–Friday plus these rows) instead of the official package. Returns (added,
    updated)."""
    require_admin(actor)
    entries = parse_calendar_lines(text, year)
    existing = {
        row.day: row
        for row in db.session.execute(
            db.select(CalendarDay).where(CalendarDay.day.in_([e.day for e in entries]))
        ).scalars()
    }
    added = updated = 0
    for entry in entries:
        row = existing.get(entry.day)
        if row is None:
            db.session.add(CalendarDay(day=entry.day, is_workday=entry.is_workday, note=entry.note))
            added += 1
        elif (row.is_workday, row.note) != (entry.is_workday, entry.note):
            row.is_workday, row.note = entry.is_workday, entry.note
            updated += 1
    db.session.flush()
    holidays = sum(not e.is_workday for e in entries)
    audit.record(
        actor,
        "calendar_enter",
        f"录入{year}年工作日历：放假{holidays}天、调休上班{len(entries) - holidays}天"
        f"（新增{added}条，修改{updated}条）",
        entity="calendar",
        year=year,
        days=[[e.day.isoformat(), e.is_workday, e.note] for e in entries],
    )
    return added, updated


def delete_calendar_day(actor: User, row: CalendarDay) -> None:
    require_admin(actor)
    kind = "调休上班" if row.is_workday else "放假"
    audit.record(
        actor,
        "calendar_delete",
        f"删除工作日历{row.day.isoformat()}（{kind}{'，' + row.note if row.note else ''}）",
        entity="calendar",
        entity_id=row.id,
        day=row.day.isoformat(),
        is_workday=row.is_workday,
    )
    db.session.delete(row)
    db.session.flush()
