"""Matching, BM25F scoring and facets over a small postings interface (no Whoosh here).

An index generation is seen through ``Postings`` (its postings, document frequencies and
letters' texts, by global docnum) and a ``DocTable`` (what filters, facets, visibility and
date order need of each document, and the body lengths). The engine builds both from
Whoosh's segments; the tests build them from lists (tests/test_search_query.py).

Matching
    The posting lists of the query's terms are read whole; the matching set comes from set
    operations (a word: union over the fields; AND/OR/exclusion; a phrase: the letters with
    its rarest character pairs, then a substring search in their texts, after the filters;
    a loose clause: the same, or all its words). A letter with the text of a loose clause
    ranks above those with its words apart, a word its segmentation cut otherwise scoring
    as if it were once in the body (``clause_scores``). Filters, visibility and facet
    counts use the ``DocTable`` lists (counts of large sets by per-value bit masks).

Scoring
    BM25 over fields with boosts (title and proposal title 3, proposers and numbers 2,
    issuer 1.5, body 1), summed over the query's words; length normalisation in the body
    only. The top of the page is taken with a heap; date order is a heap over a precomputed
    (date, id) key. Postings, words' document sets and scores are cached per snapshot
    (bounded; a new generation starts a new snapshot).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice, repeat
from operator import itemgetter
from typing import Protocol

from tracker.search import analysis
from tracker.search.base import FACETS, LetterDoc, SearchQuery, SearchResult, facet_lists

PAIRS = "pairs"  # the field of character pairs (tracker-search-4)
# field boosts (BM25F weights); the order is the order phrases are checked in
BOOSTS = {
    "title": 3.0,
    "proposal_title": 3.0,
    "proposers": 2.0,
    "refs": 2.0,
    "issuer": 1.5,
    "body": 1.0,
}
WORD_FIELDS = tuple(BOOSTS)
K1 = 1.2
B_BODY = 0.75  # length normalisation only for the body; the other fields are short
FACET_MASK_MIN = 2000  # facet counts of this many documents or more use bit masks
NARROW_ENOUGH = 200  # a text's candidates: pairs are intersected until this few are left
VERIFY_MAX = 20_000  # more candidates with all the pairs of a Han text are taken unread
RANKED_PREFIX = 2000  # a word's best documents kept in order (see Snapshot.word_ranked)


class Postings(Protocol):
    """What matching and scoring read of one index generation. Docnums run over the whole
    generation, 0 .. len(DocTable.ids) - 1; deleted documents are in no posting list."""

    has_pairs: bool  # the generation has the PAIRS field (an index of version 3 has not)

    def doc_count(self) -> int:
        """Documents not deleted."""

    def field_length(self, field: str) -> int:
        """The field's total length (words) over every document."""

    def live(self) -> list[int]:
        """The docnums not deleted, in order."""

    def postings(self, field: str, term: str) -> tuple[list[int], list[float]]:
        """Docnums (ascending) and weights (frequencies) of a term in a field."""

    def doc_frequency(self, field: str, term: str) -> int:
        """In about how many documents the field has the term (deleted ones may count)."""

    def containing(self, needle: bytes, docs: set[int]) -> set[int]:
        """Of `docs`, those whose squeezed text (UTF-8) contains `needle`."""


# -- per-document data --------------------------------------------------------------------

SEP = "\x1f"
_META_LEN = 4 + len(FACETS)


def encode_meta(doc: LetterDoc) -> bytes:
    """The ``meta`` column value of a letter: id, date, visibility and facet values."""
    day = doc.letter_on.toordinal() if doc.letter_on else 0
    values = [
        str(doc.id),
        str(day),
        "1" if doc.public else "0",
        "" if doc.restricted_unit_id is None else str(doc.restricted_unit_id),
        str(doc.year) if doc.year else "",
        doc.session or "",
        doc.kind or "",
        doc.issuer or "",
        doc.classification or "",
    ]
    return SEP.join(v.replace(SEP, " ") for v in values).encode("utf-8")


