"""A proposal's status is derived from its assignments (rules/proposal_status.py): pure,
a table of cases, no database."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from tracker.rules.proposal_status import derive_status

SIGNED = datetime(2026, 3, 2, tzinfo=UTC)
REPLIED = date(2026, 5, 7)


def part(role="lead", round=1, signed=False, replied=False):
    return SimpleNamespace(
        role=role,
        round=round,
        signed_for_at=SIGNED if signed else None,
        replied_on=REPLIED if replied else None,
    )


def proposal(*parts, status="registered", round=1):
    return SimpleNamespace(status=status, round=round, active_assignments=list(parts))


@pytest.mark.parametrize(
    ("item", "status"),
    [
        (proposal(), "registered"),
        (proposal(part(role="co")), "registered"),  # a co-handling unit does not answer
        (proposal(part()), "assigned"),
        (proposal(part(signed=True), part(role="co")), "handling"),
        (proposal(part(signed=True, replied=True), part(role="co")), "replied"),
        (proposal(part("separate", replied=True), part("separate", signed=True)), "handling"),
        (proposal(part("separate", replied=True), part("separate", replied=True)), "replied"),
        # re-handling after 不满意: the new round's reply is what counts
        (proposal(part(replied=True), part(round=2), round=2), "rehandling"),
        (proposal(part(replied=True), part(round=2, replied=True), round=2), "replied"),
        (proposal(part(replied=True), status="closed"), "closed"),
    ],
)
def test_status_follows_the_assignments(item, status):
    assert derive_status(item) == status
