"""The Whoosh search engine on real Chinese reply letters (tracker.search.whoosh)."""

from __future__ import annotations

import multiprocessing
import shutil
import threading
from datetime import date
from pathlib import Path

import pytest
from conftest import previous_index_version

from tracker.search import analysis
from tracker.search.base import FACETS, LetterDoc, SearchQuery
from tracker.search.snippets import make_snippet
from tracker.search.whoosh import engine as engine_module
from tracker.search.whoosh import merges
from tracker.search.whoosh import query as ranking
from tracker.search.whoosh.engine import WhooshEngine

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "corpus" / "000_983cdb5ab656f1f2.txt").read_text(encoding="utf-8")
LETTERS = ROOT / "tests" / "letters"


def seed_doc(**kw) -> LetterDoc:
    values = {
        "id": 1,
        "title": "广州市教育局关于市十六届人大一次会议第20222174号建议答复的函",
        "proposal_title": "关于进一步加强广州市中小学生心理健康管理工作的建议",
        "body": SEED,
        "proposers": ("曾志伟",),
        "issuer": "广州市教育局",
        "doc_number": "穗教案〔2022〕119号",
        "proposal_number": "20222174",
        "session": "市十六届人大一次会议",
        "kind": "建议",
        "classification": "A类",
        "letter_on": date(2022, 5, 9),
        "source": "000_983cdb5ab656f1f2.txt",
        "public": True,
    }
    values.update(kw)
    return LetterDoc(**values)


TOILETS = LetterDoc(
    id=2,
    title="广州市城市管理和综合执法局关于第20232088号建议答复的函",
    proposal_title="关于加快推进公厕改造提升的建议",
    body=(
        "王小红代表：\n  您提出的《关于加快推进公厕改造提升的建议》收悉。现答复如下：\n"
        "  一、今年我局完成公厕改造120座，新增第三卫生间35个，公厕开放时间延长至24小时。\n"
        "  二、下一步，我们将推动沿街单位厕所对外开放，并加强公厕保洁和异味治理。\n"
        "  感谢您对城市管理工作的关心和支持。"
    ),
    proposers=("王小红",),
    issuer="广州市城市管理和综合执法局",
    doc_number="穗城管案〔2023〕45号",
    proposal_number="20232088",
    session="市十六届人大二次会议",
    kind="建议",
    classification="B类",
    letter_on=date(2023, 5, 20),
    public=True,
)

LIFTS = LetterDoc(
    id=3,
    title="广州市住房和城乡建设局关于老旧小区加装电梯的答复",
    proposal_title="关于简化老旧小区加装电梯审批的提案",
    body=(
        "李明委员：\n  您提出的《关于简化老旧小区加装电梯审批的提案》收悉。\n"
        "  2022年全市老旧小区加装电梯1200台，财政补贴每台15万元。"
        "我局将会同市规划和自然资源局进一步简化加装电梯审批流程，并加强电梯维保监管。\n"
        "  另外，关于居民反映的心理压力问题，街道将组织志愿者上门走访，"
        "帮助老年人保持身体健康。"
    ),
    proposers=("李明", "张伟"),
    issuer="广州市住房和城乡建设局",
    doc_number="穗建案〔2023〕12号",
    proposal_number="2023103",
    session="市政协十四届二次会议",
    kind="提案",
    classification="A类",
    letter_on=date(2023, 6, 1),
    public=False,
)

SCHOOL_TEACHERS = LetterDoc(
    id=4,
    title="关于加强中小学教师队伍建设的答复",
    body="您提出的建议收悉。我局将补充中小学教师5000名，加强教师培训，推进学位建设。",
    issuer="广州市教育局",
    kind="建议",
    classification="B类",
    letter_on=date(2021, 3, 2),
    public=True,
)

RESTRICTED = LetterDoc(
    id=5,
    title="关于学校心理辅导室建设的答复（不予公开）",
    body="关于学校心理辅导室建设和心理教师配备的情况，现答复如下：全市已建成心理辅导室。",
    issuer="广州市教育局",
    kind="建议",
    letter_on=date(2022, 8, 1),
    public=False,
    restricted_unit_id=7,
)

SCRIPT = LetterDoc(
    id=6,
    title="网页抓取的答复",
    body="这封答复的正文夹带了网页代码 <script>alert('公厕')</script> & 其他字符 \"引号\"。",
    issuer="广州市城市管理和综合执法局",
    letter_on=date(2020, 1, 1),
    public=True,
)


def letter_file_docs(start_id: int = 100) -> list[LetterDoc]:
    docs = []
    for n, path in enumerate(sorted(LETTERS.glob("*.txt"))):
        text = path.read_text(encoding="utf-8")
        docs.append(
            LetterDoc(
                id=start_id + n,
                title=text.strip().splitlines()[0],
                body=text,
                issuer="某单位",
                source=path.name,
                letter_on=date(2019, 1, 1 + n),
                public=True,
            )
        )
    return docs


ALL = [seed_doc(), TOILETS, LIFTS, SCHOOL_TEACHERS, RESTRICTED, SCRIPT]