@dataclass
class DocTable:
    """Per-document lists by docnum: letter id, date order key, visibility, facet values
    and body length."""

    ids: list[int]
    dkey: list[int]  # (day << 32) + id: date order, the same on every page
    public: list[bool]
    unit: list[int | None]
    facets: dict[str, list[str]]
    body_len: list[int]

    @classmethod
    def empty(cls) -> DocTable:
        return cls([], [], [], [], {f: [] for f in FACETS}, [])

    @classmethod
    def from_meta(cls, values: Iterable[bytes], n: int, body_len: list[int]) -> DocTable:
        """The table of `n` documents from their ``meta`` values (missing or unreadable
        ones: a document of no letter, id -1) and body lengths."""
        t = cls.empty()
        facet_lists = [t.facets[f] for f in FACETS]
        blank = ["-1", "0", "0", ""] + [""] * len(FACETS)
        for raw in islice(values, n):
            parts = raw.decode("utf-8").split(SEP) if raw else blank
            if len(parts) != _META_LEN:
                parts = blank
            doc_id = int(parts[0])
            t.ids.append(doc_id)
            t.dkey.append((int(parts[1]) << 32) + (doc_id & 0xFFFFFFFF))
            t.public.append(parts[2] == "1")
            t.unit.append(int(parts[3]) if parts[3] else None)
            for lst, v in zip(facet_lists, parts[4:], strict=True):
                lst.append(v)
        while len(t.ids) < n:
            t.ids.append(-1)
            t.dkey.append(0)
            t.public.append(False)
            t.unit.append(None)
            for lst in facet_lists:
                lst.append("")
        t.body_len = body_len[:n] + [0] * (n - len(body_len))
        return t

    def frozen(self) -> DocTable:
        """The same table in tuples. A tuple of numbers and strings is left alone by
        Python's garbage collector (after its first pass), a list never: a server's
        100,000-document lists, kept for each segment and generation, made each full
        collection walk 2.5 million references (50-150 ms, a pause in whatever request
        was running)."""
        return DocTable(
            tuple(self.ids),
            tuple(self.dkey),
            tuple(self.public),
            tuple(self.unit),
            {name: tuple(values) for name, values in self.facets.items()},
            tuple(self.body_len),
        )

    def extend(self, other: DocTable) -> None:
        self.ids += other.ids
        self.dkey += other.dkey
        self.public += other.public
        self.unit += other.unit
        for f in FACETS:
            self.facets[f] += other.facets[f]
        self.body_len += other.body_len


