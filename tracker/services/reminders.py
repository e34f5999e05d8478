"""Reminders (`tracker remind`): what is due soon or overdue for each user, delivered as a
daily digest through the notifiers (in-app, e-mail, SMS).

An item's ``key`` names the item, stable from one day to the next ("assignment:12:overdue",
"letter:5:approve"). A ``ReminderDelivery`` row per user, channel, item and day records
what went out, so a second run on the same day sends nothing again, and a channel that
failed is retried by the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from tracker.extensions import db
from tracker.models import (
    Commitment,
    Proposal,
    ReminderDelivery,
    ReplyLetter,
    User,
)
from tracker.rules.chinese import cn_date
from tracker.rules.labels import ASSIGNMENT_ROLES
from tracker.services import commitments as commitment_rules
from tracker.services import deputies, permissions, todo
from tracker.services.digest import Item, Link
from tracker.services.notifiers import DeliveryError, Notifier, Recipient

log = logging.getLogger(__name__)


# -- phrases ----------------------------------------------------------------------------------


def _ref(p: Proposal) -> str:
    return f"{p.session.name}第{p.number}号{p.kind}"


def _label(p: Proposal) -> str:
    return f"{_ref(p)}《{p.title}》"


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _days(due_on: date, day: date) -> str:
    days = (due_on - day).days
    if days < 0:
        return f"已逾期{-days}天"
    if days == 0:
        return "今天到期"
    return f"还剩{days}天到期"


def _commitment_ref(c: Commitment) -> str:
    if c.proposal is not None:
        return _ref(c.proposal)
    if c.letter is not None and c.letter.doc_number:
        return f"答复函{c.letter.doc_number}"
    return ""


def _letter_name(letter: ReplyLetter) -> str:
    name = f"答复函{letter.doc_number}" if letter.doc_number else "答复函"
    return name + (f"《{letter.title}》" if letter.title else "")


def _sort_key(item: Item):
    return (not item.overdue, item.due_on or date.max, item.kind, item.key)


# -- what is due for whom ---------------------------------------------------------------------


def collect(user: User, day: date, *, soon_days: int, link: Link) -> list[Item]:
    """Everything due soon or overdue for the user today (due within `soon_days`), overdue
    first, then by due date; `link` makes each item's site-relative URL."""
    if permissions.is_deputy(user):
        return deputies.reminder_items(user, link)
    horizon = day + timedelta(days=soon_days)
    waiting = todo.for_user(user, day, soon_days)
    items: list[Item] = []
    handles = user.role in permissions.HANDLING_ROLES and user.unit_id is not None
    if handles:
        items += _assignment_items(waiting, day, horizon, link)
        items += _commitment_items(waiting.commitments_due, day, link)
        items += _candidate_items(waiting.letters_to_confirm, link)
        items += _report_items(waiting.reports_owed, link)
        items += _cosign_items(waiting, day, link)
    if user.role == "supervisor" and user.unit_id is not None:
        items += _approval_items(user.unit_id, day, link)
    items += _decision_items(waiting, link)
    return sorted(items, key=_sort_key)


def _assignment_items(waiting: todo.Todo, day: date, horizon: date, link: Link) -> list[Item]:
    items = []
    for a in waiting.to_sign:
        p = a.proposal
        note = ""
        if a.reassign_until and a.reassign_until >= day:
            note = f"（如需调整承办单位，请于{cn_date(a.reassign_until)}前提出）"
        items.append(
            Item(
                key=f"assignment:{a.id}:sign",
                kind="sign",
                text=f"【待签收】{_label(p)}已交办贵单位{ASSIGNMENT_ROLES[a.role]}，请及时签收{note}",
                url=link("proposals.detail", proposal_id=p.id),
                due_on=a.reassign_until,
                brief=f"第{p.number}号{p.kind}待签收",
            )
        )
    for a in (*waiting.overdue, *waiting.due_soon, *waiting.opinions_owed):
        if a.due_on > horizon:
            continue  # a co-unit opinion not due yet
        p = a.proposal
        what = "会办意见" if a.is_co else "答复"
        overdue = a.due_on < day
        pending = "，延期申请待审批" if a.pending_extension else ""
        items.append(
            Item(
                key=f"assignment:{a.id}:{'overdue' if overdue else 'due'}",
                kind="opinion" if a.is_co else "reply",
                text=(
                    f"【{'逾期' if overdue else '即将到期'}】{_label(p)}{what}"
                    f"{_days(a.due_on, day)}（期限{cn_date(a.due_on)}{pending}）"
                ),
                url=link("proposals.detail", proposal_id=p.id),
                due_on=a.due_on,
                overdue=overdue,
                brief=f"第{p.number}号{p.kind}{what}{_days(a.due_on, day).removeprefix('已')}",
            )
        )
    return items