class BuiltIndexes:
    """The fixtures' letters indexed once per session and store: a test's engine starts on a
    copy of that store (indexing them again for every test was most of what these tests
    cost). A subclass adds other stores (test_search_engines: PostgreSQL databases)."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.built: dict[tuple, object] = {}

    @staticmethod
    def docs(name: str) -> list[LetterDoc]:
        return {"all": ALL, "split": ALL + letter_file_docs() + SPLIT_LETTERS}[name]

    def whoosh(self, name: str, folder: Path) -> Path:
        """`folder`: a copy of a Whoosh index of the letters called `name`."""
        key = ("whoosh", name)
        if key not in self.built:
            built = self.factory.mktemp(f"index-{name}")
            eng = WhooshEngine(built)
            eng.index(self.docs(name))
            eng.close()
            self.built[key] = built
        shutil.copytree(self.built[key], folder)
        return folder


@pytest.fixture(scope="session")
def built_indexes(tmp_path_factory):
    return BuiltIndexes(tmp_path_factory)


@pytest.fixture
def engine(tmp_path, built_indexes):
    eng = WhooshEngine(built_indexes.whoosh("all", tmp_path / "index"))
    yield eng
    eng.close()


def found(eng: WhooshEngine, text: str, **kw) -> list[int]:
    result = eng.search(SearchQuery(text=text, **kw))
    assert result.error is None, (text, result.error)
    assert result.total == len(result.hits) or result.total > result.per_page
    return [h.letter_id for h in result.hits]


# -- finding the seed letter -----------------------------------------------------------------


def test_seed_letter_found_by_word_phrase_name_and_numbers(engine):
    assert 1 in found(engine, "心理")
    assert found(engine, '"心理健康教育"') == [1]
    assert found(engine, "“心理健康教育”") == [1]
    assert found(engine, "曾志伟") == [1]
    assert found(engine, "20222174") == [1]
    assert found(engine, "穗教案〔2022〕119号") == [1]


def test_hit_fields(engine):
    hit = engine.search(SearchQuery(text="曾志伟")).hits[0]
    assert hit.title.startswith("广州市教育局关于")
    assert hit.doc_number == "穗教案〔2022〕119号"
    assert hit.proposal_number == "20222174"
    assert hit.issuer == "广州市教育局"
    assert hit.letter_on == date(2022, 5, 9)
    assert hit.source == "000_983cdb5ab656f1f2.txt"
    assert (hit.classification, hit.session, hit.kind) == ("A类", "市十六届人大一次会议", "建议")
    assert hit.score > 0


def test_bare_string_is_segmented_and_its_words_anded(engine):
    result = engine.search(SearchQuery(text="中小学心理健康"))
    assert [h.letter_id for h in result.hits] == [1]
    assert result.terms == ["中小学", "心理健康"]
    # 中小学 and 教师 are in letter 4 too, but 心理健康 is not
    assert 4 not in found(engine, "中小学心理健康")


def test_word_inside_a_longer_word(engine):
    # the seed letter has 心理 inside 心理健康, 心理危机 …; letter 3 has 心理压力
    ids = found(engine, "心理")
    assert {1, 3, 5} <= set(ids)
    # 学生 inside 中小学生, 健康 inside 心理健康
    assert 1 in found(engine, "学生")
    assert 1 in found(engine, "健康")


def test_two_character_words(engine):
    assert set(found(engine, "公厕")) == {2, 6}  # 公厕改造, and the script letter's text
    assert found(engine, "电梯") == [3]  # inside 加装电梯
    assert found(engine, "公厕 改造") == [2]


def test_all_words_required(engine):
    # 心理 is in 1, 3, 5; 教师 in 1, 4, 5; 辅导室 in 1 and 5; only 5 has 配备 too
    assert set(found(engine, "心理 教师")) == {1, 5}
    assert found(engine, "电梯 心理") == [3]
    assert found(engine, "电梯 公厕") == []
    assert set(found(engine, "心理 辅导室")) == {1, 5}


def test_phrase_needs_consecutive_words(engine):
    # letter 3 has 心理 … 健康 far apart
    assert 3 in found(engine, "心理 健康")
    assert 3 not in found(engine, '"心理健康"')
    assert 1 in found(engine, '"心理健康"')
    # a phrase across two segmentations: 学生 ends 中小学生, 心理 starts 心理健康
    assert found(engine, '"学生心理"') == [1]
    # and not across punctuation
    assert 1 not in found(engine, '"预防心理"')  # 危机预防、心理健康教育


def test_or_and_exclusion(engine):
    assert set(found(engine, "电梯 OR 公厕")) == {2, 3, 6}
    assert set(found(engine, "心理 -电梯")) == {1, 5}


def test_terms_and_phrase_terms(engine):
    assert engine.search(SearchQuery(text='心理 "中小学 教师"')).terms == ["心理", "中小学 教师"]


# -- filters, facets, visibility, order ------------------------------------------------------


def test_filters_are_exact(engine):
    assert set(found(engine, "心理", filters={"kind": "提案"})) == {3}
    assert set(found(engine, "心理", filters={"year": "2022"})) == {1, 5}
    assert found(engine, "心理", filters={"issuer": "广州市教育"}) == []
    assert set(found(engine, "", filters={"classification": "A类"})) == {1, 3}
    assert found(engine, "", filters={"session": "市十六届人大二次会议"}) == [2]


def test_facet_counts(engine):
    result = engine.search(SearchQuery(text="心理"))
    assert set(result.facets) == set(FACETS)
    assert result.facets["year"] == [("2023", 1), ("2022", 2)]  # years newest first
    assert result.facets["issuer"] == [("广州市教育局", 2), ("广州市住房和城乡建设局", 1)]
    assert result.facets["kind"] == [("建议", 2), ("提案", 1)]
    assert ("", 1) not in result.facets["classification"]
    # counts reflect the filters in force
    filtered = engine.search(SearchQuery(text="心理", filters={"year": "2022"}))
    assert filtered.facets["year"] == [("2022", 2)]
    assert engine.search(SearchQuery(text="心理", with_facets=False)).facets == {}


def test_facet_counts_by_bit_masks_equal_plain_counts(engine, monkeypatch):
    engine.index(letter_file_docs())

    def counts():
        return [
            (r.total, r.facets)
            for r in (
                engine.search(SearchQuery(text="答复")),
                engine.search(SearchQuery(filters={"issuer": "某单位"})),
                engine.search(SearchQuery(text="心理", public_only=True)),
            )
        ]

    plain = counts()
    monkeypatch.setattr(ranking, "FACET_MASK_MIN", 1)
    engine.index([TOILETS])  # a new snapshot: masks are built afresh
    assert counts() == plain
    assert plain[1][1]["issuer"] == [("某单位", len(letter_file_docs()))]


def test_public_only_and_unit_restriction(engine):
    everything = set(found(engine, "心理"))
    assert everything == {1, 3, 5}
    assert set(found(engine, "心理", public_only=True)) == {1}
    assert set(found(engine, "心理", unit_ids=frozenset())) == {1, 3}
    assert set(found(engine, "心理", unit_ids=frozenset({3, 7}))) == {1, 3, 5}
    result = engine.search(SearchQuery(text="心理", public_only=True))
    assert result.total == 1 and result.facets["year"] == [("2022", 1)]


def test_sort_by_date_and_pagination(engine):
    by_date = found(engine, "", filters={"issuer": "广州市教育局"}, sort="date")
    assert by_date == [5, 1, 4]
    assert found(engine, "心理", sort="date") == [3, 5, 1]
    pages = [engine.search(SearchQuery(text="心理", per_page=2, page=p)) for p in (1, 2, 3)]
    assert [p.total for p in pages] == [3, 3, 3]
    assert [len(p.hits) for p in pages] == [2, 1, 0]
    assert pages[0].pages == 2
    ids = [h.letter_id for p in pages for h in p.hits]
    assert sorted(ids) == [1, 3, 5]
    scores = [h.score for p in pages for h in p.hits]
    assert scores == sorted(scores, reverse=True)


def test_title_ranks_above_body(engine):
    # 公厕 is in letter 2's title and body, in letter 6's body only
    assert found(engine, "公厕")[0] == 2


def test_empty_query(engine):
    result = engine.search(SearchQuery(text=""))
    assert (result.total, result.hits, result.error) == (0, [], None)
    result = engine.search(SearchQuery(text="   ", filters={"year": "2023"}))
    assert result.error is None
    assert [h.letter_id for h in result.hits] == [3, 2]  # newest first


@pytest.mark.parametrize(
    "text",
    [
        '"',
        "((",
        "AND OR",
        "“",
        '"心理',
        "心理)",
        "。，、",
        "-",
        "-电梯",
        "OR",
        "*",
        "心理 AND",
        '""',
        "\x00",
        "a" * 2000,
        "心理 OR",
        "NOT 心理",
        "[[公厕",
        "''",
    ],
)
def test_malformed_queries_never_raise(engine, text):
    result = engine.search(SearchQuery(text=text))
    assert result.error or result.total >= 0
    if result.error:
        assert result.hits == [] and any("\u4e00" <= ch <= "\u9fff" for ch in result.error)


def test_unbalanced_quote_reads_plain_words(engine):
    assert 1 in found(engine, '"心理健康教育')


# -- snippets --------------------------------------------------------------------------------


def test_snippets_mark_matches(engine):
    hit = engine.search(SearchQuery(text='"心理健康教育"')).hits[0]
    assert "<mark>心理健康教育</mark>" in hit.snippet
    assert 60 <= len(hit.snippet.replace("<mark>", "").replace("</mark>", "")) <= 260
    hit = engine.search(SearchQuery(text="心理 教师")).hits[0]
    assert "<mark>心理</mark>" in hit.snippet and "<mark>教师</mark>" in hit.snippet


def test_snippets_are_escaped(engine):
    hit = next(h for h in engine.search(SearchQuery(text="公厕")).hits if h.letter_id == 6)
    assert "<script>" not in hit.snippet
    assert "&lt;script&gt;" in hit.snippet
    assert "<mark>公厕</mark>" in hit.snippet
    assert "&amp;" in hit.snippet and "&quot;" in hit.snippet


def test_snippet_picks_the_densest_region():
    text = "电梯" + "无关的文字。" * 80 + "公厕改造和公厕保洁，公厕开放。" + "其他内容。" * 80
    snip = make_snippet(text, [("公厕",)])
    assert snip.count("<mark>公厕</mark>") == 3
    assert snip.startswith("…") and snip.endswith("…")
    assert make_snippet("没有匹配", [("公厕",)]) == "没有匹配"
    assert make_snippet("ABC 公司", [("abc",)]) == "<mark>ABC</mark> 公司"


def test_snippet_prefers_a_name_found_whole_to_its_words_apart():
    text = (
        "村口泥塘边立了黄、白两色警示桩，泥塘已清淤。"
        + "无关的文字。" * 60
        + "黄泥塘村道路已修缮。"
        + "其他内容。" * 60
    )
    snip = make_snippet(text, analysis.parse_query("黄泥塘").highlight())
    assert "<mark>黄泥塘</mark>村" in snip and "警示桩" not in snip


# -- writing ------------------------------------------------------------------------------------


def test_index_replaces_by_id_and_remove(engine):
    assert engine.ids() == {1, 2, 3, 4, 5, 6}
    engine.index([LetterDoc(id=2, title="改过的答复", body="这封答复讲的是垃圾分类。")])
    assert found(engine, "垃圾分类") == [2]
    assert 2 not in found(engine, "公厕")
    assert engine.search(SearchQuery(text="垃圾分类")).total == 1
    assert engine.remove([1, 999]) == 1
    assert found(engine, "曾志伟") == []
    assert engine.ids() == {2, 3, 4, 5, 6}
    assert engine.index([]) == 0


def test_many_small_commits_are_merged_correctly(tmp_path):
    eng = WhooshEngine(tmp_path / "ix")
    docs = letter_file_docs()
    for doc in docs:  # one commit each: Whoosh's merge policy merges the small segments
        eng.index([doc])
    eng.index([LetterDoc(id=docs[0].id, title="更新", body="更新后的正文：公厕")])
    eng.remove([docs[1].id])
    for n in range(8):
        eng.index([LetterDoc(id=500 + n, body=f"第{n}封：老旧小区加装电梯")])
    assert eng.ids() == {d.id for d in docs[2:]} | {docs[0].id} | set(range(500, 508))
    assert found(eng, "更新后") == [docs[0].id]
    assert eng.search(SearchQuery(text='"加装电梯"')).total == 8
    assert set(found(eng, "全科医生")) == {d.id for d in docs[2:] if "全科医生" in d.body}
    eng.close()


def test_rebuild_replaces_everything(engine):
    assert engine.rebuild([TOILETS, LIFTS, TOILETS]) == 2
    assert engine.ids() == {2, 3}
    assert found(engine, "曾志伟") == []
    assert found(engine, "电梯") == [3]


def test_rebuild_with_a_helper_process(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_module, "PARALLEL_MIN", 5)
    eng = WhooshEngine(tmp_path / "ix")
    eng.index([LetterDoc(id=999, body="旧的")])
    docs = letter_file_docs() + ALL
    assert eng.rebuild(iter(docs)) == len(docs)
    assert eng.ids() == {d.id for d in docs}
    assert set(found(eng, '"心理健康教育"')) == {d.id for d in docs if "心理健康教育" in d.body}
    assert set(found(eng, "公厕")) == {d.id for d in docs if "公厕" in d.body}
    eng.close()


def test_large_batches_use_a_helper_process_and_merge_there(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_module, "PARALLEL_MIN", 4)
    monkeypatch.setattr(merges, "MERGE_FACTOR", 3)
    eng = WhooshEngine(tmp_path / "ix")
    docs = letter_file_docs()
    expected: dict[int, str] = {}
    for round_ in range(4):  # each batch: half here, half in the helper (or merging there)
        batch = [
            LetterDoc(id=d.id + 1000 * round_, title=d.title, body=d.body + f" 第{round_}批")
            for d in docs
        ]
        batch.append(LetterDoc(id=docs[0].id, body=f"改写过的正文，第{round_}批，公厕"))
        assert eng.index(batch) == len({d.id for d in batch})
        expected.update({d.id: d.body for d in batch})
        assert eng.ids() == set(expected)
    assert len(eng._ix._read_toc().segments) < 8  # merged along the way
    assert found(eng, "改写过") == [docs[0].id]
    assert eng.search(SearchQuery(text='"第3批"', per_page=100)).total == len(docs) + 1
    assert eng.search(SearchQuery(text="全科医生", per_page=100)).total == 4 * sum(
        "全科医生" in d.body for d in docs[1:]
    )
    eng.close()


def test_small_commits_merge_small_segments(tmp_path, monkeypatch):
    monkeypatch.setattr(merges, "MERGE_FACTOR", 3)
    eng = WhooshEngine(tmp_path / "ix")
    for n in range(10):
        eng.index([LetterDoc(id=n, body=f"第{n}封：加装电梯")])
    eng.remove([3])
    eng.index([LetterDoc(id=4, body="改过：公厕")])
    assert len(eng._ix._read_toc().segments) < 7  # 12 commits, merged along the way
    assert eng.ids() == set(range(10)) - {3}
    assert eng.search(SearchQuery(text="电梯")).total == 8
    assert found(eng, "公厕") == [4]
    eng.close()


def _index_in_process(index_dir: str, start: int, count: int) -> None:
    eng = WhooshEngine(index_dir, write_timeout=60)
    for n in range(start, start + count, 5):
        eng.index(
            [
                LetterDoc(id=i, title=f"第{i}号答复", body=SEED[:1500] + f" 编号{i}")
                for i in range(n, min(start + count, n + 5))
            ]
        )
    eng.close()


@pytest.mark.slow
def test_two_processes_writing_at_once(tmp_path):
    index_dir = str(tmp_path / "ix")
    WhooshEngine(index_dir).close()
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_index_in_process, args=(index_dir, start, 30)) for start in (1000, 2000)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    eng = WhooshEngine(index_dir)
    expected = set(range(1000, 1030)) | set(range(2000, 2030))
    assert eng.ids() == expected
    assert eng.search(SearchQuery(text='"心理健康教育"', per_page=100)).total == 60
    eng.close()


def _hold_lock(index_dir: str, ready, release) -> None:
    """Hold the index's write lock from `ready` until the test sets `release`."""
    eng = WhooshEngine(index_dir)
    with eng._writer():
        ready.set()
        release.wait(120)
    # leaving without commit cancels the writer and releases the lock


