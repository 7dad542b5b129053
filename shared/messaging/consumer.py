"""Idempotent Kafka consumer: the poll loop, and what it does with each partition's records.

Every event is applied together with a `(consumer group, event_id)` record in one database
transaction, and offsets are committed only after that transaction commits: a crash anywhere
means redelivery, and a redelivery is a no-op.

Fast path: the records of one partition that arrive together are claimed with one INSERT and
applied in ONE transaction, so one commit (one WAL flush) covers the batch; the partitions of
one poll are applied concurrently, each in order. If anything fails under a batch, it is rolled
back and its records are applied one at a time, each in its own transaction, where the failure
is classified (`failures.py`, ADR 0002 and 0005) and retried or dead-lettered (ADR 0001).

On stop, an unfinished record is abandoned without moving its offset, so it is redelivered.

The rooms: `routing.py` (subscriptions, parsing), `applying.py` (claim + dispatch),
`processed.py` (the idempotency records), `failures.py`, `dead_letters.py`, `offsets.py`
(commits, rebalances, lag).
"""

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.messaging.applying import apply_events, unit_of_work
from shared.messaging.dead_letters import DeadLetters
from shared.messaging.failures import (
    PERMANENT,
    UNAVAILABLE,
    Abandoned,
    PoisonMessage,
    TransientError,
    failure_kind,
)
from shared.messaging.kafka import KafkaProducerHandle, backoff_delay, sleep_or_stop
from shared.messaging.offsets import CommitOnRevoke, Offsets
from shared.messaging.processed import ProcessedEvents
from shared.messaging.routing import Handler, Router, Subscription

__all__ = ["IdempotentConsumer", "Subscription", "TransientError", "PoisonMessage", "Handler"]

log = logging.getLogger(__name__)

CONSUMED = Counter("consumer_events_total", "Events handled by consumers", ["consumer", "topic", "outcome"])

DEAD_LETTERED = "dead_lettered"
_PRUNE_EVERY = 600.0
_COMMIT_EVERY = 0.25