class _Bounded:
    """Cached sets and dicts, the oldest dropped past `limit` entries in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict = OrderedDict()
        self._size = 0

    def get(self, key):
        return self._items.get(key)

    def put(self, key, value) -> None:
        items = self._items
        items[key] = value
        self._size += len(value) + 1
        while self._size > self.limit and len(items) > 1:
            _, old = items.popitem(last=False)
            self._size -= len(old) + 1


# -- one generation ----------------------------------------------------------------------


class Snapshot:
    """One index generation: its postings source, per-document lists and caches."""

    # per-snapshot caches (a new generation starts new ones); sizes in documents
    CACHE_POSTINGS = 1_000_000  # postings of (field, term)
    CACHE_WORDS = 600_000  # words' document sets and score dicts
    CACHE_PAIRS = 300_000  # character pairs' document sets (apart: they must not evict words)
    CACHE_VISIBLE = 1_000_000  # the documents each kind of viewer may see

    def __init__(self, source: Postings, docs: DocTable) -> None:
        self.source = source
        self.has_pairs = source.has_pairs
        self.ids = docs.ids
        self.dkey = docs.dkey
        self.public = docs.public
        self.unit = docs.unit
        self.facets = docs.facets
        self.body_len = docs.body_len
        self.n_all = len(self.ids)
        self.n_docs = max(1, source.doc_count())
        self.avg_body = max(1.0, source.field_length("body") / max(1, self.n_all))
        self.norm_a = K1 * (1 - B_BODY)  # BM25's K1 * (1 - b + b * length / average)
        self.norm_b = K1 * B_BODY / self.avg_body
        self._live: tuple[int, ...] | None = None
        self._live_set: set[int] | None = None
        self._totals: dict[tuple, dict[str, Counter]] = {}
        self._by_id: dict[int, int] | None = None
        self._cache: OrderedDict = OrderedDict()
        self._cached = 0
        self._words = _Bounded(self.CACHE_WORDS)
        self._pairs = _Bounded(self.CACHE_PAIRS)
        self._visible = _Bounded(self.CACHE_VISIBLE)
        self._df: dict[str, int] = {}
        self._masks: dict[str, dict[str, int] | None] = {}

    def facet_masks(self, name: str) -> dict[str, int] | None:
        """For each value of a facet, the int with byte d set to 1 where document d has it
        (None with more than 255 values)."""
        got = self._masks.get(name, 0)
        if got == 0:
            col = self.facets[name]
            values = sorted(set(col))
            got = None
            if len(values) <= 255:
                code = {v: i for i, v in enumerate(values)}
                codes = bytes(map(code.__getitem__, col))
                got = {}
                for i, v in enumerate(values):
                    table = bytes(1 if c == i else 0 for c in range(256))
                    got[v] = int.from_bytes(codes.translate(table), "little")
            self._masks[name] = got
        return got

    def visible(self, public_only: bool, unit_ids: frozenset[int] | None) -> set[int] | None:
        """The docnums a viewer may see (None: every one): published ones to the public,
        besides the unrestricted ones a unit's own restricted ones. One set per kind of
        viewer and generation: a test per document per search took most of a search for
        a common word."""
        if not public_only and unit_ids is None:
            return None
        key = (public_only, unit_ids)
        got = self._visible.get(key)
        if got is None:
            public, unit = self.public, self.unit
            got = {
                d
                for d in self.live()
                if (not public_only or public[d])
                and (unit_ids is None or unit[d] is None or unit[d] in unit_ids)
            }
            self._visible.put(key, got)
        return got

    def live_set(self) -> set[int]:
        if self._live_set is None:
            self._live_set = set(self.live())
        return self._live_set

    def facet_totals(self, scope: tuple[bool, frozenset[int] | None]) -> dict[str, Counter]:
        """Each facet's values counted over every letter the viewer of `scope` may see."""
        got = self._totals.get(scope)
        if got is None:
            docs = self.visible(*scope)
            docs = self.live() if docs is None else docs
            got = {name: Counter(map(self.facets[name].__getitem__, docs)) for name in FACETS}
            if len(self._totals) >= 64:  # one a unit at most; start again past that
                self._totals.clear()
            self._totals[scope] = got
        return got

    def live(self) -> tuple[int, ...]:
        if self._live is None:
            self._live = tuple(self.source.live())  # (tuples: see DocTable.frozen)
        return self._live

    def by_id(self) -> dict[int, int]:
        if self._by_id is None:
            ids = self.ids
            self._by_id = {ids[d]: d for d in self.live()}
        return self._by_id

    def postings(self, field: str, term: str) -> tuple[Sequence[int], Sequence[float]]:
        """Docnums and weights of a term in a field (deleted documents left out)."""
        key = (field, term)
        got = self._cache.get(key)
        if got is not None:
            self._cache.move_to_end(key)
            return got
        ids, ws = self.source.postings(field, term)
        got = (tuple(ids), tuple(ws))  # (tuples: see DocTable.frozen)
        self._cache[key] = got
        self._cached += len(got[0]) + 1
        while self._cached > self.CACHE_POSTINGS and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached -= len(old[0]) + 1
        return got

    def word_docs(self, word: str) -> set[int]:
        """Documents with the word in any field."""
        key = ("docs", word)
        got = self._words.get(key)
        if got is None:
            got = set()
            for field in WORD_FIELDS:
                ids, _ = self.postings(field, word)
                got.update(ids)
            self._words.put(key, got)
        return got

    def word_scores(self, word: str) -> dict[int, float]:
        """The word's BM25F score in each document that has it (fields weighted by
        BOOSTS; length normalisation in the body only)."""
        key = ("scores", word)
        got = self._words.get(key)
        if got is not None:
            return got
        n = self.n_docs
        parts = []
        for field, boost in BOOSTS.items():
            ids, ws = self.postings(field, word)
            if ids:
                parts.append((len(ids), field, boost, ids, ws))
        parts.sort(reverse=True)  # the longest list (the body's) first
        out: dict[int, float] = {}
        lens, na, nb = self.body_len, self.norm_a, self.norm_b
        for i, (df, field, boost, ids, ws) in enumerate(parts):
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            c = boost * idf * (K1 + 1)
            body = field == "body"
            if i == 0:
                if body:
                    out = {d: c * w / (w + na + nb * lens[d]) for d, w in zip(ids, ws, strict=True)}
                else:
                    out = {d: c * w / (w + K1) for d, w in zip(ids, ws, strict=True)}
                continue
            get = out.get
            for d, w in zip(ids, ws, strict=True):
                out[d] = get(d, 0.0) + c * w / (w + (na + nb * lens[d] if body else K1))
        self._words.put(key, out)
        return out

    def word_best(self, word: str) -> float:
        """The word's best score in any document (0 for a word no document has)."""
        key = ("best", word)
        got = self._words.get(key)
        if got is None:
            got = (max(self.word_scores(word).values(), default=0.0),)
            self._words.put(key, got)
        return got[0]

    def word_ranked(self, word: str) -> list[int]:
        """The word's best RANKED_PREFIX documents by score, equal scores the newest first:
        a search for one word takes its page from them (the first of them among the
        matches are the best of the matches), not by ranking the 100,000 letters a common
        word has on every search."""
        key = ("ranked", word)
        got = self._words.get(key)
        if got is None:
            scores, dkey = self.word_scores(word), self.dkey
            if len(scores) > RANKED_PREFIX:
                floor = heapq.nlargest(RANKED_PREFIX, scores.values())[-1]
                got = [d for d, v in scores.items() if v >= floor]
            else:
                got = list(scores)
            got.sort(key=lambda d: (scores[d], dkey[d]), reverse=True)
            del got[RANKED_PREFIX:]
            self._words.put(key, got)
        return got

    def pair_docs(self, pair: str) -> set[int]:
        """Documents whose text has these two characters in a row: the pair is one of their
        terms, or one of their character pairs."""
        got = self._pairs.get(pair)
        if got is None:
            got = self.word_docs(pair).union(self.source.postings(PAIRS, pair)[0])
            self._pairs.put(pair, got)
        return got

    def _pair_df(self, pair: str) -> int:
        """About how many documents have the pair (to read the rarest pairs first)."""
        df = self.source.doc_frequency
        return df("body", pair) + df(PAIRS, pair)

    def text_candidates(self, text: str) -> tuple[set[int], bool, bool] | None:
        """The documents that may have `text` (squeezed and normalised), from its character
        pairs (None when it has none or the index has no pairs): the documents with its
        rarest pairs, intersected until few are left or the next pair is in many more
        letters than are left.
        Also whether they certainly have it (the text is one pair), and whether they have
        all its pairs and the pairs cover the text (so that they very likely have it)."""
        pairs = analysis.bigrams(text) if self.has_pairs else ()
        if not pairs:
            return None
        df = {pair: self._pair_df(pair) for pair in pairs}
        pairs = sorted(pairs, key=df.__getitem__)
        docs = self.pair_docs(pairs[0])
        used = 1
        for pair in pairs[1:]:
            if len(docs) <= NARROW_ENOUGH:
                break
            if len(docs) <= VERIFY_MAX and df[pair] > 4 * len(docs):
                break  # (reading the candidates' texts costs less than this pair's postings)
            docs = docs & self.pair_docs(pair)
            used += 1
        return docs, text == pairs[0], used == len(pairs) and analysis.only_han(text)

    def containing(self, needle: bytes, docs: set[int]) -> set[int]:
        """Of `docs`, those whose squeezed text contains `needle`."""
        if not needle or not docs:
            return set()
        return self.source.containing(needle, docs)

    def doc_frequency(self, word: str) -> int:
        """In how many documents the word is in the body or the title (the larger)."""
        got = self._df.get(word)
        if got is None:
            df = self.source.doc_frequency
            got = max(df("body", word), df("title", word))
            if len(self._df) > 200_000:
                self._df.clear()
            self._df[word] = got
        return got