@pytest.mark.slow
def test_writer_waits_for_another_process(tmp_path):
    index_dir = str(tmp_path / "ix")
    eng = WhooshEngine(index_dir, write_timeout=120)
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(index_dir, ready, release))
    holder.start()
    assert ready.wait(20)
    written: list[int] = []
    writer = threading.Thread(target=lambda: written.append(eng.index([TOILETS])))
    writer.start()
    writer.join(0.5)
    assert writer.is_alive() and written == []  # waiting for the lock, not failing
    release.set()
    writer.join(120)
    assert written == [1]  # and writes once the other process lets go
    holder.join(20)
    assert eng.ids() == {2}
    eng.close()


@pytest.mark.slow
def test_writer_gives_up_after_the_timeout(tmp_path):
    index_dir = str(tmp_path / "ix")
    eng = WhooshEngine(index_dir, write_timeout=0.3)
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(index_dir, ready, release))
    holder.start()
    assert ready.wait(20)
    try:
        with pytest.raises(TimeoutError, match="locked"):
            eng.index([TOILETS])
    finally:
        release.set()
        holder.join(20)
    assert eng.index([TOILETS]) == 1
    eng.close()


def test_searcher_sees_other_engines_commits(tmp_path):
    a = WhooshEngine(tmp_path / "ix")
    b = WhooshEngine(tmp_path / "ix")
    assert found(a, "公厕") == []
    b.index([TOILETS])
    assert found(a, "公厕") == [2]
    b.remove([2])
    assert found(a, "公厕") == []
    b.rebuild([LIFTS])
    assert found(a, "电梯") == [3] and a.ids() == {3}
    a.close()
    b.close()


