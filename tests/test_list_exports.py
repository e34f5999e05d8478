"""Spreadsheet exports of the proposal list and of the reply search: the page's filters,
the user's scope, Chinese headings, .xlsx and .csv with the same rows."""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from conftest import build_template, proposal_maker, standard_template
from openpyxl import load_workbook
from test_search_views import SEED, _variant

from tracker import current
from tracker.extensions import db
from tracker.models import Proposal, ReplyLetter, Unit, User
from tracker.services import proposals as svc

PROPOSAL_HEADINGS = [
    "会议",
    "类型",
    "编号",
    "标题",
    "领衔人",
    "联名人",
    "主办单位",
    "会办单位",
    "分办单位",
    "交办日期",
    "答复期限",
    "答复日期",
    "状态",
    "答复类别",
    "满意度",
    "轮次",
    "重点",
    "提出日期",
    "代表团/界别/党派",
]
SEARCH_HEADINGS = [
    "会议",
    "类型",
    "编号",
    "建议/提案标题",
    "答复单位",
    "文号",
    "答复类别",
    "成文日期",
    "公开方式",
    "状态",
    "领衔人",
    "答复函标题",
    "链接",
]


def _sheet(response) -> list[list]:
    """The rows of an .xlsx download, header first."""
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())  # Excel on a Chinese desktop needs it
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _column(rows: list[list], heading: str) -> list:
    i = rows[0].index(heading)
    return [row[i] for row in rows[1:]]


def _filename(response) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    return unquote(disposition.split("filename*=UTF-8''")[1])


def _unit_id(app, name: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(Unit.id).filter_by(name=name)).scalar_one()


# -- the proposal list ------------------------------------------------------------------


@pytest.fixture(scope="module")
def listing_template(tmp_path_factory, database_templates):
    return build_template(tmp_path_factory, database_templates["people"], _build_listing)


@pytest.fixture(scope="module")
def letters_template(tmp_path_factory, database_templates):
    return build_template(tmp_path_factory, database_templates["people"], _build_letters)


@pytest.fixture
def template(request, database_templates):
    """The tests that use the listing or the letters start from them, built once."""
    for name in ("listing", "letters"):
        if name in request.fixturenames:
            return request.getfixturevalue(f"{name}_template")
    return standard_template(request, database_templates)


@pytest.fixture
def listing(app, people, listing_template):
    return listing_template.data


def _build_listing(app) -> dict[str, int]:
    """Four proposals: two of 教育局 (one signed for), one of 民政局, and one of 教育局 that
    was replied to and rated 满意 (so 已办结)."""
    make_proposal = proposal_maker(app)
    ids = {
        "signed": make_proposal("1001", sign=True),
        "assigned": make_proposal(
            "1002", title="关于校园周边交通安全的提案", kind="提案", proposer="李华", co=()
        ),
        "civil": make_proposal(
            "1003", title="关于加快社区养老服务设施建设的建议", lead="广州市民政局", co=()
        ),
        "closed": make_proposal("1004", title="关于中小学课后服务的建议", co=(), sign=True),
    }
    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        liaison = db.session.execute(db.select(User).filter_by(username="liaison")).scalar_one()
        closed = db.session.get(Proposal, ids["closed"])
        closed.co_signers = ["王小明", "陈静"]
        closed.is_key = True
        svc.record_reply(
            clerk,
            closed.assignments[0],
            title="广州市教育局关于第1004号建议答复的函",
            classification="A",
            doc_number="穗教案〔2026〕101号",
            letter_on=date(2026, 5, 20),
            disclosure="主动公开",
            today=current.today(),
        )
        svc.record_rating(
            liaison,
            closed,
            satisfaction="满意",
            rated_on=date(2026, 6, 1),
            today=current.today(),
            policy=current.deadline_policy(),
        )
        db.session.commit()
        assert closed.status == "closed"
    return ids