def _commitment_items(due: Sequence[Commitment], day: date, link: Link) -> list[Item]:
    items = []
    for c in due:
        overdue = commitment_rules.is_overdue(c, day)
        ref = _commitment_ref(c)
        items.append(
            Item(
                key=f"commitment:{c.id}:{'overdue' if overdue else 'due'}",
                kind="commitment",
                text=(
                    f"【{'承诺逾期' if overdue else '承诺即将到期'}】承诺事项“{_short(c.text)}”"
                    f"{_days(c.due_on, day)}（期限{cn_date(c.due_on)}{'；' + ref if ref else ''}）"
                ),
                url=link("commitments.detail", commitment_id=c.id),
                due_on=c.due_on,
                overdue=overdue,
                brief=f"承诺事项{_days(c.due_on, day).removeprefix('已')}",
            )
        )
    return items


CANDIDATE_LETTERS_LISTED = 3


def _candidate_items(letters: Sequence[tuple[ReplyLetter, int]], link: Link) -> list[Item]:
    """One item per sent letter whose commitment candidates wait to be confirmed; beyond a
    few letters (an imported corpus), one item for the rest, so the digest stays short."""
    items = [
        Item(
            key=f"letter:{letter.id}:candidates",
            kind="candidates",
            text=f"【待确认承诺】{_letter_name(letter)}中有{count}项承诺事项待确认",
            url=link("commitments.review", letter_id=letter.id),
            brief=f"{count}项承诺事项待确认",
        )
        for letter, count in letters[:CANDIDATE_LETTERS_LISTED]
    ]
    rest = letters[CANDIDATE_LETTERS_LISTED:]
    if rest:
        waiting = sum(count for _, count in rest)
        items.append(
            Item(
                key=f"unit:{rest[0][0].unit_id}:candidates",
                kind="candidates",
                text=f"【待确认承诺】另有{len(rest)}份答复函共{waiting}项承诺事项待确认",
                url=link("commitments.index", status="candidate"),
                brief=f"另有{len(rest)}份答复函的承诺事项待确认",
            )
        )
    return items


def _report_items(owed: Sequence[Commitment], link: Link) -> list[Item]:
    """Done or dropped commitments of follow-up-grade (B) replies not yet reported back."""
    items = []
    for c in owed:
        ref = _commitment_ref(c)
        outcome = (
            "已完成，请向代表反馈落实情况" if c.status == "done" else "无法落实，请向代表说明情况"
        )
        items.append(
            Item(
                key=f"commitment:{c.id}:report",
                kind="report",
                text=f"【待反馈】承诺事项“{_short(c.text)}”{outcome}"
                + (f"（{ref}）" if ref else ""),
                url=link("commitments.detail", commitment_id=c.id),
                brief="承诺事项待向代表反馈",
            )
        )
    return items


def _cosign_items(waiting: todo.Todo, day: date, link: Link) -> list[Item]:
    """The 会签 the user's unit owes (each with its due date), and its drafts that co-units
    returned."""
    items = []
    for r in waiting.cosigns_owed:
        p = r.letter.proposal
        overdue = r.due_on < day
        lead = r.letter.unit.name if r.letter.unit else (r.letter.issuer or "主办单位")
        items.append(
            Item(
                key=f"cosign:{r.id}:{'overdue' if overdue else 'due'}",
                kind="cosign",
                text=(
                    f"【{'会签逾期' if overdue else '待会签'}】{lead}对{_label(p)}的答复函请贵单位会签，"
                    f"{_days(r.due_on, day)}（期限{cn_date(r.due_on)}）"
                ),
                url=link("drafting.cosign_letter", letter_id=r.letter_id),
                due_on=r.due_on,
                overdue=overdue,
                brief=f"第{p.number}号{p.kind}答复函会签{_days(r.due_on, day).removeprefix('已')}",
            )
        )
    for letter, returns in waiting.cosigns_returned:
        p = letter.proposal
        units = "、".join(r.unit.short_name for r in returns)
        items.append(
            Item(
                key=f"letter:{letter.id}:cosign-returned",
                kind="cosign_returned",
                text=f"【会签退回】{_label(p)}的答复函被{units}退回，请按意见修改后重新提交会签",
                url=link("drafting.edit", letter_id=letter.id),
                brief=f"第{p.number}号{p.kind}答复函会签退回",
            )
        )
    return items