def test_reopening_an_existing_index(tmp_path, engine):
    again = WhooshEngine(engine.index_dir)
    assert again.ids() == {1, 2, 3, 4, 5, 6}
    assert found(again, '"心理健康教育"') == [1]
    again.close()


# -- similar ------------------------------------------------------------------------------


def test_similar_letters(engine):
    engine.index(letter_file_docs())
    hits = engine.similar(LIFTS.title + "\n" + LIFTS.body, limit=3, exclude=[3])
    assert hits and all(h.letter_id != 3 for h in hits)
    # any iterable of ids, read once (a limit not asked before: weighed again)
    again = engine.similar(LIFTS.title + "\n" + LIFTS.body, limit=2, exclude=iter([3]))
    assert [h.letter_id for h in again] == [h.letter_id for h in hits][:2]
    hits = engine.similar(SEED, limit=3, exclude=[])
    assert hits[0].letter_id == 1
    assert "心理健康" in hits[0].shared_terms
    assert len(hits[0].shared_terms) <= 6
    assert hits[0].issuer == "广州市教育局" and hits[0].letter_on == date(2022, 5, 9)
    near = engine.similar("学校心理辅导室建设和心理教师配备", limit=5, exclude=[1])
    assert near[0].letter_id == 5
    assert "辅导室" in near[0].shared_terms
    assert 5 not in [
        h.letter_id
        for h in engine.similar("学校心理辅导室建设和心理教师配备", unit_ids=frozenset({1}))
    ]
    assert all(
        h.letter_id in (1, 2, 4, 6) or h.letter_id >= 100
        for h in engine.similar("学校心理辅导室建设和心理教师配备", public_only=True)
    )
    assert engine.similar("") == []
    assert engine.similar("。。。") == []


