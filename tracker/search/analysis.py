"""Chinese text analysis for the search index: segmentation, index terms, query parsing.

Segmentation is rjieba's (jieba's dictionary and HMM, in Rust, ~30x faster than jieba).
Text is first normalised character for character (full-width ASCII to half-width, ASCII to
lower case), so offsets stay valid for the original text.

Index terms
    Every word of jieba's default cut, plus the shorter dictionary words inside it that
    jieba's search mode would emit (心理健康 → 心理, 健康; 中小学生 → 中小学, 小学生, 学生 …),
    so that a query word finds the letters that contain it inside a longer word. Whitespace
    and punctuation are dropped; numbers (20222174, 80%) and ASCII words are kept, and an
    ASCII token with inner punctuation (covid-19, 2021-2023, 80%) also yields its parts.

Character pairs
    Segmentation depends on the context: the query 黄泥塘 is cut 黄 / 泥塘, the letter's
    黄泥塘村 黄泥 / 塘村, so the words of one are not the words of the other. Beside its
    words, a letter is therefore indexed by the pairs of adjacent Han characters of its text
    that are not already among its terms (``bigrams``): every pair in its text is then
    either a term or a pair of the letter, and the letters that may contain a text are those
    that have all its pairs.

Phrases
    A phrase matches where its text occurs verbatim (normalised, whitespace ignored):
    candidates are the letters that have all its character pairs (or, for a text without
    two Han characters in a row, all its words), then the phrase is looked for in each
    candidate's squeezed text (``squeeze``), a per-document column. "学生心理" thus finds
    中小学生心理健康 whatever the segmentation, "心理健康" does not match 心理，健康, and
    Whoosh needs no positions (slow to write and to read).

Loose clauses
    A string the letters may segment differently from the query -- one that is cut into
    several words, or a single word jieba made up (a name: its dictionary does not know it)
    -- matches a letter that has all its words, as before, or that has the string verbatim,
    as a phrase would; a letter with the string verbatim ranks above every letter that only
    has its words apart (``Clause.loose``). A dictionary word keeps its word matching.

Query language (``parse_query``)
    words separated by spaces must all occur (AND); a string without spaces is segmented and
    each of its words must occur, or the string as a whole (loose clauses, above); "…" or
    “…” is a phrase (verbatim text, also for a single word: "新塘" finds 白云新塘村, cut
    白云 / 新 / 塘村, where the word 新塘 does not); ``OR`` (or
    ``|``) between two items accepts either; a leading ``-`` excludes (``-电梯``); ``AND``
    is accepted and ignored. Unbalanced quotes and stray punctuation are read as plain
    words; the parser never raises.
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import rjieba

# -- normalisation ------------------------------------------------------------------------

NORMALIZE_TABLE = {0xFF01 + i: 0x21 + i for i in range(0x5E)}  # full-width ! .. ~ → ASCII
NORMALIZE_TABLE.update({ord("Ａ") + i: ord("a") + i for i in range(26)})
NORMALIZE_TABLE.update({ord("A") + i: ord("a") + i for i in range(26)})
NORMALIZE_TABLE[0x3000] = 0x20  # ideographic space
NORMALIZE_TABLE[0x00A0] = 0x20  # no-break space


# What to change: ASCII capitals, full-width letters, digits and a few signs met inside
# words and numbers, unusual spaces. Full-width punctuation (，：（）…) is left alone: it
# is frequent in Chinese text (a regex callback for each would cost more than translate),
# and punctuation is not indexed.
_TO_NORMALIZE = re.compile(
    "[A-Z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
    "\uff05\uff06\uff0b\uff0d\uff0e\uff0f\uff20\u3000\u00a0]+"
)


def _normalize_run(m: re.Match) -> str:
    return m.group().translate(NORMALIZE_TABLE)


def normalize(text: str) -> str:
    """Lower-case ASCII, half-width letters and digits; the result has the same length as
    `text`. (A regex over the few characters to change: str.translate with a table costs
    ~0.1 µs a character on Chinese text, 0.3 ms for a letter.)"""
    return _TO_NORMALIZE.sub(_normalize_run, text)


# -- tokens ------------------------------------------------------------------------------

_ALNUM_RUN = re.compile(r"[^\W_]+")
_WORDY = re.compile(r"[^\W_]")

# what _INFO holds for a token: SPACE, PUNCT, or a word's sub-words ((text, kind), …)
SPACE = None
PUNCT = ("\x00punctuation",)
_INFO: dict[str, tuple | None] = {}
_INFO_LIMIT = 400_000

PREFIX, SUFFIX, INNER = 1, 2, 3


def _classify(tok: str) -> tuple | None:
    if tok.isspace() or not tok:
        return SPACE
    if not (tok.isalnum() or _WORDY.search(tok)):
        return PUNCT
    n = len(tok)
    subs: list[tuple[str, int]] = []
    if tok.isascii():
        if not tok.isalnum():
            for m in _ALNUM_RUN.finditer(tok):
                s, e = m.span()
                if m.group() != tok:
                    kind = PREFIX if s == 0 else SUFFIX if e == n else INNER
                    subs.append((m.group(), kind))
    elif n > 2:
        for sub, s, e in rjieba.tokenize(tok, mode="search"):
            if sub != tok and (s, e) != (0, n) and _WORDY.search(sub):
                kind = PREFIX if s == 0 else SUFFIX if e == n else INNER
                subs.append((sub, kind))
    return tuple(dict.fromkeys(subs))


_SKIP: set[str] = set()  # tokens in _INFO that are whitespace or punctuation
_HAS_SUBS: set[str] = set()  # tokens in _INFO with sub-words


MISSING = ("\x00missing",)  # what ``known_info`` answers for a token not classified yet
# The classification of a token already met, else the default: a loop over a letter's
# tokens calls ``info`` only for the tokens this returns MISSING for (no Python call each).
known_info = _INFO.get


def info(tok: str) -> tuple | None:
    """SPACE (None) for whitespace, PUNCT for punctuation, else the word's sub-words
    ((text, kind), …), an empty tuple when it has none."""
    got = _INFO.get(tok, MISSING)
    if got is MISSING:
        if len(_INFO) > _INFO_LIMIT:
            _INFO.clear()
            _SKIP.clear()
            _HAS_SUBS.clear()
        got = _INFO[tok] = _classify(tok)
        if got is SPACE or got is PUNCT:
            _SKIP.add(tok)
        elif got:
            _HAS_SUBS.add(tok)
    return got


def tokens(text: str, *, normalized: bool = False) -> list[str]:
    """jieba's default cut of the (normalised) text."""
    return rjieba.cut(text if normalized else normalize(text))


