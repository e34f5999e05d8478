"""Whoosh's internals in one room (tracker.search.whoosh.w3): what the engine writes and
reads through them is what Whoosh's public API reads, and the public fallback that another
Whoosh version gets gives the same answers."""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import tomllib
import warnings
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from whoosh import index, scoring, writing
    from whoosh.codec import whoosh3
    from whoosh.query import Or, Term

from tracker.letters.parser import NotALetter, parse_letter
from tracker.search.base import LetterDoc, SearchQuery
from tracker.search.whoosh import merges, w3
from tracker.search.whoosh.engine import WhooshEngine
from tracker.search.whoosh.query import B_BODY, BOOSTS, K1, PAIRS, WORD_FIELDS

ROOT = Path(__file__).resolve().parent.parent


def real_letters() -> list[LetterDoc]:
    """The seed letter and the parser's test letters, as the tracker indexes them."""
    paths = [ROOT / "corpus" / "000_983cdb5ab656f1f2.txt"]
    paths += sorted((ROOT / "tests" / "letters").glob("*.txt"))
    docs = []
    for n, path in enumerate(paths):
        try:
            p = parse_letter(path.read_text(encoding="utf-8"))
        except NotALetter:
            continue
        docs.append(
            LetterDoc(
                id=100 + n,
                title=p.title or "",
                proposal_title=p.proposal_title or "",
                body=p.body,
                proposers=tuple(p.proposers),
                issuer=p.issuer or "",
                doc_number=p.doc_number or "",
                proposal_number=p.proposal_number or "",
                session=p.session or "",
                kind=p.proposal_kind or "",
                classification=p.classification or "",
                letter_on=date.fromisoformat(p.letter_date) if p.letter_date else None,
                source=path.name,
                public=p.disclosure == "主动公开",
                restricted_unit_id=7 if p.disclosure == "不予公开" else None,
            )
        )
    return docs


LETTERS = real_letters()
ADDED = "\n补充说明：学校心理辅导室已全覆盖，黄泥塘村通学道路已完成修缮。"


def write_in_steps(eng: WhooshEngine) -> set[int]:
    """A rebuild, one commit per letter (small segments, merged along the way), a letter
    replaced and two removed; returns the ids left."""
    eng.rebuild([LetterDoc(id=999, body="旧的答复：学校建设")])
    for doc in LETTERS:
        eng.index([doc])
    eng.index([replace(LETTERS[0], body=LETTERS[0].body + ADDED)])
    eng.remove([LETTERS[1].id, 999])
    return {d.id for d in LETTERS} - {LETTERS[1].id}


@pytest.fixture(params=[True, False], ids=["internals", "public-api"])
def internals(request, monkeypatch):
    """Whoosh's internals used (the tested version) or not (the fallback)."""
    monkeypatch.setattr(w3, "INTERNALS", request.param)
    monkeypatch.setattr(merges, "MERGE_FACTOR", 3)
    return request.param


def bm25f(searcher, fieldname, text, matcher) -> float:
    """The engine's BM25F, computed from what Whoosh's public API reads: live document
    frequency, frequency (the posting's weight), body length and average."""
    if fieldname not in BOOSTS:  # (the id)
        return 1.0
    top = searcher.get_parent()
    n = top.doc_count()
    df = len(list(top.reader().postings(fieldname, text).all_ids()))
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    tf = matcher.weight()
    norm = K1
    if fieldname == "body":
        avg = max(1.0, top.field_length("body") / top.doc_count_all())
        length = searcher.reader().doc_field_length(matcher.id(), "body")
        norm = K1 * (1 - B_BODY + B_BODY * length / avg)
    return BOOSTS[fieldname] * idf * (K1 + 1) * tf / (tf + norm)


def public_postings(reader, field: str, tbytes: bytes) -> tuple[list[int], list[float]]:
    m = reader.postings(field, tbytes)
    ids, ws = [], []
    while m.is_active():
        ids.append(m.id())
        ws.append(float(m.weight()))
        m.next()
    return ids, ws


