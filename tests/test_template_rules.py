"""Templates show what the view allows; they do not re-code who may do what.

Permission answers reach the templates as booleans (can_assign, can_import, …) computed by
tracker.services.permissions, in the view or, for the top bar, in the context processor. So
no template names a role, reads the user's role but to print its label, or compares unit
ids; and the audit table is one macro."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracker import current
from tracker.extensions import db
from tracker.models import Proposal, User
from tracker.rules.labels import ROLES
from tracker.services import drafting

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ROLE_NAME = re.compile("['\"](" + "|".join(map(re.escape, ROLES)) + ")['\"]")
ROLE_READ = re.compile(r"current_user\.role\b")
ROLE_LABEL = "labels.ROLES[current_user.role]"  # printing the role is not a rule
UNIT_COMPARISON = re.compile(
    r"unit(?:_id|\.id)\s*(?:==|!=)|(?:==|!=)\s*[\w.]*unit(?:_id|\.id)\b"
    r"|current_user\.unit_id|current_user\.unit\.is_coordinating"
)
AUDIT_HEADER = "<th>时间</th><th>人员</th><th>事项</th>"


def _templates() -> list[tuple[str, str]]:
    return [
        (path.relative_to(TEMPLATES).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(TEMPLATES.rglob("*.html"))
    ]


def _lines(pattern: re.Pattern, *, drop: str = "") -> list[str]:
    found = []
    for name, text in _templates():
        for number, line in enumerate(text.splitlines(), 1):
            if pattern.search(line.replace(drop, "") if drop else line):
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    return found


def test_no_template_names_a_role():
    assert _lines(ROLE_NAME) == []


def test_no_template_reads_the_role_but_to_print_it():
    assert _lines(ROLE_READ, drop=ROLE_LABEL) == []


def test_no_template_compares_unit_ids():
    assert _lines(UNIT_COMPARISON) == []


def test_the_audit_table_is_one_macro():
    with_table = [name for name, text in _templates() if AUDIT_HEADER in text]
    assert with_table == ["_macros.html"]
    callers = [name for name, text in _templates() if "audit_table(" in text]
    assert {"proposals/detail.html", "commitments/detail.html"} <= set(callers)


def test_the_rules_find_what_they_forbid():
    """The patterns match the Jinja they are written against (so a pass means something)."""
    assert ROLE_NAME.search("{% if current_user.role in ('supervisor', 'liaison') %}")
    assert ROLE_READ.search("{% if current_user.role == x %}")
    assert not ROLE_READ.search(f"<span>{{{{ {ROLE_LABEL} }}}}</span>".replace(ROLE_LABEL, ""))
    assert UNIT_COMPARISON.search("{% if current_user.unit_id == l.unit_id %}")
    assert UNIT_COMPARISON.search("{% if r.unit_id == board.unit.id %}")
    assert UNIT_COMPARISON.search("{% if current_user.unit.is_coordinating %}")
    assert not UNIT_COMPARISON.search("{{ url_for('dashboard.index', unit=r.unit_id) }}")


# -- what the booleans show, per role ---------------------------------------------------------


NAV = {"导入答复函": "/imports", "督办统计": "/dashboard", "系统管理": "/admin/users"}


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        ("admin", {"导入答复函", "督办统计", "系统管理"}),
        ("liaison", {"导入答复函", "督办统计"}),
        ("duban", {"导入答复函", "督办统计"}),
        ("supervisor", {"督办统计"}),
        ("clerk", set()),
    ],
)
def test_the_top_bar_offers_the_pages_the_user_may_open(browser, people, user, shown):
    browser.login(user)
    page = browser.get("/todo").get_data(as_text=True)
    bar = page[page.index('<nav class="mainnav">') : page.index("</nav>")]
    assert {label for label, href in NAV.items() if f'href="{href}"' in bar} == shown
    for label in NAV:
        assert (label in bar) == (label in shown)


def test_the_todo_page_shows_unit_work_to_its_handlers_and_registration_to_liaisons(
    browser, people, make_proposal
):
    make_proposal()
    browser.login("clerk")
    page = browser.get("/todo").get_data(as_text=True)
    assert 'id="to-sign"' in page and "登记建议/提案" not in page
    browser.login("liaison")
    page = browser.get("/todo").get_data(as_text=True)
    assert 'id="to-sign"' not in page and 'href="/proposals/new"' in page
    browser.login("admin")  # the admin may register, from the list; the to-do does not offer it
    page = browser.get("/todo").get_data(as_text=True)
    assert 'id="to-sign"' not in page and 'href="/proposals/new"' not in page


def _draft(app, proposal_id: int, status: str = "draft") -> int:
    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        letter = drafting.start_draft(
            clerk, db.session.get(Proposal, proposal_id), today=current.today()
        )
        letter.status = status
        db.session.commit()
        return letter.id


def test_a_draft_links_to_its_editor_for_those_the_editor_lets_in(
    app, browser, people, make_proposal
):
    pid = make_proposal(sign=True)
    letter_id = _draft(app, pid)
    editor = f'href="/letters/{letter_id}/edit"'
    for user, linked in [
        ("clerk", True),
        ("supervisor", True),
        ("liaison", True),
        ("admin", True),
        ("duban", True),
        ("clerk-health", False),  # the co-handling unit: the proposal, not the lead's draft
    ]:
        browser.login(user)
        page = browser.get(f"/proposals/{pid}")
        assert page.status_code == 200
        assert (editor in page.get_data(as_text=True)) == linked, user
        assert browser.get(f"/letters/{letter_id}/edit").status_code == (200 if linked else 403)


def test_sending_a_signed_letter_is_offered_to_its_unit(app, browser, people, make_proposal):
    letter_id = _draft(app, make_proposal(sign=True), status="approved")
    for user, offered in [
        ("clerk", True),
        ("supervisor", True),
        ("liaison", False),
        ("duban", False),
    ]:
        browser.login(user)
        page = browser.get(f"/letters/{letter_id}/edit").get_data(as_text=True)
        assert (f'action="/letters/{letter_id}/issue"' in page) == offered, user