def test_proposal_export_has_chinese_headings_and_typed_cells(browser, listing):
    browser.login("liaison")
    response = browser.get("/proposals/export.xlsx")
    assert _filename(response) == "建议提案_2026-06-15.xlsx"
    rows = _sheet(response)
    assert rows[0] == PROPOSAL_HEADINGS
    assert sorted(_column(rows, "编号")) == ["1001", "1002", "1003", "1004"]
    closed = dict(zip(rows[0], next(r for r in rows[1:] if r[2] == "1004"), strict=True))
    assert closed["会议"] == "市十六届人大一次会议"
    assert closed["类型"] == "建议"
    assert closed["标题"] == "关于中小学课后服务的建议"
    assert closed["领衔人"] == "曾志伟"
    assert closed["联名人"] == "王小明、陈静"
    assert closed["主办单位"] == "广州市教育局"
    assert closed["交办日期"] == datetime(2026, 3, 2)  # a date cell, not text
    assert isinstance(closed["答复期限"], datetime)
    assert closed["答复日期"] == datetime(2026, 5, 20)
    assert closed["状态"] == "已办结"
    assert closed["答复类别"] == "A类"
    assert closed["满意度"] == "满意"
    assert closed["轮次"] == 1
    assert closed["重点"] == "是"
    signed = dict(zip(rows[0], next(r for r in rows[1:] if r[2] == "1001"), strict=True))
    assert signed["会办单位"] == "广州市卫生健康委员会"
    assert signed["状态"] == "办理中"
    assert signed["答复日期"] is None and signed["满意度"] is None and signed["重点"] == "否"
    # the list's order: key items first, then the newest
    assert _column(rows, "编号") == ["1004", "1003", "1002", "1001"]


def test_proposal_export_applies_the_list_filters(app, browser, listing):
    browser.login("liaison")
    civil = _unit_id(app, "广州市民政局")
    cases = {
        "status=assigned": ["1003", "1002"],
        "status=closed": ["1004"],
        f"unit={civil}": ["1003"],
        "kind=提案": ["1002"],
        "q=心理健康": ["1001"],
        "classification=A": ["1004"],
        "status=assigned&q=养老": ["1003"],
        "status=replied": [],
    }
    for query, numbers in cases.items():
        rows = _sheet(browser.get(f"/proposals/export.xlsx?{query}"))
        assert rows[0] == PROPOSAL_HEADINGS, query
        assert _column(rows, "编号") == numbers, query
        # the list page counts the same rows
        page = browser.get(f"/proposals?{query}").get_data(as_text=True)
        assert (f"共 {len(numbers)} 条" in page) if numbers else ("没有符合条件" in page), query


def test_proposal_export_is_scoped_like_the_list(app, browser, listing):
    expected = {
        "clerk": ["1004", "1002", "1001"],  # 广州市教育局 leads three
        "clerk-civil": ["1003"],
        "clerk-health": ["1001"],  # a co-handling unit sees its item
        "duban": ["1004", "1003", "1002", "1001"],
        "admin": ["1004", "1003", "1002", "1001"],
    }
    for username, numbers in expected.items():
        browser.login(username)
        assert _column(_sheet(browser.get("/proposals/export.xlsx")), "编号") == numbers
        assert [r[2] for r in _csv(browser.get("/proposals/export.csv"))[1:]] == numbers
    # a clerk asking for another unit's items gets none of them
    browser.login("clerk-civil")
    education = _unit_id(app, "广州市教育局")
    assert _sheet(browser.get(f"/proposals/export.xlsx?unit={education}")) == [PROPOSAL_HEADINGS]
    browser.logout()
    for url in ("/proposals/export.xlsx", "/proposals/export.csv"):
        response = browser.get(url)
        assert response.status_code == 302 and "/login" in response.location