# -- matching -----------------------------------------------------------------------------


class _TextMatch:
    """How a phrase or a loose clause (see ``analysis``) matches: the documents with its
    text verbatim -- candidates from the index (the documents with the text's character
    pairs), then the text looked for in each candidate's squeezed text -- and, for a loose
    clause, also the documents with all its words anywhere."""

    def __init__(self, snap: Snapshot, clause: analysis.Clause, words: set[int]) -> None:
        self.snap = snap
        self.needle = clause.needle
        self.words = set() if clause.phrase else words  # matches with the words apart
        found = snap.text_candidates(clause.text)
        self.paired = found is not None  # the candidates have (some of) the text's pairs
        if found is not None:
            self.candidates, self.sure, self.complete = found
        elif clause.phrase or snap.has_pairs:  # a text without pairs: its words' documents
            self.candidates, self.sure, self.complete = words, False, False
        else:  # an index of the previous version (no pairs): every letter is read
            self.candidates, self.sure, self.complete = set(snap.live()), False, False
        self.docs = self.candidates | self.words  # every document that may match
        self.exact: set[int] = set()  # the documents found with the text

    @classmethod
    def of(cls, snap: Snapshot, clause: analysis.Clause, words: set[int]) -> _TextMatch | None:
        """The text match of a phrase, a loose clause or a word no letter has as a word;
        None for a clause matched by its words alone."""
        if clause.phrase or clause.loose:
            return cls(snap, clause, words)
        if not words and len(clause.words) == 1 and analysis.bigrams(clause.text):
            return cls(snap, clause, words)
        return None

    def verify(self, docs: set[int]) -> set[int]:
        """Of `docs` (some of ``self.docs``), those the clause matches; those with the text
        are added to ``exact``. Only the candidates without all the words of a loose clause
        are read: those with its words and its pairs are taken as having the text (it
        only lifts them above the letters with the words apart). When more than VERIFY_MAX
        letters have every pair of a Han text (a very common one), they are taken as having
        it, without reading them."""
        words = docs & self.words if self.words else set()
        todo = docs & self.candidates
        if todo and not self.sure and not (self.complete and len(self.candidates) > VERIFY_MAX):
            if self.paired and words:
                todo = (todo & words) | self.snap.containing(self.needle, todo - words)
            else:
                todo = self.snap.containing(self.needle, todo)
        self.exact = self.exact | todo if self.exact else todo
        return todo | words if words else todo


