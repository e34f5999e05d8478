"""The year's assessment (考评): the scheme's rule on hand-counted facts, the facts counted
from a hand-built year, versions that keep a finalized year's scores, the 考评 page, its
export and `tracker assess --json`.

The hand-built year 2025 (TODAY is 2026-06-15):

广州市教育局 (lead unit of P1–P4):
- P1 replied on time (due 06-01, replied 05-20) after a 面商 on 05-10; rated 满意/态度满意.
- P2 replied late (due 06-01, replied 06-10) after a 电话 on 05-15 (the deputy confirmed it)
  and a 面商 on 05-16 that the deputy disputed (not a contact made); rated 基本满意/态度不满意.
- P3 round 1 replied on time (due 07-01, replied 06-20) with no contact before (a 面商 on
  06-25, after the reply, disputed by the deputy); rated 不满意; re-handled: round 2 assigned 08-01,
  replied on time 10-20 with no contact.
- P4 due 10-01, never replied: overdue.
- Commitments due in 2025: one done before its due date, one open past it, one done after.

广州市卫生健康委员会: P5 replied on time after a 座谈会; rated 满意/态度满意; no commitments.

The default scheme scores 教育局 (by hand):
  按时答复 20 × 3/5 = 12; 办前沟通 15 × 2/4 = 7.5; 面复 15 × 1/4 = 3.75;
  办理结果满意 20 × 2/3 = 13.333; 办理态度满意 10 × 1/2 = 5; 承诺按期 20 × 1/3 = 6.667;
  超期答复 2 件 × 2 = −4; 重新办理 1 件 × 3 = −3; 沟通情况有异议 2 件 × 2 = −4
  = 37.25.
and 卫健委 full marks, 100.
"""

from __future__ import annotations

import io
import json
from datetime import date

import openpyxl
import pytest
from conftest import TODAY, build_template

from tracker.extensions import db
from tracker.models import (
    AssessmentScheme,
    Assignment,
    Commitment,
    CongressSession,
    ContactLog,
    Feedback,
    Proposal,
    Unit,
)
from tracker.rules import assessment as rule
from tracker.services import assessment as svc

EDU, HEALTH = "广州市教育局", "广州市卫生健康委员会"


def _unit_id(name: str) -> int:
    return db.session.execute(db.select(Unit.id).where(Unit.name == name)).scalar_one()


def _proposal(session, number: str, *, rnd: int = 1, status: str = "replied") -> Proposal:
    p = Proposal(
        session=session,
        kind="建议",
        number=number,
        title=f"关于第{number}号事项的建议",
        lead_proposer="曾志伟",
        assigned_on=date(2025, 3, 1),
        status=status,
        round=rnd,
    )
    db.session.add(p)
    return p


def _lead(p, unit_id, *, due, replied=None, rnd=1, assigned=date(2025, 3, 1)) -> None:
    db.session.add(
        Assignment(
            proposal=p,
            unit_id=unit_id,
            role="lead",
            round=rnd,
            assigned_on=assigned,
            due_on=due,
            original_due_on=due,
            replied_on=replied,
        )
    )


def _contact(p, unit_id, on, channel, rnd=1, deputy_status=None) -> None:
    db.session.add(
        ContactLog(
            proposal=p,
            unit_id=unit_id,
            round=rnd,
            contacted_on=on,
            channel=channel,
            phase="before",
            deputy_status=deputy_status,
            deputy_comment="未曾当面沟通。" if deputy_status == "disputed" else None,
        )
    )


def _rating(p, on, satisfaction, attitude=None, comment="", rnd=1) -> None:
    db.session.add(
        Feedback(
            proposal=p,
            round=rnd,
            satisfaction=satisfaction,
            attitude=attitude,
            comment=comment,
            rated_on=on,
        )
    )