# -- analysis -------------------------------------------------------------------------------


def test_tokenizer_words_and_sub_words():
    a = analysis.analyse("中小学生心理健康教育，心理 健康")
    assert a.terms["中小学生"] == 1 and a.terms["心理健康"] == 1 and a.terms["教育"] == 1
    assert a.terms["心理"] == 2 and a.terms["健康"] == 2  # inside 心理健康, and alone
    assert a.terms["学生"] == 1 and a.terms["中小学"] == 1  # inside 中小学生
    assert "，" not in a.terms and " " not in a.terms
    assert a.length == 5  # words, not sub-words
    assert analysis.squeeze("心理 健康\n教育，ＡＢＣ") == "心理健康教育，abc"


def test_tokenizer_keeps_numbers_and_lowercases_ascii():
    terms = analysis.analyse("第20222174号 完成率80% COVID-19 ＡＢＣ").terms
    for t in ("20222174", "80%", "80", "covid-19", "covid", "19", "abc"):
        assert t in terms, t


def test_parse_query():
    q = analysis.parse_query("心理 “健康 教育” OR 公厕 -电梯 AND")
    assert [[c.words for c in g] for g in q.groups] == [[("心理",)], [("健康", "教育"), ("公厕",)]]
    assert q.groups[1][0].phrase and q.groups[1][0].needle == "健康教育".encode()
    assert [c.words for c in q.excluded] == [("电梯",)]
    assert analysis.parse_query("((").error
    assert analysis.parse_query("").error is None


# -- strings the letters segment otherwise ----------------------------------------------------


