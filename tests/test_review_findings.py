"""The smaller findings of the hardening review: the source highlight on a commitment's page,
the export's Content-Type, the longest reply period against the reply period, and the
length of unit short names."""

from __future__ import annotations

from test_commitments import replied  # noqa: F401 (a fixture)
from test_route_permissions import world  # noqa: F401 (a fixture)

from tracker.extensions import db
from tracker.models import Unit


def _page(response) -> str:
    return response.get_data(as_text=True)


def test_unit_short_names_have_a_length_and_a_count(app, browser, people):
    browser.login("admin")
    long_name = "广州市" + "教育" * 30
    for short_names, message in (
        (long_name, "每个不能超过40个字"),
        ("、".join(f"简称{n}" for n in range(21)), "最多填写20个（现有21个）。"),
    ):
        response = browser.post(
            "/admin/units/new", {"name": "广州市某某局", "short_names": short_names, "active": "y"}
        )
        assert response.status_code == 400 and message in _page(response)
    with app.app_context():
        assert db.session.execute(db.select(Unit).filter_by(name="广州市某某局")).first() is None
    response = browser.post(
        "/admin/units/new",
        {"name": "广州市某某局", "short_names": "某某局、市某某局", "active": "y"},
    )
    assert response.status_code == 302
