"""Matching, BM25F and facets (tracker.search.whoosh.query) over a fake postings source:
letters given as their terms and texts, no Whoosh index."""

from __future__ import annotations

import heapq
import math
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pytest

from tracker.search import analysis
from tracker.search.base import FACETS, LetterDoc, SearchQuery, start
from tracker.search.whoosh import query
from tracker.search.whoosh.query import (
    B_BODY,
    BOOSTS,
    K1,
    PAIRS,
    DocTable,
    Snapshot,
    encode_meta,
)


@dataclass
class Letter:
    """A letter as the index holds it: its terms per field (term -> frequency), its
    squeezed text, its body length and what the meta column says."""

    doc: LetterDoc
    terms: dict[str, dict[str, int]]
    text: str
    body_len: int = 0


@dataclass
class FakePostings:
    """``query.Postings`` over a list of letters (docnum = position); records what is read."""

    letters: list[Letter]
    deleted: set[int] = field(default_factory=set)
    has_pairs: bool = True
    reads: Counter = field(default_factory=Counter)
    searched: list[set[int]] = field(default_factory=list)

    def _terms(self, d: int, name: str) -> dict[str, int]:
        letter = self.letters[d]
        if name != PAIRS:
            return letter.terms.get(name, {})
        if not self.has_pairs:
            return {}
        known = set().union(*letter.terms.values())
        return dict.fromkeys(analysis.bigrams(letter.text) - known, 1)

    def doc_count(self) -> int:
        return len(self.letters) - len(self.deleted)

    def field_length(self, name: str) -> int:
        assert name == "body"
        return sum(letter.body_len for letter in self.letters)

    def live(self) -> list[int]:
        return [d for d in range(len(self.letters)) if d not in self.deleted]

    def postings(self, name: str, term: str) -> tuple[list[int], list[float]]:
        self.reads[(name, term)] += 1
        ids = [d for d in self.live() if term in self._terms(d, name)]
        return ids, [float(self._terms(d, name)[term]) for d in ids]

    def doc_frequency(self, name: str, term: str) -> int:
        return sum(term in self._terms(d, name) for d in range(len(self.letters)))

    def containing(self, needle: bytes, docs: set[int]) -> set[int]:
        self.searched.append(set(docs))
        return {d for d in docs if needle in self.letters[d].text.encode("utf-8")}


def snapshot(source: FakePostings) -> Snapshot:
    letters = source.letters
    meta = [encode_meta(letter.doc) for letter in letters]
    return Snapshot(source, DocTable.from_meta(meta, len(letters), [x.body_len for x in letters]))


def letter(id_, terms, text, body_len=0, **doc) -> Letter:
    return Letter(LetterDoc(id=id_, **doc), terms, analysis.squeeze(text), body_len)


TOILETS = letter(
    11,
    {
        "title": {"公厕": 1, "改造": 1, "提升": 1},
        "body": {"公厕": 2, "改造": 1, "提升": 1, "开放": 1},
    },
    "关于公厕改造提升的建议：公厕改造提升，公厕开放",
    20,
    letter_on=date(2023, 5, 20),
    public=True,
    issuer="城管局",
    kind="建议",
    classification="B类",
)
TOILETS_APART = letter(
    12,
    {"body": {"公厕": 1, "提升": 1, "改造": 1}},
    "公厕提升和改造",
    40,
    letter_on=date(2020, 1, 1),
    public=True,
    issuer="城管局",
    kind="建议",
)
LIFTS = letter(
    13,
    {"title": {"电梯": 1, "加装": 1}, "body": {"电梯": 3, "加装": 2, "黄": 3, "泥塘": 3}},
    "加装电梯：黄先生说泥塘边加装电梯电梯，黄先生，黄先生，泥塘，泥塘",
    30,
    letter_on=date(2023, 6, 1),
    issuer="住建局",
    kind="提案",
    classification="A类",
)
VILLAGE = letter(
    14,
    {"body": {"黄泥": 1, "塘村": 1, "电梯": 1}},
    "黄泥塘村的电梯",
    10,
    letter_on=date(2022, 8, 1),
    issuer="住建局",
    kind="建议",
    restricted_unit_id=7,
)
LETTERS = [TOILETS, TOILETS_APART, LIFTS, VILLAGE]