def clause_scores(
    snap: Snapshot, clause: analysis.Clause, docs: set[int], exact: set[int] = frozenset()
) -> dict[int, float]:
    """A clause's score in each of `docs` (which have all its words) and of `exact` (which
    have its text verbatim): the sum of its words' scores. In a document with the text, a
    word that the letter's segmentation cut otherwise counts as if it were once in the body,
    and the document scores above every one of `docs`, which have the words only apart."""
    dicts = [snap.word_scores(w) for w in clause.words]
    scores = _sums(dicts, docs)
    if not exact:
        return scores
    top = max(scores.values(), default=0.0)
    whole = exact  # those with every word, most of them
    for x in dicts:
        whole = whole & x.keys()
    scores.update(_sums(dicts, whole, top))
    n = snap.n_docs
    lens, na, nb = snap.body_len, snap.norm_a, snap.norm_b
    weights = []  # BM25 in the body: boost * idf * (K1 + 1)
    for word in clause.words:
        df = len(snap.word_docs(word))
        weights.append((K1 + 1) * math.log(1 + (n - df + 0.5) / (df + 0.5)))
    for d in exact - whole:  # tf 1: weight / (1 + K1 * (1 - b + b * length / average))
        once = 1.0 + na + nb * lens[d]
        scores[d] = top + sum(x.get(d) or w / once for x, w in zip(dicts, weights, strict=True))
    return scores


def _sums(dicts: list[dict[int, float]], docs, plus: float = 0.0) -> dict[int, float]:
    """For each of `docs` (which all the dicts have), `plus` and its values in the dicts."""
    first = dicts[0]
    out = {d: plus + first[d] for d in docs}
    for x in dicts[1:]:
        out = {d: v + x[d] for d, v in out.items()}
    return out


