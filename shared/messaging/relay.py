"""Outbox relay: claims unsent rows with FOR UPDATE SKIP LOCKED, publishes them (acks=all,
idempotent producer), marks them sent, commits. Kafka down means rows wait, never vanish.

Delivery is at-least-once: if the process dies between the broker's ack and the commit, the
rows are published again and consumers drop the duplicates by event_id.

Per-aggregate order holds across replicas: each batch transaction first takes a
transaction-level advisory lock for the schema, so one relay publishes at a time and batches
reach Kafka in id order (ADR 0003).
"""

import asyncio
import hashlib
import json
import logging
from datetime import timedelta

from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import utcnow
from shared.messaging.kafka import KafkaProducerHandle, backoff_delay, sleep_or_stop

log = logging.getLogger(__name__)

OUTBOX_PUBLISHED = Counter("outbox_published_total", "Outbox events published", ["service", "topic"])
OUTBOX_FAILURES = Counter("outbox_publish_failures_total", "Failed outbox publish attempts", ["service"])
OUTBOX_PENDING = Gauge("outbox_pending_events", "Outbox rows not yet published", ["service"])
OUTBOX_LAG = Gauge("outbox_lag_seconds", "Age of the oldest unpublished outbox row", ["service"])


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        model: type,
        kafka: KafkaProducerHandle,
        poll_interval: float = 0.1,
        batch_size: int = 500,
        retention: timedelta = timedelta(days=7),
        stats_interval: float = 5.0,
    ):
        self.service = service
        self.sessionmaker = sessionmaker
        self.model = model
        self.kafka = kafka
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.retention = retention
        self.stats_interval = stats_interval
        schema = model.__table__.schema
        self._lock_key = int.from_bytes(hashlib.sha256(f"limelight.outbox.{schema}".encode()).digest()[:8], "big", signed=True)

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        next_housekeeping = 0.0
        while not stop.is_set():
            try:
                if loop.time() >= next_housekeeping:
                    await self.housekeeping()
                    next_housekeeping = loop.time() + self.stats_interval
                published = await self.publish_batch()
                failures = 0
            except (KafkaError, DBAPIError, OSError, TimeoutError) as exc:
                failures += 1
                OUTBOX_FAILURES.labels(self.service).inc()
                log.warning("outbox relay: publish failed, will retry", extra={"error": repr(exc), "attempt": failures})
                if isinstance(exc, (KafkaError, TimeoutError)):
                    await self.kafka.reset()
                await sleep_or_stop(stop, backoff_delay(failures, base=0.5, cap=10.0))
                continue
            if published < self.batch_size:
                await sleep_or_stop(stop, self.poll_interval)

    async def publish_batch(self) -> int:
        """Publish one batch; returns how many rows it sent (0 when there was nothing)."""
        claimed: list[int] = []
        try:
            return await self._publish_batch(claimed)
        except (KafkaError, TimeoutError) as exc:
            if claimed:
                await self._record_failure(claimed, exc)
            raise

    async def _publish_batch(self, claimed: list[int]) -> int:
        model = self.model
        async with self.sessionmaker() as session, session.begin():
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(self._lock_key))):
                return 0  # another replica is publishing this schema's outbox right now
            rows = (
                await session.execute(
                    select(model.id, model.topic, model.key, model.event_type, model.envelope)
                    .where(model.sent_at.is_(None))
                    .order_by(model.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            claimed.extend(r.id for r in rows)
            producer = await self.kafka.get()
            futures = []
            for row in rows:
                headers = [("event_type", row.event_type.encode())]
                correlation_id = row.envelope.get("correlation_id")
                if correlation_id:
                    headers.append(("correlation_id", str(correlation_id).encode()))
                futures.append(
                    await producer.send(
                        row.topic,
                        value=json.dumps(row.envelope, separators=(",", ":")).encode(),
                        key=row.key.encode(),
                        headers=headers,
                    )
                )
            # Every send must be acknowledged by all in-sync replicas before the rows are
            # marked sent; one failure rolls the whole batch back for a retry.
            await asyncio.wait_for(asyncio.gather(*futures), timeout=30)
            await session.execute(
                update(model).where(model.id.in_([r.id for r in rows])).values(sent_at=utcnow())
            )
        for row in rows:
            OUTBOX_PUBLISHED.labels(self.service, row.topic).inc()
        return len(rows)

    async def _record_failure(self, ids: list[int], exc: BaseException) -> None:
        """Note the failed attempt on the rows, for operators looking at a stuck outbox."""
        try:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(
                    update(self.model)
                    .where(self.model.id.in_(ids))
                    .values(attempts=self.model.attempts + 1, last_error=repr(exc)[:1000])
                )
        except DBAPIError:
            log.warning("could not record the outbox failure", exc_info=True)

    async def housekeeping(self) -> None:
        """Refresh the lag metrics and delete rows published longer ago than the retention."""
        model = self.model
        async with self.sessionmaker() as session, session.begin():
            pending, oldest = (
                await session.execute(
                    select(func.count(), func.min(model.created_at)).where(model.sent_at.is_(None))
                )
            ).one()
            await session.execute(delete(model).where(model.sent_at < utcnow() - self.retention))
        OUTBOX_PENDING.labels(self.service).set(pending)
        OUTBOX_LAG.labels(self.service).set((utcnow() - oldest).total_seconds() if oldest else 0.0)

