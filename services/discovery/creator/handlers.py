"""Discovery's consumers: projections of other services' events into discovery's own tables."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator import service
from services.discovery.db import SERVICE, ProcessedEvent
from shared.app import ServiceContext
from shared.contracts.audit import AuditPayload
from shared.contracts.envelope import Envelope
from shared.messaging.consumer import IdempotentConsumer, Subscription

AUDIT_TOPIC = "audit.audit.v1"


async def on_audit_event(session: AsyncSession, event: Envelope[AuditPayload]) -> None:
    await service.apply_audit_event(session, event)


def audit_consumer(ctx: ServiceContext) -> IdempotentConsumer:
    return IdempotentConsumer(
        consumer=SERVICE,
        group_id="discovery.audit-status",
        subscriptions=[
            Subscription(AUDIT_TOPIC, event_type, on_audit_event)
            for event_type in ("AuditScheduled", "AuditCompleted", "AuditFailed")
        ],
        sessionmaker=ctx.sessionmaker,
        processed_model=ProcessedEvent,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        dead_letters=ctx.kafka,
        max_attempts=ctx.settings.consumer_max_attempts,
    )