def public_letter(doc_id: int, title: str, body: str, issuer: str, day: date) -> LetterDoc:
    return LetterDoc(id=doc_id, title=title, body=body, issuer=issuer, letter_on=day, public=True)


# Made-up letters whose place and person names sit inside longer strings that jieba cuts
# otherwise than the name typed alone (checked by split_otherwise below).
VILLAGE = public_letter(
    21,
    "关于修缮黄泥塘村道路的答复",
    "黄泥塘村村民反映，村道路面破损严重。我局已将黄泥塘村道路修缮列入今年农村公路养护计划。"
    "沙锅屯乡至敦都高勒嘎查的通村公路将于年底前完成硬化。经杨梅坑路至镇区的公交线路已开通。",
    "某县交通运输局",
    date(2023, 4, 1),
)
# 黄 and 泥塘, 杨梅 and 坑, each apart, more often than VILLAGE has its names
PIECES = public_letter(
    22,
    "关于村口泥塘清淤的答复",
    "村口泥塘淤积，泥塘旁设置了黄、白两色警示桩，泥塘清淤已完成。"
    "山上种了杨梅，路面有个坑，杨梅采摘季节前将把坑填平。",
    "某县水务局",
    date(2023, 5, 1),
)
GLUED_NAME = public_letter(  # the name glued to 代表: 甘立 / 军代表
    23,
    "关于增设乡村公交站点的答复",
    "甘立军代表：您提出的关于增设乡村公交站点的建议收悉，现答复如下：年内新增站点12个。",
    "某县交通运输局",
    date(2023, 6, 1),
)
NAME_AS_WORD = public_letter(  # the same name as a word: 甘立军 / 委员
    24,
    "关于农村饮水安全的答复",
    "甘立军委员提出的农村饮水安全提案收悉。全县农村自来水普及率已达98%。",
    "某县水务局",
    date(2022, 6, 1),
)
NEW_TOWN = public_letter(  # 新塘 (a dictionary word) inside 白云新塘村: 白云 / 新 / 塘村
    25,
    "关于白云新塘村排水改造的答复",
    "白云新塘村排水管网改造工程已于今年三月开工，预计年底完工。",
    "某区水务局",
    date(2023, 7, 1),
)
SPLIT_LETTERS = [VILLAGE, PIECES, GLUED_NAME, NAME_AS_WORD, NEW_TOWN]


def split_otherwise(query: str, text: str) -> bool:
    """Whether the letter text's terms lack one of the query's words (so word matching
    alone cannot find the query in it) although the text has the query verbatim."""
    terms = analysis.analyse(text).terms
    assert query in text
    return not all(w in terms for w in analysis.main_words(query))


@pytest.fixture
def split_engine(tmp_path, built_indexes):
    eng = WhooshEngine(built_indexes.whoosh("split", tmp_path / "index"))
    yield eng
    eng.close()


@pytest.mark.parametrize(
    ("query", "letter", "kind"),
    [
        ("黄泥塘", VILLAGE, "village"),  # 黄 / 泥塘 typed, 黄泥 / 塘村 in the letter
        ("沙锅屯", VILLAGE, "township"),  # 沙锅 / 屯 typed, 沙锅 / 屯乡
        ("敦都高勒", VILLAGE, "village"),  # 敦都 / 高勒 typed, 至敦 / 都 / 高勒嘎查
        ("杨梅坑", VILLAGE, "road"),  # 杨梅 / 坑 typed, 杨梅 / 坑路
        ("甘立军", GLUED_NAME, "person"),  # one word typed, 甘立 / 军代表
    ],
)
def test_a_name_inside_a_longer_string_is_found_first(split_engine, query, letter, kind):
    assert split_otherwise(query, letter.body), kind
    ids = found(split_engine, query)
    # the letters with the name come first (甘立军 is in two), then any with its words apart
    having = {d.id for d in SPLIT_LETTERS if query in d.body}
    assert letter.id in having and set(ids[: len(having)]) == having
    hit = next(
        h for h in split_engine.search(SearchQuery(text=query)).hits if h.letter_id == letter.id
    )
    assert f"<mark>{query}</mark>" in hit.snippet


def test_the_letter_with_the_name_ranks_above_letters_with_its_words_apart(split_engine):
    for query in ("黄泥塘", "杨梅坑"):
        assert split_otherwise(query, VILLAGE.body)
        pieces = analysis.analyse(PIECES.body).terms
        assert query not in PIECES.body and all(w in pieces for w in analysis.main_words(query))
        # PIECES still matches (it has the words), below the letter with the name
        assert found(split_engine, query) == [VILLAGE.id, PIECES.id]
        piece = split_engine.search(SearchQuery(text=query)).hits[1].snippet
        assert "<mark>泥塘</mark>" in piece or "<mark>杨梅</mark>" in piece


def test_a_name_found_as_a_word_and_glued_to_a_title(split_engine):
    assert not split_otherwise("甘立军", NAME_AS_WORD.body)
    assert set(found(split_engine, "甘立军")) == {GLUED_NAME.id, NAME_AS_WORD.id}
    assert found(split_engine, "甘立军 饮水") == [NAME_AS_WORD.id]
    assert found(split_engine, "甘立军 公交") == [GLUED_NAME.id]


