"""Checks before a reply letter is signed off (签发前检查).

Errors block submission; warnings may be overridden with a written reason; a 会签 that is not
agreed (severity ``signoff``) does not stop the clerk's submission — submitting sends the
draft for 会签 — but blocks the supervisor's sign-off. The checks read plain facts, so the
same list is shown to the clerk while drafting and enforced on submit and sign-off."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tracker.letters.patterns import FORWARD_HEADING_RE
from tracker.rules.labels import COSIGN_STATUS

ERROR, WARNING, SIGNOFF = "error", "warning", "signoff"

# The drafting template's prompts start with this; none may remain in a submitted letter.
PLACEHOLDER = "（请写明"


@dataclass(frozen=True)
class LetterFacts:
    classification: str | None
    classification_needs_followup: bool  # B and C grades carry commitments
    disclosure: str | None
    disclosure_public: bool
    disclosure_reason: str | None
    body: str
    commitment_count: int  # commitments found in (or confirmed for) the letter
    cc: tuple[str, ...]
    co_units: tuple[tuple[str, tuple[str, ...]], ...]  # (full name, short names)
    co_units_without_opinion: tuple[str, ...]
    contact_dates: tuple[date, ...]
    letter_on: date | None
    due_on: date | None
    title: str
    proposal_number: str
    proposal_title: str
    # each co-unit's 会签: (unit name, status requested/agreed/returned or None when not
    # sent yet, what to say when it is not agreed); empty where no 会签 is asked
    co_signs: tuple[tuple[str, str | None, str], ...] = ()
    # contacts the deputy disputed online (有异议): logged, but not counted as made
    disputed_contact_dates: tuple[date, ...] = ()


@dataclass(frozen=True)
class Check:
    code: str
    label: str  # what is checked, as the checklist shows it
    ok: bool
    severity: str  # error / warning / signoff
    message: str = ""  # what is wrong, when not ok


@dataclass
class CheckResult:
    checks: list[Check] = field(default_factory=list)

    @property
    def errors(self) -> list[Check]:
        return [c for c in self.checks if not c.ok and c.severity == ERROR]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if not c.ok and c.severity == WARNING]

    @property
    def signoff_blocks(self) -> list[Check]:
        """The 会签 not agreed yet: the sign-off waits for them."""
        return [c for c in self.checks if not c.ok and c.severity == SIGNOFF]

    @property
    def passed(self) -> bool:
        return not self.errors and not self.warnings


def _has_forward_section(body: str) -> bool:
    for line in body.splitlines():
        text = line.strip().lstrip("#").strip()
        if len(text) <= 30 and FORWARD_HEADING_RE.search(text):
            return True
    return False


def _named(name: str, shorts: tuple[str, ...], items: tuple[str, ...]) -> bool:
    names = {name, *shorts}
    return any(item.strip() in names for item in items)


def check_letter(f: LetterFacts) -> CheckResult:
    checks: list[Check] = []

    def add(code, label, ok, severity, message=""):
        checks.append(Check(code, label, ok, severity, "" if ok else message))

    add(
        "placeholders",
        "正文已替换全部填写提示",
        PLACEHOLDER not in f.body,
        ERROR,
        "正文中还有未替换的填写提示（“（请写明……）”）。",
    )
    add("classification", "已确定答复类别", bool(f.classification), ERROR, "请选择答复类别。")
    if f.classification_needs_followup:
        forward = _has_forward_section(f.body)
        add(
            "commitments",
            "B/C类答复有“下一步工作”部分及承诺事项",
            forward and f.commitment_count > 0,
            ERROR,
            "B类、C类答复须写明下一步工作安排，并至少有一项可跟踪的承诺事项。"
            if not forward
            else "“下一步工作”部分中没有找到可跟踪的承诺事项（如“今年底前完成……”）。",
        )
    add("disclosure", "已确定公开方式", bool(f.disclosure), ERROR, "请选择公开方式。")
    if f.disclosure and not f.disclosure_public:
        add(
            "disclosure_reason",
            "不公开的理由已填写",
            bool((f.disclosure_reason or "").strip()),
            ERROR,
            "选择不公开或依申请公开时，请填写理由。",
        )
    number_ok = (
        bool(f.proposal_number) and f.proposal_number in f.title and (f.proposal_number in f.body)
    )
    title_ok = bool(f.proposal_title) and f.proposal_title in f.body
    add(
        "proposal_match",
        "函中的建议标题和编号与登记一致",
        number_ok and title_ok,
        ERROR,
        f"函中须写明登记的编号第{f.proposal_number}号和标题《{f.proposal_title}》。",
    )

    before = [d for d in f.contact_dates if f.letter_on is None or d <= f.letter_on]
    disputed = "、".join(f"{d.month}月{d.day}日" for d in f.disputed_contact_dates)
    add(
        "contact",
        "答复前已与代表/委员沟通并登记",
        bool(before),
        WARNING,
        "还没有登记成文日期之前与代表/委员的沟通。"
        + (f"代表/委员对{disputed}的沟通记录有异议，不计为已沟通。" if disputed else ""),
    )
    add(
        "co_opinions",
        "已收到全部会办单位意见",
        not f.co_units_without_opinion,
        WARNING,
        "尚未收到会办意见：" + "、".join(f.co_units_without_opinion) + "。",
    )
    missing_cc = [name for name, shorts in f.co_units if not _named(name, shorts, f.cc)]
    add(
        "cc",
        "抄送包括全部会办单位",
        not missing_cc,
        WARNING,
        "抄送中缺少会办单位：" + "、".join(missing_cc) + "。",
    )
    for number, (unit, status, note) in enumerate(f.co_signs, 1):
        add(
            f"cosign_{number}",
            f"会签：{unit}（{COSIGN_STATUS[status] if status else '未送会签'}）",
            status == "agreed",
            SIGNOFF,
            f"{note}；该单位同意后才能签发。" if note else "该单位同意后才能签发。",
        )
    in_time = f.letter_on is None or f.due_on is None or f.letter_on <= f.due_on
    add(
        "due",
        "成文日期不晚于答复期限",
        in_time,
        WARNING,
        f"成文日期晚于答复期限{f.due_on}，请说明延迟原因。" if f.due_on else "",
    )
    return CheckResult(checks)