# -- index terms ---------------------------------------------------------------------------


@dataclass
class Analysed:
    terms: dict[str, int]  # term -> frequency (sub-word occurrences included)
    length: int  # words (not sub-words)


def analyse(text: str | list[str] | tuple[str, ...], *, whole: bool = False) -> Analysed:
    """Index terms of a text (or of several texts of one field)."""
    texts = [text] if isinstance(text, str) else [t for t in text if t]
    counts: Counter = Counter()
    for t in texts:
        counts.update(rjieba.cut(normalize(t)))
    known = _INFO
    for tok in [t for t in counts if t not in known]:  # (comprehensions: the per-token
        info(tok)  # work of a 3,000-character letter stays mostly in C)
    skip = _SKIP
    terms = {t: n for t, n in counts.items() if t not in skip}
    length = sum(terms.values())
    get = terms.get
    has_subs = _HAS_SUBS
    for tok in [t for t in terms if t in has_subs]:
        n = counts[tok]
        for sub, _kind in _INFO[tok]:
            terms[sub] = get(sub, 0) + n
    if whole:  # names and numbers: also each value whole, as one term
        for t in texts:
            w = normalize(t).strip()
            if w and w not in terms:
                terms[w] = 1
    return Analysed(terms, length)


_SPACES = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """The text as phrases are matched against: normalised, without whitespace."""
    return _SPACES.sub("", normalize(text))


# Han characters: the basic block, extension A, compatibility ideographs, the other planes
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RUN = re.compile(f"[{_HAN}]{{2,}}")
_HAN_ONLY = re.compile(f"[{_HAN}]+")


def bigrams(squeezed: str) -> set[str]:
    """The pairs of adjacent Han characters in a squeezed text (黄泥塘村 → 黄泥, 泥塘, 塘村)."""
    out: set[str] = set()
    for run in _HAN_RUN.findall(squeezed):
        out.update(map(operator.add, run, run[1:]))
    return out