def test_quoted_phrases_across_segmentations(split_engine):
    assert found(split_engine, '"黄泥塘村道路"') == [VILLAGE.id]
    assert found(split_engine, "“沙锅屯乡至敦都高勒嘎查”") == [VILLAGE.id]
    assert found(split_engine, '"敦都高勒"') == [VILLAGE.id]
    assert found(split_engine, '"泥塘 清淤"') == [PIECES.id]  # whitespace typed, none in the text
    assert found(split_engine, '"严重我局"') == []  # not across punctuation (严重。我局)
    everything = ALL + letter_file_docs() + SPLIT_LETTERS
    with_it = {d.id for d in everything if "心理健康教育" in analysis.squeeze(d.title + d.body)}
    assert set(found(split_engine, '"心理健康教育"')) == with_it and len(with_it) > 1
    hit = split_engine.search(SearchQuery(text='"黄泥塘村道路"')).hits[0]
    assert "<mark>黄泥塘村道路</mark>" in hit.snippet


def test_a_dictionary_word_keeps_word_matching_unless_quoted(split_engine):
    assert analysis.known_word("新塘") and split_otherwise("新塘", NEW_TOWN.body)
    # no letter has the word 新塘: it is looked for as text
    assert found(split_engine, "新塘") == [NEW_TOWN.id]
    split_engine.index([LetterDoc(id=26, title="新塘镇的答复", body="新塘镇污水处理厂扩建。")])
    # now a letter has it as a word: word matching, as for every word the index knows
    assert found(split_engine, "新塘") == [26]
    # quoted, it is text: wherever it occurs
    assert set(found(split_engine, '"新塘"')) == {NEW_TOWN.id, 26}
    # a word the index knows is not found across a word boundary: 泥塘 is not in 黄泥 / 塘村
    assert found(split_engine, "泥塘") == [PIECES.id]
    # nor is a single character: 屯 (沙锅 / 屯乡) is not searched for as text
    assert VILLAGE.id not in found(split_engine, "屯")


def test_or_and_exclusion_with_names(split_engine):
    assert set(found(split_engine, "甘立军 OR 敦都高勒")) == {21, 23, 24}
    assert set(found(split_engine, "沙锅屯 OR 白云新塘")) == {VILLAGE.id, NEW_TOWN.id}
    assert found(split_engine, "黄泥塘 公交") == [VILLAGE.id]
    bus = set(found(split_engine, "公交"))
    assert {VILLAGE.id, GLUED_NAME.id} <= bus
    assert set(found(split_engine, "公交 -敦都高勒")) == bus - {VILLAGE.id}
    assert set(found(split_engine, '公交 -"杨梅坑路"')) == bus - {VILLAGE.id}
    # excluding a string excludes what it matches: the letter with it and those with its words
    either = set(found(split_engine, "泥塘 OR 道路"))
    assert {VILLAGE.id, PIECES.id} <= either
    assert set(found(split_engine, "泥塘 OR 道路 -黄泥塘")) == either - {VILLAGE.id, PIECES.id}


def test_long_and_very_common_strings(split_engine, monkeypatch):
    assert found(split_engine, "黄泥塘村村民反映村道路面破损严重")[0] == VILLAGE.id
    assert found(split_engine, "黄泥塘" * 300) == [PIECES.id]  # no letter has it; the words apart
    # beyond VERIFY_MAX candidates, the letters with every pair of a Han string are taken
    # without reading their text
    monkeypatch.setattr(ranking, "VERIFY_MAX", 0)
    assert found(split_engine, "黄泥塘")[0] == VILLAGE.id


def test_a_name_broken_by_a_line_break_is_found_and_marked(split_engine):
    split_engine.index(
        [LetterDoc(id=27, title="转录的答复", body="关于黄泥\n塘村的排水问题，已安排整治。")]
    )
    assert set(found(split_engine, "黄泥塘")) == {VILLAGE.id, PIECES.id, 27}
    hit = next(h for h in split_engine.search(SearchQuery(text="黄泥塘")).hits if h.letter_id == 27)
    assert "<mark>黄泥 塘</mark>村" in hit.snippet


SPLIT_QUERIES = [
    "心理",
    "心理 教师",
    "电梯 OR 公厕",
    '"心理健康教育"',
    "中小学心理健康",
    "黄泥塘",
    "甘立军",
    "敦都高勒 公路",
    '"黄泥塘村道路"',
    "道路 -黄泥塘",
]


def _results(eng: WhooshEngine) -> dict[str, list[tuple[int, float]]]:
    return {
        q: [(h.letter_id, h.score) for h in eng.search(SearchQuery(text=q, per_page=50)).hits]
        for q in SPLIT_QUERIES
    }


def test_an_index_of_the_previous_version_still_answers_and_a_rebuild_upgrades_it(
    tmp_path, monkeypatch, caplog
):
    docs = ALL + letter_file_docs() + SPLIT_LETTERS
    current = WhooshEngine(tmp_path / "current")
    current.index(docs)
    expected = _results(current)
    current.close()
    # an index written by the previous version: no character pairs
    with previous_index_version(monkeypatch):
        old = WhooshEngine(tmp_path / "old")
        old.index(docs[:-2])
        old.close()
    assert (tmp_path / "old" / ".tracker-schema").read_text().strip() == "tracker-search-3"
    # opened by this version: kept, not emptied, and it gives the same answers
    with caplog.at_level("WARNING"):
        eng = WhooshEngine(tmp_path / "old")
    assert any("tracker reindex" in r.getMessage() for r in caplog.records)
    eng.index(docs[-2:])  # written in its own format
    assert eng.ids() == {d.id for d in docs}
    assert not eng._current().has_pairs
    assert _results(eng) == expected
    # a rebuild (with a helper process) brings it up to date
    monkeypatch.setattr(engine_module, "PARALLEL_MIN", 5)
    assert eng.rebuild(docs) == len(docs)
    assert eng._current().has_pairs
    assert _results(eng) == expected
    eng.close()
    assert (tmp_path / "old" / ".tracker-schema").read_text().strip() == "tracker-search-4"
    caplog.clear()
    again = WhooshEngine(tmp_path / "old")
    assert _results(again) == expected and not caplog.records
    again.close()


