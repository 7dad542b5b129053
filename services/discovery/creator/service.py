"""Creator rules: one creator per platform handle, every change published through the outbox."""

import uuid

from asyncpg.exceptions import UniqueViolationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator import ingest, repository
from services.discovery.creator.metrics import FOLLOWER_SWING_FOR_REAUDIT
from services.discovery.creator.models import Creator
from services.discovery.creator.plan import WriteError
from services.discovery.creator.schemas import CreatorCreate, CreatorUpdate
from shared.contracts.attribution import CreatorPerformanceUpdated
from shared.contracts.audit import AuditPayload
from shared.contracts.envelope import Envelope
from shared.db import utcnow
from shared.errors import Conflict, Invalid, LimelightError, NotFound

TOPIC = ingest.TOPIC
__all__ = ["FOLLOWER_SWING_FOR_REAUDIT", "apply_audit_event", "apply_performance_event", "create", "update", "write_error"]


def write_error(error: WriteError, prefix: str = "body") -> LimelightError:
    """The HTTP error of a write the service refused, naming the field under `prefix`."""
    field = f"{prefix}.{error.field}" if error.field else prefix
    if error.status == 404:
        return NotFound(error.reason)
    if error.status == 409:
        return Conflict([{"field": field, "reason": error.reason}])
    return Invalid(field, error.reason)


async def create(session: AsyncSession, data: CreatorCreate) -> uuid.UUID:
    """Add a creator; 409 when one of its accounts already belongs to a creator."""
    return await _one(session, ingest.Write(line=1, data=data))


async def update(session: AsyncSession, creator_id: uuid.UUID, data: CreatorUpdate) -> uuid.UUID:
    return await _one(session, ingest.Write(line=1, data=data, target=creator_id))


async def _one(session: AsyncSession, write: ingest.Write) -> uuid.UUID:
    try:
        [outcome] = await ingest.apply(session, [write])
    except UniqueViolationError as exc:  # a concurrent write took one of the handles first
        raise Conflict([{"field": "body", "reason": "an account was written concurrently; retry"}]) from exc
    if outcome.error is not None:
        raise write_error(outcome.error)
    return outcome.creator_id


async def apply_audit_event(session: AsyncSession, event: Envelope[AuditPayload]) -> bool:
    """Project an audit's status onto its creator; stale (out-of-order) events are ignored.

    audit.audit.v1 is keyed by creator, so `sequence` orders all audit events of one creator,
    across its audits (ADR 0003). Events from before sequences existed are older than any
    sequenced one; among themselves they fall back to occurred_at.
    """
    creator = await repository.get(session, event.payload.creator_id, for_update=True)
    if creator is None:
        return False
    sequence = event.sequence if event.aggregate_id == str(event.payload.creator_id) else None
    if not _is_newer(creator, event, sequence):
        return False
    creator.audit_id = event.payload.audit_id
    creator.audit_status = event.payload.status
    creator.audit_score = event.payload.score
    if event.payload.status != "pending":  # a scheduled audit keeps the last result's figures
        creator.audit_grade = event.payload.grade
        creator.audit_audience_quality = event.payload.audience_quality
        creator.audit_flags = [flag[:50] for flag in event.payload.flags]  # the column holds 50 characters
    creator.audit_updated_at = event.occurred_at
    creator.audit_sequence = sequence if sequence is not None else creator.audit_sequence
    creator.updated_at = utcnow()
    return True


def _is_newer(creator: Creator, event: Envelope[AuditPayload], sequence: int | None) -> bool:
    if sequence is not None:
        return creator.audit_sequence is None or sequence > creator.audit_sequence
    if creator.audit_sequence is not None:
        return False
    return creator.audit_updated_at is None or creator.audit_updated_at <= event.occurred_at


_APPLY_SALES = """
INSERT INTO discovery.creator_sales AS s (creator_id, currency, clicks, orders, revenue_minor, commission_minor, as_of)
SELECT c.id, :currency, :clicks, :orders, :revenue, :commission, :as_of FROM discovery.creators c WHERE c.id = :creator_id
ON CONFLICT (creator_id, currency) DO UPDATE SET
    clicks = excluded.clicks, orders = excluded.orders, revenue_minor = excluded.revenue_minor,
    commission_minor = excluded.commission_minor, as_of = excluded.as_of
WHERE s.as_of < excluded.as_of
RETURNING creator_id
"""


async def apply_performance_event(session: AsyncSession, event: Envelope[CreatorPerformanceUpdated]) -> bool:
    """Keep a creator's running sales record per currency; an event no newer (`as_of`) than the
    stored one, or of a creator the index does not hold, changes nothing."""
    p = event.payload
    result = await session.execute(
        text(_APPLY_SALES),
        {"creator_id": p.creator_id, "currency": p.currency, "clicks": p.clicks, "orders": p.orders,
         "revenue": p.revenue_minor, "commission": p.commission_minor, "as_of": p.as_of},
    )
    return result.first() is not None
