"""Side-by-side comparison of two versions of a letter, with the changes marked.

Lines are paired with difflib; within a changed pair the changed characters are wrapped in
<del> (left) and <ins> (right). Chinese has no spaces, so the comparison inside a line is by
character. Output is HTML-safe: every piece of text is escaped."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from html import escape


@dataclass(frozen=True)
class Row:
    kind: str  # same / changed / added / removed
    left: str  # HTML
    right: str  # HTML
    left_no: int | None
    right_no: int | None


def _inline(a: str, b: str) -> tuple[str, str]:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < 0.4:  # rewritten, not edited: marking stray common characters misleads
        return f"<del>{escape(a)}</del>", f"<ins>{escape(b)}</ins>"
    left, right = [], []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = escape(a[i1:i2]), escape(b[j1:j2])
        if op == "equal":
            left.append(old)
            right.append(new)
        else:
            if old:
                left.append(f"<del>{old}</del>")
            if new:
                right.append(f"<ins>{new}</ins>")
    return "".join(left), "".join(right)


def side_by_side(old: str, new: str) -> list[Row]:
    a, b = old.splitlines(), new.splitlines()
    rows: list[Row] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [
                Row("same", escape(a[i]), escape(b[j]), i + 1, j + 1)
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        left, right = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(left), len(right))):
            i = left[k] if k < len(left) else None
            j = right[k] if k < len(right) else None
            if i is not None and j is not None:
                l_html, r_html = _inline(a[i], b[j])
                rows.append(Row("changed", l_html, r_html, i + 1, j + 1))
            elif i is not None:
                rows.append(Row("removed", f"<del>{escape(a[i])}</del>", "", i + 1, None))
            else:
                rows.append(Row("added", "", f"<ins>{escape(b[j])}</ins>", None, j + 1))
    return rows


def field_changes(old: dict, new: dict, labels: dict[str, str]) -> list[tuple[str, str, str]]:
    """(label, old value, new value) for the structured fields that differ."""
    out = []
    for key, label in labels.items():
        before, after = old.get(key), new.get(key)
        if before != after:
            show = (
                "、".join(v) if isinstance(v, list) else ("" if v is None else str(v))
                for v in (before, after)
            )
            out.append((label, *show))
    return out
