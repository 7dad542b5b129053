"""Outbox relay: claims unsent rows under a per-schema advisory lock, publishes them (acks=all,
idempotent producer), marks the acknowledged ones sent, commits. Kafka down means rows wait,
never vanish.

Delivery is at-least-once: if the process dies between the broker's ack and the commit, the
rows are published again and consumers drop the duplicates by event_id.

Per-aggregate order (ADR 0003): one relay per schema publishes at a time (transaction-level
advisory lock) and claims rows in id order with a plain FOR UPDATE, never skipping a locked
row; ids follow commit order per aggregate (see outbox.py). What Kafka can still reorder after
a failed send, consumers that project state undo by ordering on the envelope's sequence.

A row the broker refuses for good (too large, invalid) is parked with its reason instead of
blocking every row after it; the error of any other failed send is recorded on its own row.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from aiokafka.errors import (
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    UnsupportedForMessageFormatError,
)
from prometheus_client import Counter, Gauge
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import utcnow
from shared.housekeeping import delete_expired, lock_key
from shared.messaging.kafka import KafkaProducerHandle, backoff_delay, sleep_or_stop

log = logging.getLogger(__name__)

OUTBOX_PUBLISHED = Counter("outbox_published_total", "Outbox events published", ["service", "topic"])
OUTBOX_FAILURES = Counter("outbox_publish_failures_total", "Failed outbox publish attempts", ["service"])
OUTBOX_PARKED = Counter(
    "outbox_parked_total", "Outbox rows the broker refused for good, set aside", ["service", "topic", "reason"]
)
OUTBOX_PENDING = Gauge("outbox_pending_events", "Outbox rows not yet published", ["service"])
OUTBOX_PARKED_NOW = Gauge("outbox_parked_events", "Parked outbox rows waiting for an operator", ["service"])
OUTBOX_LAG = Gauge("outbox_lag_seconds", "Age of the oldest unpublished outbox row", ["service"])

# Errors about the record itself: sending it again can never succeed.
REFUSED = (MessageSizeTooLargeError, RecordListTooLargeError, InvalidTopicError, UnsupportedForMessageFormatError)
# Bounds every wait on the broker; longer than the producer's own request timeout (10 s).
BROKER_TIMEOUT = 20.0
# A relay that holds its rows' locks can still be blocked by another session; fail and retry.
LOCK_TIMEOUT = "5s"


class BatchFailed(Exception):
    """A batch could not be published; the failing rows carry the error."""

    def __init__(self, cause: BaseException):
        super().__init__(repr(cause))
        self.cause = cause


@dataclass(frozen=True)
class _Row:
    id: int
    event_id: object
    topic: str
    key: str
    event_type: str
    value: bytes
    correlation_id: str | None

    def headers(self) -> list[tuple[str, bytes]]:
        headers = [("event_type", self.event_type.encode())]
        if self.correlation_id:
            headers.append(("correlation_id", self.correlation_id.encode()))
        return headers


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
        delete_batch: int = 5_000,
    ):
        self.service = service
        self.sessionmaker = sessionmaker
        self.model = model
        schema = model.__table__.schema
        # A producer of its own: a reset by another worker (dead letters, /readyz) never stops it.
        self.kafka = kafka.for_worker("outbox-relay")
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.retention = retention
        self.stats_interval = stats_interval
        self.delete_batch = delete_batch
        self._lock_key = lock_key(f"limelight.outbox.{schema}")
        self._housekeeping_lock = f"limelight.outbox.{schema}.housekeeping"
        self._housekeeping_lock_key = lock_key(self._housekeeping_lock)

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        next_housekeeping = 0.0
        try:
            while not stop.is_set():
                try:
                    if loop.time() >= next_housekeeping:
                        await self.housekeeping()
                        next_housekeeping = loop.time() + self.stats_interval
                    published = await self.publish_batch()
                    failures = 0
                except (BatchFailed, KafkaError, DBAPIError, OSError, TimeoutError) as exc:
                    failures += 1
                    OUTBOX_FAILURES.labels(self.service).inc()
                    cause = exc.cause if isinstance(exc, BatchFailed) else exc
                    log.warning("outbox relay: publish failed, will retry", extra={"error": repr(cause), "attempt": failures})
                    await sleep_or_stop(stop, backoff_delay(failures, base=0.5, cap=10.0))
                    continue
                if published is not None and published < self.batch_size:
                    await sleep_or_stop(stop, self.poll_interval)
        finally:
            await self.kafka.close()

    async def publish_batch(self) -> int | None:
        """Publish one batch; returns how many rows it sent (0 when there was nothing), or None
        when it parked rows and the rest of the batch should be tried again at once."""
        model = self.model
        async with self.sessionmaker() as session, session.begin():
            locked, _ = (
                await session.execute(
                    select(
                        func.pg_try_advisory_xact_lock(self._lock_key),
                        func.set_config("lock_timeout", LOCK_TIMEOUT, True),
                    )
                )
            ).one()
            if not locked:
                return 0  # another replica is publishing this schema's outbox right now
            rows = [
                _Row(*r)
                for r in await session.execute(
                    select(
                        model.id, model.event_id, model.topic, model.key, model.event_type, model.value,
                        model.correlation_id,
                    )
                    .where(model.sent_at.is_(None), model.parked_at.is_(None))
                    .order_by(model.id)
                    .limit(self.batch_size)
                    .with_for_update()
                )
            ]
            if not rows:
                return 0
            try:
                sent, failed = await self._send(rows)
                culprits = await self._refused_rows(rows, sent, failed) if failed else set()
            except (KafkaError, TimeoutError, OSError) as exc:
                raise BatchFailed(exc) from exc
            if sent:
                # Acknowledged rows are marked sent whatever happened to the others, so a retry
                # never publishes them twice.
                await session.execute(
                    update(model).where(model.id.in_([rows[i].id for i in sent])).values(sent_at=utcnow())
                )
                for index in sent:
                    OUTBOX_PUBLISHED.labels(self.service, rows[index].topic).inc()
            for index in culprits:
                await self._park(session, rows[index], failed[index])
            others = {i: exc for i, exc in failed.items() if i not in culprits}
            if not others:
                return None if culprits else len(sent)
            for index, exc in others.items():
                await session.execute(
                    update(model)
                    .where(model.id == rows[index].id)
                    .values(attempts=model.attempts + 1, last_error=repr(exc)[:1000])
                )
            first = min(others)
            log.warning(
                "outbox relay: sends failed",
                extra={"event_id": str(rows[first].event_id), "failed_rows": len(others), "error": repr(others[first])},
            )
        # Committed: sent rows are marked, failing rows carry their error. The caller backs off.
        raise BatchFailed(others[first])

    async def _send(self, rows: list[_Row]) -> tuple[set[int], dict[int, BaseException]]:
        """Send `rows` in order; returns the indexes the broker acknowledged and the failures.

        After a failed send the producer is replaced: the failed batch used up sequence numbers
        the broker never saw, so the next batch to that partition would be refused as out of
        order. A fresh producer (new producer id) starts clean.
        """
        producer = await self.kafka.get()
        failed: dict[int, BaseException] = {}
        futures: dict[int, asyncio.Future] = {}
        try:
            for index, row in enumerate(rows):
                try:
                    futures[index] = await producer.send(
                        row.topic, value=row.value, key=row.key.encode(), headers=row.headers()
                    )
                except KafkaError as exc:  # refused before sending (e.g. over max_request_size)
                    failed[index] = exc
                    if not isinstance(exc, REFUSED):
                        break  # e.g. no such topic: keep the rows after it for the retry
            if futures:
                _, pending = await asyncio.wait(futures.values(), timeout=BROKER_TIMEOUT)
                for index, future in futures.items():
                    if future in pending:
                        failed[index] = TimeoutError(f"no acknowledgement within {BROKER_TIMEOUT:g} s")
                    elif future.exception() is not None:
                        failed[index] = future.exception()
        except BaseException:
            await self.kafka.reset(producer)
            raise
        if failed:
            await self.kafka.reset(producer)
        return set(futures) - set(failed), failed

    async def _refused_rows(self, rows: list[_Row], sent: set[int], failed: dict[int, BaseException]) -> set[int]:
        """The rows the broker refuses on their own.

        The broker refuses a whole producer batch, so every row sharing it with the culprit
        reports the same error; each is then sent alone, in id order. A row it accepts moves
        from `failed` to `sent`.
        """
        refused = sorted(i for i, exc in failed.items() if isinstance(exc, REFUSED))
        if len(refused) <= 1:
            return set(refused)
        culprits = set()
        for index in refused:
            alone, errors = await self._send([rows[index]])
            if alone:
                sent.add(index)
                del failed[index]
            elif isinstance(errors[0], REFUSED):
                culprits.add(index)
                failed[index] = errors[0]
            else:
                break  # the broker is failing, not the row: retry the rest later
        return culprits

    async def _park(self, session: AsyncSession, row: _Row, exc: BaseException) -> None:
        model = self.model
        reason = type(exc).__name__
        await session.execute(
            update(model)
            .where(model.id == row.id)
            .values(parked_at=utcnow(), attempts=model.attempts + 1, last_error=repr(exc)[:1000])
        )
        OUTBOX_PARKED.labels(self.service, row.topic, reason).inc()
        log.error(
            "outbox relay: row parked, the broker refuses it",
            extra={
                "event_id": str(row.event_id),
                "topic": row.topic,
                "key": row.key,
                "bytes": len(row.value),
                "reason": reason,
                "error": repr(exc)[:1000],
            },
        )

    async def housekeeping(self) -> None:
        """Refresh the metrics, and delete rows published longer ago than the retention.

        Deleting runs on one replica at a time (advisory lock) in bounded batches, each its own
        short transaction, so no replica holds locks on a large range of rows for long.
        """
        model = self.model
        async with self.sessionmaker() as session, session.begin():
            pending, oldest = (
                await session.execute(
                    select(func.count(), func.min(model.created_at)).where(
                        model.sent_at.is_(None), model.parked_at.is_(None)
                    )
                )
            ).one()
            parked = await session.scalar(select(func.count()).where(model.parked_at.is_not(None)))
        OUTBOX_PENDING.labels(self.service).set(pending)
        OUTBOX_PARKED_NOW.labels(self.service).set(parked)
        OUTBOX_LAG.labels(self.service).set((utcnow() - oldest).total_seconds() if oldest else 0.0)
        await self.delete_published()

    async def delete_published(self, max_batches: int = 20) -> int:
        """Delete published rows past the retention, `delete_batch` at a time; returns how many."""
        return await delete_expired(
            self.sessionmaker,
            self.model.__table__,
            self.model.sent_at < utcnow() - self.retention,
            lock=self._housekeeping_lock,
            batch=self.delete_batch,
            max_batches=max_batches,
        )