def test_parse_query_loose_clauses():
    def clause(text):
        return analysis.parse_query(text).groups[0][0]

    assert clause("黄泥塘").loose and clause("黄泥塘").words == ("黄", "泥塘")
    assert clause("甘立军").loose and not analysis.known_word("甘立军")  # a name jieba made up
    assert not clause("心理健康").loose  # a dictionary word
    assert not clause("屯").loose and not clause("covid-19").loose  # no two Han characters
    assert clause("黄泥塘，").needle == "黄泥塘".encode()  # punctuation around is dropped
    assert clause('"新塘"').phrase and clause('"新塘"').words == ("新塘",)
    q = analysis.parse_query("黄泥塘 心理")
    assert q.highlight() == [("黄", "泥", "塘"), ("黄",), ("泥塘",), ("心理",)]
    assert q.terms() == ["黄", "泥塘", "心理"]


def test_what_a_generation_keeps_is_left_alone_by_the_garbage_collector(engine):
    # a server's per-document lists and cached postings (millions of references at 100,000
    # letters) made each full collection of Python's garbage collector take 50-150 ms
    import gc

    assert found(engine, "心理健康")  # reads postings into the generation's cache
    snap = engine._current()
    gc.collect()
    kept = [snap.ids, snap.dkey, snap.public, snap.unit, snap.body_len, snap.live()]
    kept += list(snap.facets.values())
    kept += [part for got in snap._cache.values() for part in got]
    assert len(kept) > 12 and sum(map(len, kept)) > 50
    assert [type(x).__name__ for x in kept if gc.is_tracked(x)] == []


def test_opening_while_another_process_replaces_the_generation_reads_it_again(
    tmp_path, monkeypatch, caplog
):
    # six processes started while a seventh committed: one listed the folder, found
    # _MAIN_4.toc, and the commit had deleted it by the time it was read. That was taken
    # for a damaged index (recreated empty) or, from index.exists, failed the start
    index_dir = str(tmp_path / "ix")
    eng = WhooshEngine(index_dir)
    eng.index([TOILETS, LIFTS])
    eng.close()
    gone = {"exists": 1, "open_dir": 1}  # each fails once, as a vanished file would
    for name in gone:
        real = getattr(engine_module.index, name)

        def vanishing(*args, _name=name, _real=real, **kwargs):
            if gone[_name]:
                gone[_name] -= 1
                raise FileNotFoundError(2, "No such file or directory", "_MAIN_4.toc")
            return _real(*args, **kwargs)

        monkeypatch.setattr(engine_module.index, name, vanishing)
    caplog.set_level("INFO", logger=engine_module.__name__)
    eng = WhooshEngine(index_dir)
    try:
        assert gone == {"exists": 0, "open_dir": 0}
        assert eng.ids() == {TOILETS.id, LIFTS.id}  # the letters are still there
        assert "recreating" not in caplog.text and "reading again" in caplog.text
        # a search after another process's commit opens the new generation the same way
        other = WhooshEngine(index_dir)
        other.index([SCHOOL_TEACHERS])
        other.close()
        searcher, failed = eng._ix.searcher, []

        def vanishing_once(*args, **kwargs):
            if not failed:
                failed.append(True)
                raise FileNotFoundError(2, "No such file or directory", "_MAIN_5.toc")
            return searcher(*args, **kwargs)

        monkeypatch.setattr(eng._ix, "searcher", vanishing_once)
        assert eng.ids() == {TOILETS.id, LIFTS.id, SCHOOL_TEACHERS.id} and failed
    finally:
        eng.close()


def test_an_index_whose_files_stay_gone_is_recreated_not_a_failed_start(
    tmp_path, monkeypatch, caplog
):
    # a file gone for good (not a commit that replaced the generation) is damage: after
    # reading again the index is recreated empty, as for any damage, and a rebuild refills
    # it; the app starts (and `tracker reindex` can run) instead of failing
    index_dir = str(tmp_path / "ix")
    eng = WhooshEngine(index_dir)
    eng.index([TOILETS])
    eng.close()
    tries = []

    def gone_for_good(*args, **kwargs):
        tries.append(1)
        raise FileNotFoundError(2, "No such file or directory", "_MAIN_1_seg.seg")

    monkeypatch.setattr(engine_module, "OPEN_ATTEMPTS", 3)
    monkeypatch.setattr(engine_module.time, "sleep", lambda _: None)
    monkeypatch.setattr(engine_module.index, "open_dir", gone_for_good)
    eng = WhooshEngine(index_dir)
    try:
        assert len(tries) == 3 and "recreating" in caplog.text
        assert eng.ids() == set()
        eng.index([LIFTS])
        assert eng.ids() == {LIFTS.id}
    finally:
        eng.close()
