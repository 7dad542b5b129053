"""Audit rules: when an audit is scheduled, the one-at-a-time rule per creator, and the events
an audit publishes (audit.audit.v1, keyed by creator).

At most one audit of a creator is pending or running: the partial unique index
`ix_audit_audits_pending_creator_id` says so, and every insert is `ON CONFLICT DO NOTHING`
against it, so two concurrent requests (or a request and a discovery event) end up with the
same audit whichever commits first (docs/decisions/0029-audit-runner.md).
"""

import uuid
from datetime import timedelta

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.audit import privacy, repository
from services.audit.audit.models import ACTIVE_SQL, Audit
from services.audit.db import SERVICE, outbox
from services.audit.projection.models import Creator
from shared.contracts.audit import AuditPayload
from shared.contracts.envelope import new_envelope
from shared.errors import Conflict, NotFound

TOPIC = "audit.audit.v1"


async def _insert_pending(
    session: AsyncSession,
    creator_id: uuid.UUID,
    *,
    trigger: str,
    trigger_event_id: uuid.UUID | None,
    delay: float,
    tenant_id: uuid.UUID | None = None,
    jurisdictions: list[str] | None = None,
    sponsors: list[str] | None = None,
    requested_by: uuid.UUID | None = None,
) -> Audit | None:
    """A new pending audit and its AuditScheduled event, or None when one is already active."""
    audit_id = uuid.uuid4()
    statement = (
        insert(Audit)
        .values(
            id=audit_id,
            creator_id=creator_id,
            status="pending",
            trigger=trigger,
            trigger_event_id=trigger_event_id,
            flags=[],
            jurisdictions=jurisdictions,
            sponsors=sponsors or [],
            requested_by=requested_by,
            run_after=func.now() + timedelta(seconds=delay),
        )
        .on_conflict_do_nothing(index_elements=["creator_id"], index_where=text(ACTIVE_SQL))
        .returning(Audit.id)
    )
    if (await session.execute(statement)).first() is None:
        return None
    # Keyed by creator, not audit: the creator's audits then share one partition and one
    # sequence, which is what a per-creator projection needs to order them (ADR 0003).
    await publish(session, "AuditScheduled", AuditPayload(audit_id=audit_id, creator_id=creator_id, status="pending"),
                  tenant_id=tenant_id)
    return await session.get(Audit, audit_id)


async def publish(session: AsyncSession, event_type: str, payload: AuditPayload, *, tenant_id=None) -> None:
    await outbox.add(
        session,
        TOPIC,
        new_envelope(
            event_type=event_type, producer=SERVICE, aggregate_id=str(payload.creator_id), tenant_id=tenant_id,
            payload=payload,
        ),
    )


async def schedule_automatic(
    session: AsyncSession,
    creator_id: uuid.UUID,
    *,
    trigger: str,
    event_id: uuid.UUID | None,
    delay: float,
    tenant_id: uuid.UUID | None = None,
) -> Audit | None:
    """Discovery said the data changed materially: a pending audit, run `delay` seconds later
    (AUDIT_AUTO_DELAY_SECONDS).

    If one is already pending and not yet due, the change pushes it back (debounce); if one is
    running, it read the data before this change, so another runs after it (`rerun_requested`).
    Returns the audit created, if any.
    """
    created = await _insert_pending(
        session, creator_id, trigger=trigger, trigger_event_id=event_id, delay=delay, tenant_id=tenant_id
    )
    if created is not None:
        return created
    later = func.now() + timedelta(seconds=delay)
    await session.execute(
        update(Audit)
        .where(Audit.creator_id == creator_id, Audit.status == "pending", Audit.run_after > func.now())
        .values(run_after=func.greatest(Audit.run_after, later))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Audit)
        .where(Audit.creator_id == creator_id, Audit.status == "running")
        .values(rerun_requested=True)
        .execution_options(synchronize_session=False)
    )
    return None


def _disclosure_changes(
    audit: Audit, jurisdictions: list[str] | None, sponsors: list[str] | None
) -> dict[str, list[str]]:
    """The disclosure settings a request names that differ from the audit's (a setting the
    request leaves out is no change)."""
    changes = {}
    if jurisdictions is not None and list(audit.jurisdictions or []) != jurisdictions:
        changes["jurisdictions"] = jurisdictions
    if sponsors is not None and list(audit.sponsors or []) != sponsors:
        changes["sponsors"] = sponsors
    return changes


async def request(
    session: AsyncSession,
    creator_id: uuid.UUID,
    *,
    jurisdictions: list[str] | None = None,
    sponsors: list[str] | None = None,
) -> tuple[Audit, bool]:
    """The creator's pending or running audit, or a new one due now; True when it is new.

    A pending audit waiting out its settle delay becomes due now: the client asked. It has read
    nothing yet, so it takes the disclosure jurisdictions and sponsors the request names; a running
    one read its posts already, so other settings are a Conflict (ask again once it finishes)."""
    if await session.get(Creator, creator_id) is None:
        raise NotFound(
            f"audit holds no creator {creator_id}: discovery has not announced it (or not yet; retry in a moment)"
        )
    jurisdictions = list(dict.fromkeys(jurisdictions)) if jurisdictions is not None else None
    sponsors = list(dict.fromkeys(sponsors)) if sponsors is not None else None
    viewer = privacy.viewer_of(session)
    # The workspace whose settings the audit takes: only it sees the sponsors (privacy.py).
    setter = viewer if (jurisdictions is not None or sponsors is not None) else None
    for _ in range(5):
        created = await _insert_pending(
            session, creator_id, trigger="requested", trigger_event_id=None, delay=0,
            jurisdictions=jurisdictions, sponsors=sponsors, requested_by=setter,
        )
        if created is not None:
            return created, True
        active = await repository.pending_for_creator(session, creator_id, for_update=True)
        if active is None:
            continue  # it finished between the two statements: insert again
        changes = _disclosure_changes(active, jurisdictions, sponsors)
        asks = jurisdictions is not None or sponsors is not None
        if asks and active.requested_by is not None and active.requested_by != viewer:
            # Whatever it asks, equal or not: a 200 for the same settings would let it test a guess.
            # Another workspace's sponsors and jurisdictions: never replaced by (nor shown to) this one.
            raise Conflict(
                f"audit {active.id} of creator {creator_id} is {active.status} with another workspace's disclosure "
                "settings; request again once it finishes"
            )
        if changes and active.status == "running":
            raise Conflict(
                f"audit {active.id} of creator {creator_id} is running with other disclosure settings "
                f"(jurisdictions {active.jurisdictions or 'default'}; its sponsors are not repeated here); "
                "request again once it finishes"
            )
        if active.status == "pending":
            if changes:
                changes["requested_by"] = viewer
                # Row locked above (FOR UPDATE): no runner claims it meanwhile (claims skip locked rows).
                await session.execute(
                    update(Audit).where(Audit.id == active.id).values(**changes)
                    .execution_options(synchronize_session=False)
                )
            await session.execute(
                update(Audit)
                .where(Audit.id == active.id, Audit.run_after > func.now())
                .values(run_after=func.now())
                .execution_options(synchronize_session=False)
            )
            await session.refresh(active)
        return active, False
    raise RuntimeError("the creator's active audit kept changing; retry")