def match(
    snap: Snapshot,
    parsed: analysis.ParsedQuery,
    scored: bool,
    allowed,
    within: set[int] | None = None,
) -> tuple[set[int], dict[int, float] | None, str | None]:
    """The matching documents, restricted to `within` (a set of docnums, or None) and by
    `allowed` (a predicate on docnums, or None); their scores (None when not `scored`),
    the scores of more documents when the query is one word (that word's, given as the
    third value; else None).

    Sets first (a word: its documents in any field; a clause: all its words, or for a
    phrase or a loose clause the candidates for its text, see _TextMatch; a group: any
    of its clauses; the query: all groups, less the excluded), then filters, then the
    texts are looked for in the documents still in the running; scores are computed
    only for the result."""
    word_sets: dict[int, set[int]] = {}
    texts: dict[int, _TextMatch | None] = {}

    def words_docs(clause: analysis.Clause) -> set[int]:
        got = word_sets.get(id(clause))
        if got is None:
            sets = sorted((snap.word_docs(w) for w in clause.words), key=len)
            # (one word's own set: nothing here changes the sets of a clause)
            got = sets[0].intersection(*sets[1:]) if len(sets) > 1 else (sets or [set()])[0]
            word_sets[id(clause)] = got
        return got

    def text_match(clause: analysis.Clause) -> _TextMatch | None:
        if id(clause) not in texts:
            texts[id(clause)] = _TextMatch.of(snap, clause, words_docs(clause))
        return texts[id(clause)]

    def clause_docs(clause: analysis.Clause) -> set[int]:
        tm = text_match(clause)
        return words_docs(clause) if tm is None else tm.docs

    group_sets = []
    for group in parsed.groups:
        if len(group) == 1:
            group_sets.append(clause_docs(group[0]))
        else:
            group_sets.append(set().union(*(clause_docs(c) for c in group)))
    group_sets.sort(key=len)
    if within is not None:
        keys = within.intersection(*group_sets)
    else:
        keys = group_sets[0].intersection(*group_sets[1:])  # (a new set: changed below)
    if allowed is not None and keys:
        keys = set(filter(allowed, keys))
    for clause in parsed.excluded:
        if not keys:
            break
        out = keys & clause_docs(clause)
        tm = text_match(clause)
        if tm is not None and out:
            out = tm.verify(out)
        keys -= out
    # texts last: looked for only in the documents still in the running
    for group in parsed.groups:
        matches = [text_match(c) for c in group]
        if not keys or all(tm is None for tm in matches):
            continue
        valid: set[int] = set()
        for clause, tm in zip(group, matches, strict=True):
            cand = keys & clause_docs(clause)
            valid |= cand if tm is None else tm.verify(cand)
        keys = valid
    if not scored or not keys:
        return keys, None, None
    # score: the sum over groups of the best clause; a clause, the sum of its words
    if all(len(g) == 1 and texts[id(g[0])] is None for g in parsed.groups):
        words = [w for group in parsed.groups for w in group[0].words]
        dicts = [snap.word_scores(w) for w in words]
        first = dicts[0]
        if len(dicts) == 1:
            return keys, first, words[0]
        if len(dicts) == 2:
            second = dicts[1]
            return keys, {k: first[k] + second[k] for k in keys}, None
        acc = {k: first[k] for k in keys}
        for d in dicts[1:]:
            acc = {k: v + d[k] for k, v in acc.items()}
        return keys, acc, None
    parts = []
    for group in parsed.groups:
        alts = []
        for clause in group:
            tm = texts[id(clause)]
            if tm is None:
                alts.append(clause_scores(snap, clause, keys & words_docs(clause)))
            else:
                exact = keys & tm.exact
                apart = (keys & tm.words) - exact
                alts.append(clause_scores(snap, clause, apart, exact))
        parts.append(alts)
    if len(parts) == 1 and len(parts[0]) == 1:
        return keys, parts[0][0], None
    out = {}
    for d in keys:
        total = 0.0
        for alts in parts:
            best = 0.0
            for scores in alts:
                v = scores.get(d, 0.0)
                if v > best:
                    best = v
            total += best
        out[d] = total
    return keys, out, None