def search(snap: Snapshot, text: str = "", **kw) -> tuple:
    """(total, [(letter id, score)] of the page, facets) as the engine would answer."""
    q = SearchQuery(text=text, **kw)
    result, parsed, filters = start(q)
    assert result.error is None
    page = query.rank(snap, q, result, parsed, filters)
    return result.total, [(snap.ids[d], score) for d, score in page], result.facets


def ids(snap: Snapshot, text: str = "", **kw) -> list[int]:
    return [i for i, _ in search(snap, text, **kw)[1]]


@pytest.fixture
def source() -> FakePostings:
    return FakePostings(list(LETTERS))


@pytest.fixture
def snap(source) -> Snapshot:
    return snapshot(source)


def bm25(tf: float, df: int, n: int, boost: float, length: int | None = None, avg=1.0):
    """BM25 of one field, written out: the body normalises by length, other fields not."""
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    norm = K1 if length is None else K1 * (1 - B_BODY + B_BODY * length / avg)
    return boost * idf * (K1 + 1) * tf / (tf + norm)


def test_scores_are_bm25_summed_over_fields_with_boosts(snap):
    n, avg = 4, (20 + 40 + 30 + 10) / 4
    total, hits, _ = search(snap, "公厕")
    expected = {
        11: bm25(1, 1, n, BOOSTS["title"]) + bm25(2, 2, n, BOOSTS["body"], 20, avg),
        12: bm25(1, 2, n, BOOSTS["body"], 40, avg),
    }
    assert total == 2
    assert [i for i, _ in hits] == [11, 12]
    assert dict(hits) == pytest.approx(expected)
    # two words: the sum of their scores
    _, both, _ = search(snap, "公厕 开放")
    assert both[0][0] == 11
    assert both[0][1] == pytest.approx(expected[11] + bm25(1, 1, n, BOOSTS["body"], 20, avg))


def test_words_and_or_and_exclusion(snap):
    assert ids(snap, "公厕 改造") == [11, 12]
    assert sorted(ids(snap, "公厕 OR 电梯")) == [11, 12, 13, 14]
    assert ids(snap, "公厕 -开放") == [12]
    assert ids(snap, "公厕 电梯") == []
    assert ids(snap, "不存在") == []


def test_a_phrase_needs_its_text_verbatim(snap, source):
    assert ids(snap, '"改造提升"') == [11]  # 12 has both words, apart
    # the candidates come from the character pairs: only 11 has 造提, so only 11 is read
    assert source.searched == [{0}]
    assert ids(snap, '"提升和改造"') == [12]


def test_a_loose_clause_ranks_the_text_above_its_words_apart(snap):
    # 黄泥塘 is cut 黄 / 泥塘 in the query; 14 has the text (as 黄泥 / 塘村), 13 the words
    # (each three times: by the words alone, 13 would score higher)
    total, hits, _ = search(snap, "黄泥塘")
    assert total == 2
    assert [i for i, _ in hits] == [14, 13]
    assert hits[0][1] > hits[1][1]
    # a long letter with the text, segmented as the query is: above 13 too
    whole = letter(15, {"body": {"黄": 1, "泥塘": 1}}, "黄泥塘" + "。" * 50, 400)
    assert ids(snapshot(FakePostings([*LETTERS, whole])), "黄泥塘")[2] == 13


def test_an_index_without_pairs_reads_every_letter_for_a_loose_clause():
    source = FakePostings(list(LETTERS), has_pairs=False)
    snap = snapshot(source)
    assert ids(snap, "黄泥塘") == [14, 13]
    assert {0, 1, 3} <= set().union(*source.searched)  # letters without the words read too


