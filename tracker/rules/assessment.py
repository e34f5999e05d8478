"""The year's assessment (考评) of handling units: a scheme of scored items applied to the
facts counted for each unit. Pure: the counting is services/assessment.py's.

A scheme is data (the admin edits it): a list of items, each ``{"kind", "label", "points",
"cap"}``. ``kind`` names what is counted (KINDS below); the code knows how to count each
kind, the scheme says how much it weighs:

- a *rate* item earns ``points × numerator / denominator``; a unit with nothing to count
  for it (denominator 0) loses nothing and earns the full points (考核实行扣分制);
- a *deduction* item takes ``points`` off for each counted item, at most ``cap`` in all
  (每件扣N分，扣完为止; no cap: no limit).

The score is the sum, never below zero, rounded to two decimals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Kind:
    label: str  # the default label
    mode: str  # rate / deduction
    numerator: str  # the fact counted (for a deduction: the count)
    denominator: str | None  # rate only
    definition: str  # 口径, as the page states it


KINDS: dict[str, Kind] = {
    "on_time": Kind(
        "按时答复",
        "rate",
        "on_time",
        "replies_due",
        "按时答复件数 ÷ 应答复件数（当年到期的主办、分办件：按时答复、逾期答复与逾期未答复）",
    ),
    "contact_before": Kind(
        "办前沟通",
        "rate",
        "contacted_before",
        "replied",
        "答复前已与代表委员沟通联系的件数 ÷ 当年已答复件数（本单位、本轮次、答复日及之前的联系）",
    ),
    "in_person": Kind(
        "面复（当面沟通答复）",
        "rate",
        "met_in_person",
        "replied",
        "与代表委员当面沟通（见面方式的联系）的件数 ÷ 当年已答复件数",
    ),
    "result_satisfied": Kind(
        "办理结果满意",
        "rate",
        "result_satisfied",
        "rated",
        "对办理结果评价为满意或基本满意的件数 ÷ 当年已评价件数",
    ),
    "attitude_satisfied": Kind(
        "办理态度满意",
        "rate",
        "attitude_satisfied",
        "attitude_rated",
        "对办理态度评价为满意或基本满意的件数 ÷ 当年评价了办理态度的件数",
    ),
    "commitments_on_time": Kind(
        "承诺事项按期落实",
        "rate",
        "commitments_done_on_time",
        "commitments_due",
        "到期前已完成的承诺事项 ÷ 当年到期的承诺事项（已确认）",
    ),
    "overdue": Kind(
        "超期答复",
        "deduction",
        "overdue",
        None,
        "当年到期而逾期答复或逾期未答复的件数，每件扣分",
    ),
    "rehandled": Kind(
        "重新办理",
        "deduction",
        "rehandled",
        None,
        "因代表委员不满意而当年重新交办的件数，每件扣分",
    ),
    "disputed_contacts": Kind(
        "沟通情况有异议",
        "deduction",
        "disputed_contacts",
        None,
        "代表委员对办理单位登记的沟通联系提出异议的件数，每件扣分",
    ),
}

# The default scheme (100 points); its source is in the README (考评).
DEFAULT_ITEMS: list[dict[str, Any]] = [
    {"kind": "on_time", "label": "按时答复", "points": 20, "cap": None},
    {"kind": "contact_before", "label": "办前沟通", "points": 15, "cap": None},
    {"kind": "in_person", "label": "面复（当面沟通答复）", "points": 15, "cap": None},
    {"kind": "result_satisfied", "label": "办理结果满意", "points": 20, "cap": None},
    {"kind": "attitude_satisfied", "label": "办理态度满意", "points": 10, "cap": None},
    {"kind": "commitments_on_time", "label": "承诺事项按期落实", "points": 20, "cap": None},
    {"kind": "overdue", "label": "超期答复", "points": 2, "cap": 10},
    {"kind": "rehandled", "label": "重新办理", "points": 3, "cap": 10},
    {"kind": "disputed_contacts", "label": "沟通情况有异议", "points": 2, "cap": 6},
]
DEFAULT_IN_PERSON = ["面商", "座谈会", "视察调研", "走访"]


@dataclass(frozen=True)
class ItemScore:
    kind: str
    label: str
    mode: str
    points: float  # the item's weight (rate: its full points; deduction: per item)
    earned: float  # points earned (a deduction's is zero or negative)
    numerator: int
    denominator: int | None  # rate only

    @property
    def rate(self) -> float | None:
        if self.denominator is None or not self.denominator:
            return None
        return self.numerator / self.denominator


def check_items(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """What is wrong with a scheme's items (empty: nothing)."""
    errors = []
    seen: set[str] = set()
    for n, item in enumerate(items, 1):
        kind = item.get("kind")
        if kind not in KINDS:
            errors.append(f"第{n}项：未知的考评项目“{kind}”。")
            continue
        if kind in seen:
            errors.append(f"第{n}项：“{KINDS[kind].label}”重复。")
        seen.add(kind)
        points, cap = item.get("points"), item.get("cap")
        if not isinstance(points, int | float) or not math.isfinite(points) or points < 0:
            errors.append(f"第{n}项：分值须为不小于0的数。")
        if cap is not None and (
            not isinstance(cap, int | float) or not math.isfinite(cap) or cap < 0
        ):
            errors.append(f"第{n}项：扣分上限须为不小于0的数。")
    if not items:
        errors.append("考评方案至少要有一个项目。")
    return errors


def full_marks(items: Iterable[Mapping[str, Any]]) -> float:
    """The most a unit can score: the rate items' points."""
    return float(sum(i["points"] for i in items if KINDS[i["kind"]].mode == "rate"))


def score_item(item: Mapping[str, Any], facts: Mapping[str, int]) -> ItemScore:
    kind = KINDS[item["kind"]]
    points = float(item["points"])
    numerator = int(facts.get(kind.numerator, 0))
    if kind.mode == "rate":
        denominator = int(facts.get(kind.denominator or "", 0))
        earned = points * numerator / denominator if denominator else points
        return ItemScore(
            item["kind"],
            item.get("label") or kind.label,
            "rate",
            points,
            earned,
            numerator,
            denominator,
        )
    taken = points * numerator
    cap = item.get("cap")
    if cap is not None:
        taken = min(taken, float(cap))
    return ItemScore(
        item["kind"],
        item.get("label") or kind.label,
        "deduction",
        points,
        -taken if taken else 0.0,  # no -0.0 when nothing is taken
        numerator,
        None,
    )


def score(
    items: Sequence[Mapping[str, Any]], facts: Mapping[str, int]
) -> tuple[float, list[ItemScore]]:
    """A unit's score under a scheme's items, and each item's part of it."""
    parts = [score_item(item, facts) for item in items]
    total = max(0.0, sum(p.earned for p in parts))
    return round(total, 2), parts


def ranks(scores: Sequence[float]) -> list[int]:
    """Competition ranks (1, 2, 2, 4) of scores, highest first, in the order given."""
    return [1 + sum(1 for other in scores if other > s) for s in scores]