def test_what_the_engine_wrote_is_what_whoosh_reads(tmp_path, internals):
    eng = WhooshEngine(tmp_path / "ix")
    left = write_in_steps(eng)
    snap = eng._current()
    ix = index.open_dir(str(tmp_path / "ix"))
    with ix.searcher(weighting=scoring.FunctionWeighting(bm25f)) as s:
        reader = s.reader()
        assert len(list(reader.leaf_readers())) > 1  # several segments, and merged ones
        # documents
        assert s.doc_count() == len(left) == len(eng.ids()) == len(snap.live())
        for i in left:
            assert [hit["doc"][0] for hit in s.search(Term("id", str(i)))] == [i]
        for gone in (LETTERS[1].id, 999):
            assert s.search(Term("id", str(gone))).scored_length() == 0
        live = list(reader.all_doc_ids())
        assert live == list(snap.live())
        assert [snap.ids[d] for d in live] == [s.stored_fields(d)["doc"][0] for d in live]
        assert [snap.body_len[d] for d in live] == [
            reader.doc_field_length(d, "body") for d in live
        ]
        # every posting list the engine reads is the one Whoosh reads
        compared = 0
        for field, tbytes in reader.all_terms():
            if field not in (*WORD_FIELDS, PAIRS):
                continue
            theirs = public_postings(reader, field, tbytes)
            ids, weights = snap.postings(field, tbytes.decode("utf-8"))
            assert (list(ids), list(weights)) == theirs, (field, tbytes)
            compared += bool(theirs[0])
        assert compared > 2000
        # the same letters and scores, in the same order, as BM25F over Whoosh's readings
        for word in ("教育", "学校", "建设", "健康", "沟通", "资源", "中小学", "心理健康"):
            ours = eng.search(SearchQuery(text=word, per_page=100, with_facets=False))
            hits = s.search(Or([Term(f, word) for f in WORD_FIELDS]), limit=None)
            theirs = {hit["doc"][0]: hit.score for hit in hits}
            assert ours.total == len(theirs) > 0, word
            assert {h.letter_id: h.score for h in ours.hits} == pytest.approx(theirs, abs=1e-3)
            ranked = [theirs[h.letter_id] for h in ours.hits]
            assert ranked == pytest.approx(sorted(theirs.values(), reverse=True), abs=1e-3)
    ix.close()
    eng.close()


QUERIES = [
    SearchQuery(text="教育", per_page=50),
    SearchQuery(text="学校 建设", per_page=50),
    SearchQuery(text="教育 OR 交通", per_page=50),
    SearchQuery(text="建设 -学校", per_page=50),
    SearchQuery(text='"心理健康教育"', per_page=50),
    SearchQuery(text="学校建设", per_page=50),  # a loose clause: the text, or its words apart
    SearchQuery(text="黄泥塘", per_page=50),  # a name inside a longer word (黄泥塘村)
    SearchQuery(text="心理辅导室", per_page=50),
    SearchQuery(text="建设", per_page=3, page=2),
    SearchQuery(text="建设", public_only=True, per_page=50),
    SearchQuery(text="建设", unit_ids=frozenset(), per_page=50),
    SearchQuery(filters={"kind": "提案"}, sort="date", per_page=50),
]


def answers(eng: WhooshEngine) -> list:
    out = []
    for q in QUERIES:
        r = eng.search(q)
        out.append((r.total, [(h.letter_id, h.score, h.snippet) for h in r.hits], r.facets))
    for doc in LETTERS[:3]:
        out.append(eng.similar(doc.title + "\n" + doc.body, limit=5, exclude=[doc.id]))
    return out


def test_the_public_api_writes_and_reads_what_the_internals_do(tmp_path, monkeypatch):
    monkeypatch.setattr(merges, "MERGE_FACTOR", 3)
    written = {}
    for on in (True, False):
        monkeypatch.setattr(w3, "INTERNALS", on)
        eng = WhooshEngine(tmp_path / str(on))
        with eng._writer() as writer:
            assert writer.fast is on
            writer.cancel()
        write_in_steps(eng)
        written[on] = answers(eng)
        eng.close()
    expected = written[True]
    assert all(total for total, _, _ in expected[:4])
    assert [total for total, _, _ in expected[4:7]] == [1, 3, 1]
    assert written[False] == expected
    for on in (True, False):  # each way reads the other's index
        monkeypatch.setattr(w3, "INTERNALS", on)
        eng = WhooshEngine(tmp_path / str(not on))
        assert answers(eng) == expected
        eng.close()