def han_runs(squeezed: str) -> Iterator[re.Match[str]]:
    """The runs of two or more Han characters in a squeezed text, with their offsets (the
    character pairs of ``bigrams`` are the pairs inside them)."""
    return _HAN_RUN.finditer(squeezed)


def only_han(text: str) -> bool:
    """Whether the text is Han characters only (then its pairs cover all of it)."""
    return _HAN_ONLY.fullmatch(text) is not None


@lru_cache(maxsize=4096)
def known_word(word: str) -> bool:
    """Whether jieba's dictionary has the word (rather than its HMM making it up)."""
    return rjieba.cut(word, hmm=False) == [word]


def main_words(text: str) -> list[str]:
    """The words of a text (no sub-words, no punctuation), normalised."""
    out = []
    for tok in tokens(text):
        kind = info(tok)
        if kind is not SPACE and kind is not PUNCT:
            out.append(tok)
    return out


# -- query parsing -------------------------------------------------------------------------

_QUOTE_PAIRS = {"“": "”", "「": "」", "『": "』", '"': '"', "＂": "＂", "”": "”", "„": "”"}


@dataclass
class Clause:
    """One searched item: a word, several words (all required), or a phrase."""

    words: tuple[str, ...]
    phrase: bool = False
    display: str = ""  # the text as the user typed it (normalised)
    # a string the letters may segment differently (several words, or a word jieba made
    # up): it also matches where its text occurs verbatim
    loose: bool = False

    @property
    def text(self) -> str:
        """What a phrase or a loose clause looks for: the squeezed display."""
        return squeeze(self.display)

    @property
    def needle(self) -> bytes:
        return self.text.encode("utf-8")


@dataclass
class ParsedQuery:
    # every group must match; a group matches when any of its clauses does
    groups: list[list[Clause]] = field(default_factory=list)
    excluded: list[Clause] = field(default_factory=list)
    error: str | None = None

    @property
    def empty(self) -> bool:
        return not self.groups

    def terms(self) -> list[str]:
        """The searched words, in order, without repeats (phrases whole)."""
        out: list[str] = []
        for group in self.groups:
            for c in group:
                for t in [c.display] if c.phrase else list(c.words):
                    if t and t not in out:
                        out.append(t)
        return out

    def highlight(self) -> list[tuple[str, ...]]:
        """What to mark in snippets: single words, and the text of a phrase or a loose
        clause, character by character (whitespace may separate them in the text)."""
        out: list[tuple[str, ...]] = []
        for group in self.groups:
            for c in group:
                items = [] if c.phrase else [(w,) for w in c.words]
                if c.phrase or c.loose:
                    items.insert(0, tuple(c.text))
                for it in items:
                    if it not in out:
                        out.append(it)
        return out


ERR_NOTHING = "检索词中没有可以检索的文字，请输入中文词语、数字或字母。"
ERR_ONLY_EXCLUDED = "检索式只有排除词（以“-”开头），请至少输入一个要查找的词。"


def _split_query(text: str) -> list[tuple[str, bool, bool]]:
    """(text, quoted, negated) items; an OR operator as ("OR", False, False)."""
    items: list[tuple[str, bool, bool]] = []
    buf: list[str] = []
    i, n = 0, len(text)

    def flush() -> None:
        if not buf:
            return
        word = "".join(buf)
        buf.clear()
        if word in ("OR", "|", "||"):
            items.append(("OR", False, False))
        elif word in ("AND", "&", "&&", "+"):
            pass
        elif word.startswith(("-", "－")) and len(word) > 1 and not word[1].isdigit():
            items.append((word[1:], False, True))
        else:
            items.append((word, False, False))

    while i < n:
        ch = text[i]
        if ch.isspace():
            flush()
            i += 1
            continue
        close = _QUOTE_PAIRS.get(ch)
        if close is not None:
            j = text.find(close, i + 1)
            if ch == '"':  # a straight quote may close on a curly one
                j2 = text.find("”", i + 1)
                if j2 >= 0 and (j < 0 or j2 < j):
                    j = j2
            if j < 0:  # unbalanced: the quote is ignored, the rest read as plain words
                i += 1
                continue
            negated = "".join(buf) in ("-", "－")
            if negated:
                buf.clear()
            else:
                flush()
            items.append((text[i + 1 : j], True, negated))
            i = j + 1
            continue
        buf.append(ch)
        i += 1
    flush()
    return items


