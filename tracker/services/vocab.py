"""Vocabulary rows (grades, channels, satisfaction, disclosure) and their defaults."""

from __future__ import annotations

from tracker.extensions import db
from tracker.models import VocabularyTerm
from tracker.services.session_memo import once as _once

CLASSIFICATION_SCHEME_SETTING = "classification_scheme"

# (vocabulary, scheme, code, label, description, flags)
DEFAULT_TERMS: list[tuple[str, str, str, str, str, dict]] = [
    ("classification", "npc", "A", "A类", "所提问题已经解决或者基本解决", {}),
    (
        "classification",
        "npc",
        "B",
        "B类",
        "所提问题正在解决或者列入规划逐步解决",
        {"needs_followup": True},
    ),
    (
        "classification",
        "npc",
        "C",
        "C类",
        "所提问题因目前条件限制或者其他原因需待以后解决",
        {"needs_followup": True},
    ),
    ("classification", "npc", "D", "D类", "所提问题留作参考", {}),
    ("classification", "three", "A", "A类", "所提问题已解决或意见被采纳", {}),
    (
        "classification",
        "three",
        "B",
        "B类",
        "所提问题已列入计划拟逐步解决或部分解决",
        {"needs_followup": True},
    ),
    (
        "classification",
        "three",
        "C",
        "C类",
        "所提问题因条件限制留作参考或不可行",
        {"needs_followup": True},
    ),
    ("classification", "words", "解决采纳", "解决采纳", "所提问题已解决或意见被采纳", {}),
    (
        "classification",
        "words",
        "正在解决",
        "正在解决",
        "所提问题正在解决",
        {"needs_followup": True},
    ),
    (
        "classification",
        "words",
        "列入计划",
        "列入计划",
        "所提问题已列入计划逐步解决",
        {"needs_followup": True},
    ),
    ("classification", "words", "留作参考", "留作参考", "所提意见留作工作参考", {}),
    ("contact_channel", "", "面商", "面商", "当面商谈", {}),
    ("contact_channel", "", "电话", "电话", "", {}),
    ("contact_channel", "", "微信", "微信", "", {}),
    ("contact_channel", "", "座谈会", "座谈会", "", {}),
    ("contact_channel", "", "视察调研", "视察/调研", "", {}),
    ("contact_channel", "", "走访", "走访", "", {}),
    ("contact_channel", "", "邮件", "邮件", "", {}),
    ("contact_channel", "", "短信", "短信", "", {}),
    ("satisfaction", "", "满意", "满意", "", {}),
    ("satisfaction", "", "基本满意", "基本满意", "", {}),
    ("satisfaction", "", "不满意", "不满意", "不满意的答复须重新办理", {"reopens": True}),
    ("disclosure", "", "主动公开", "主动公开", "答复在网上公开", {"is_public": True}),
    ("disclosure", "", "依申请公开", "依申请公开", "依申请向申请人公开", {}),
    ("disclosure", "", "不予公开", "不予公开", "涉及国家秘密等不予公开的内容", {}),
]


def ensure_defaults() -> int:
    """Insert missing default terms; leaves admin edits alone. Returns rows added."""
    existing = {
        (t.vocabulary, t.scheme, t.code)
        for t in db.session.execute(db.select(VocabularyTerm)).scalars()
    }
    added = 0
    for order, (vocabulary, scheme, code, label, description, flags) in enumerate(DEFAULT_TERMS):
        if (vocabulary, scheme, code) in existing:
            continue
        db.session.add(
            VocabularyTerm(
                vocabulary=vocabulary,
                scheme=scheme,
                code=code,
                label=label,
                description=description,
                sort_order=order,
                **flags,
            )
        )
        added += 1
    db.session.flush()
    return added


def _every_term() -> tuple[VocabularyTerm, ...]:
    """Every vocabulary's rows in their order, read once per session: a proposal's page
    reads six vocabularies (grades, channels, satisfaction, disclosure, ...), one query
    for all of them instead of one each (the table holds a few dozen rows)."""

    def read() -> tuple[VocabularyTerm, ...]:
        order = (VocabularyTerm.sort_order, VocabularyTerm.id)
        return tuple(db.session.execute(db.select(VocabularyTerm).order_by(*order)).scalars())

    return _once(("every term",), read)


def terms(
    vocabulary: str, scheme: str | None = None, *, active_only: bool = True
) -> list[VocabularyTerm]:
    def read() -> tuple[VocabularyTerm, ...]:
        return tuple(
            t
            for t in _every_term()
            if t.vocabulary == vocabulary
            and (scheme is None or t.scheme == scheme)
            and (t.active or not active_only)
        )

    return list(_once(("terms", vocabulary, scheme, active_only), read))


def classification_scheme() -> str:
    from tracker.services.settings import get_setting

    return get_setting(CLASSIFICATION_SCHEME_SETTING, "three")


def classification_terms() -> list[VocabularyTerm]:
    return terms("classification", classification_scheme())


def choices(vocabulary: str) -> list[tuple[str, str]]:
    rows = classification_terms() if vocabulary == "classification" else terms(vocabulary)
    return [(t.code, t.label) for t in rows]


def term(vocabulary: str, code: str | None) -> VocabularyTerm | None:
    """The term of that code (the first row of it, in any scheme, active or not)."""
    if not code:
        return None

    def read() -> dict[str, VocabularyTerm]:
        first: dict[str, VocabularyTerm] = {}
        for row in sorted(terms(vocabulary, active_only=False), key=lambda t: t.id):
            first.setdefault(row.code, row)
        return first

    return _once(("by_code", vocabulary), read).get(code)


def labels(vocabulary: str) -> dict[str, str]:
    """code → label for a whole vocabulary, as ``label`` reads each one (the first row of
    a code): for lists and exports, one query instead of one a row."""
    out: dict[str, str] = {}
    for row in sorted(terms(vocabulary, active_only=False), key=lambda t: t.id):
        out.setdefault(row.code, row.label)
    return out


def followup_grades() -> frozenset[str]:
    """Classification codes whose replies carry commitments to follow up (B, and C in the
    three-grade scheme), across every scheme: old letters keep their grades."""
    return frozenset(t.code for t in terms("classification", active_only=False) if t.needs_followup)


def label(vocabulary: str, code: str | None) -> str:
    found = term(vocabulary, code)
    return found.label if found else (code or "")