def build_year(app) -> dict[str, int]:
    with app.app_context():
        edu, health = _unit_id(EDU), _unit_id(HEALTH)
        session = CongressSession(body="人大", name="市十六届人大四次会议", year=2025)
        db.session.add(session)
        p1 = _proposal(session, "20254001")
        _lead(p1, edu, due=date(2025, 6, 1), replied=date(2025, 5, 20))
        _contact(p1, edu, date(2025, 5, 10), "面商")
        _rating(p1, date(2025, 6, 1), "满意", "满意")
        p2 = _proposal(session, "20254002")
        _lead(p2, edu, due=date(2025, 6, 1), replied=date(2025, 6, 10))
        _contact(p2, edu, date(2025, 5, 15), "电话", deputy_status="confirmed")
        _contact(p2, edu, date(2025, 5, 16), "面商", deputy_status="disputed")
        _rating(p2, date(2025, 6, 20), "基本满意", "不满意")
        p3 = _proposal(session, "20254003", rnd=2)
        _lead(p3, edu, due=date(2025, 7, 1), replied=date(2025, 6, 20))
        _contact(p3, edu, date(2025, 6, 25), "面商", deputy_status="disputed")
        _rating(p3, date(2025, 7, 10), "不满意", comment="答复未回应核心问题。")
        _lead(
            p3,
            edu,
            rnd=2,
            assigned=date(2025, 8, 1),
            due=date(2025, 11, 1),
            replied=date(2025, 10, 20),
        )
        p4 = _proposal(session, "20254004", status="handling")
        _lead(p4, edu, due=date(2025, 10, 1))
        for text, status, due, done in (
            ("年底前完成", "done", date(2025, 12, 31), date(2025, 11, 30)),
            ("9月底前完成", "open", date(2025, 9, 30), None),
            ("12月初完成", "done", date(2025, 12, 1), date(2025, 12, 20)),
        ):
            db.session.add(
                Commitment(
                    proposal=p1, unit_id=edu, text=text, status=status, due_on=due, done_on=done
                )
            )
        p5 = _proposal(session, "20254005")
        _lead(p5, health, due=date(2025, 6, 1), replied=date(2025, 5, 1))
        _contact(p5, health, date(2025, 4, 20), "座谈会")
        _rating(p5, date(2025, 5, 15), "满意", "满意")
        db.session.commit()
        return {"edu": edu, "health": health, "p3": p3.id}


@pytest.fixture(scope="module")
def year_template(tmp_path_factory, database_templates):
    return build_template(tmp_path_factory, database_templates["people"], build_year)


@pytest.fixture
def template(year_template):
    return year_template


# -- the rule, on facts counted by hand -----------------------------------------------------


def test_the_rule_scores_rates_in_proportion_and_deducts_per_item_up_to_the_cap():
    items = [
        {"kind": "on_time", "label": "按时答复", "points": 40, "cap": None},
        {"kind": "result_satisfied", "label": "满意", "points": 60, "cap": None},
        {"kind": "overdue", "label": "超期", "points": 3, "cap": 5},
    ]
    facts = {"on_time": 3, "replies_due": 4, "result_satisfied": 0, "rated": 0, "overdue": 4}
    total, parts = rule.score(items, facts)
    # 40 × 3/4 = 30; nothing rated: the full 60; 4 overdue × 3 = 12, capped at 5
    assert [round(p.earned, 2) for p in parts] == [30.0, 60.0, -5.0]
    assert total == 85.0
    assert rule.score(items, {"overdue": 100})[0] == 95.0  # the cap holds
    assert rule.score([items[2]], {"overdue": 1})[0] == 0.0  # never below zero


def test_ties_share_a_rank():
    assert rule.ranks([90.0, 80.5, 90.0, 70.0]) == [1, 3, 1, 4]


def test_a_scheme_with_an_unknown_kind_or_a_negative_weight_is_refused():
    assert rule.check_items(rule.DEFAULT_ITEMS) == []
    errors = rule.check_items(
        [{"kind": "bribes", "points": 1}, {"kind": "on_time", "points": -1, "cap": None}]
    )
    assert len(errors) == 2


# -- the hand-built year --------------------------------------------------------------------


def test_the_facts_of_the_year_are_counted_per_unit(app, people):
    with app.app_context():
        edu, health = _unit_id(EDU), _unit_id(HEALTH)
        facts = svc.facts_by_unit(2025, TODAY, rule.DEFAULT_IN_PERSON)
        assert {k: v for k, v in facts[edu].items() if v} == {
            "on_time": 3,
            "replied": 4,
            "overdue": 2,
            "replies_due": 5,
            "rehandled": 1,
            "rated": 3,
            "result_satisfied": 2,
            "contacted_before": 2,
            "met_in_person": 1,
            "attitude_rated": 2,
            "attitude_satisfied": 1,
            "commitments_due": 3,
            "commitments_done_on_time": 1,
            "disputed_contacts": 2,
        }
        assert facts[health]["met_in_person"] == 1