def allowed(
    snap: Snapshot, filters: dict[str, str], public_only: bool, unit_ids: frozenset[int] | None
):
    """A predicate on docnums for the facet filters and visibility, or None."""
    tests = []
    for name, value in filters.items():
        col = snap.facets[name]
        tests.append(lambda d, col=col, value=value: col[d] == value)
    visible = snap.visible(public_only, None if unit_ids is None else frozenset(unit_ids))
    if visible is not None:
        tests.append(visible.__contains__)
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda d: all(t(d) for t in tests)


def facet_counts(
    snap: Snapshot, docs, scope: tuple[bool, frozenset[int] | None] = (False, None)
) -> dict[str, list[tuple[str, int]]]:
    """The facets' values counted over `docs`, some of the letters the viewer of `scope`
    (public_only, unit_ids) may see."""
    counts: dict[str, Counter] = {}
    seen = snap.visible(*scope)
    seen = snap.live_set() if seen is None else seen
    if len(docs) >= FACET_MASK_MIN and 2 * len(docs) > len(seen):
        # most letters match (a common word): the totals less the letters that do not
        rest = seen.difference(docs)
        totals = snap.facet_totals(scope)
        for name in FACETS:
            counts[name] = totals[name] - Counter(map(snap.facets[name].__getitem__, rest))
        return facet_lists(counts)
    matched = None
    if len(docs) >= FACET_MASK_MIN:  # a byte a document, as one big int
        flags = bytearray(snap.n_all)
        deque(map(flags.__setitem__, docs, repeat(1)), maxlen=0)
        matched = int.from_bytes(flags, "little")
    for name in FACETS:
        masks = snap.facet_masks(name) if matched is not None else None
        if masks is not None:
            counts[name] = Counter({v: (matched & m).bit_count() for v, m in masks.items()})
        else:
            counts[name] = Counter(map(snap.facets[name].__getitem__, docs))
    return facet_lists(counts)


# -- a search -----------------------------------------------------------------------------


def rank(
    snap: Snapshot,
    query: SearchQuery,
    result: SearchResult,
    parsed: analysis.ParsedQuery,
    filters: dict[str, str],
) -> list[tuple[int, float]]:
    """Count the matches and their facets into `result`; return the page's docnums with
    their scores (0 in date order), best first."""
    by_date = parsed.empty or query.sort == "date"
    unit_ids = None if query.unit_ids is None else frozenset(query.unit_ids)
    word = None
    if parsed.empty:
        ok = allowed(snap, filters, query.public_only, unit_ids)
        live = snap.live()
        keys = [d for d in live if ok(d)] if ok is not None else live
        score = None
    else:  # (the viewer's letters as a set, the filters tested on what is left)
        visible = snap.visible(query.public_only, unit_ids)
        ok = allowed(snap, filters, False, None)
        keys, score, word = match(snap, parsed, not by_date, ok, visible)
    result.total = len(keys)
    if query.with_facets:
        result.facets = facet_counts(snap, keys, (query.public_only, unit_ids))
    start_, want = (result.page - 1) * result.per_page, result.page * result.per_page
    if start_ >= len(keys):
        return []
    if score is None:
        top = heapq.nlargest(want, keys, key=snap.dkey.__getitem__)
        return [(d, 0.0) for d in top[start_:want]]
    top = _best(keys, score, snap.dkey, want, snap.word_ranked(word) if word else None)
    return [(d, score[d]) for d in top[start_:want]]


def _best(
    keys, score: dict[int, float], dkey: list[int], want: int, ranked: list[int] | None = None
) -> list[int]:
    """The `want` best of `keys` by score, equal scores the newest first (the same on every
    page): the first of `ranked` (the best documents of all in that order, when the
    scores are one word's) that are in `keys` if there are enough of them; else the
    (score, date) pairs made only for the letters scoring at least the want-th best
    score, not for the 100,000 letters a common word matches."""
    if ranked is not None and len(keys) > 4 * want:
        top = list(islice(filter(keys.__contains__, ranked), want))
        if len(top) == want:
            return top
    if len(keys) > 4 * want:
        values = score.values() if len(score) == len(keys) else map(score.__getitem__, keys)
        floor = heapq.nlargest(want, values)[-1]
        if len(score) == len(keys):  # the same letters (every one of keys is scored)
            keys = [d for d, v in score.items() if v >= floor]
        else:
            keys = [d for d in keys if score[d] >= floor]
    return heapq.nlargest(want, keys, key=lambda d: (score[d], dkey[d]))