def test_filters_and_visibility(snap):
    assert sorted(ids(snap, "电梯", filters={"issuer": "住建局"})) == [13, 14]
    assert ids(snap, "电梯", filters={"kind": "提案"}) == [13]
    assert ids(snap, "电梯", filters={"year": "2022"}) == [14]
    assert ids(snap, "公厕 OR 电梯", public_only=True) == [11, 12]
    assert sorted(ids(snap, "电梯", unit_ids=frozenset())) == [13]  # 14 is unit 7's only
    assert sorted(ids(snap, "电梯", unit_ids=frozenset({7}))) == [13, 14]
    assert ids(snap, "", filters={"issuer": "城管局"}) == [11, 12]  # filters alone: by date


def test_facet_counts_by_masks_equal_plain_counts(snap, monkeypatch):
    total, _, facets = search(snap, "公厕 OR 电梯")
    assert total == 4 and set(facets) == set(FACETS)
    assert facets["year"] == [("2023", 2), ("2022", 1), ("2020", 1)]  # newest first
    assert facets["issuer"] == [("住建局", 2), ("城管局", 2)]  # most first, then by name
    assert facets["kind"] == [("建议", 3), ("提案", 1)]
    assert facets["classification"] == [("A类", 1), ("B类", 1)]  # no "" for unclassified
    assert search(snap, "电梯", with_facets=False)[2] == {}
    monkeypatch.setattr(query, "FACET_MASK_MIN", 1)
    assert search(snapshot(FakePostings(list(LETTERS))), "公厕 OR 电梯")[2] == facets


def test_date_order_pages_and_ties(snap):
    assert ids(snap, "公厕 OR 电梯", sort="date") == [13, 11, 14, 12]
    pages = [search(snap, "公厕 OR 电梯", sort="date", per_page=3, page=p) for p in (1, 2, 3)]
    assert [total for total, _, _ in pages] == [4, 4, 4]
    assert [[i for i, _ in hits] for _, hits, _ in pages] == [[13, 11, 14], [12], []]
    # equal scores: the newest first, on every page
    twins = [
        letter(20 + n, {"body": {"公厕": 1}}, "公厕", 5, letter_on=date(2020 + n, 1, 1))
        for n in range(3)
    ]
    twin_snap = snapshot(FakePostings(twins))
    assert ids(twin_snap, "公厕") == [22, 21, 20]
    assert ids(twin_snap, "公厕", per_page=2, page=2) == [20]


def test_a_one_word_search_takes_its_pages_from_the_words_best_in_order(monkeypatch):
    # a common word: its best letters are kept in order once, and each page is the first of
    # them the viewer may see; the pages are those of ranking every match (score, then the
    # newest), ties included, for any viewer and filter, and past the kept ones as well
    monkeypatch.setattr(query, "RANKED_PREFIX", 40)
    rng = random.Random(5)
    letters = [
        letter(
            200 + n,
            {"body": {"工作": rng.randint(1, 3)}, "title": {"工作": 1} if n % 9 == 0 else {}},
            "工作",
            rng.choice((20, 30)),  # few lengths and counts: many equal scores
            letter_on=date(2018 + n % 7, 1 + n % 12, 1 + n % 28),
            public=n % 3 != 0,
            restricted_unit_id=rng.choice((None, None, 7)),
            kind=rng.choice(("建议", "提案")),
        )
        for n in range(300)
    ]
    snap = snapshot(FakePostings(letters))
    scores = snap.word_scores("工作")
    ranked = snap.word_ranked("工作")
    assert len(ranked) == 40 and len(scores) == 300

    def reference(public_only, unit_ids, filters):
        ok = query.allowed(snap, filters, public_only, unit_ids)
        docs = [d for d in scores if ok is None or ok(d)]
        docs.sort(key=lambda d: (scores[d], snap.dkey[d]), reverse=True)
        return [(snap.ids[d], scores[d]) for d in docs]

    views = [
        (False, None, {}),
        (True, None, {}),
        (False, frozenset({8}), {}),
        (False, None, {"kind": "提案"}),
        (True, None, {"kind": "建议"}),
    ]
    for public_only, unit_ids, filters in views:
        want = reference(public_only, unit_ids, filters)
        for page in (1, 2, 7):
            total, hits, _ = search(
                snap,
                "工作",
                public_only=public_only,
                unit_ids=unit_ids,
                filters=filters,
                per_page=5,
                page=page,
            )
            assert total == len(want)
            assert hits == want[(page - 1) * 5 : page * 5], (public_only, unit_ids, page)
    assert ranked is snap.word_ranked("工作")  # made once for the snapshot


