"""The proposal's page: what it reads to show a proposal's units and their requests."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event

from tracker.extensions import db
from tracker.models import Assignment, User
from tracker.services import proposals as svc

CO_UNITS = ("广州市卫生健康委员会", "广州市第一局", "广州市第二局", "广州市第三局")


def test_the_units_extension_requests_are_read_in_one_query(app, browser, make_proposal, make_unit):
    """Each unit's row lists its extension requests: the page read them one query per
    assignment (a proposal with ten co-units: ten queries); now one for all of them, and the
    page still shows each unit's request."""
    for name, short in (
        ("广州市第一局", "市一局"),
        ("广州市第二局", "市二局"),
        ("广州市第三局", "市三局"),
    ):
        make_unit(name, short=(short,), prefix=None)
    proposal_id = make_proposal(co=CO_UNITS)
    with app.app_context():
        clerk = db.session.execute(db.select(User).filter_by(username="clerk")).scalar_one()
        lead = db.session.execute(
            db.select(Assignment).filter_by(proposal_id=proposal_id, role="lead")
        ).scalar_one()
        svc.request_extension(
            clerk, lead, requested_due_on=date(2026, 7, 31), reason="需会同规划部门现场调研"
        )
        db.session.commit()
        engine = db.engine
    browser.login("duban")
    statements: list[str] = []

    def note(conn, cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        response = browser.get(f"/proposals/{proposal_id}")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert all(name in page for name in CO_UNITS)
    assert "延期至2026年7月31日" in page
    reads = [s for s in statements if "FROM extension_request" in s]
    assert len(reads) == 1, reads