# -- similar letters ----------------------------------------------------------------------


def key_terms(snap: Snapshot, text: str, limit: int = 10) -> list[tuple[str, float]]:
    """The words that characterise `text` (``analysis.key_terms``), by the snapshot's
    document frequencies."""
    counts = analysis.key_word_counts(text or "")
    return analysis.key_terms(counts, snap.doc_frequency, snap.n_docs, limit)


def similar_docs(
    snap: Snapshot,
    terms: list[tuple[str, float]],
    limit: int,
    exclude: Iterable[int],
    public_only: bool,
    unit_ids: frozenset[int] | None,
) -> list[tuple[int, float]]:
    """The docnums that best match `terms` (an OR query, each word weighted by its
    weight), with their scores, best first; the letters `exclude` left out.

    The words are summed in their order (the rarer, weightier first) until the letters
    found so far include `limit` the viewer may see that score more than every word left
    could give a letter not yet found (MaxScore): then the words left, the common ones
    with the longest lists, are only looked up for the letters that can still make the
    best (a proposal page summed 40,000 scores for a topic's common words, 10-50 ms at
    100,000 letters). The sums, and the letters' order, are those of summing every word."""
    top_weight = terms[0][1]
    ok = allowed(snap, {}, public_only, unit_ids)
    by_id = snap.by_id()
    excluded = {by_id[i] for i in exclude if i in by_id}
    weighted = [(weight / top_weight, word) for word, weight in terms]
    # the most a letter not yet found can still get: from each word left, its best score
    left = [q * snap.word_best(word) for q, word in weighted]
    for i in range(len(left) - 2, -1, -1):
        left[i] += left[i + 1]
    scores: dict[int, float] = {}
    for i, (q, word) in enumerate(weighted):
        found = snap.word_scores(word)
        if i == 0:  # (0.0 + q * v is q * v: the same sums, without a lookup each)
            scores = {d: q * v for d, v in found.items()}
        else:
            get = scores.get
            for d, v in found.items():
                scores[d] = get(d, 0.0) + q * v
        if i + 1 < len(weighted) and left[0] - left[i + 1] > left[i + 1]:
            floor = _floor(scores, limit, excluded, ok)
            rest = left[i + 1] * (1 + 1e-9)  # (sums in another order round differently)
            if floor is not None and floor > rest:
                scores = {d: v for d, v in scores.items() if v + rest >= floor}
                for q, word in weighted[i + 1 :]:
                    get = snap.word_scores(word).get
                    for d, v in scores.items():
                        w = get(d)
                        if w is not None:
                            scores[d] = v + q * w
                break
    for d in excluded:
        scores.pop(d, None)
    score = scores.__getitem__
    if ok is None:
        top = heapq.nlargest(limit, scores, key=score)
    else:
        # the viewer's best are among the best of all unless most of those are hidden: the
        # first few dozen of all, filtered, and only if too few remain every letter (a test
        # per letter of a topic's 13,000 was a third of a proposal page). nlargest orders as
        # a stable sort does, so the letters and their order are the same either way.
        wide = heapq.nlargest(4 * limit + 16, scores, key=score)
        top = [d for d in wide if ok(d)][:limit]
        if len(top) < limit and len(wide) < len(scores):
            top = heapq.nlargest(limit, (d for d in scores if ok(d)), key=score)
    return [(d, scores[d]) for d in top]


def _floor(
    scores: dict[int, float], limit: int, excluded: set[int], ok: Callable[[int], bool] | None
) -> float | None:
    """The `limit`-th best of the sums so far of the letters the viewer may see, or None
    when too few of the best few dozen are such letters (then no letter is passed over)."""
    wide = heapq.nlargest(4 * limit + len(excluded) + 16, scores.items(), key=itemgetter(1))
    seen = [v for d, v in wide if d not in excluded and (ok is None or ok(d))]
    return seen[limit - 1] if len(seen) >= limit else None