def test_deleted_letters_are_not_found_or_counted():
    source = FakePostings(list(LETTERS), deleted={0})
    snap = snapshot(source)
    total, hits, facets = search(snap, "公厕 OR 电梯")
    assert total == 3 and 11 not in [i for i, _ in hits]
    assert facets["issuer"] == [("住建局", 2), ("城管局", 1)]
    assert snap.by_id() == {12: 1, 13: 2, 14: 3}
    assert snap.n_docs == 3


def test_postings_are_read_once_per_snapshot(snap, source):
    search(snap, "公厕")
    search(snap, "公厕 改造")
    assert source.reads[("body", "公厕")] == 1
    assert source.reads[("title", "公厕")] == 1


def test_key_terms_and_similar_letters(snap):
    terms = query.key_terms(snap, "老旧小区加装电梯，加装电梯，我们进一步加强")
    words = [w for w, _ in terms]
    assert "加装" in words and "电梯" in words
    assert not {"我们", "进一步", "加强"} & set(words)  # stop words
    top = query.similar_docs(snap, terms, 3, exclude=(), public_only=False, unit_ids=None)
    assert [snap.ids[d] for d, _ in top][:2] == [13, 14]
    without = query.similar_docs(snap, terms, 3, exclude=(13,), public_only=False, unit_ids=None)
    assert [snap.ids[d] for d, _ in without] == [14]
    hidden = query.similar_docs(snap, terms, 3, exclude=(), public_only=False, unit_ids=frozenset())
    assert [snap.ids[d] for d, _ in hidden] == [13]
    assert query.similar_docs(snap, terms, 3, exclude=(), public_only=True, unit_ids=None) == []


def test_similar_letters_pass_over_common_words_yet_give_every_sum_and_order():
    # a rare weighty word, a middling one and a common one in nearly every letter: once the
    # best letters are found, the common word is looked up for them, not summed for all;
    # the letters, their scores (to the last bit) and their order, ties included, are those
    # of summing every word for every letter
    rng = random.Random(11)
    letters = []
    for n in range(400):
        body = {"区域": rng.randint(1, 2)}  # nearly every letter
        if n % 4 == 0:
            body["学位"] = rng.randint(1, 3)
        if n % 20 == 0:
            body["盐田区"] = rng.randint(1, 2)
        letters.append(
            letter(
                1000 + n,
                {"body": body},
                "关于学位的建议",
                rng.choice((20, 30, 40)),  # equal lengths and counts: equal scores
                public=n % 3 == 0,
                restricted_unit_id=rng.choice((None, 7, 8)),
            )
        )
    source = FakePostings(letters)
    snap = snapshot(source)
    terms = [("盐田区", 4.0), ("学位", 2.0), ("区域", 0.3)]
    summed = Counter()
    word_scores = snap.word_scores

    def counted(word):
        scores = word_scores(word)

        class Counted(dict):
            def items(self):
                summed[word] += 1
                return scores.items()

        return Counted(scores)

    snap.word_scores = counted
    for public_only, unit_ids in ((False, None), (True, None), (False, frozenset({7}))):
        for limit, exclude in ((5, ()), (3, (1000, 1020)), (1, ())):
            summed.clear()
            got = query.similar_docs(snap, terms, limit, exclude, public_only, unit_ids)
            assert summed["盐田区"] == 1 and summed["区域"] == 0, summed
            want = _similar_reference(snap, terms, limit, exclude, public_only, unit_ids)
            assert got == want and len(got) == limit, (public_only, unit_ids, limit)
    # more letters asked for than have the two weightier words: every word summed
    summed.clear()
    got = query.similar_docs(snap, terms, 150, (), False, None)
    assert summed["区域"] == 1
    assert got == _similar_reference(snap, terms, 150, (), False, None)


