"""Audit's consumers: creator events from discovery schedule audits."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.audit import service
from services.audit.db import SERVICE, ProcessedEvent
from shared.app import ServiceContext
from shared.contracts.discovery import CreatorPayload
from shared.contracts.envelope import Envelope
from shared.messaging.consumer import IdempotentConsumer, Subscription

CREATOR_TOPIC = "discovery.creator.v2"


async def on_creator_created(session: AsyncSession, event: Envelope[CreatorPayload]) -> None:
    await service.schedule(session, event, trigger="creator_created")


async def on_creator_changed(session: AsyncSession, event: Envelope[CreatorPayload]) -> None:
    await service.schedule(session, event, trigger="creator_changed")


def creator_consumer(ctx: ServiceContext) -> IdempotentConsumer:
    return IdempotentConsumer(
        consumer=SERVICE,
        group_id="audit.creator-audits",
        subscriptions=[
            Subscription(CREATOR_TOPIC, "CreatorCreated", on_creator_created),
            Subscription(CREATOR_TOPIC, "CreatorChanged", on_creator_changed),
        ],
        sessionmaker=ctx.sessionmaker,
        processed_model=ProcessedEvent,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        dead_letters=ctx.kafka,
        max_attempts=ctx.settings.consumer_max_attempts,
    )
