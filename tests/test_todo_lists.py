"""我的待办 at scale: the long lists (other items in hand, replies to rate) show their first
items, count them all and link to the rest; the sections hold what they held before."""

from __future__ import annotations

import re
from datetime import date, timedelta

from tracker.extensions import db
from tracker.models import Proposal, User
from tracker.services import todo

TODAY = date(2026, 6, 15)


def _page(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _section(page: str, section_id: str) -> str:
    return page.split(f'id="{section_id}"')[1].split("</section>")[0]


def _user(name: str) -> User:
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one()


def _reference(user: User, today: date, soon_days: int) -> dict[str, list[int]]:
    """The sections as 我的待办 sorted the unit's whole open work into them before."""
    out: dict[str, list[int]] = {
        k: [] for k in ("to_sign", "overdue", "opinions_owed", "due_soon", "in_hand")
    }
    for a in todo.open_work(user.unit_id):
        if a.signed_for_at is None and a.reassign_status != "requested" and a.round == 1:
            out["to_sign"].append(a.id)
        if a.due_on < today:
            out["overdue"].append(a.id)
        elif a.is_co:
            out["opinions_owed"].append(a.id)
        elif a.due_on <= today + timedelta(days=soon_days):
            out["due_soon"].append(a.id)
        elif a.signed_for_at is not None:
            out["in_hand"].append(a.id)
    return out


def test_the_sections_hold_the_same_items_as_when_the_whole_open_work_was_sorted(
    app, make_proposal
):
    make_proposal("1001", title="待签收，期限很远", assigned_on=date(2026, 6, 12), co=())
    make_proposal("1002", title="快到期", assigned_on=date(2026, 3, 18), co=(), sign=True)
    make_proposal("1003", title="已逾期", assigned_on=date(2026, 2, 2), co=(), sign=True)
    make_proposal("1004", title="逾期未签收", assigned_on=date(2026, 2, 3), co=())
    make_proposal(
        "1005", title="会办", lead="广州市卫生健康委员会", co=("广州市教育局",), sign=True
    )
    make_proposal(
        "1006",
        title="会办，期限很远",
        lead="广州市卫生健康委员会",
        co=("广州市教育局",),
        assigned_on=date(2026, 6, 10),
    )
    for n, day in enumerate((date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 24))):
        make_proposal(f"200{n}", title=f"期限前后{n}", assigned_on=day, co=(), sign=True)
    for n in range(4):
        make_proposal(
            f"300{n}", title=f"在办{n}", assigned_on=date(2026, 6, 1 + n), co=(), sign=True
        )
    with app.app_context():
        for name in ("clerk", "supervisor", "clerk-health"):
            user = _user(name)
            want = _reference(user, TODAY, 7)
            got = todo.for_user(user, TODAY, 7)
            for key, ids in want.items():
                assert [a.id for a in getattr(got, key)] == ids, (name, key)
            assert got.in_hand_total == len(want["in_hand"])
            capped = todo.for_user(user, TODAY, 7, open_shown=2)
            assert [a.id for a in capped.in_hand] == want["in_hand"][:2], name
            assert capped.in_hand_total == len(want["in_hand"]), name
        assert len(_reference(_user("clerk"), TODAY, 7)["in_hand"]) >= 5  # the case is real


def test_the_page_lists_the_first_items_in_hand_counts_all_and_links_to_the_rest(
    app, browser, make_proposal, monkeypatch
):
    monkeypatch.setattr("tracker.main.views.OPEN_SHOWN", 2)
    for n, day in enumerate((date(2026, 5, 20), date(2026, 5, 25), date(2026, 6, 1))):
        make_proposal(f"400{n}", title=f"在办的建议{n}", assigned_on=day, co=(), sign=True)
    make_proposal("4009", title="在办的建议9", assigned_on=date(2026, 6, 5), co=(), sign=True)
    browser.login("clerk")
    in_hand = _section(_page(browser.get("/todo")), "in-hand")
    assert '<span class="count">4</span>' in in_hand
    # the soonest due first: the two assigned first
    assert "在办的建议0" in in_hand and "在办的建议1" in in_hand
    assert "在办的建议2" not in in_hand and "在办的建议9" not in in_hand
    assert "另有2项" in in_hand
    link = re.search(r'<a href="([^"]+)">查看本单位全部办理中的件</a>', in_hand).group(1)
    rest = _page(browser.get(link.replace("&amp;", "&")))
    assert "在办的建议2" in rest and "在办的建议9" in rest
    # counted no further than the long lists are (a unit's in hand run to thousands)
    monkeypatch.setattr("tracker.services.todo.COUNTED_BEYOND", 1)
    in_hand = _section(_page(browser.get("/todo")), "in-hand")
    assert '<span class="count">1多</span>' in in_hand and "另有1多项" in in_hand
    with app.app_context():
        assert todo.for_user(_user("clerk"), TODAY, 7, open_shown=2).in_hand_total == 4
        assert todo.for_user(_user("clerk"), TODAY, 7, open_shown=1).in_hand_total == 3


def test_a_liaison_sees_the_first_replies_to_rate_and_how_many_wait(
    app, browser, make_proposal, monkeypatch
):
    monkeypatch.setattr("tracker.main.views.OPEN_SHOWN", 2)
    for n in range(3):
        make_proposal(f"500{n}", title=f"已答复待评价{n}", co=())
    with app.app_context():
        db.session.execute(db.update(Proposal).values(status="replied"))
        db.session.commit()
    browser.login("liaison")
    to_rate = _section(_page(browser.get("/todo")), "to-rate")
    assert '<span class="count">3</span>' in to_rate
    assert "第5000号" in to_rate and "第5001号" in to_rate and "第5002号" not in to_rate
    assert "另有1件" in to_rate
    link = re.search(r'<a href="([^"]+)">查看全部已答复待评价的件</a>', to_rate).group(1)
    assert "5002" in _page(browser.get(link.replace("&amp;", "&")))
