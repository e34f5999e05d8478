"""Search-result snippets in plain Python: the densest stretch of matches in a letter's
text, HTML-escaped, the matches wrapped in ``<mark>``. (Whoosh's highlighter re-analyses
the whole text and costs tens of milliseconds a hit; this costs well under one.)"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from html import escape

from tracker.search.analysis import normalize

WIDTH = 160  # characters of text in a snippet
_SPACES = re.compile(r"\s+")
_SENTENCE_END = "。！？；!?;\n"


@lru_cache(maxsize=512)
def _pattern(items: tuple[tuple[str, ...], ...]) -> re.Pattern[str] | None:
    alts = []
    for words in items:
        words = tuple(w for w in words if w)
        if not words:
            continue
        alts.append(r"\s*".join(re.escape(w) for w in words))
    if not alts:
        return None
    alts.sort(key=len, reverse=True)  # the longest alternative wins at a position
    return re.compile("|".join(alts))


def find_matches(text: str, items: Sequence[Sequence[str]]) -> list[tuple[int, int, str]]:
    """(start, end, matched normalised text) of every occurrence of the items (words or
    word sequences, normalised as the index normalises) in `text`."""
    key = tuple(tuple(i) for i in items)
    pat = _pattern(key)
    if pat is None or not text:
        return []
    # normalising only changes letters, digits and a few signs: Chinese words match as is
    norm = normalize(text) if _needs_normalizing(key) else text
    return [(m.start(), m.end(), m.group()) for m in pat.finditer(norm)]


_ASCIIISH = re.compile(r"[a-z0-9%&+\-./@ ]")


@lru_cache(maxsize=512)
def _needs_normalizing(items: tuple[tuple[str, ...], ...]) -> bool:
    return any(_ASCIIISH.search(w) for words in items for w in words)


def _clean(text: str) -> str:
    return escape(_SPACES.sub(" ", text), quote=True)


def _counting_inner_words(
    matches: list[tuple[int, int, str]], words: set[str]
) -> list[tuple[int, int, str]]:
    """The matches, a match that has searched words inside it (a name found whole, 黄泥塘,
    has 黄 and 泥塘) repeated once for each of them, so that a window counts them too."""
    inner: dict[str, list[str]] = {}
    for _s, _e, m in matches:
        if m not in inner:
            bare = _SPACES.sub("", m)
            inner[m] = [w for w in words if w != bare and w in bare]
    if not any(inner.values()):
        return matches
    out = []
    for s, e, m in matches:
        out.append((s, e, m))
        out += [(s, e, w) for w in inner[m]]
    return out


def _best_window(matches: list[tuple[int, int, str]], width: int) -> tuple[int, int]:
    """Indices [i, j) of the run of matches within `width` characters with the most
    distinct words, then the most matches (a sliding window)."""
    best, best_key = (0, 1), (0, 0)
    counts: dict[str, int] = {}
    n = len(matches)
    j = 0
    for i in range(n):
        if j < i:
            j = i
        while j < n and matches[j][1] - matches[i][0] <= width:
            w = matches[j][2]
            counts[w] = counts.get(w, 0) + 1
            j += 1
        key = (len(counts), j - i)
        if key > best_key:
            best_key, best = key, (i, j)
        if i < j:  # slide: drop match i
            w = matches[i][2]
            if counts[w] == 1:
                del counts[w]
            else:
                counts[w] -= 1
    return best


def make_snippet(text: str, items: Sequence[Sequence[str]], width: int = WIDTH) -> str:
    """HTML-safe snippet of `text` around the densest region of the items' matches; the
    opening of the text when nothing matches."""
    if not text:
        return ""
    matches = find_matches(text, items)
    n = len(text)
    if not matches:
        start = len(text) - len(text.lstrip())
        end = min(n, start + width)
        out = _clean(text[start:end]).strip()
        return out + ("…" if end < n else "")
    counted = _counting_inner_words(matches, {words[0] for words in items if len(words) == 1})
    i, j = _best_window(counted, width)
    run = counted[i:j]
    span_start, span_end = run[0][0], run[-1][1]
    slack = max(0, width - (span_end - span_start))
    start = max(0, span_start - slack // 3)
    # begin at a sentence start when one is near
    cut = max(text.rfind(c, max(0, start - 20), span_start) for c in _SENTENCE_END)
    if cut >= 0 and span_start - cut <= width // 2:
        start = cut + 1
    end = min(n, max(span_end, start + width))
    # every match inside the window, not only the chosen run
    inside = [m for m in matches if m[0] >= start and m[1] <= end]
    parts = []
    pos = start
    for s, e, _ in inside:
        if s < pos:
            continue
        parts.append(_clean(text[pos:s]))
        parts.append("<mark>" + _clean(text[s:e]) + "</mark>")
        pos = e
    parts.append(_clean(text[pos:end]))
    out = "".join(parts).strip()
    if start > 0:
        out = "…" + out
    if end < n:
        out += "…"
    return out