def test_meta_round_trip_and_damaged_values():
    doc = LetterDoc(
        id=7,
        issuer="教育局\x1f某处",
        session="市十六届人大一次会议",
        kind="建议",
        classification="A类",
        letter_on=date(2022, 5, 9),
        public=True,
        restricted_unit_id=3,
    )
    table = DocTable.from_meta([encode_meta(doc), b"7\x1fbroken", b""], 4, [12, 3])
    assert table.ids == [7, -1, -1, -1]
    assert table.dkey[0] == (date(2022, 5, 9).toordinal() << 32) + 7
    assert table.public == [True, False, False, False]
    assert table.unit == [3, None, None, None]
    assert [table.facets[f][0] for f in FACETS] == [
        "2022",
        "市十六届人大一次会议",
        "建议",
        "教育局 某处",  # (the separator cannot be a value)
        "A类",
    ]
    assert table.body_len == [12, 3, 0, 0]


@pytest.mark.slow
def test_the_query_module_runs_without_whoosh():
    code = (
        "import sys\n"
        "from tracker.search.whoosh import query\n"
        "loaded = [m for m in sys.modules if m == 'whoosh' or m.startswith('whoosh.')]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _similar_reference(snap, terms, limit, exclude, public_only, unit_ids):
    """similar_docs as it was written first: every letter scored, every one tested."""
    ok = query.allowed(snap, {}, public_only, unit_ids)
    by_id, top_weight, scores = snap.by_id(), terms[0][1], {}
    for word, weight in terms:
        for d, v in snap.word_scores(word).items():
            scores[d] = scores.get(d, 0.0) + weight / top_weight * v
    for i in exclude:
        scores.pop(by_id.get(i), None)
    cands = scores if ok is None else [d for d in scores if ok(d)]
    return [(d, scores[d]) for d in heapq.nlargest(limit, cands, key=scores.__getitem__)]


def test_similar_letters_are_the_same_when_the_best_are_hidden_or_not():
    # the viewer's best are taken from the best few dozen of all when enough of those are
    # visible: the same letters, scores and order as testing every letter, ties included
    rng = random.Random(7)
    words = ["幼儿园", "公办", "学位", "普惠", "托育", "师资"]
    letters = [
        letter(
            100 + n,
            {"body": {w: rng.randint(1, 3) for w in rng.sample(words, rng.randint(1, 4))}},
            "关于幼儿园的建议",
            rng.choice((20, 40)),
            public=rng.random() < 0.03,  # the best of all: mostly not public
            restricted_unit_id=rng.choice((None, None, 7, 8)),
        )
        for n in range(250)
    ] + [  # the public ones score least (one word of the least weight)
        letter(350 + n, {"body": {"托育": 1}}, "托育", 40, public=True) for n in range(50)
    ]
    snap = snapshot(FakePostings(letters))
    terms = [("幼儿园", 3.0), ("公办", 2.0), ("学位", 1.5), ("托育", 1.0)]
    for public_only, unit_ids in ((False, None), (True, None), (False, frozenset({7}))):
        for limit, exclude in ((5, ()), (5, (100, 101, 102)), (40, ()), (1, ())):
            got = query.similar_docs(snap, terms, limit, exclude, public_only, unit_ids)
            want = _similar_reference(snap, terms, limit, exclude, public_only, unit_ids)
            assert got == want and len(got) == limit, (public_only, unit_ids, limit)
    # (the public's best lie past the best few dozen of all: the way round was taken)
    public = query.similar_docs(snap, terms, 40, (), True, None)
    assert sum(snap.ids[d] >= 350 for d, _ in public) > 20