# punctuation that joins the parts of one thing (a document number 穗教案〔2022〕119号, a
# date 2022.5.9, a code A-3): a bare query string with it inside is read as a phrase
JOINING = frozenset("〔〕【】[]()（）《》<>-–—./:·_#")


_EDGES = re.compile(r"^[\W_]+|[\W_]+$")  # punctuation around a string


def _clause(text: str, quoted: bool) -> Clause | None:
    norm = normalize(text).strip()
    words: list[str] = []
    joined = False
    for tok in tokens(norm, normalized=True):
        kind = info(tok)
        if kind is SPACE:
            continue
        if kind is not PUNCT:
            words.append(tok)
        elif words and all(ch in JOINING for ch in tok):
            joined = True
    if not words:
        return None
    # a quoted word with Han characters is a phrase too: its text wherever it occurs
    if ((quoted or joined) and len(words) > 1) or (quoted and _HAN_RUN.search(squeeze(norm))):
        return Clause(tuple(words), True, norm)
    words = list(dict.fromkeys(words))
    display = _EDGES.sub("", norm)
    loose = _HAN_RUN.search(squeeze(display)) is not None and (
        len(words) > 1 or not known_word(words[0])
    )
    return Clause(tuple(words), False, display if loose else norm, loose)


def parse_query(text: str) -> ParsedQuery:
    """Read a user's query (see the module doc); never raises."""
    q = ParsedQuery()
    if not text or not text.strip():
        return q
    join_next = False
    for word, quoted, negated in _split_query(text[:1000]):
        if word == "OR" and not quoted:
            join_next = bool(q.groups)
            continue
        c = _clause(word, quoted)
        if c is None:
            continue
        if negated:
            q.excluded.append(c)
        elif join_next:
            q.groups[-1].append(c)
        else:
            q.groups.append([c])
        join_next = False
    if not q.groups:
        q.error = ERR_ONLY_EXCLUDED if q.excluded else ERR_NOTHING
    return q


# -- similar letters ---------------------------------------------------------------------

# words common to reply letters, never the key terms of one
_STOP_TEXT = """
我们 你们 您们 他们 有关 关于 进行 工作 建议 提案 议案 答复 办理 代表 委员 感谢 关心 支持
意见 情况 相关 开展 加强 推进 进一步 目前 下一步 以及 同时 一是 二是 三是 四是 五是 其中
已经 没有 可以 通过 根据 按照 及时 认真 研究 收悉 如下 现将 联系人 联系电话 电话 抄送 公开
方式 主动 市府 办公厅 我局 我委 我市 全市 各区 有关部门 单位 部门 年度 时间 要求 问题 方面
重要 重视 高度 落实 继续 不断 积极 努力 切实 持续 逐步 全面 充分 更加 做好 提出 提升 提高
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def key_word_counts(text: str) -> Counter:
    """The words that may characterise a text, with their counts: two characters or more,
    not a number, not a stop word, ASCII only of three letters or more; in a long text
    (300 words or more) only those it has twice, so that a name or a number mentioned once
    does not count."""
    words = [
        w
        for w in main_words(text or "")
        if len(w) >= 2
        and not w.isdigit()
        and w not in STOP_WORDS
        and not (w.isascii() and len(w) < 3)
    ]
    counts = Counter(words)
    min_tf = 2 if len(words) >= 300 else 1
    return Counter({w: n for w, n in counts.items() if n >= min_tf})


def key_terms(
    counts: Counter, doc_frequency, n_docs: int, limit: int = 10
) -> list[tuple[str, float]]:
    """The words that characterise a text (`counts` from ``key_word_counts``): frequent
    in it, rare in the index (`doc_frequency(word)`: in how many of the `n_docs` letters);
    a word in no letter, or in more than 30% of 20 letters or more, is none."""
    scored = []
    for word, freq in counts.items():
        df = doc_frequency(word)
        if df == 0 or (n_docs >= 20 and df > 0.3 * n_docs):
            continue
        idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        scored.append((word, (1 + math.log(freq)) * idf))
    scored.sort(key=lambda kv: (-kv[1], kv[0]))
    return scored[:limit]
