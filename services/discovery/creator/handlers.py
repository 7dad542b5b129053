"""Discovery's consumers: projections of other services' events into discovery's own tables."""

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator import service
from services.discovery.db import SERVICE, ProcessedEvent
from shared.app import ServiceContext
from shared.contracts.attribution import CreatorPerformanceUpdated
from shared.contracts.audit import AuditPayload
from shared.contracts.envelope import Envelope
from shared.messaging.consumer import IdempotentConsumer, Subscription

AUDIT_TOPIC = "audit.audit.v1"

SALES_IGNORED = Counter(
    "discovery_sales_events_ignored_total",
    "attribution.performance.v1 events that changed nothing: not newer than the record held, or of an unknown creator.",
)


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


PERFORMANCE_TOPIC = "attribution.performance.v1"


async def on_performance(session: AsyncSession, event: Envelope[CreatorPerformanceUpdated]) -> None:
    if not await service.apply_performance_event(session, event):
        # Older than the record held, a duplicate, or a creator the index does not hold.
        SALES_IGNORED.inc()


def performance_consumer(ctx: ServiceContext) -> IdempotentConsumer:
    return IdempotentConsumer(
        consumer=SERVICE,
        group_id="discovery.performance",
        subscriptions=[Subscription(PERFORMANCE_TOPIC, "CreatorPerformanceUpdated", on_performance)],
        sessionmaker=ctx.sessionmaker,
        processed_model=ProcessedEvent,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        dead_letters=ctx.kafka,
        max_attempts=ctx.settings.consumer_max_attempts,
    )
