"""A letter as the PostgreSQL engine stores it: a tsvector built in Python from the Whoosh
engine's analysis (``tracker.search.analysis``), plus what filters, facets and hits need.

Lexemes
    Words: every jieba word of a field and the dictionary words inside it (``analysis.info``),
    as the Whoosh engine indexes them, at the position of the word in the letter's squeezed
    text (``analysis.squeeze``: normalised, without whitespace). The weight says the field:
    A title and proposal title, B issuer, proposers and numbers (also each whole, as
    ``analysis.analyse(..., whole=True)`` does), C body.

    Text units, with the prefix ``MARK`` and the field's weight: every pair of adjacent Han characters
    (``analysis.han_runs``) and every run of ASCII letters and digits of the squeezed text, at
    its offset. A text (a phrase, or a string the letters segment otherwise) is then found by
    its units at the right distances (``'~黄泥' <-> '~泥塘'``): exactly, whatever the
    segmentation of the letter, and never across punctuation or fields (a field starts a
    position after the previous one ends).

    The titles' words and units once more, with the prefix ``TITLE_MARK`` and no positions
    (``'^工作'``, ``'^~工作'``): the letters with a word in their titles, which a search of
    a very common word ranks apart (engine), are the marked lexeme's few postings.

Built ahead
    An import builds its letters' rows in its worker processes (``built_ahead``, from the
    parsed letters) and hands them to this process (``keep``): ``build`` then takes the row
    kept for exactly the same texts instead of building it again. A row is a function of
    the texts alone, so a kept row is the row ``build`` would make.

Limits
    PostgreSQL keeps positions up to 16,383 and 256 positions a lexeme. A letter whose squeezed
    text is longer, or that has a unit more than 256 times, is stored ``complete=False``: its
    texts are looked for in its squeezed fields (``squeezed``) instead.
"""

from __future__ import annotations

import operator
import re
import threading
from dataclasses import dataclass
from itertools import islice

from tracker.search import analysis
from tracker.search.analysis import MISSING, PREFIX, PUNCT, SPACE, SUFFIX
from tracker.search.base import LetterDoc

MARK = "~"  # text units start with it (no word does: jieba cuts punctuation apart)
TITLE_MARK = "^"  # a lexeme of the titles, again on its own, without positions
MAX_POSITION = 16383
MAX_POSITIONS = 256  # a lexeme's positions PostgreSQL keeps
# a word's first positions are enough for ranking (ts_rank counts the j-th occurrence 1/j²)
WORD_POSITIONS = 16
MAX_LEXEME_BYTES = 2047
MAX_TSVECTOR_BYTES = (1 << 20) - 1
SEPARATOR = "\n"  # between the squeezed fields (never inside a squeezed text)

TITLE, NAMES, BODY = 3, 2, 1  # weights A, B, C (D, 0, is unused)
_WEIGHT = "DCBA"
ASCII_RUN = re.compile(r"[0-9a-z]+")


@dataclass(frozen=True)
class Row:
    tsv: str  # a tsvector literal
    complete: bool  # every unit's positions kept: texts are found by their units alone


def segments(doc: LetterDoc) -> list[tuple[str, int, bool]]:
    """(text, weight, whole) of each field value, short fields first: their positions stay
    well under the limit however long the body."""
    out = [(doc.title, TITLE, False), (doc.proposal_title, TITLE, False)]
    out.append((doc.issuer, NAMES, False))
    out += [(p, NAMES, True) for p in doc.proposers]
    out += [(r, NAMES, True) for r in (doc.proposal_number, doc.doc_number)]
    out.append((doc.body, BODY, False))
    return [(t.replace("\x00", ""), w, whole) for t, w, whole in out if t]


def build(doc: LetterDoc) -> Row:
    """The letter's row: the one kept for its texts (``keep``), else built now."""
    key = tuple(segments(doc))
    if _kept:
        with _kept_lock:
            row = _kept.pop(key, None)
        if row is not None:
            return row
    return _build(key)


# Rows built ahead by an import's workers, by their texts, until written (at most KEEP, some
# 70 kB each with their texts: the oldest go first, e.g. those of letters rolled back before
# they were written, or of an import that commits less often; those are built again).
KEEP = 2000
_kept: dict[tuple, Row] = {}
_kept_lock = threading.Lock()


def built_ahead(letter) -> tuple[tuple, Row]:
    """The row of a parsed letter (``ParsedLetter``: its fields as the importer saves them,
    read back as ``services.indexing.letter_doc`` does), and its texts: the key ``keep``
    files it under. Pure: runs in an import's worker processes."""
    doc = LetterDoc(id=0, **LetterDoc.texts(letter))
    key = tuple(segments(doc))
    return key, _build(key)


def keep(key: tuple, row: Row) -> None:
    """Keep a row built ahead until ``build`` is asked for a letter with these texts."""
    with _kept_lock:
        _kept[key] = row
        while len(_kept) > KEEP:
            del _kept[next(iter(_kept))]


