"""The search pages, the public search, visibility by role, and similar replies."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tracker.extensions import db
from tracker.models import ReplyLetter, Unit

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_983cdb5ab656f1f2.txt"


def _variant(text: str, number: str, doc: str, disclosure: str, topic: str) -> str:
    """The seed letter turned into another letter: new numbers, disclosure and a topic line."""
    return (
        text.replace("20222174", number)
        .replace("穗教案〔2022〕119号", doc)
        .replace("公开方式:主动公开", f"公开方式:{disclosure}")
        .replace("感谢你们对我市", f"{topic}感谢你们对我市")
    )


@pytest.fixture
def corpus(app, runner, people, tmp_path):
    """Three letters of 广州市教育局 (one each 主动公开 / 依申请公开 / 不予公开) and one of
    another unit about public toilets."""
    return import_corpus(app, runner, tmp_path)


def import_corpus(app, runner, tmp_path) -> dict[str, int]:
    """The corpus fixture's letters written into tmp_path / "letters" and imported into
    the app's database (which has the people); their ids by file name."""
    folder = corpus_files(tmp_path / "letters")
    result = runner.invoke(args=["import-letters", str(folder)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ids = {le.source_file: le.id for le in db.session.execute(db.select(ReplyLetter)).scalars()}
        # the clerk's unit is the issuer of a, b, c
        edu = db.session.execute(db.select(Unit).filter_by(name="广州市教育局")).scalar_one()
        assert {
            le.unit_id
            for le in db.session.execute(db.select(ReplyLetter)).scalars()
            if le.source_file != "d_toilets.txt"
        } == {edu.id}
    return ids


def corpus_files(folder: Path) -> Path:
    """The corpus fixture's letter files, written into `folder` (made)."""
    folder.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    shutil.copy(SEED, folder / "a_public.txt")
    (folder / "b_on_request.txt").write_text(
        _variant(seed, "20222180", "穗教案〔2022〕130号", "依申请公开", "加装电梯工作正在推进。"),
        encoding="utf-8",
    )
    (folder / "c_secret.txt").write_text(
        _variant(seed, "20222181", "穗教案〔2022〕131号", "不予公开", "涉密事项另行说明。"),
        encoding="utf-8",
    )
    other = (
        seed.replace("广州市教育局", "广州市城市管理和综合执法局")
        .replace("20222174", "20222190")
        .replace("穗教案〔2022〕119号", "穗城管函〔2022〕88号")
        .replace("心理", "公厕")
    )
    (folder / "d_toilets.txt").write_text(other, encoding="utf-8")
    return folder


def _text(response):
    return response.get_data(as_text=True)


def test_search_page_finds_highlights_and_facets(browser, corpus):
    browser.login("clerk")
    page = _text(browser.get("/search?q=心理"))
    assert "广州市教育局关于市十六届人大一次会议第20222174号建议答复的函" in page
    assert "<mark>心理</mark>" in page
    assert "共找到 3 件答复" in page  # a, b and c (the clerk's own unit's restricted letter)
    assert "答复单位" in page and "年份" in page  # facets
    # a facet filter narrows the result
    page = _text(browser.get("/search?q=心理&issuer=广州市教育局&classification=A"))
    assert "共找到 3 件答复" in page
    page = _text(browser.get("/search?q=公厕"))
    assert "共找到 1 件答复" in page and "穗城管函〔2022〕88号" in page
    page = _text(browser.get("/search?q=公厕 心理"))
    assert "共找到 0 件答复" in page and "没有找到相关答复" in page


def test_search_finds_a_village_name_inside_a_longer_name(browser, corpus, runner, tmp_path):
    folder = tmp_path / "more"
    folder.mkdir()
    text = _variant(
        SEED.read_text(encoding="utf-8"),
        "20222185",
        "穗教案〔2022〕140号",
        "主动公开",
        "黄泥塘村通学道路已完成修缮。",  # cut 黄泥 / 塘村; the query 黄泥塘 is cut 黄 / 泥塘
    )
    (folder / "e_village.txt").write_text(text, encoding="utf-8")
    assert runner.invoke(args=["import-letters", str(folder)]).exit_code == 0
    for query in ("黄泥塘", '"黄泥塘村通学"'):
        page = _text(browser.get(f"/public/?q={query}"))
        assert "共找到 1 件答复" in page and "穗教案〔2022〕140号" in page, query
        assert "<mark>黄泥塘" in page
    browser.login("liaison")
    page = _text(browser.get("/search?q=黄泥塘 心理"))
    assert "共找到 1 件答复" in page and "<mark>黄泥塘</mark>" in page
    assert "地名、人名" in _text(browser.get("/search"))  # the help says so


def test_search_page_is_helpful_when_empty_or_malformed(browser, corpus):
    browser.login("clerk")
    assert "检索说明" in _text(browser.get("/search"))
    for query in ['"', "((", "AND OR", "：："]:  # nothing to look for: say what to type
        response = browser.get(f"/search?q={query}")
        assert response.status_code == 200, query
        assert "检索词中没有可以检索的文字，请输入中文词语、数字或字母。" in _text(response), query
    response = browser.get('/search?q="心理')  # a quote left open: its words are looked for
    assert response.status_code == 200 and "共找到 3 件答复" in _text(response)


def _hits(page: str) -> list[tuple[str, str]]:
    """(document number, letter date) of each hit on a search page, in its order."""
    metas = re.findall(r'<p class="meta">(.*?)</p>', page)
    return [
        (re.search(r"穗\w+〔\d+〕\d+号", m).group(0), re.search(r"\d+年\d+月\d+日", m).group(0))
        for m in metas
    ]


def _pager_link(page: str, label: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)">{label}</a>', page)
    return html.unescape(match.group(1)) if match else None


def test_sort_by_date_and_pagination_links(browser, corpus, runner, tmp_path, monkeypatch):
    """Sorted by date, the newest first on every page; the pager's links keep the query and
    the sort, and the pages together list each letter once."""
    import tracker.replies.views as views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    folder = tmp_path / "dated"
    folder.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    for number, doc, day, topic in (
        # the oldest letter is the most relevant (心理咨询 eleven times, the others six; the
        # engine on PostgreSQL ranks by a word's first sixteen places, and 心理 has sixteen
        # in every letter): only the date sort puts it last
        ("20222191", "穗教案〔2021〕51号", "2021年3月1日", "心理辅导、心理咨询、心理测评。" * 5),
        ("20222192", "穗教案〔2023〕52号", "2023年8月8日", ""),
    ):
        letter = _variant(seed, number, doc, "主动公开", topic).replace("2022年5月7日", day)
        (folder / f"{number}.txt").write_text(letter, encoding="utf-8")
    assert runner.invoke(args=["import-letters", str(folder)]).exit_code == 0
    browser.login("liaison")
    assert _hits(_text(browser.get("/search?q=心理咨询")))[0][0] == "穗教案〔2021〕51号"
    url, pages, listed = "/search?q=心理咨询&sort=date", [], []
    while url:
        page = _text(browser.get(url))
        assert 'value="date" selected' in page and "共找到 5 件答复" in page
        pages.append(re.search(r'<span class="current">(\d+) / (\d+)</span>', page).groups())
        listed += _hits(page)
        for label, step in (("上一页", -1), ("下一页", 1)):
            link = _pager_link(page, label)
            if link:
                assert dict(parse_qsl(urlsplit(link).query)) == {
                    "q": "心理咨询",
                    "sort": "date",
                    "page": str(len(pages) + step),
                }, label
        assert (_pager_link(page, "上一页") is None) == (len(pages) == 1)
        url = _pager_link(page, "下一页")
    assert pages == [("1", "3"), ("2", "3"), ("3", "3")]
    assert sorted(doc for doc, _ in listed) == sorted(
        {
            "穗教案〔2022〕119号",
            "穗教案〔2022〕130号",
            "穗教案〔2022〕131号",
            "穗教案〔2021〕51号",
            "穗教案〔2023〕52号",
        }
    )
    assert [day for _, day in listed] == [
        "2023年8月8日",
        "2022年5月7日",
        "2022年5月7日",
        "2022年5月7日",
        "2021年3月1日",
    ]


def test_public_search_shows_only_published_replies(browser, corpus):
    page = _text(browser.get("/public/?q=心理"))
    assert "共找到 1 件答复" in page and "穗教案〔2022〕119号" in page
    assert "穗教案〔2022〕130号" not in page and "穗教案〔2022〕131号" not in page
    assert browser.get(f"/public/letters/{corpus['a_public.txt']}").status_code == 200
    for name in ("b_on_request.txt", "c_secret.txt"):
        assert browser.get(f"/public/letters/{corpus[name]}").status_code == 404
    assert "最近公开的答复" in _text(browser.get("/public/"))
    assert "建议提案答复公开" in _text(browser.get("/login"))


def test_a_public_search_does_not_read_the_latest_replies_it_does_not_show(
    browser, corpus, monkeypatch
):
    # at 100,000 letters the latest-replies list cost every public search a scan of them
    from tracker.services import search

    read = []
    latest = search.recent_public
    monkeypatch.setattr(search, "recent_public", lambda *a, **k: read.append(1) or latest())
    page = _text(browser.get("/public/?q=心理"))
    assert "共找到 1 件答复" in page and "最近公开的答复" not in page
    assert read == []
    page = _text(browser.get("/public/"))
    assert "最近公开的答复" in page and "第20222174号" in page and read == [1]


def test_restricted_replies_stay_in_their_unit(browser, corpus):
    browser.login("clerk-health")
    page = _text(browser.get("/search?q=心理"))
    assert "穗教案〔2022〕131号" not in page and "共找到 2 件答复" in page
    assert browser.get(f"/letters/{corpus['c_secret.txt']}").status_code == 403
    assert browser.get(f"/letters/{corpus['b_on_request.txt']}").status_code == 200
    browser.login("clerk")
    assert browser.get(f"/letters/{corpus['c_secret.txt']}").status_code == 200


def test_cli_search_json_fields(runner, corpus):
    result = runner.invoke(args=["search", "心理", "--json", "--limit", "2", "--class", "A"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.strip().splitlines()]
    assert len(rows) == 2
    assert set(rows[0]) == {
        "letter_id",
        "title",
        "doc_number",
        "proposal_number",
        "issuer",
        "letter_date",
        "source",
        "score",
        "snippet",
    }
    result = runner.invoke(
        args=["search", "公厕", "--json", "--issuer", "广州市城市管理和综合执法局"]
    )
    (row,) = [json.loads(line) for line in result.output.strip().splitlines()]
    assert (row["doc_number"], row["source"], row["letter_date"]) == (
        "穗城管函〔2022〕88号",
        "d_toilets.txt",
        "2022-05-07",
    )
    assert "<mark>公厕</mark>" in row["snippet"]


def test_similar_replies_on_letter_and_proposal_pages(app, browser, corpus, make_proposal):
    browser.login("liaison")
    page = _text(browser.get(f"/letters/{corpus['a_public.txt']}"))
    assert "相似的答复" in page and "共同关键词" in page
    pid = make_proposal("20269999", title="关于加强中小学生心理健康教育的建议", proposer="张敏")
    page = _text(browser.get(f"/proposals/{pid}"))
    similar = page.split("相似的答复")[1]
    assert "第20222174号建议答复的函" in similar and "共同关键词" in similar


def test_reserved_query_parameters_are_ignored(browser, corpus):
    for extra in ("endpoint=x", "_method=POST", "_external=1", "_anchor=evil"):
        response = browser.get(f"/public/?q=心理&{extra}")
        assert response.status_code == 200, extra
        assert "http://localhost" not in response.get_data(as_text=True)
    browser.login("liaison")
    assert browser.get("/proposals?endpoint=x&_external=1").status_code == 200


def test_making_a_disclosure_mode_public_updates_the_public_search(app, browser, corpus):
    from tracker.models import VocabularyTerm

    assert "穗教案〔2022〕130号" not in browser.get("/public/?q=心理").get_data(as_text=True)
    with app.app_context():
        term = db.session.execute(
            db.select(VocabularyTerm).filter_by(vocabulary="disclosure", code="依申请公开")
        ).scalar_one()
        term_id, label, order = term.id, term.label, term.sort_order
    browser.login("admin")
    response = browser.post(
        f"/admin/vocabularies/terms/{term_id}",
        {
            "label": label,
            "description": "",
            "aliases": "",
            "sort_order": str(order),
            "active": "y",
            "flag": "y",
        },
    )
    assert response.status_code == 302
    browser.logout()
    page = browser.get("/public/?q=心理").get_data(as_text=True)
    assert "穗教案〔2022〕130号" in page


def test_the_latest_public_replies_newest_first_undated_last(app, browser, corpus):
    """The public page's latest replies: only the published ones of a public disclosure,
    the newest first, those without a date after every dated one, at most as many as
    asked (read in two parts, the dated then the undated)."""
    from datetime import date

    from tracker.services import search

    def dated(name: str, day: date | None) -> None:
        letter = db.session.get(ReplyLetter, corpus[name])
        letter.letter_on = day
        db.session.commit()

    def latest(limit: int = 20) -> list[str]:
        by_id = {i: name for name, i in corpus.items()}
        return [by_id[le.id] for le in search.recent_public(limit)]

    with app.app_context():
        assert latest() == ["d_toilets.txt", "a_public.txt"]  # the same day: the later id
        dated("d_toilets.txt", None)
        dated("b_on_request.txt", date(2024, 1, 2))  # newer, but not public
        assert latest() == ["a_public.txt", "d_toilets.txt"]
        assert latest(1) == ["a_public.txt"]
        dated("a_public.txt", None)
        dated("d_toilets.txt", date(2021, 3, 1))
        assert latest() == ["d_toilets.txt", "a_public.txt"]
        assert latest(1) == ["d_toilets.txt"]
    page = _text(browser.get("/public/"))
    section = page[page.index("最近公开的答复") :]
    assert section.index("城市管理和综合执法局") < section.index("广州市教育局")