def test_the_default_scheme_scores_the_year_as_counted_by_hand(app, people):
    with app.app_context():
        result = svc.assess(2025, TODAY)
        assert [(r.rank, r.unit.name, r.score) for r in result.rows] == [
            (1, HEALTH, 100.0),
            (2, EDU, 37.25),
        ]
        edu = result.rows[1]
        assert [round(p.earned, 2) for p in edu.items] == [
            12.0,
            7.5,
            3.75,
            13.33,
            5.0,
            6.67,
            -4.0,
            -3.0,
            -4.0,
        ]


def test_a_finalized_year_keeps_its_scores_after_the_scheme_changes(app, browser, people):
    browser.login("duban")
    response = browser.post("/dashboard/assessment/2025/finalize")
    assert response.status_code == 302
    browser.login("admin")
    page = browser.get("/admin/assessment")
    assert page.status_code == 200
    form = _scheme_form(page.get_data(as_text=True))
    form["items-0-points"] = "60"  # 按时答复 weighs 60 instead of 20
    response = browser.post("/admin/assessment", form)
    assert response.status_code == 302
    with app.app_context():
        versions = db.session.execute(
            db.select(AssessmentScheme).order_by(AssessmentScheme.version)
        ).scalars()
        assert [(v.version, v.items[0]["points"], v.frozen_at is not None) for v in versions] == [
            (1, 20, True),
            (2, 60.0, False),
        ]
        last_year = svc.assess(2025, TODAY)
        assert [r.score for r in last_year.rows] == [100.0, 37.25]  # as finalized
        assert last_year.scheme.version == 1
        # a year not finalized is scored with the new version: 教育局's 按时答复 60 × 3/5
        assert svc.assess(2024, TODAY).scheme.version == 2
        result = svc.assess(2025, TODAY)
        svc_rows = svc.facts_by_unit(2025, TODAY, rule.DEFAULT_IN_PERSON)
        assert rule.score(svc.current_scheme().items, svc_rows[_unit_id(EDU)])[0] == 61.25
        assert result.rows[1].score == 37.25


def test_editing_a_scheme_not_yet_used_keeps_its_version(app, browser, people):
    browser.login("admin")
    form = _scheme_form(browser.get("/admin/assessment").get_data(as_text=True))
    form["items-0-points"] = "30"
    assert browser.post("/admin/assessment", form).status_code == 302
    with app.app_context():
        versions = db.session.execute(db.select(AssessmentScheme)).scalars().all()
        assert [(v.version, v.items[0]["points"]) for v in versions] == [(1, 30.0)]


def test_a_scheme_with_a_negative_weight_is_refused_on_the_page(app, browser, people):
    browser.login("admin")
    form = _scheme_form(browser.get("/admin/assessment").get_data(as_text=True))
    form["items-0-points"] = "-5"
    response = browser.post("/admin/assessment", form)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.execute(db.select(AssessmentScheme)).first() is None


def _scheme_form(html: str) -> dict[str, str]:
    """The scheme form's fields as the page fills them (checked boxes only)."""
    import re

    form: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                form[name.group(1)] = "y"
            continue
        form[name.group(1)] = value.group(1) if value else ""
    source = re.search(r'<textarea[^>]*name="source"[^>]*>(.*?)</textarea>', html, re.S)
    form["source"] = source.group(1).strip() if source else ""
    return form


# -- the page, the export, the command -----------------------------------------------------


def test_the_assessment_page_ranks_the_units_and_links_each_item(app, browser, people):
    browser.login("duban")
    response = browser.get("/dashboard/assessment?year=2025")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.index(HEALTH) < html.index(EDU)  # ranked
    assert "37.25" in html and "100.0" in html
    assert "未定稿" in html and "口径说明" in html
    with app.app_context():
        edu = _unit_id(EDU)
    # 办前沟通 2/4 links to the replies without a contact before
    link = f"/dashboard/assessment/items?year=2025&amp;unit={edu}&amp;kind=contact_before"
    assert link in html
    items = browser.get(
        f"/dashboard/assessment/items?year=2025&unit={edu}&kind=contact_before&missing=1"
    ).get_data(as_text=True)
    assert "20254003" in items and "20254001" not in items
    assert items.count("20254003") >= 2  # both rounds, neither with a contact before
    disputed = browser.get(
        f"/dashboard/assessment/items?year=2025&unit={edu}&kind=disputed_contacts"
    ).get_data(as_text=True)
    assert "20254002" in disputed and "20254003" in disputed and "未曾当面沟通" in disputed
    assert "20254001" not in disputed


