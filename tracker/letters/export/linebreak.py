"""Chinese line breaking (禁则) for the PDF, and balanced title lines for every format."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.letters.export.content import _text_width_chars
from tracker.letters.export.geometry import (
    MARGIN_LEFT_MM,
    MARGIN_RIGHT_MM,
    PAGE_W_MM,
    PT_PER_MM,
    TITLE_PT,
)

# Chinese line breaking (禁则): these never start a line / never end one.  reportlab's own CJK
# wrap knows the Japanese set only (it lets "，" start a line and hangs 。 into the margin),
# so the PDF is laid out here and reportlab only draws the pieces.
_CANNOT_START = set("，。、；：？！）》」』】〕〗〙］｝〉”’·％‰,.;:?!)]}%")
_CANNOT_END = set("（《「『【〔〖〘［｛〈“‘([{")
_TOKEN_RE = re.compile(
    r"\n|[ \t]+|[A-Za-z0-9](?:[A-Za-z0-9.,:%/\-_@#&+=~']*[A-Za-z0-9%])?|—+|…+|.", re.S
)


@dataclass
class _Piece:
    text: str
    font: str
    faux_bold: bool
    width: float

    @property
    def space(self) -> bool:
        return not self.text.strip()


_Unit = list[_Piece]  # pieces that stay on one line together


def _units(pieces: list[_Piece | None]) -> list[_Unit | None]:
    """Glue pieces into unbreakable units: a closing mark to what precedes it, an opening
    mark to what follows it.  None is a forced line break and stays one."""
    units: list[_Unit | None] = []
    glue_next = False
    for piece in pieces:
        if piece is None:
            units.append(None)
            glue_next = False
            continue
        last = units[-1] if units else None
        if (
            last
            and not piece.space
            and not last[-1].space
            and (glue_next or piece.text[0] in _CANNOT_START)
        ):
            last.append(piece)
        else:
            units.append([piece])
        glue_next = not piece.space and piece.text[-1] in _CANNOT_END
    return units


def _break_lines(
    units: list[_Unit | None], first_width: float, width: float
) -> list[tuple[list[_Unit], bool]]:
    """Greedy line filling; a unit that does not fit moves to the next line whole (推出), so
    no mark hangs in the margin.  Returns (units of the line, justify?) per line."""
    lines: list[tuple[list[_Unit], bool]] = []
    current: list[_Unit] = []
    used = 0.0

    def avail() -> float:
        return first_width if not lines else width

    def close(justify: bool) -> None:
        nonlocal current, used
        while current and all(p.space for p in current[-1]):
            current.pop()
        lines.append((current, justify))
        current, used = [], 0.0

    queue = list(units)
    while queue:
        unit = queue.pop(0)
        if unit is None:
            close(False)
            continue
        is_space = all(p.space for p in unit)
        if is_space and not current:
            continue
        unit_width = sum(p.width for p in unit)
        if used + unit_width <= avail() + 0.01:
            current.append(unit)
            used += unit_width
            continue
        if is_space:
            close(True)
            continue
        if current and any(not all(p.space for p in u) for u in current):
            close(True)
            queue.insert(0, unit)
            continue
        # A unit wider than a whole line (a long URL or number): break it by character.
        chars = [
            [_Piece(ch, p.font, p.faux_bold, p.width * (len(ch) / max(len(p.text), 1)))]
            for p in unit
            for ch in p.text
        ]
        if len(chars) == 1:
            current.append(unit)
            close(True)
            continue
        fit, total = 0, 0.0
        while fit < len(chars) and total + chars[fit][0].width <= avail() + 0.01:
            total += chars[fit][0].width
            fit += 1
        fit = max(fit, 1)
        current.extend(chars[:fit])
        close(True)
        queue[0:0] = chars[fit:]
    if current:
        close(False)
    return lines


TITLE_CHARS_PER_LINE = int((PAGE_W_MM - MARGIN_LEFT_MM - MARGIN_RIGHT_MM) * PT_PER_MM / TITLE_PT)


def _title_lines(title: str, max_chars: float = TITLE_CHARS_PER_LINE) -> list[str]:
    """Break a long title into balanced lines at sensible places (GB/T 9704: 回行时词意完整，
    排列对称，长短适宜): before 关于/第/对/《, after 会议/》/） where possible, never inside a
    number or against 禁则."""
    if _text_width_chars(title) <= max_chars or len(title) < 2:
        return [title]
    n_lines = int(-(-_text_width_chars(title) // max_chars))
    good_before = ("关于", "第", "对", "《", "答复", "的答复", "的函")
    good_after = ("会议", "》", "）")

    def allowed(i: int) -> bool:
        a, b = title[i - 1], title[i]
        if a.isascii() and a.isalnum() and b.isascii() and b.isalnum():
            return False
        return b not in _CANNOT_START and a not in _CANNOT_END

    word_bounds = _word_boundaries(title)

    def penalty(i: int) -> float:
        if title[i:].startswith(good_before) or title[:i].endswith(good_after):
            return 0.0
        if i in word_bounds:
            return 30.0
        return 80.0  # inside a word: only when nothing else fits

    cuts = [i for i in range(1, len(title)) if allowed(i)]
    for lines in range(n_lines, n_lines + 4):
        breaks = _balanced_breaks(title, cuts, lines, max_chars, penalty)
        if breaks is not None:
            bounds = [0, *breaks, len(title)]
            return [title[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    return [title]  # unbreakable as asked: the layout engines wrap it themselves


def _word_boundaries(text: str) -> set[int]:
    """Offsets between words (rjieba's segmentation, the one the search index uses)."""
    try:
        import rjieba
    except ImportError:  # pragma: no cover - rjieba is a dependency of the tracker
        return set()
    bounds, offset = set(), 0
    for word in rjieba.cut(text):
        offset += len(word)
        bounds.add(offset)
    return bounds


def _balanced_breaks(title, cuts, n_lines, max_chars, penalty) -> list[int] | None:
    """Break positions giving ``n_lines`` lines of near-equal width, or None."""
    target = _text_width_chars(title) / n_lines
    best: dict[tuple[int, int], tuple[float, list[int]]] = {}

    def solve(start: int, lines_left: int) -> tuple[float, list[int]]:
        key = (start, lines_left)
        if key in best:
            return best[key]
        rest = _text_width_chars(title[start:])
        if lines_left == 1:
            result = ((rest - target) ** 2, []) if rest <= max_chars else (float("inf"), [])
            best[key] = result
            return result
        result: tuple[float, list[int]] = (float("inf"), [])
        for cut in cuts:
            if cut <= start:
                continue
            width = _text_width_chars(title[start:cut])
            if width > max_chars:
                break
            cost, tail = solve(cut, lines_left - 1)
            cost += (width - target) ** 2 + penalty(cut)
            if cost < result[0]:
                result = (cost, [cut, *tail])
        best[key] = result
        return result

    cost, breaks = solve(0, n_lines)
    return None if cost == float("inf") else breaks