class IdempotentConsumer:
    def __init__(
        self,
        *,
        consumer: str,
        group_id: str,
        subscriptions: list[Subscription],
        sessionmaker: async_sessionmaker[AsyncSession],
        processed_model: type,
        bootstrap_servers: str,
        dead_letters: KafkaProducerHandle,
        max_attempts: int = 5,
        backoff_base: float = 0.2,
        max_batch: int = 500,
        concurrency: int = 4,
        fetch_max_wait_ms: int = 500,
    ):
        self.consumer = consumer  # the service: names the dead-letter topic and the metrics
        self.group_id = group_id  # the purpose: keys the processed-event record
        self.router = Router(subscriptions)  # raises for a topic or event the catalog lacks
        self.topics = self.router.topics
        self.sessionmaker = sessionmaker
        self.processed = ProcessedEvents(processed_model, group_id, self.topics)
        self.bootstrap_servers = bootstrap_servers
        self.dead_letters = DeadLetters(dead_letters, service=consumer, group_id=group_id)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_batch = max_batch
        # How long the broker may hold a fetch that finds nothing new (aiokafka's default: 500 ms).
        # A consumer whose events wait on it (partner orders: ADR 0063) asks for less.
        self.fetch_max_wait_ms = fetch_max_wait_ms
        # Partitions applied at once: each holds a pooled connection for its transaction.
        self._slots = asyncio.Semaphore(concurrency)
        self.offsets = Offsets(group_id)

    async def prune(self) -> None:
        """Delete processed-event records no redelivery can reach any more."""
        await self.processed.prune(self.sessionmaker)

    async def run(self, stop: asyncio.Event) -> None:
        kafka = await self._start(stop)
        if kafka is None:
            return
        self.offsets.kafka = kafka
        loop = asyncio.get_running_loop()
        next_prune = next_commit = loop.time()
        try:
            while not stop.is_set():
                batch = await kafka.getmany(timeout_ms=200, max_records=self.max_batch)
                # Before applying, so a partition stuck on a record shows the records behind it.
                await self.offsets.refresh_lag({tp: records[0].offset for tp, records in batch.items()})
                try:
                    async with self.offsets.lock:
                        owned = kafka.assignment()
                        await _all(
                            self._apply_partition(tp, records, stop) for tp, records in batch.items() if tp in owned
                        )
                except Abandoned:
                    break
                if loop.time() >= next_commit:
                    # A commit is a round trip to the group coordinator; batching them across
                    # polls only widens what a crash redelivers, and dedupe absorbs that.
                    async with self.offsets.lock:
                        await self.offsets.commit()
                    next_commit = loop.time() + _COMMIT_EVERY
                if loop.time() >= next_prune:
                    await self.prune()
                    next_prune = loop.time() + _PRUNE_EVERY
        finally:
            async with self.offsets.lock:
                await self.offsets.commit()
            self.offsets.forget_lag()
            self.offsets.kafka = None
            await kafka.stop()

    async def _start(self, stop: asyncio.Event) -> AIOKafkaConsumer | None:
        attempt = 0
        while not stop.is_set():
            attempt += 1
            kafka = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                group_id=self.group_id,
                client_id=self.group_id,
                enable_auto_commit=False,  # offsets move only after our database commit
                auto_offset_reset="earliest",
                isolation_level="read_committed",
                fetch_max_wait_ms=self.fetch_max_wait_ms,
            )
            try:
                await kafka.start()
                kafka.subscribe(self.topics, listener=CommitOnRevoke(self.offsets))
                log.info("consumer started", extra={"group": self.group_id, "topics": self.topics})
                return kafka
            except KafkaError as exc:
                await kafka.stop()
                log.warning("consumer cannot reach kafka yet", extra={"group": self.group_id, "error": repr(exc)})
                await sleep_or_stop(stop, backoff_delay(attempt, base=0.5, cap=5.0))
        return None

    async def _apply_partition(self, tp: TopicPartition, records: list, stop: asyncio.Event) -> None:
        """All of one partition's records, in order: optimistically in one transaction."""
        async with self._slots:
            if stop.is_set():
                raise Abandoned
            outcomes: list[str | None] = [None] * len(records)
            poison: list[tuple[int, PoisonMessage]] = []
            events = []
            for index, record in enumerate(records):
                try:
                    parsed = self.router.parse(record.topic, record.value)
                except PoisonMessage as exc:
                    poison.append((index, exc))
                    continue
                if isinstance(parsed, str):
                    outcomes[index] = parsed
                else:
                    events.append((index, parsed))
            if events:
                try:
                    async with unit_of_work(self.sessionmaker) as session:
                        applied = await apply_events(
                            session, self.processed, self.router, [(tp.topic, e) for _, e in events]
                        )
                except Exception as exc:
                    log.info("batch rolled back; replaying it record by record", extra={"error": repr(exc)})
                    for record in records:
                        self.record_outcome(record, await self.handle(record, stop))
                        self.offsets.done(tp, record.offset + 1)
                    return
                for (index, _), outcome in zip(events, applied):
                    outcomes[index] = outcome
            for index, exc in poison:
                await self.dead_letters.publish(records[index], exc, attempts=1, stop=stop)
                outcomes[index] = DEAD_LETTERED
            for record, outcome in zip(records, outcomes):
                self.record_outcome(record, outcome)
            self.offsets.done(tp, records[-1].offset + 1)

    async def handle(self, record, stop: asyncio.Event) -> str:
        """Apply one record in its own transaction, retrying as its failure allows; the outcome."""
        try:
            parsed = self.router.parse(record.topic, record.value)
        except PoisonMessage as exc:
            await self.dead_letters.publish(record, exc, attempts=1, stop=stop)
            return DEAD_LETTERED
        if isinstance(parsed, str):
            return parsed
        attempt = 0
        while True:
            attempt += 1
            try:
                async with unit_of_work(self.sessionmaker) as session:
                    (outcome,) = await apply_events(session, self.processed, self.router, [(record.topic, parsed)])
                return outcome
            except Exception as exc:
                kind = failure_kind(exc)
                facts = {"event_id": str(parsed.event_id), "attempt": attempt, "kind": kind, "error": repr(exc)}
                if kind != PERMANENT and stop.is_set():
                    raise Abandoned from exc
                if kind == UNAVAILABLE or (kind != PERMANENT and attempt < self.max_attempts):
                    log.warning("failure may pass, retrying", extra=facts)
                    await sleep_or_stop(stop, backoff_delay(attempt, base=self.backoff_base, cap=5.0))
                    continue
                log.error("event dead-lettered", extra=facts)
                await self.dead_letters.publish(record, exc, attempts=attempt, stop=stop)
                return DEAD_LETTERED

    def record_outcome(self, record, outcome: str) -> str:
        """Called once per record after its outcome is durable (committed or dead-lettered)."""
        CONSUMED.labels(self.consumer, record.topic, outcome).inc()
        return outcome


async def _all(coroutines) -> None:
    """Await every coroutine; then raise the first failure (Abandoned before anything else)."""
    results = await asyncio.gather(*coroutines, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures:
        if isinstance(failure, Abandoned):
            raise failure
    if failures:
        raise failures[0]