def test_a_unit_supervisor_sees_their_own_row_only(browser, people):
    browser.login("supervisor")
    html = browser.get("/dashboard/assessment?year=2025").get_data(as_text=True)
    assert EDU in html and "37.25" in html
    assert HEALTH not in html


def test_a_clerk_may_not_see_the_assessment(browser, people):
    browser.login("clerk")
    assert browser.get("/dashboard/assessment?year=2025").status_code == 403


def test_the_export_has_the_ranking_and_each_items_counts(browser, people):
    browser.login("liaison")
    response = browser.get("/dashboard/assessment/export.xlsx?year=2025")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book["2025年度考评"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == (
        "名次",
        "单位",
        "得分",
        "按时答复（件）",
        "按时答复（基数）",
        "按时答复（得分）",
    )
    assert rows[1][:3] == (1, HEALTH, 100)
    assert rows[2][:6] == (2, EDU, 37.25, 3, 5, 12)
    assert rows[2][-2:] == (2, -4)  # 沟通情况有异议: 2 contacts, 4 points off
    assert "考评方案" in book.sheetnames


def test_the_command_prints_one_json_object_per_unit(app, runner, people):
    result = runner.invoke(args=["assess", "--year", "2025", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(u["unit"], u["score"]) for u in lines] == [(HEALTH, 100.0), (EDU, 37.25)]
    on_time = lines[1]["items"][0]
    assert on_time == {
        "kind": "on_time",
        "label": "按时答复",
        "points": 20.0,
        "earned": 12.0,
        "count": 3,
        "of": 5,
    }
    text = runner.invoke(args=["assess", "--year", "2025"]).output
    assert "2025年度考评" in text and "37.25" in text


def test_the_dashboard_reports_the_platforms_rates_with_their_definitions(browser, people):
    browser.login("duban")
    html = browser.get("/dashboard?from=2025-01-01&to=2025-12-31").get_data(as_text=True)
    # 交办 5 (P1–P5, first round), 4 answered: 80%; 5 replies (P3 twice), 2 met in person
    assert "办结率 · 面复率" in html
    assert "80.0%" in html and "40.0%" in html
    notes = html[html.index("口径说明") :]
    assert "办结率" in notes and "面复率" in notes and "满意率" in notes
    assert 'href="/dashboard/assessment"' in html  # the 考评 tab


def test_the_demo_has_last_years_assessment_with_a_ranking(tmp_path, database_templates):
    from conftest import close, new_app

    database_templates["empty"].copy_to(tmp_path)
    demo_app = new_app(tmp_path)
    try:
        runner = demo_app.test_cli_runner()
        assert runner.invoke(args=["demo-data"]).exit_code == 0
        result = runner.invoke(args=["assess", "--year", str(TODAY.year - 1), "--json"])
        units = [json.loads(line) for line in result.output.splitlines()]
        assert len(units) >= 5  # every handling unit of the demo answered last year
        assert len({u["score"] for u in units}) >= 4  # and they did not all do as well
        deductions = [i for u in units for i in u["items"] if i["earned"] < 0]
        assert {i["kind"] for i in deductions} >= {"overdue", "rehandled"}
        text = runner.invoke(args=["assess", "--year", str(TODAY.year - 1)]).output
        assert "已定稿" in text  # the coordinating office published it
    finally:
        close(demo_app)


def test_the_scheme_page_takes_each_rows_kind_from_its_place_and_refuses_odd_numbers(
    app, browser, people
):
    browser.login("admin")
    form = _scheme_form(browser.get("/admin/assessment").get_data(as_text=True))
    form["items-0-kind"] = "bribes"  # a row's kind is its place, whatever is posted
    form["items-1-points"] = "0"  # zero is a weight
    assert browser.post("/admin/assessment", form).status_code == 302
    with app.app_context():
        items = svc.current_scheme().items
        assert [i["kind"] for i in items][:2] == ["on_time", "contact_before"]
        assert items[1]["points"] == 0
    form["items-2-points"] = "nan"
    assert browser.post("/admin/assessment", form).status_code == 400
    assert browser.post("/dashboard/assessment/99999/finalize").status_code == 404
