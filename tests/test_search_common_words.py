"""A common word matches most letters: the Whoosh engine's answers for it (the page's hits
in order, the total, the facet counts, what each viewer may see) are those of the plain
definitions, and a search does not test each matching letter's visibility again."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from test_search_query import FakePostings, ids, letter, search, snapshot

from tracker.search.base import FACETS
from tracker.search.whoosh import query

ISSUERS = ("城管局", "住建局", "教育局", "民政局")


def _letters(n: int = 300) -> list:
    """Letters that all have 工作, with many equal scores (three frequencies, three
    lengths), a third not published, a fifth restricted to unit 7 or 8."""
    out = []
    for d in range(n):
        out.append(
            letter(
                1000 + d,
                {"body": {"工作": 1 + d % 3, "学校": 1} if d % 4 == 0 else {"工作": 1 + d % 3}},
                "工作学校" if d % 4 == 0 else "工作",
                10 * (1 + d % 3),
                letter_on=date(2018 + d % 7, 1 + d % 12, 1),
                public=d % 3 != 0,
                restricted_unit_id=(7 if d % 2 else 8) if d % 5 == 0 else None,
                issuer=ISSUERS[d % 4],
                kind="建议" if d % 2 else "提案",
                classification="ABC"[d % 3] + "类",
            )
        )
    return out


def _expected(snap, word: str, public_only: bool, unit_ids, per_page: int, page: int):
    """The plain definitions: every matching letter the viewer may see, best score first,
    equal scores the newest first; the facets counted letter by letter."""
    scores = snap.word_scores(word)
    seen = [
        d
        for d in scores
        if (not public_only or snap.public[d])
        and (unit_ids is None or snap.unit[d] is None or snap.unit[d] in unit_ids)
    ]
    order = sorted(seen, key=lambda d: (scores[d], snap.dkey[d]), reverse=True)
    hits = [(snap.ids[d], scores[d]) for d in order[(page - 1) * per_page : page * per_page]]
    facets = {}
    for name in FACETS:
        counts = +Counter(snap.facets[name][d] for d in seen)
        counts.pop("", None)
        if name == "year":
            facets[name] = sorted(counts.items(), reverse=True)
        else:
            facets[name] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return len(seen), hits, facets


@pytest.mark.parametrize(
    "scope",
    [
        {},
        {"public_only": True, "unit_ids": frozenset()},
        {"unit_ids": frozenset({7})},
        {"unit_ids": frozenset()},
    ],
)
@pytest.mark.parametrize("word", ["工作", "学校"])
def test_a_common_words_page_total_and_facets_are_the_plain_ones(monkeypatch, scope, word):
    monkeypatch.setattr(query, "FACET_MASK_MIN", 10)
    snap = snapshot(FakePostings(_letters(), deleted={3, 4, 150}))
    for page in (1, 2, 7):
        got = search(snap, word, per_page=5, page=page, **scope)
        want = _expected(
            snap, word, scope.get("public_only", False), scope.get("unit_ids"), 5, page
        )
        assert got == want, (scope, word, page)
    assert 1003 not in ids(snap, word, per_page=400, **scope)  # deleted


class _Counted(list):
    """A per-letter list that counts its reads."""

    reads = 0

    def __getitem__(self, i):
        type(self).reads += 1
        return super().__getitem__(i)


def test_a_search_does_not_test_each_matching_letters_visibility_again(monkeypatch):
    # the public search for 工作 tested 100,000 letters one by one (most of its time)
    snap = snapshot(FakePostings(_letters()))
    monkeypatch.setattr(_Counted, "reads", 0)
    snap.public = _Counted(snap.public)
    snap.unit = _Counted(snap.unit)
    public = {"public_only": True, "unit_ids": frozenset()}
    first = search(snap, "工作", **public)
    after_first = _Counted.reads
    assert search(snap, "工作", **public) == first
    assert search(snap, "学校", **public)[0] > 0
    assert _Counted.reads == after_first  # the second and third searches read none