def _approval_items(unit_id: int, day: date, link: Link) -> list[Item]:
    letters = (
        db.session.execute(
            db.select(ReplyLetter)
            .where(ReplyLetter.unit_id == unit_id, ReplyLetter.status == "submitted")
            .options(
                joinedload(ReplyLetter.proposal).joinedload(Proposal.session),
                joinedload(ReplyLetter.proposal).selectinload(Proposal.assignments),
            )
            .order_by(ReplyLetter.id)
        )
        .unique()
        .scalars()
    )
    items = []
    for letter in letters:
        p = letter.proposal
        answering = [
            a
            for a in (p.assignments if p else [])
            if a.active and not a.is_co and a.unit_id == unit_id and a.round == letter.round
        ]
        due_on = answering[0].due_on if answering else None
        what = _label(p) if p else (letter.title or "")
        deadline = f"（答复期限{cn_date(due_on)}，{_days(due_on, day)}）" if due_on else ""
        items.append(
            Item(
                key=f"letter:{letter.id}:approve",
                kind="approve",
                text=f"【待签发】{what}的答复函已提交，请审核签发{deadline}",
                url=link("drafting.edit", letter_id=letter.id),
                due_on=due_on,
                overdue=bool(due_on and due_on < day),
                brief=f"第{p.number}号{p.kind}答复函待签发" if p else "答复函待签发",
            )
        )
    return items


def _decision_items(waiting: todo.Todo, link: Link) -> list[Item]:
    items = []
    for e in waiting.extensions_to_decide:
        a = e.assignment
        p = a.proposal
        items.append(
            Item(
                key=f"extension:{e.id}:decide",
                kind="extension",
                text=(
                    f"【待审批延期】{a.unit.name}申请将{_label(p)}的答复期限"
                    f"由{cn_date(a.due_on)}延至{cn_date(e.requested_due_on)}"
                ),
                url=link("proposals.detail", proposal_id=p.id),
                due_on=a.due_on,
                brief=f"第{p.number}号{p.kind}延期申请待审批",
            )
        )
    for a in waiting.reassignments_to_decide:
        p = a.proposal
        suggested = (
            f"，建议改由{a.reassign_suggested_unit}承办" if a.reassign_suggested_unit else ""
        )
        items.append(
            Item(
                key=f"assignment:{a.id}:reassign",
                kind="reassign",
                text=f"【待决定调整】{a.unit.name}申请调整{_label(p)}的承办单位{suggested}",
                url=link("proposals.detail", proposal_id=p.id),
                brief=f"第{p.number}号{p.kind}调整申请待决定",
            )
        )
    for p in waiting.to_assign:
        items.append(
            Item(
                key=f"proposal:{p.id}:assign",
                kind="assign",
                text=f"【待交办】{_label(p)}已登记，请交办承办单位",
                url=link("proposals.detail", proposal_id=p.id),
                brief=f"第{p.number}号{p.kind}待交办",
            )
        )
    for p in waiting.to_rate:
        items.append(
            Item(
                key=f"proposal:{p.id}:rate",
                kind="rate",
                text=f"【待登记评价】{_label(p)}已答复，请登记代表的评价",
                url=link("proposals.detail", proposal_id=p.id),
                brief=f"第{p.number}号{p.kind}待登记评价",
            )
        )
    return items


# -- the run ----------------------------------------------------------------------------------


@dataclass
class UserResult:
    username: str
    label: str
    items: list[Item]
    sent: dict[str, int] = field(default_factory=dict)  # channel → items delivered now
    unreachable: list[str] = field(default_factory=list)  # channels without an address
    errors: list[str] = field(default_factory=list)


