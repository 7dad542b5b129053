"""Audit rules: which creator events call for an audit, and the events an audit publishes."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.audit import repository
from services.audit.audit.models import Audit
from services.audit.db import SERVICE, outbox
from shared.contracts.audit import AuditPayload
from shared.contracts.discovery import CreatorPayload
from shared.contracts.envelope import Envelope, new_envelope

TOPIC = "audit.audit.v1"


async def schedule(session: AsyncSession, event: Envelope[CreatorPayload], *, trigger: str) -> Audit | None:
    """Record a pending audit for the creator and announce it.

    A new creator always gets an audit. A changed creator gets one only when discovery says
    the change warrants it and no audit of it is already pending.
    """
    creator = event.payload
    if trigger != "creator_created":
        if not creator.audit_needed or await repository.pending_for_creator(session, creator.creator_id):
            return None
    audit = Audit(
        id=uuid.uuid4(),
        creator_id=creator.creator_id,
        status="pending",
        trigger=trigger,
        trigger_event_id=event.event_id,
        flags=[],
    )
    session.add(audit)
    await session.flush()
    # Keyed by creator, not audit: the creator's audits then share one partition and one
    # sequence, which is what a per-creator projection needs to order them (ADR 0003).
    await outbox.add(
        session,
        TOPIC,
        new_envelope(
            event_type="AuditScheduled",
            producer=SERVICE,
            aggregate_id=str(audit.creator_id),
            tenant_id=event.tenant_id,
            payload=AuditPayload(audit_id=audit.id, creator_id=audit.creator_id, status="pending"),
        ),
    )
    return audit