def test_the_public_api_rebuilds_and_merges_large_batches(tmp_path, monkeypatch):
    # (with the internals: test_search_engine.py's helper process tests)
    monkeypatch.setattr(w3, "INTERNALS", False)
    monkeypatch.setattr(merges, "MERGE_FACTOR", 3)
    monkeypatch.setattr("tracker.search.whoosh.engine.PARALLEL_MIN", 4)
    eng = WhooshEngine(tmp_path / "ix")
    assert eng.rebuild(iter(LETTERS)) == len(LETTERS)
    for round_ in range(1, 4):
        eng.index([replace(d, id=d.id + 1000 * round_) for d in LETTERS])
    assert len(eng.ids()) == 4 * len(LETTERS)
    assert len(eng._ix._read_toc().segments) < 4  # merged along the way
    total = eng.search(SearchQuery(text="教育")).total
    assert total == 4 * sum("教育" in d.title + d.body for d in LETTERS)
    eng.close()


# -- the version check ------------------------------------------------------------------------


def test_the_internals_are_used_only_with_the_tested_whoosh(monkeypatch):
    assert w3.INTERNALS and w3.FALLBACK_REASON is None  # the version pinned and installed
    assert w3.check((2, 7, 5)) is None
    assert w3.check((2, 8, 0)) == "Whoosh 2.8.0 is not the version tested (2.7.5)"
    assert w3.check("3.0.0b1") == "Whoosh 3.0.0b1 is not the version tested (2.7.5)"
    monkeypatch.delattr(writing.SegmentWriter, "_commit_toc")
    assert w3.check() == "SegmentWriter has no _commit_toc"
    monkeypatch.undo()
    monkeypatch.setattr(whoosh3.W3TermInfo, "_struct", struct.Struct("!BfIBBfIIi"))
    assert w3.check() == "W3TermInfo's byte layout changed"


def test_the_whoosh_pinned_is_the_version_tested():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    tested = ".".join(map(str, w3.TESTED_VERSION))
    assert [d for d in project["dependencies"] if "whoosh" in d] == [f"whoosh-reloaded=={tested}"]


@pytest.mark.slow
def test_another_whoosh_version_gets_the_public_api_at_import(tmp_path):
    code = f"""
import logging, sys
from datetime import date
logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s")
import whoosh
whoosh.__version__ = (2, 8, 0)
from tracker.search.base import LetterDoc, SearchQuery
from tracker.search.whoosh import w3
from tracker.search.whoosh.engine import WhooshEngine
eng = WhooshEngine({str(tmp_path / "ix")!r})
eng.index([LetterDoc(id=1, title="关于加装电梯的答复", body="老旧小区加装电梯", public=True)])
with eng._writer() as writer:
    print("writer", type(writer).__name__)
    writer.cancel()
print("internals", w3.INTERNALS)
print("found", [h.letter_id for h in eng.search(SearchQuery(text="电梯")).hits])
eng.close()
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "WARNING search: Whoosh 2.8.0 is not the version tested (2.7.5); "
        "using Whoosh's public writer and readers (slower)"
    )
    assert lines[1:] == ["writer PublicWriter", "internals False", "found [1]"]


def test_with_the_internals_a_missing_member_raises_instead_of_losing_hits(tmp_path):
    eng = WhooshEngine(tmp_path / "ix")
    eng.index(LETTERS)
    snap = eng._current()
    leaf = snap.source.leaves[0][0]
    terms, perdoc, n = leaf._terms, leaf._perdoc, leaf.doc_count_all()
    try:
        del leaf._terms  # as if Whoosh had renamed it: no letter silently goes missing
        with pytest.raises(AttributeError):
            snap.source.postings("body", "教育")
        leaf._terms = terms
        del leaf._perdoc  # no body length silently read as 0
        with pytest.raises(AttributeError):
            w3.body_lengths(leaf, n)
    finally:
        leaf._terms, leaf._perdoc = terms, perdoc
    assert eng.search(SearchQuery(text="教育")).total > 0
    eng.close()
