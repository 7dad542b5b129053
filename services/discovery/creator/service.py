"""Creator rules: one creator per platform handle, every change published through the outbox."""

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator import repository
from services.discovery.creator.models import Account, Creator
from services.discovery.creator.schemas import CreatorCreate, CreatorUpdate
from services.discovery.db import SERVICE, outbox
from shared.contracts.audit import AuditPayload
from shared.contracts.discovery import CreatorPayload
from shared.contracts.envelope import Envelope, new_envelope
from shared.db import utcnow
from shared.errors import Conflict, NotFound

TOPIC = "discovery.creator.v2"

# A follower count that moves by this share or more is worth a fresh authenticity audit.
FOLLOWER_SWING_FOR_REAUDIT = 0.2


def _payload(creator: Creator, *, changed: list[str], audit_needed: bool) -> CreatorPayload:
    return CreatorPayload(
        creator_id=creator.id,
        platform=creator.platform,
        handle=creator.handle,
        display_name=creator.display_name,
        follower_count=creator.follower_count,
        changed_fields=changed,
        audit_needed=audit_needed,
    )


def _handle_taken(platform: str, handle: str) -> Conflict:
    return Conflict([{"field": "body.handle", "reason": f"{platform} creator @{handle} already exists"}])


async def create(session: AsyncSession, data: CreatorCreate) -> Creator:
    if await repository.find_by_handle(session, data.platform, data.handle):
        raise _handle_taken(data.platform, data.handle)
    creator = Creator(
        id=uuid.uuid4(), **data.model_dump(), platforms=[data.platform], followers_total=data.follower_count
    )
    session.add(creator)
    try:
        await session.flush()  # the account's foreign key needs the creator row first
    except IntegrityError as exc:  # a concurrent insert won the unique constraint
        raise _handle_taken(data.platform, data.handle) from exc
    session.add(
        Account(
            id=uuid.uuid4(),
            creator_id=creator.id,
            platform=data.platform,
            handle=data.handle,
            followers=data.follower_count,
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent insert won the unique constraint
        raise _handle_taken(data.platform, data.handle) from exc
    await session.refresh(creator)
    changed = [k for k, v in data.model_dump().items() if v is not None]
    event = new_envelope(
        event_type="CreatorCreated",
        producer=SERVICE,
        aggregate_id=str(creator.id),
        payload=_payload(creator, changed=changed, audit_needed=True),
    )
    await outbox.add(session, TOPIC, event)
    return creator


async def update(session: AsyncSession, creator_id: uuid.UUID, data: CreatorUpdate) -> Creator:
    creator = await repository.get(session, creator_id, for_update=True)
    if creator is None:
        raise NotFound(f"creator {creator_id} does not exist")
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(creator, k) != v}
    if not changes:
        return creator
    if "handle" in changes and await repository.find_by_handle(session, creator.platform, changes["handle"]):
        raise _handle_taken(creator.platform, changes["handle"])
    audit_needed = "handle" in changes or _big_follower_swing(creator.follower_count, changes.get("follower_count"))
    account = await repository.find_account(session, creator.platform, creator.handle)
    for key, value in changes.items():
        setattr(creator, key, value)
    if account is not None:
        account.handle = creator.handle
        account.followers = creator.follower_count
    creator.followers_total = creator.follower_count
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent change took the handle first
        raise _handle_taken(creator.platform, changes["handle"]) from exc
    await session.refresh(creator)
    await outbox.add(
        session,
        TOPIC,
        new_envelope(
            event_type="CreatorChanged",
            producer=SERVICE,
            aggregate_id=str(creator.id),
            payload=_payload(creator, changed=sorted(changes), audit_needed=audit_needed),
        ),
    )
    return creator


def _big_follower_swing(before: int | None, after: int | None) -> bool:
    if after is None:
        return False
    if not before:
        return True
    return abs(after - before) / before >= FOLLOWER_SWING_FOR_REAUDIT


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