def _build(segments_: tuple[tuple[str, int, bool], ...]) -> Row:
    words: dict[str, list[int]] = {}  # lexeme -> codes (position << 2 | weight)
    pairs: dict[str, list[int]] = {}  # character pair -> codes
    runs: dict[str, list[int]] = {}  # ASCII letters and digits -> codes
    base = 1  # the position of the next field's first character
    titles = (0, 0, 0)  # how many of each table's lexemes the titles (the first fields) have
    quoting = False
    for text, weight, whole in segments_:
        norm = analysis.normalize(text)
        quoting = quoting or "'" in norm or "\\" in norm
        _add_words(words, norm, base, weight)
        if whole:
            value = norm.strip()
            if value:
                words.setdefault(value, []).append(base << 2 | weight)
        squeezed = analysis.squeeze(text)
        _add_units(pairs, runs, squeezed, base, weight)
        base += len(squeezed) + 1
        if weight == TITLE:  # a lexeme first met in a title is one of the first inserted
            titles = (len(words), len(pairs), len(runs))
    complete = base - 1 <= MAX_POSITION
    code = (_CODES if complete else _Clamped()).__getitem__
    join = ",".join
    quoted = _quoted if quoting else str
    lexemes = [
        f"'{quoted(k)}':{join(map(code, v[:WORD_POSITIONS]))}"
        for k, v in words.items()
        if len(k) * 3 <= MAX_LEXEME_BYTES or len(k.encode("utf-8")) <= MAX_LEXEME_BYTES
    ]
    units = [f"'{MARK}{k}':{join(map(code, v))}" for k, v in pairs.items()]
    for k, v in runs.items():
        if len(k) < MAX_LEXEME_BYTES:
            units.append(f"'{MARK}{k}':{join(map(code, v))}")
        else:
            complete = False
    if complete and max(map(len, pairs.values()), default=0) > MAX_POSITIONS:
        complete = False
    if complete and max(map(len, runs.values()), default=0) > MAX_POSITIONS:
        complete = False
    # the titles' words and units again, marked: the letters with a word in their titles are
    # the marked lexeme's postings (a title's few), not the word's every letter read for
    # its weights (a word in all 100,000 letters: 70 ms)
    in_titles = [islice(words, titles[0]), islice(pairs, titles[1]), islice(runs, titles[2])]
    titled = [
        f"'{TITLE_MARK}{quoted(k)}'"
        for k in in_titles[0]
        if len(k.encode("utf-8")) < MAX_LEXEME_BYTES
    ]
    titled += [
        f"'{TITLE_MARK}{MARK}{k}'"
        for keys in in_titles[1:]
        for k in keys
        if len(k) < MAX_LEXEME_BYTES - 1
    ]
    if sum(map(len, lexemes)) + sum(map(len, units)) + sum(map(len, titled)) > MAX_TSVECTOR_BYTES:
        units, complete = [], False  # an enormous text: its texts are read instead
    return Row(" ".join(lexemes + units + titled), complete)


def _quoted(lexeme: str) -> str:
    if "'" in lexeme or "\\" in lexeme:
        return lexeme.replace("\\", "\\\\").replace("'", "''")
    return lexeme


def _add_words(words: dict[str, list[int]], norm: str, base: int, weight: int) -> None:
    """The words of a field (normalised), and the words inside them, at their positions."""
    pos = base
    get = words.get
    known = analysis.known_info
    for tok in analysis.tokens(norm, normalized=True):
        kind = known(tok, MISSING)
        if kind is MISSING:
            kind = analysis.info(tok)
        if kind is SPACE:  # not in the squeezed text
            continue
        if kind is not PUNCT:
            code = pos << 2 | weight
            got = get(tok)
            if got is None:
                words[tok] = [code]
            else:
                got.append(code)
            if kind:
                n = len(tok)
                for sub, where in kind:
                    off = (
                        0 if where == PREFIX else n - len(sub) if where == SUFFIX else tok.find(sub)
                    )
                    got = get(sub)
                    if got is None:
                        words[sub] = [code + (off << 2)]
                    else:
                        got.append(code + (off << 2))
        pos += len(tok)


def _add_units(
    pairs: dict[str, list[int]], runs: dict[str, list[int]], squeezed: str, base: int, weight: int
) -> None:
    """The character pairs and ASCII runs of a squeezed field, at their positions."""
    get = pairs.get
    add = operator.add
    for m in analysis.han_runs(squeezed):
        run = m.group()
        code = (base + m.start()) << 2 | weight
        for pair in map(add, run, run[1:]):
            got = get(pair)
            if got is None:
                pairs[pair] = [code]
            else:
                got.append(code)
            code += 4
    for m in ASCII_RUN.finditer(squeezed):
        runs.setdefault(m.group(), []).append((base + m.start()) << 2 | weight)


# "5C" for each code (position << 2 | weight); weight D is PostgreSQL's default, unwritten
_CODES = [f"{c >> 2}{_WEIGHT[c & 3] if c & 3 else ''}" for c in range(4 * MAX_POSITION + 4)]


class _Clamped:
    """_CODES for any position: beyond the last, the last (as PostgreSQL would)."""

    def __getitem__(self, code: int) -> str:
        return _CODES[min(code, 4 * MAX_POSITION + (code & 3))]


def squeezed(doc: LetterDoc) -> str:
    """The letter's fields squeezed, SEPARATOR between them: where its texts are looked for
    when its positions cannot say."""
    return SEPARATOR.join(analysis.squeeze(t) for t, _, _ in segments(doc))