def test_proposal_csv_has_the_same_rows_as_the_xlsx(browser, listing):
    browser.login("liaison")
    response = browser.get("/proposals/export.csv?status=closed")
    assert _filename(response) == "建议提案_2026-06-15.csv"
    table = _csv(response)
    sheet = _sheet(browser.get("/proposals/export.xlsx?status=closed"))
    assert table[0] == sheet[0] == PROPOSAL_HEADINGS
    assert len(table) == len(sheet) == 2

    def text(value):
        if isinstance(value, datetime):
            return value.date().isoformat()
        return "" if value is None else str(value)

    assert table[1] == [text(v) for v in sheet[1]]
    row = dict(zip(table[0], table[1], strict=True))
    assert (row["交办日期"], row["答复日期"], row["状态"], row["重点"]) == (
        "2026-03-02",
        "2026-05-20",
        "已办结",
        "是",
    )


def test_list_page_export_links_carry_the_filters(app, browser, listing):
    browser.login("liaison")
    civil = _unit_id(app, "广州市民政局")
    page = browser.get(f"/proposals?status=assigned&unit={civil}&q=").get_data(as_text=True)
    assert "导出Excel" in page and "导出CSV" in page
    links = {
        fmt: href.replace("&amp;", "&")
        for href, fmt in re.findall(r'href="(/proposals/export\.(xlsx|csv)[^"]*)"', page)
    }
    assert set(links) == {"xlsx", "csv"}
    for href in links.values():
        assert dict(parse_qsl(urlsplit(href).query)) == {"status": "assigned", "unit": str(civil)}
    assert _column(_sheet(browser.get(links["xlsx"])), "编号") == ["1003"]
    assert [r[2] for r in _csv(browser.get(links["csv"]))[1:]] == ["1003"]
    # nothing to export: no links
    page = browser.get("/proposals?status=replied").get_data(as_text=True)
    assert "导出Excel" not in page


def test_unknown_export_format_is_not_found(browser, listing):
    browser.login("liaison")
    for url in (
        "/proposals/export.pdf",
        "/proposals/export.xls",
        "/search/export.pdf?q=心理",
        "/search/export.json?q=心理",
    ):
        assert browser.get(url).status_code == 404, url


def test_a_title_that_looks_like_a_formula_stays_text(app, browser, make_proposal):
    title = '=HYPERLINK("http://example.com","关于加强校园安全的建议")'
    make_proposal("9001", title=title, co=())
    browser.login("liaison")
    assert _csv(browser.get("/proposals/export.csv"))[1][3] == "'" + title
    book = load_workbook(io.BytesIO(browser.get("/proposals/export.xlsx").data))
    cell = book.worksheets[0]["D2"]
    assert cell.data_type == "s"


# -- the reply search ------------------------------------------------------------------


@pytest.fixture
def letters(app, people, letters_template):
    return letters_template.data


