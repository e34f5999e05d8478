"""An installation upgraded in place keeps its search index: an index written by the
engine before it became a package (its schema pickled under the old module name) opens,
answers and takes new letters without a rebuild."""

from __future__ import annotations

from datetime import date

from tracker.search.base import LetterDoc, SearchQuery
from tracker.search.whoosh import schema
from tracker.search.whoosh.engine import WhooshEngine

OLD_MODULE = "tracker.search.whoosh_engine"


def _doc(letter_id: int, body: str) -> LetterDoc:
    return LetterDoc(
        id=letter_id,
        title=f"广州市教育局关于第2022{letter_id:04d}号建议答复的函",
        body=body,
        doc_number=f"穗教案〔2022〕{letter_id}号",
        issuer="广州市教育局",
        letter_on=date(2022, 5, 7),
        public=True,
    )


def test_an_index_written_before_the_split_opens_and_answers(tmp_path, monkeypatch):
    for cls in (schema.WordsField, schema.PairsField, schema.CountFormat):
        monkeypatch.setattr(cls, "__module__", OLD_MODULE)  # what the old code pickled
    old = WhooshEngine(tmp_path / "index")
    old.index([_doc(1, "我们将加强中小学生心理健康教育，配齐专职心理教师。")])
    old.close()
    toc = b"".join(p.read_bytes() for p in (tmp_path / "index").glob("*.toc"))
    assert OLD_MODULE.encode() in toc and b"WordsField" in toc
    monkeypatch.undo()

    upgraded = WhooshEngine(tmp_path / "index")
    try:
        found = upgraded.search(SearchQuery(text="心理健康"))
        assert [hit.letter_id for hit in found.hits] == [1]
        upgraded.index([_doc(2, "推进校园心理辅导室建设。")])
        found = upgraded.search(SearchQuery(text="心理"))
        assert sorted(hit.letter_id for hit in found.hits) == [1, 2]
    finally:
        upgraded.close()
