"""督办统计: the numbers for a small world, the lists behind them, sorting, scope, exports."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from conftest import build_template, proposal_maker
from openpyxl import load_workbook
from sqlalchemy import event

from tracker import current
from tracker.extensions import db
from tracker.models import Assignment, Commitment, Feedback, Proposal, ReplyLetter, Unit, User
from tracker.services import proposals as svc

PERIOD = {"from": "2026-01-01", "to": "2026-06-15"}  # the default: 1 January to today


def _user(name: str) -> User:
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one()


def _lead(proposal_id: int, round_: int = 1) -> Assignment:
    return db.session.execute(
        db.select(Assignment).where(
            Assignment.proposal_id == proposal_id,
            Assignment.round == round_,
            Assignment.role == "lead",
        )
    ).scalar_one()


def _reply(clerk: str, proposal_id: int, grade: str, on: date, doc: str, round_: int = 1):
    assignment = _lead(proposal_id, round_)
    return svc.record_reply(
        _user(clerk),
        assignment,
        title=f"答复的函{doc}",
        classification=grade,
        doc_number=doc,
        letter_on=on,
        disclosure="主动公开",
        today=current.today(),
    )


def _rate(proposal_id: int, level: str, on: date, comment: str = ""):
    proposal = db.session.get(Proposal, proposal_id)
    return svc.record_rating(
        _user("liaison"),
        proposal,
        satisfaction=level,
        rated_on=on,
        comment=comment,
        today=current.today(),
        policy=current.deadline_policy(),
    )


def _due(proposal_id: int, due: date, round_: int = 1) -> None:
    _lead(proposal_id, round_).due_on = due


@pytest.fixture(scope="module")
def world_template(tmp_path_factory, database_templates):
    return build_template(tmp_path_factory, database_templates["people"], _build_world)


@pytest.fixture
def template(world_template):
    """Every test here starts from the world, built once for the module."""
    return world_template


@pytest.fixture
def world(app, people, world_template):
    return world_template.data


def _build_world(app) -> dict[str, int]:
    """Two units with work in 2026 (as of 15 June), a third with none.

    广州市教育局: 20260001 on time (A, 满意); 20260002 late (B, commitments done, overdue,
    in progress); 20260003 unanswered and overdue (rated 满意 without a letter);
    20260004 round 1 on time (C, only a candidate commitment, 不满意) and round 2 on time (B,
    no commitment).
    广州市卫生健康委员会: 20260005 on time (A, 基本满意); 20260006 late (A, one dropped
    commitment).
    Plus noise that must not count: a letter of 2025, a draft, a discarded commitment, a
    commitment due after the period; and an imported D letter whose issuer is unknown.
    """
    make_proposal = proposal_maker(app)
    edu = "广州市教育局"
    health = "广州市卫生健康委员会"
    ids = {}
    for number, lead, assigned in (
        ("20260001", edu, date(2026, 1, 20)),
        ("20260002", edu, date(2026, 1, 20)),
        ("20260003", edu, date(2026, 2, 2)),
        ("20260004", edu, date(2026, 1, 26)),
        ("20260005", health, date(2026, 1, 20)),
        ("20260006", health, date(2026, 2, 2)),
    ):
        ids[number] = make_proposal(
            number, title=f"关于第{number}号事项的建议", lead=lead, co=(), assigned_on=assigned
        )
    with app.app_context():
        p = ids
        _due(p["20260001"], date(2026, 4, 20))
        _due(p["20260002"], date(2026, 4, 20))
        _due(p["20260003"], date(2026, 5, 4))
        _due(p["20260004"], date(2026, 4, 27))
        _due(p["20260005"], date(2026, 4, 20))
        _due(p["20260006"], date(2026, 5, 4))
        db.session.flush()

        _reply("clerk", p["20260001"], "A", date(2026, 3, 20), "穗教案〔2026〕1号")
        _rate(p["20260001"], "满意", date(2026, 4, 1))
        b_letter = _reply("clerk", p["20260002"], "B", date(2026, 4, 28), "穗教案〔2026〕2号")
        c_letter = _reply("clerk", p["20260004"], "C", date(2026, 4, 1), "穗教案〔2026〕4号")
        _rate(p["20260004"], "不满意", date(2026, 4, 15), "没有具体措施")
        _due(p["20260004"], date(2026, 5, 15), round_=2)
        db.session.flush()
        _reply("clerk", p["20260004"], "B", date(2026, 5, 10), "穗教案〔2026〕5号", round_=2)
        _reply("clerk-health", p["20260005"], "A", date(2026, 3, 1), "穗卫函〔2026〕5号")
        _rate(p["20260005"], "基本满意", date(2026, 3, 10))
        a_letter = _reply(
            "clerk-health", p["20260006"], "A", date(2026, 5, 20), "穗卫函〔2026〕6号"
        )

        edu_id = _user("clerk").unit_id
        health_id = _user("clerk-health").unit_id
        civil_id = _user("clerk-civil").unit_id
        # a rating recorded without a letter: it belongs to the round's lead unit
        db.session.add(
            Feedback(
                proposal_id=p["20260003"], round=1, satisfaction="满意", rated_on=date(2026, 5, 5)
            )
        )

        def commitment(letter, status, due, unit_id=edu_id, **extra):
            db.session.add(
                Commitment(
                    letter_id=letter.id,
                    proposal_id=letter.proposal_id,
                    unit_id=unit_id,
                    text=f"承诺（{status}，{due}）",
                    due_on=due,
                    status=status,
                    **extra,
                )
            )

        commitment(b_letter, "done", date(2026, 5, 31), done_on=date(2026, 5, 30))
        commitment(b_letter, "open", date(2026, 6, 1))  # overdue
        commitment(b_letter, "in_progress", date(2026, 6, 15))  # due today: not overdue
        commitment(b_letter, "discarded", date(2026, 6, 1))  # not a commitment
        commitment(c_letter, "candidate", date(2026, 5, 1))  # not confirmed: no follow-up
        commitment(a_letter, "dropped", date(2026, 3, 31), unit_id=health_id)
        commitment(a_letter, "open", date(2026, 9, 30), unit_id=health_id)  # after the period

        db.session.add_all(
            [
                ReplyLetter(
                    status="imported",
                    unit_id=edu_id,
                    classification="A",
                    letter_on=date(2025, 11, 3),
                    title="去年的答复",
                    proposal_number="20250009",
                    proposal_title="关于去年事项的建议",
                ),
                ReplyLetter(
                    status="draft", unit_id=edu_id, classification="A", letter_on=date(2026, 3, 3)
                ),
                ReplyLetter(
                    status="imported",
                    classification="D",
                    letter_on=date(2026, 2, 2),
                    title="来源不明的答复",
                    issuer="某区某局",
                    proposal_number="20269999",
                    proposal_title="关于来源不明事项的建议",
                ),
            ]
        )
        db.session.commit()
        return {**ids, "edu": edu_id, "health": health_id, "civil": civil_id}


# -- reading the page ----------------------------------------------------------------------


def _doc(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def _query(href: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(href)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}


def _texts_linking_to(doc, path: str, **params) -> set[str]:
    """The texts of every link on the page (outside the charts) to exactly this list."""
    found = set()
    for a in doc.iter("a"):
        if any(parent.tag == "svg" for parent in a.iterancestors()):
            continue
        href_path, query = _query(a.get("href", ""))
        if href_path == path and query == params:
            found.add(a.text_content().strip())
    return found


def _league(doc) -> dict[str, dict[str, tuple[str, str]]]:
    """unit name → column label → (text, href)."""
    table = doc.xpath("//table[contains(@class, 'league')]")[0]
    labels = [th.text_content().strip(" ▲▼\n") for th in table.xpath("./thead/tr")[1]]
    out = {}
    for tr in table.xpath("./tbody/tr"):
        cells = tr.getchildren()[1:]  # skip the rank
        row = {}
        for label, cell in zip(labels, cells, strict=True):
            link = cell.find(".//a")
            row[label] = (cell.text_content().strip(), link.get("href") if link is not None else "")
        out[row["单位"][0]] = row
    return out


def _order(doc) -> list[str]:
    return [
        tr.xpath("./th")[0].text_content().strip()
        for tr in doc.xpath("//table[contains(@class, 'league')]/tbody/tr")
    ]


def _item_numbers(doc) -> list[str]:
    table = doc.xpath("//table[contains(@class, 'items')]")
    if not table:
        return []
    headers = [th.text_content().strip() for th in table[0].xpath("./thead/tr/th")]
    col = headers.index("编号")
    return [tr.getchildren()[col].text_content().strip() for tr in table[0].xpath("./tbody/tr")]


EDU, HEALTH, CIVIL = "广州市教育局", "广州市卫生健康委员会", "广州市民政局"


# -- the numbers ---------------------------------------------------------------------------


def test_overview_numbers_and_their_lists(app, browser, world):
    browser.login("duban")
    response = browser.get("/dashboard")
    assert response.status_code == 200
    doc = _doc(response)
    items = "/dashboard/items"

    def count(metric, **extra):
        return _texts_linking_to(doc, items, metric=metric, **PERIOD, **extra) - {"—"}

    # replies: on time 20260001, 20260004 (both rounds), 20260005; late 20260002, 20260006;
    # overdue unanswered 20260003 → 4 / 7
    assert count("on_time") == {"4"}
    assert count("late") == {"2"}
    assert count("overdue_unreplied") == {"1"}
    assert count("reply_total") == {"7", "57.1%"}
    # grades: the 2025 letter and the draft stay out; the unknown issuer's D letter counts
    assert count("grade", code="A") == {"3"}
    assert count("grade", code="B") == {"2"}
    assert count("grade", code="C") == {"1"}
    assert count("grade", code="D") == {"1"}
    assert count("letters") == {"7"}
    # satisfaction: 满意 2 (one without a letter), 基本满意 1, 不满意 1 → 3 / 4
    assert count("satisfaction", code="满意") == {"2"}
    assert count("satisfaction", code="基本满意") == {"1"}
    assert count("satisfaction", code="不满意") == {"1"}
    assert count("rated") == {"4", "75.0%"}
    # B/C replies without a confirmed commitment: 20260004's C (a candidate only) and B
    assert count("b_nofollow") == {"2"}
    assert count("rehandled") == {"1"}

    # commitments link to the commitment list with the period's due dates
    def commitments(status, due_from="2026-01-01"):
        return _texts_linking_to(
            doc, "/commitments", status=status, due_from=due_from, due_to="2026-06-15"
        )

    assert commitments("") == {"4"}  # done, overdue, in progress (due today), dropped
    assert commitments("done") == {"1"}
    assert commitments("overdue") == {"1"}
    assert commitments("dropped") == {"1"}
    assert commitments("in_progress", due_from="2026-06-15") == {"1"}
    # none open: a zero is shown, not linked (its list would be empty)
    assert commitments("open", due_from="2026-06-15") == set()

    page = response.get_data(as_text=True)
    assert "口径说明" in page
    assert "B类、C类答复未跟踪落实" in page  # the grades that need follow-up, from the vocabulary
    # the charts are drawn from the same numbers, with text alternatives
    svg = doc.xpath("//svg[@id='chart-replies']")[0]
    assert svg.get("role") == "img"
    title = svg.find("title").text
    assert title == "答复及时性：按时答复4件，逾期答复2件，逾期未答复1件"
    bar = svg.xpath(".//a")[2]
    assert bar.get("aria-label") == "逾期未答复：1件"
    assert _query(bar.get("href")) == (
        "/dashboard/items",
        {"metric": "overdue_unreplied", **PERIOD},
    )
    assert doc.xpath("//svg[@id='chart-grades']/title")[0].text.startswith(
        "答复类别：A类3件，B类2件"
    )
    assert "合计含未能识别答复单位" in page  # the D letter has no unit


def test_league_table_numbers_and_links(app, browser, world):
    browser.login("duban")
    doc = _doc(browser.get("/dashboard?all_units=1"))  # 民政局 has nothing this period
    league = _league(doc)
    assert set(league) == {EDU, HEALTH, CIVIL}  # not the coordinating office
    edu, health, civil = league[EDU], league[HEALTH], league[CIVIL]
    assert [edu[k][0] for k in ("应答复", "按时答复", "逾期答复", "逾期未答复", "按时答复率")] == [
        "5",
        "3",
        "1",
        "1",
        "60.0%",
    ]
    assert [health[k][0] for k in ("应答复", "按时答复", "逾期答复", "逾期未答复")] == [
        "2",
        "1",
        "1",
        "0",
    ]
    assert health["按时答复率"][0] == "50.0%"
    assert civil["按时答复率"][0] == "—" and civil["应答复"][0] == "0"
    assert [edu[k][0] for k in ("A类", "B类", "C类", "D类")] == ["1", "2", "1", "0"]
    assert [health[k][0] for k in ("A类", "B类", "C类")] == ["2", "0", "0"]
    assert [edu[k][0] for k in ("满意", "基本满意", "不满意", "满意率")] == ["2", "0", "1", "66.7%"]
    assert [health[k][0] for k in ("满意", "基本满意", "不满意", "满意率")] == [
        "0",
        "1",
        "0",
        "100.0%",
    ]
    assert [edu[k][0] for k in ("到期", "已完成", "已逾期")] == ["3", "1", "1"]
    assert [health[k][0] for k in ("到期", "已完成", "已逾期")] == ["1", "0", "0"]
    assert edu["B类、C类答复未跟踪落实"][0] == "2" and health["B类、C类答复未跟踪落实"][0] == "0"
    assert edu["重新办理"][0] == "1" and health["重新办理"][0] == "0"

    # link targets carry the unit
    path, query = _query(edu["逾期未答复"][1])
    assert path == "/dashboard/items"
    assert query == {"metric": "overdue_unreplied", **PERIOD, "unit": str(world["edu"])}
    path, query = _query(edu["已逾期"][1])
    assert path == "/commitments"
    assert query == {
        "status": "overdue",
        "due_from": "2026-01-01",
        "due_to": "2026-06-15",
        "unit": str(world["edu"]),
    }
    path, query = _query(edu["B类"][1])
    assert query == {"metric": "grade", "code": "B", **PERIOD, "unit": str(world["edu"])}
    # a zero, or a rate of nothing, is no link: its list would be empty
    assert health["B类"] == ("0", "") and civil["应答复"] == ("0", "")
    assert civil["按时答复率"] == ("—", "") and health["满意率"][1]
    zeros = doc.xpath("//table[contains(@class, 'league')]/tbody//td[contains(@class, 'zero')]")
    assert zeros and all(td.find(".//a") is None for td in zeros)
    linked = doc.xpath(  # every other number of a unit (not its rank) is a link
        "//table[contains(@class, 'league')]/tbody/tr/td[position() > 1]"
        "[not(contains(@class, 'zero'))]"
    )
    assert [td.text_content() for td in linked if td.find("a") is None] == []

    # following a league number shows exactly the items it counts
    assert _item_numbers(_doc(browser.get(edu["逾期未答复"][1]))) == ["20260003"]
    assert sorted(_item_numbers(_doc(browser.get(edu["按时答复"][1])))) == [
        "20260001",
        "20260004",
        "20260004",
    ]
    assert _item_numbers(_doc(browser.get(health["逾期答复"][1]))) == ["20260006"]
    assert _item_numbers(_doc(browser.get(edu["不满意"][1]))) == ["20260004"]
    assert _item_numbers(_doc(browser.get(edu["满意"][1]))) == ["20260003", "20260001"]


@pytest.mark.parametrize(
    ("metric", "code", "numbers"),
    [
        ("late", None, ["20260006", "20260002"]),
        ("overdue_unreplied", None, ["20260003"]),
        ("grade", "B", ["20260004", "20260002"]),
        ("grade", "D", ["20269999"]),
        ("b_nofollow", None, ["20260004", "20260004"]),
        ("satisfaction", "基本满意", ["20260005"]),
        ("rehandled", None, ["20260004"]),
        ("letters", None, None),
    ],
)
def test_drill_down_lists(app, browser, world, metric, code, numbers):
    browser.login("duban")
    params = {"metric": metric, **PERIOD} | ({"code": code} if code else {})
    response = browser.get("/dashboard/items", query_string=params)
    assert response.status_code == 200
    found = _item_numbers(_doc(response))
    if numbers is None:  # every graded letter of the period, none of the noise
        assert len(found) == 7 and "20250009" not in found
    else:
        assert found == numbers


def test_drill_down_rows_show_dates_grades_and_links(app, browser, world):
    browser.login("duban")
    response = browser.get("/dashboard/items", query_string={"metric": "late", **PERIOD})
    page = response.get_data(as_text=True)
    doc = _doc(response)
    row = doc.xpath("//table[contains(@class, 'items')]/tbody/tr")[1]  # 20260002
    cells = [td.text_content().strip() for td in row]
    assert cells[1:4] == ["20260002", "关于第20260002号事项的建议", EDU]
    assert cells[6:11] == ["2026-01-20", "2026-04-20", "2026-04-28", "8天", "逾期答复"]
    assert f'href="/proposals/{world["20260002"]}"' in page
    # the letter list links each letter and shows its grade
    doc = _doc(browser.get("/dashboard/items", query_string={"metric": "b_nofollow", **PERIOD}))
    grades = [
        tr.getchildren()[6].text_content().strip()
        for tr in doc.xpath("//table[contains(@class, 'items')]/tbody/tr")
    ]
    assert grades == ["B类", "C类"]
    assert doc.xpath("//table[contains(@class, 'items')]//a[starts-with(@href, '/letters/')]")


def test_period_filter(app, browser, world):
    browser.login("duban")
    doc = _doc(browser.get("/dashboard", query_string={"from": "2025-01-01", "to": "2026-06-15"}))
    league = _league(doc)
    assert league[EDU]["A类"][0] == "2"  # the 2025 letter is in now
    doc = _doc(browser.get("/dashboard", query_string={"from": "2026-04-01", "to": "2026-04-30"}))
    league = _league(doc)
    # replied in April: 20260004 round 1 (on time), 20260002 (late)
    assert [league[EDU][k][0] for k in ("按时答复", "逾期答复", "逾期未答复")] == ["1", "1", "0"]
    assert league[EDU]["重新办理"][0] == "1"  # round 2 assigned 15 April


def test_chosen_unit_shows_its_numbers_and_highlights_its_row(app, browser, world):
    browser.login("liaison")
    response = browser.get("/dashboard", query_string={"unit": world["health"]})
    doc = _doc(response)
    unit = str(world["health"])
    assert _texts_linking_to(doc, "/dashboard/items", metric="late", **PERIOD, unit=unit) == {"1"}
    assert _texts_linking_to(doc, "/dashboard/items", metric="letters", **PERIOD, unit=unit) == {
        "2"
    }
    selected = (
        doc.xpath("//table[contains(@class, 'league')]//tr[@class='selected']/th")[0]
        .text_content()
        .strip()
    )
    assert selected == HEALTH
    # each unit's name opens its own dashboard for the same period
    assert HEALTH in _texts_linking_to(doc, "/dashboard", unit=unit, **PERIOD)  # and 本年度
    edu = str(world["edu"])
    assert _texts_linking_to(doc, "/dashboard", unit=edu, **PERIOD) == {EDU}


# -- sorting -------------------------------------------------------------------------------


def test_sorting_by_a_column(app, browser, world):
    browser.login("duban")
    doc = _doc(browser.get("/dashboard?all_units=1"))
    assert _order(doc) == [EDU, HEALTH, CIVIL]  # default: on-time rate, best first
    doc = _doc(
        browser.get(
            "/dashboard", query_string={"all_units": "1", "sort": "on_time_rate", "dir": "asc"}
        )
    )
    assert _order(doc) == [HEALTH, EDU, CIVIL]  # units without items stay last
    doc = _doc(
        browser.get("/dashboard", query_string={"all_units": "1", "sort": "grade:A", "dir": "desc"})
    )
    assert _order(doc) == [HEALTH, EDU, CIVIL]
    doc = _doc(
        browser.get("/dashboard", query_string={"all_units": "1", "sort": "grade:A", "dir": "asc"})
    )
    assert _order(doc) == [CIVIL, EDU, HEALTH]  # a unit without letters has 0, not nothing
    doc = _doc(
        browser.get("/dashboard", query_string={"all_units": "1", "sort": "unit", "dir": "desc"})
    )
    assert _order(doc) == [CIVIL, EDU, HEALTH]
    doc = _doc(
        browser.get("/dashboard", query_string={"all_units": "1", "sort": "c_done", "dir": "desc"})
    )
    assert _order(doc)[0] == EDU
    # the header links sort, and the sorted column's link reverses the order
    header = {
        th.text_content().strip(" ▲▼\n"): th
        for th in doc.xpath("//table[contains(@class, 'league')]/thead/tr")[1]
    }
    assert header["已完成"].get("aria-sort") == "descending"
    _, query = _query(header["已完成"].find("a").get("href"))
    assert query["sort"] == "c_done" and query["dir"] == "asc"
    _, query = _query(header["满意率"].find("a").get("href"))
    assert query == {"sort": "sat_rate", "dir": "desc", "all_units": "1", **PERIOD}
    # an unknown column falls back to the default order
    doc = _doc(
        browser.get("/dashboard", query_string={"all_units": "1", "sort": "password", "dir": "up"})
    )
    assert _order(doc) == [EDU, HEALTH, CIVIL]


# -- who sees what -------------------------------------------------------------------------


def test_unit_supervisor_sees_only_their_unit(app, browser, world):
    browser.login("supervisor")  # 广州市教育局
    response = browser.get("/dashboard")
    assert response.status_code == 200
    doc = _doc(response)
    assert set(_league(doc)) == {EDU}
    unit = str(world["edu"])
    assert _texts_linking_to(doc, "/dashboard/items", metric="on_time", **PERIOD, unit=unit) == {
        "3"
    }
    options = [o.get("value") for o in doc.xpath("//select[@name='unit']/option")]
    assert options == [unit]
    # the unknown issuer's letter is nobody's of theirs
    assert "D类" not in response.get_data(as_text=True)
    assert _item_numbers(_doc(browser.get("/dashboard/items?metric=late"))) == ["20260002"]
    for url in (
        f"/dashboard?unit={world['health']}",
        f"/dashboard/items?metric=late&unit={world['health']}",
        f"/dashboard/export.xlsx?unit={world['health']}",
        f"/dashboard/items/export.csv?metric=late&unit={world['health']}",
    ):
        assert browser.get(url).status_code == 403, url
    assert browser.get(f"/dashboard?unit={world['edu']}").status_code == 200


@pytest.mark.parametrize("role", ["clerk", "clerk-health"])
def test_clerks_are_refused(app, browser, world, role):
    browser.login(role)
    for url in (
        "/dashboard",
        "/dashboard/items?metric=late",
        "/dashboard/export.xlsx",
        "/dashboard/items/export.csv?metric=late",
    ):
        assert browser.get(url).status_code == 403, url


def test_anonymous_is_sent_to_login(app, browser, world):
    response = browser.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.location


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13-01"}, "请输入有效日期（年-月-日）。"),
        ({"to": "昨天"}, "请输入有效日期（年-月-日）。"),
        ({"from": "2026-06-01", "to": "2026-05-01"}, "开始日期不能晚于结束日期。"),
        ({"from": "2027-01-01"}, "开始日期不能晚于结束日期。"),
        ({"unit": "99999"}, "请选择有效的单位。"),
        ({"unit": "abc"}, "请选择有效的单位。"),
    ],
)
def test_bad_filters_give_a_form_error(app, browser, world, params, message):
    browser.login("duban")
    for url, extra in (
        ("/dashboard", {}),
        ("/dashboard/items", {"metric": "late"}),
        ("/dashboard/export.xlsx", {}),
    ):
        response = browser.get(url, query_string={**extra, **params})
        assert response.status_code == 400, url
        assert message in response.get_data(as_text=True)


def test_unknown_metric_or_format_is_404(app, browser, world):
    browser.login("duban")
    assert browser.get("/dashboard/items?metric=secret").status_code == 404
    assert browser.get("/dashboard/items").status_code == 404
    assert browser.get("/dashboard/items?metric=grade").status_code == 404  # needs a grade
    assert browser.get("/dashboard/export.pdf").status_code == 404
    assert browser.get("/dashboard/items/export.pdf?metric=late").status_code == 404


# -- exports -------------------------------------------------------------------------------


def test_xlsx_export(app, browser, world):
    browser.login("duban")
    response = browser.get("/dashboard/export.xlsx?all_units=1")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[:3] == ["概览", "单位排名", "按时答复情况"]
    assert "承诺事项" in book.sheetnames
    overview = {row[0]: row[1] for row in book["概览"].iter_rows(min_row=2, values_only=True)}
    assert [cell.value for cell in book["概览"][1]] == ["指标", "数值"]
    assert overview["按时答复"] == 4
    assert overview["逾期未答复"] == 1
    assert overview["按时答复率（%）"] == 57.1
    assert overview["答复类别：B类"] == 2
    assert overview["满意度：不满意"] == 1
    assert overview["承诺事项：已逾期"] == 1
    assert overview["B类、C类答复未跟踪落实"] == 2
    league = list(book["单位排名"].iter_rows(values_only=True))
    headers = list(league[0])
    assert headers[:6] == [
        "单位",
        "应答复",
        "按时答复",
        "逾期答复",
        "逾期未答复",
        "按时答复率（%）",
    ]
    assert "答复类别：A类" in headers and "承诺事项：已逾期" in headers
    rows = {row[0]: dict(zip(headers, row, strict=True)) for row in league[1:]}
    assert rows[EDU]["按时答复率（%）"] == 60.0 and rows[EDU]["逾期未答复"] == 1
    assert rows[CIVIL]["按时答复率（%）"] is None
    replies = list(book["按时答复情况"].iter_rows(values_only=True))
    assert replies[0][:4] == ("会议", "编号", "标题", "承办单位")
    assert len(replies) == 1 + 7
    states = sorted(r[-1] for r in replies[1:])
    assert states.count("按时答复") == 4 and states.count("逾期未答复") == 1
    commitments = list(book["承诺事项"].iter_rows(values_only=True))
    assert len(commitments) == 1 + 4
    assert "已逾期" in [r[5] for r in commitments[1:]]


def test_csv_export_is_the_league_table_with_a_bom(app, browser, world):
    browser.login("duban")
    response = browser.get(
        "/dashboard/export.csv", query_string={"sort": "unit", "dir": "asc", "all_units": "1"}
    )
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["单位", "应答复", "按时答复"]
    assert [r[0] for r in rows[1:]] == [HEALTH, EDU, CIVIL]
    assert rows[2][1:5] == ["5", "3", "1", "1"]


def test_drill_down_exports(app, browser, world):
    browser.login("duban")
    response = browser.get(
        "/dashboard/items/export.csv", query_string={"metric": "grade", "code": "B", **PERIOD}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["会议", "编号", "标题", "答复单位", "文号", "成文日期", "答复类别", "状态"]
    assert [r[1] for r in rows[1:]] == ["20260004", "20260002"]
    response = browser.get(
        "/dashboard/items/export.xlsx", query_string={"metric": "rated", **PERIOD}
    )
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]][6] == "满意度"
    assert sheet.max_row == 1 + 4


# -- cost ------------------------------------------------------------------------------------


def test_queries_do_not_grow_with_the_data(app, browser, world, make_unit):
    browser.login("duban")

    def queries(url):
        count = 0

        def tally(*_args):
            nonlocal count
            count += 1

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", tally)
        try:
            assert browser.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", tally)
        return count

    before = queries("/dashboard")
    items_before = queries("/dashboard/items?metric=letters")
    unit_ids = [make_unit(f"广州市第{n}局", short=(f"市第{n}局",)) for n in range(5)]
    with app.app_context():
        for unit_id in unit_ids:
            for k in range(8):
                db.session.add(
                    ReplyLetter(
                        status="imported",
                        unit_id=unit_id,
                        classification="ABC"[k % 3],
                        letter_on=date(2026, 3, 1 + k),
                        title=f"答复{unit_id}-{k}",
                    )
                )
        db.session.commit()
    assert queries("/dashboard") == before
    assert queries("/dashboard/items?metric=letters") == items_before


def test_the_units_and_the_vocabularies_are_read_once_a_request(app, browser, world):
    """督办统计's unit choices and its league table list the same units, and its grades and
    ratings are the vocabularies' terms: each table is read once a request (they were read
    two and three times)."""
    browser.login("duban")
    statements: list[str] = []

    def note(conn, cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        response = browser.get("/dashboard")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200
    reads = Counter(
        table
        for s in statements
        for table in ("unit", "vocabulary_term")
        if re.match(rf"SELECT {table}\.id\b", s)
    )
    assert reads == {"unit": 1, "vocabulary_term": 1}, statements
    doc = _doc(response)
    league = _league(doc)
    assert "广州市教育局" in league
    choices = [o.text_content() for o in doc.xpath("//select[@name='unit']/option")]
    assert "广州市教育局" in choices and "全部承办单位" in choices


def test_units_with_nothing_in_the_period_are_listed_only_on_request(app, browser, world):
    with app.app_context():
        db.session.add(Unit(name="北京市交通委员会", short_names=["市交通委"]))
        db.session.commit()
    browser.login("duban")
    page = browser.get("/dashboard").get_data(as_text=True)
    assert "只看北京市交通委员会" not in page and "个单位本期没有答复、评价或承诺事项" in page
    page = browser.get("/dashboard?all_units=1").get_data(as_text=True)
    assert "只看北京市交通委员会" in page and "本期没有答复" not in page
    rows = browser.get("/dashboard/export.csv").data.decode("utf-8")
    assert "北京市交通委员会" not in rows


def test_a_units_cell_link_is_the_link_built_for_that_unit(app):
    """Links.cell puts a unit's id into the column's link made once; it is the link built
    in full for that unit, for every kind of column, with and without a chosen unit, and
    for codes that need quoting."""
    from tracker.dashboard.views import Filters, Links
    from tracker.models import Unit
    from tracker.services import dashboard as stats

    grades = [stats.Code("A", "A类"), stats.Code("列入 计划&", "列入计划")]
    columns = stats.league_columns(grades, [stats.Code("满意", "满意")], "B、C类未跟踪")
    period = stats.Period(date(2026, 1, 1), date(2026, 6, 15))
    chosen = Unit(id=7, name="广州市教育局")
    with app.test_request_context():
        for unit in (None, chosen):
            links = Links(Filters(period, unit, None), now=date(2026, 6, 15))
            for column in columns:
                for unit_id in (3, 7, 12345, 3):
                    assert links.cell(column, unit_id) == links._cell(column, unit_id)
                assert links.cell(column) == links._cell(column, None)
            assert links.cell(columns[1], 3) == (
                "/dashboard/items?metric=reply_total&from=2026-01-01&to=2026-06-15&unit=3"
            )


def test_the_links_quote_as_urlencode_does(app):
    # the league table's thousands of links are quoted name by name, once each: the same
    # URLs as urlencode(args, quote_via=quote) made
    from urllib.parse import quote, urlencode

    from tracker.dashboard.views import Links

    args = [
        {"metric": "grade", "from": "2026-01-01", "to": "2026-06-15", "code": "列入计划"},
        {"status": "overdue", "unit": "12", "x y": "a&b=c/d?e#f+g%h"},
        {"metric": "grade", "code": "列入计划"},
    ]
    with app.test_request_context():
        links = Links(filters=None, now=None)
        for one in args:
            assert links._url("commitments.index", one) == (
                f"/commitments?{urlencode(one, quote_via=quote)}"
            )
