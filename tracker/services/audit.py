from __future__ import annotations

from typing import Any

from sqlalchemy.orm import selectinload

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


def events(
    *, proposal_id: int | None = None, entity: str | None = None, entity_id: int | None = None
) -> list[AuditEvent]:
    """An item's audit trail, newest first, with the actors loaded: a proposal's events
    (``proposal_id``), or those recorded on one entity (``entity``, ``entity_id``)."""
    query = db.select(AuditEvent).options(selectinload(AuditEvent.actor))
    if proposal_id is not None:
        query = query.where(AuditEvent.proposal_id == proposal_id)
    if entity is not None:
        query = query.where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
    if proposal_id is None and entity is None:
        raise ValueError("audit.events() needs a proposal or an entity")
    return list(
        db.session.execute(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).scalars()
    )