@dataclass
class Report:
    day: date
    dry_run: bool
    channels: list[str]
    users: list[UserResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(u.errors for u in self.users)

    @property
    def item_count(self) -> int:
        return sum(len(u.items) for u in self.users)

    def sent(self, channel: str) -> int:
        return sum(u.sent.get(channel, 0) for u in self.users)


def _already_sent(user_id: int, day: date) -> dict[str, set[str]]:
    rows = db.session.execute(
        db.select(ReminderDelivery.channel, ReminderDelivery.item_key).where(
            ReminderDelivery.user_id == user_id, ReminderDelivery.day == day
        )
    ).all()
    sent: dict[str, set[str]] = {}
    for channel, key in rows:
        sent.setdefault(channel, set()).add(key)
    return sent


def _record(user_id: int, channel: str, items: Sequence[Item], day: date) -> None:
    db.session.add_all(
        ReminderDelivery(user_id=user_id, channel=channel, item_key=item.key, day=day)
        for item in items
    )
    db.session.flush()


def run(
    day: date,
    *,
    notifiers: Sequence[Notifier],
    soon_days: int,
    link: Link,
    dry_run: bool = False,
    users: Iterable[User] | None = None,
) -> Report:
    """Remind every active user (or `users`) of what is due for them on `day`.

    Each user is one unit of work, committed before the next: once an e-mail has left,
    the record of it must survive a crash further on. The read transaction ends before
    anything is sent, so no database lock is held while talking to the mail server or
    the SMS gateway. A channel that fails is reported, not recorded, and retried by the
    next run; the other channels and users go on. `notifiers` are the channels,
    `soon_days` and `link` as for :func:`collect`.
    """
    notifiers = list(notifiers)
    report = Report(day=day, dry_run=dry_run, channels=[n.channel for n in notifiers])
    if users is None:
        user_ids = list(
            db.session.execute(
                db.select(User.id).where(User.active.is_(True)).order_by(User.id)
            ).scalars()
        )
    else:
        user_ids = [u.id for u in users if u.active]
    for user_id in user_ids:
        user = db.session.get(User, user_id)
        items = collect(user, day, soon_days=soon_days, link=link)
        if not items:
            db.session.rollback()
            continue
        recipient = Recipient.of(user)
        result = UserResult(username=user.username, label=user.label, items=items)
        report.users.append(result)
        sent_before = _already_sent(user_id, day)
        db.session.rollback()  # nothing written: end the read transaction before sending

        pending: dict[str, list[Item]] = {}
        for notifier in notifiers:
            if not notifier.reaches(recipient):
                result.unreachable.append(notifier.channel)
                continue
            done = sent_before.get(notifier.channel, set())
            pending[notifier.channel] = [i for i in items if i.key not in done]
            result.sent[notifier.channel] = 0
        if dry_run:
            result.sent = {channel: len(rows) for channel, rows in pending.items()}
            continue

        delivered: dict[str, list[Item]] = {}
        for notifier in notifiers:  # channels that talk to a server: outside any transaction
            rows = pending.get(notifier.channel)
            if notifier.in_session or not rows:
                continue
            try:
                notifier.deliver(recipient, rows, day)
            except DeliveryError as error:
                result.errors.append(str(error))
                continue
            except Exception as error:  # a bug must not cost the other users their reminders
                log.exception(
                    "reminder channel %s failed for %s", notifier.channel, recipient.username
                )
                result.errors.append(f"{notifier.channel}: {error!r}")
                continue
            delivered[notifier.channel] = rows
        for notifier in notifiers:  # in-app rows and every delivery record: one transaction
            rows = pending.get(notifier.channel)
            if not rows or not (notifier.in_session or notifier.channel in delivered):
                continue
            try:
                with db.session.begin_nested():
                    if notifier.in_session:
                        notifier.deliver(recipient, rows, day)
                    _record(user_id, notifier.channel, rows, day)
            except IntegrityError:
                result.errors.append(f"{notifier.channel}: 另一次提醒运行已记录了这些事项")
                continue
            except Exception as error:
                log.exception(
                    "reminder channel %s failed for %s", notifier.channel, recipient.username
                )
                result.errors.append(f"{notifier.channel}: {error!r}")
                continue
            result.sent[notifier.channel] = len(rows)
        db.session.commit()
    db.session.rollback()
    return report
