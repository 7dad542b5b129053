"""Audit's consumer of discovery.creator.v2: each event is projected into audit's tables and,
when discovery says the change calls for it (`audit_needed`), schedules an audit — in the same
transaction as the event's processed record, so a redelivery changes nothing. An event about a
creator audit erased (a data-subject request, services/audit/privacy) changes nothing: it was
on its way before discovery erased the creator too, and would bring part of it back."""

import functools
from collections.abc import Awaitable, Callable

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.audit import service
from services.audit.db import SERVICE, ProcessedEvent
from services.audit.privacy import repository as erasures
from services.audit.projection import service as projection
from shared.app import ServiceContext
from shared.contracts.discovery import AudienceEstimated, CreatorPayload, FollowerCountsObserved, PostsObserved
from shared.contracts.envelope import Envelope
from shared.db import transaction_memo
from shared.messaging.consumer import IdempotentConsumer, Subscription

CREATOR_TOPIC = "discovery.creator.v2"
DEFAULT_DELAY = 300.0  # AuditSettings.audit_auto_delay_seconds, for a context whose settings lack it

ERASED_IGNORED = Counter(
    "audit_erased_creator_events_total", "discovery.creator.v2 events about a creator audit erased, ignored"
)

Handler = Callable[["CreatorEvents", AsyncSession, Envelope], Awaitable[None]]


def _this_transaction(session: AsyncSession) -> dict:
    """Facts about creators learnt in the session's current transaction (a consumer applies a
    batch of events in one): a creator's several events in a batch ask once."""
    memo = transaction_memo(session, "audit.creator_events")
    memo.setdefault("erased", {})
    memo.setdefault("scheduled", set())
    return memo


def unless_erased(handler: Handler) -> Handler:
    """`handler`, skipped (and counted) for a creator audit erased (services/audit/privacy).

    The answer holds for the rest of the transaction: the check takes the creator's erasure lock,
    which an erasure waits for until this transaction ends."""

    @functools.wraps(handler)
    async def guarded(self: "CreatorEvents", session: AsyncSession, event: Envelope) -> None:
        known = _this_transaction(session)["erased"]
        creator_id = event.payload.creator_id
        if creator_id not in known:
            known[creator_id] = await erasures.erased(session, creator_id)
        if known[creator_id]:
            ERASED_IGNORED.inc()
            return
        await handler(self, session, event)

    return guarded


class CreatorEvents:
    """The handlers, bound to the settle delay of the automatic audits they schedule."""

    def __init__(self, delay: float):
        self.delay = delay

    async def _schedule(self, session: AsyncSession, event: Envelope, trigger: str) -> None:
        # Once per creator and transaction: a second call would find the audit this one left
        # pending and push it back by the milliseconds between the two events, nothing more.
        scheduled = _this_transaction(session)["scheduled"]
        if event.payload.creator_id in scheduled:
            return
        scheduled.add(event.payload.creator_id)
        await service.schedule_automatic(
            session, event.payload.creator_id, trigger=trigger, event_id=event.event_id, delay=self.delay,
            tenant_id=event.tenant_id,
        )

    @unless_erased
    async def created(self, session: AsyncSession, event: Envelope[CreatorPayload]) -> None:
        await projection.apply_creator(session, event)
        await self._schedule(session, event, "creator_created")  # a new creator is always audited

    @unless_erased
    async def changed(self, session: AsyncSession, event: Envelope[CreatorPayload]) -> None:
        await projection.apply_creator(session, event)
        if event.payload.audit_needed:
            await self._schedule(session, event, "creator_changed")

    @unless_erased
    async def posts(self, session: AsyncSession, event: Envelope[PostsObserved]) -> None:
        await projection.apply_posts(session, event)
        if event.payload.audit_needed:
            await self._schedule(session, event, "posts_observed")

    @unless_erased
    async def follower_counts(self, session: AsyncSession, event: Envelope[FollowerCountsObserved]) -> None:
        await projection.apply_follower_counts(session, event)
        if event.payload.audit_needed:
            await self._schedule(session, event, "follower_counts_observed")

    @unless_erased
    async def audience(self, session: AsyncSession, event: Envelope[AudienceEstimated]) -> None:
        # The engine does not read demographics; the event only counts as a material change.
        if event.payload.audit_needed:
            await self._schedule(session, event, "audience_estimated")


def creator_consumer(ctx: ServiceContext) -> IdempotentConsumer:
    handlers = CreatorEvents(getattr(ctx.settings, "audit_auto_delay_seconds", DEFAULT_DELAY))
    return IdempotentConsumer(
        consumer=SERVICE,
        group_id="audit.creator-audits",
        subscriptions=[
            Subscription(CREATOR_TOPIC, "CreatorCreated", handlers.created),
            Subscription(CREATOR_TOPIC, "CreatorChanged", handlers.changed),
            Subscription(CREATOR_TOPIC, "PostsObserved", handlers.posts),
            Subscription(CREATOR_TOPIC, "FollowerCountsObserved", handlers.follower_counts),
            Subscription(CREATOR_TOPIC, "AudienceEstimated", handlers.audience),
        ],
        sessionmaker=ctx.sessionmaker,
        processed_model=ProcessedEvent,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        dead_letters=ctx.kafka,
        max_attempts=ctx.settings.consumer_max_attempts,
    )
