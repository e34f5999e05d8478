from __future__ import annotations

from typing import Any

from tracker.extensions import db
from tracker.models import AuditEvent, User


def record(
    actor: User | None,
    action: str,
    message: str,
    *,
    proposal_id: int | None = None,
    entity: str = "proposal",
    entity_id: int | None = None,
    **data: Any,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        proposal_id=proposal_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        message=message,
        data={k: v for k, v in data.items() if v is not None},
    )
    db.session.add(event)
    return event