def _build_letters(app) -> dict[str, int]:
    """Imported replies about 心理健康: three of 广州市教育局 (主动公开 / 依申请公开 /
    不予公开), one 不予公开 of 广州市民政局; one about public toilets; and a draft of 教育局
    that is not issued."""
    runner = app.test_cli_runner()
    folder = Path(app.config["UPLOAD_DIR"]).parent / "letters"
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
    (folder / "d_civil_secret.txt").write_text(
        _variant(
            seed.replace("广州市教育局", "广州市民政局"),
            "20222195",
            "穗民函〔2022〕77号",
            "不予公开",
            "养老机构心理关爱另行说明。",
        ).replace("穗教案〔2022〕119号", "穗民函〔2022〕77号"),
        encoding="utf-8",
    )
    toilets = (
        seed.replace("广州市教育局", "广州市城市管理和综合执法局")
        .replace("20222174", "20222190")
        .replace("穗教案〔2022〕119号", "穗城管函〔2022〕88号")
        .replace("心理", "公厕")
    )
    (folder / "e_toilets.txt").write_text(toilets, encoding="utf-8")
    result = runner.invoke(args=["import-letters", str(folder)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ids = {le.source_file: le.id for le in db.session.execute(db.select(ReplyLetter)).scalars()}
        units = {
            le.source_file: le.unit.name if le.unit else None
            for le in db.session.execute(db.select(ReplyLetter)).scalars()
        }
        assert units["c_secret.txt"] == "广州市教育局"
        assert units["d_civil_secret.txt"] == "广州市民政局"
        education = db.session.execute(db.select(Unit).filter_by(name="广州市教育局")).scalar_one()
        draft = ReplyLetter(
            status="draft",
            unit_id=education.id,
            title="关于心理健康教育的答复（草稿）",
            issuer="广州市教育局",
            doc_number="穗教案〔2026〕999号",
            body="心理健康教育工作草稿",
        )
        db.session.add(draft)
        db.session.commit()
        ids["draft"] = draft.id
    return ids


DOC_NUMBER = re.compile(r"穗[\u4e00-\u9fff]+〔2022〕\d+号")


def _page_letters(browser, query: str) -> list[int]:
    """The letter ids the search page lists, in its order."""
    page = browser.get(f"/search?{query}").get_data(as_text=True)
    return [int(i) for i in re.findall(r'<h3><a href="/letters/(\d+)">', page)]


def _export_letters(rows: list[list]) -> list[int]:
    links = _column(rows, "链接")
    assert all(link.startswith("http://localhost/letters/") for link in links)
    return [int(link.rsplit("/", 1)[1]) for link in links]


def test_search_export_has_the_letters_the_page_lists(browser, letters):
    browser.login("clerk")
    listed = _page_letters(browser, "q=心理健康")
    assert len(listed) == 3  # a, b and the clerk's own unit's restricted c
    response = browser.get("/search/export.xlsx?q=心理健康")
    assert _filename(response) == "答复检索_2026-06-15.xlsx"
    rows = _sheet(response)
    assert rows[0] == SEARCH_HEADINGS
    assert _export_letters(rows) == listed
    assert sorted(_column(rows, "文号")) == [
        "穗教案〔2022〕119号",
        "穗教案〔2022〕130号",
        "穗教案〔2022〕131号",
    ]
    first = dict(
        zip(rows[0], next(r for r in rows[1:] if r[5] == "穗教案〔2022〕119号"), strict=True)
    )
    assert first["会议"] == "市十六届人大一次会议"
    assert first["类型"] == "建议"
    assert first["编号"] == "20222174"
    assert first["建议/提案标题"] == "关于进一步加强广州市中小学生心理健康管理工作的建议"
    assert first["答复单位"] == "广州市教育局"
    assert first["答复类别"] == "A类"
    assert first["成文日期"] == datetime(2022, 5, 7)  # the date under the seal
    assert first["公开方式"] == "主动公开"
    assert first["状态"] == "已导入"
    assert first["领衔人"] == "曾志伟"
    assert first["答复函标题"] == "广州市教育局关于市十六届人大一次会议第20222174号建议答复的函"
    # the csv has the same letters
    table = _csv(browser.get("/search/export.csv?q=心理健康"))
    assert table[0] == SEARCH_HEADINGS
    assert [int(r[-1].rsplit("/", 1)[1]) for r in table[1:]] == listed


def test_search_export_applies_facets_and_sort(browser, letters):
    browser.login("liaison")
    for query in (
        "q=心理健康&issuer=广州市民政局",
        "q=心理健康&sort=date",
        "q=心理健康&issuer=广州市教育局&sort=date",
        "issuer=广州市城市管理和综合执法局",
        "q=公厕",
    ):
        listed = _page_letters(browser, query)
        assert listed, query
        assert _export_letters(_sheet(browser.get(f"/search/export.xlsx?{query}"))) == listed
    rows = _sheet(browser.get("/search/export.xlsx?q=心理健康&issuer=广州市民政局"))
    assert _column(rows, "文号") == ["穗民函〔2022〕77号"]
    assert _column(rows, "公开方式") == ["不予公开"]


def test_search_export_keeps_restricted_letters_in_their_unit(browser, letters):
    expected = {
        "clerk": {"a_public.txt", "b_on_request.txt", "c_secret.txt"},
        "clerk-civil": {"a_public.txt", "b_on_request.txt", "d_civil_secret.txt"},
        "clerk-health": {"a_public.txt", "b_on_request.txt"},
        "liaison": {"a_public.txt", "b_on_request.txt", "c_secret.txt", "d_civil_secret.txt"},
    }
    for username, names in expected.items():
        browser.login(username)
        ids = set(_export_letters(_sheet(browser.get("/search/export.xlsx?q=心理健康"))))
        assert ids == {letters[n] for n in names}, username
        assert letters["draft"] not in ids  # never issued: in no one's search
        table = _csv(browser.get("/search/export.csv?q=心理健康"))
        assert {int(r[-1].rsplit("/", 1)[1]) for r in table[1:]} == ids, username
    browser.logout()
    response = browser.get("/search/export.xlsx?q=心理健康")
    assert response.status_code == 302 and "/login" in response.location


def test_search_page_links_to_the_export_with_its_query(browser, letters):
    browser.login("clerk")
    page = browser.get("/search?q=心理健康&issuer=广州市教育局&sort=date&page=1")
    text = page.get_data(as_text=True)
    links = re.findall(r'href="(/search/export\.(?:xlsx|csv)[^"]*)"', text)
    assert len(links) == 2
    for href in links:
        assert dict(parse_qsl(urlsplit(href.replace("&amp;", "&")).query)) == {
            "q": "心理健康",
            "issuer": "广州市教育局",
            "sort": "date",
        }
    assert "导出只含" not in text
    # the public search has no export
    assert "/search/export" not in browser.get("/public/?q=心理健康").get_data(as_text=True)


def test_search_export_is_capped_and_the_page_says_so(browser, letters, monkeypatch):
    import tracker.replies.views as views

    monkeypatch.setattr(views, "EXPORT_MAX", 2)
    browser.login("liaison")
    listed = _page_letters(browser, "q=心理健康")
    assert len(listed) == 4
    page = browser.get("/search?q=心理健康").get_data(as_text=True)
    assert "导出只含按当前排序的前 2 件" in page
    rows = _sheet(browser.get("/search/export.xlsx?q=心理健康"))
    assert _export_letters(rows) == listed[:2]
    monkeypatch.setattr(views, "EXPORT_MAX", 4)
    page = browser.get("/search?q=心理健康").get_data(as_text=True)
    assert "导出Excel" in page and "导出只含" not in page


def test_search_export_pages_through_the_engine(browser, letters, monkeypatch):
    import tracker.replies.views as views

    monkeypatch.setattr(views, "EXPORT_BATCH", 1)
    browser.login("liaison")
    listed = _page_letters(browser, "q=心理健康&sort=date")
    assert len(listed) == 4
    rows = _sheet(browser.get("/search/export.xlsx?q=心理健康&sort=date"))
    assert _export_letters(rows) == listed
    monkeypatch.setattr(views, "EXPORT_MAX", 3)
    rows = _sheet(browser.get("/search/export.xlsx?q=心理健康&sort=date"))
    assert _export_letters(rows) == listed[:3]


def test_search_export_pages_through_tied_scores(browser, letters, monkeypatch):
    import tracker.replies.views as views

    monkeypatch.setattr(views, "EXPORT_BATCH", 1)
    browser.login("liaison")
    listed = _page_letters(browser, "q=心理健康")
    assert len(listed) == 4  # the same letter four times over: scores that tie
    rows = _sheet(browser.get("/search/export.xlsx?q=心理健康"))
    assert _export_letters(rows) == listed


def test_search_export_without_a_usable_query_explains(browser, letters):
    browser.login("clerk")
    for url in ("/search/export.xlsx", "/search/export.csv?q=", "/search/export.xlsx?q=%20"):
        response = browser.get(url)
        assert response.status_code == 400, url
        assert "检索说明" in response.get_data(as_text=True), url
    for query in ("((", "-心理", "：："):
        response = browser.get(f"/search/export.xlsx?q={query}")
        assert response.status_code == 400, query
        assert 'class="flash flash-warning"' in response.get_data(as_text=True), query
