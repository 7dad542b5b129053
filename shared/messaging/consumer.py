"""Idempotent Kafka consumer.

Every event is applied together with a `(consumer group, event_id)` record in one database
transaction, and offsets are committed only after that transaction commits: a crash anywhere
means redelivery, and a redelivery is a no-op.

Fast path: the records of one partition that arrive together are claimed with one INSERT and
applied in ONE transaction, so one commit (one WAL flush) covers the batch. If anything fails
under a batch, it is rolled back and its records are applied one at a time, each in its own
transaction, where failures are classified (ADR 0002):

- database unavailable (connection lost, shutting down, too many connections): retry with
  capped backoff until it is back or the consumer is asked to stop;
- a conflict (serialization failure, deadlock) or a handler's `TransientError`: bounded retries;
- anything else (bad data, a bug): the record goes to `<topic>.dlq.<consumer>` unchanged, with
  the error in its headers (ADR 0001), and the consumer moves on.

On stop, an unfinished record is abandoned without moving its offset, so it is redelivered.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError, MessageSizeTooLargeError
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.contracts.catalog import dlq_topic, topic_by_name
from shared.contracts.envelope import Envelope
from shared.db import utcnow
from shared.messaging.kafka import KafkaProducerHandle, backoff_delay, sleep_or_stop
from shared.observability import reset_correlation_id, set_correlation_id

log = logging.getLogger(__name__)

CONSUMED = Counter("consumer_events_total", "Events handled by consumers", ["consumer", "topic", "outcome"])

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]

# SQLSTATE classes (PostgreSQL appendix A).
_UNAVAILABLE_SQLSTATES = {"53300", "57P01", "57P02", "57P03"}  # too many connections, shutdown, starting
_CONFLICT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock
_MAX_ERROR_HEADER = 1000


class TransientError(Exception):
    """Raise from a handler when a later attempt may succeed (e.g. a dependency is down)."""


class PoisonMessage(Exception):
    """A record that can never be processed: not JSON, not an envelope, or off-contract."""


class _Abandoned(Exception):
    """Stop was requested while a record was unfinished; its offset must not move."""


class _BatchNeedsRetry(Exception):
    """The database failed under a batch; redo the batch one record at a time."""


def failure_kind(exc: BaseException) -> str:
    """'unavailable', 'conflict' or 'permanent' (see the module docstring)."""
    if isinstance(exc, TransientError):
        return "conflict"
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(exc, "sqlstate", None)
    if sqlstate:
        if sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES:
            return "unavailable"
        return "conflict" if sqlstate in _CONFLICT_SQLSTATES else "permanent"
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unavailable"
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeoutError, ConnectionError, OSError, TimeoutError)):
        return "unavailable"
    return "permanent"


@dataclass(frozen=True)
class Subscription:
    topic: str
    event_type: str
    handler: Handler


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
        max_batch: int = 200,
        processed_retention: timedelta = timedelta(days=45),
    ):
        self.consumer = consumer  # the service: names the dead-letter topic
        self.group_id = group_id  # the purpose: keys the processed-event record
        self.topics = sorted({s.topic for s in subscriptions})
        self.handlers = {(s.topic, s.event_type): s.handler for s in subscriptions}
        self.sessionmaker = sessionmaker
        self.processed_model = processed_model
        self.bootstrap_servers = bootstrap_servers
        self.dead_letters = dead_letters
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_batch = max_batch
        # Longer than any topic's retention, so a redelivery always finds its record.
        self.processed_retention = processed_retention
        self._kafka: AIOKafkaConsumer | None = None
        self._pending: dict[TopicPartition, int] = {}
        # Held while a record is applied and while partitions are revoked, so an offset is
        # never recorded for a partition this member no longer owns.
        self._lock = asyncio.Lock()

    # -- loop ----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        self._kafka = await self._start(stop)
        if self._kafka is None:
            return
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        try:
            while not stop.is_set():
                batch = await self._kafka.getmany(timeout_ms=200, max_records=self.max_batch)
                try:
                    for tp, records in batch.items():
                        if stop.is_set():
                            break
                        async with self._lock:
                            if tp in self._kafka.assignment():
                                await self._process_partition_batch(tp, records, stop)
                except _Abandoned:
                    break
                async with self._lock:
                    await self._commit()
                if loop.time() >= next_prune:
                    await self._prune()
                    next_prune = loop.time() + 600
        finally:
            async with self._lock:
                await self._commit()
            await self._kafka.stop()
            self._kafka = None

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
            )
            try:
                await kafka.start()
                kafka.subscribe(self.topics, listener=_CommitOnRevoke(self))
                log.info("consumer started", extra={"group": self.group_id, "topics": self.topics})
                return kafka
            except KafkaError as exc:
                await kafka.stop()
                log.warning("consumer cannot reach kafka yet", extra={"group": self.group_id, "error": repr(exc)})
                await sleep_or_stop(stop, backoff_delay(attempt, base=0.5, cap=5.0))
        return None

    async def _commit(self, partitions: set[TopicPartition] | None = None) -> None:
        """Commit recorded offsets of partitions still assigned (caller holds the lock)."""
        if self._kafka is None or not self._pending:
            return
        assigned = self._kafka.assignment()
        for tp in [tp for tp in self._pending if tp not in assigned]:
            del self._pending[tp]  # its new owner re-reads from the last commit; dedupe absorbs it
        offsets = {tp: off for tp, off in self._pending.items() if partitions is None or tp in partitions}
        if not offsets:
            return
        try:
            await self._kafka.commit(offsets)
        except (CommitFailedError, IllegalStateError):
            # The group rebalanced under us: the new owner re-reads these records and the
            # processed-event record turns them into no-ops.
            log.warning("offset commit lost to a rebalance", extra={"group": self.group_id})
        except KafkaError as exc:
            log.warning("offset commit failed, will retry", extra={"group": self.group_id, "error": repr(exc)})
            return
        for tp, offset in offsets.items():
            if self._pending.get(tp) == offset:
                del self._pending[tp]

    async def _prune(self) -> None:
        processed = self.processed_model
        try:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(
                    delete(processed).where(
                        processed.consumer == self.group_id,
                        processed.processed_at < utcnow() - self.processed_retention,
                    )
                )
        except DBAPIError as exc:
            log.warning("pruning processed events failed", extra={"group": self.group_id, "error": repr(exc)})

    # -- processing ----------------------------------------------------------------------
    def parse(self, topic: str, value: bytes | None) -> Envelope | None:
        """The typed envelope; None for an event type this consumer does not handle."""
        try:
            data = json.loads(value or b"")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PoisonMessage(f"not a valid envelope: not JSON ({exc})") from exc
        event_type = data.get("event_type") if isinstance(data, dict) else None
        if not isinstance(event_type, str):
            raise PoisonMessage("not a valid envelope: event_type: missing or not a string")
        if (topic, event_type) not in self.handlers:
            return None
        payload_model: type[BaseModel] | None = topic_by_name(topic).events.get(event_type)
        if payload_model is None:
            raise PoisonMessage(f"{event_type} is not an event of {topic}")
        try:
            return Envelope[payload_model].model_validate(data)  # type: ignore[valid-type]
        except ValidationError as exc:
            raise PoisonMessage(f"breaks the {event_type} contract: {_first_errors(exc)}") from exc

    async def _process_partition_batch(self, tp: TopicPartition, records: list, stop: asyncio.Event) -> None:
        try:
            outcomes, dead = await self._apply_batch(records)
        except _BatchNeedsRetry:
            for record in records:
                await self.handle(record, stop)
                self._pending[tp] = record.offset + 1
            return
        for record, exc in dead:
            await self._dead_letter(record, exc, attempts=1, stop=stop)
        for record, outcome in zip(records, outcomes):
            self.record_outcome(record, outcome)
        self._pending[tp] = records[-1].offset + 1

    async def _apply_batch(self, records: list) -> tuple[list[str], list[tuple[object, Exception]]]:
        """Optimistically apply a partition's records in one transaction.

        One INSERT claims every event id; handlers run in order in the same transaction. Any
        failure rolls the whole batch back (raising _BatchNeedsRetry) and the caller replays it
        one record at a time, where each failure is classified and dealt with on its own.
        """
        outcomes: list[str] = ["ignored"] * len(records)
        dead: list[tuple[object, Exception]] = []
        parsed: list[tuple[int, Envelope]] = []
        for index, record in enumerate(records):
            try:
                envelope = self.parse(record.topic, record.value)
            except PoisonMessage as exc:
                dead.append((record, exc))
                outcomes[index] = "dead_lettered"
                continue
            if envelope is not None:
                parsed.append((index, envelope))
        if not parsed:
            return outcomes, dead
        processed = self.processed_model
        try:
            async with self.sessionmaker() as session, session.begin():
                rows = [
                    {"consumer": self.group_id, "event_id": e.event_id, "topic": records[i].topic} for i, e in parsed
                ]
                claimed = set(
                    await session.scalars(
                        insert(processed).values(rows).on_conflict_do_nothing().returning(processed.event_id)
                    )
                )
                for index, envelope in parsed:
                    if envelope.event_id not in claimed:
                        outcomes[index] = "duplicate"
                        continue
                    claimed.discard(envelope.event_id)  # a second copy in this batch is a duplicate
                    token = set_correlation_id(envelope.correlation_id)
                    try:
                        await self.handlers[(records[index].topic, envelope.event_type)](session, envelope)
                    finally:
                        reset_correlation_id(token)
                    outcomes[index] = "processed"
        except Exception as exc:
            log.info("batch rolled back; replaying it record by record", extra={"error": repr(exc)})
            raise _BatchNeedsRetry from exc
        return outcomes, dead

    async def handle(self, record, stop: asyncio.Event) -> str:
        """Apply one record in its own transaction, with retries; returns the outcome."""
        try:
            envelope = self.parse(record.topic, record.value)
        except PoisonMessage as exc:
            await self._dead_letter(record, exc, attempts=1, stop=stop)
            return self.record_outcome(record, "dead_lettered")
        if envelope is None:
            return self.record_outcome(record, "ignored")
        token = set_correlation_id(envelope.correlation_id)
        try:
            attempt = 0
            while True:
                attempt += 1
                try:
                    async with self.sessionmaker() as session, session.begin():
                        outcome = await self._apply(session, record.topic, envelope)
                    return self.record_outcome(record, outcome)
                except Exception as exc:
                    kind = failure_kind(exc)
                    if kind != "permanent" and stop.is_set():
                        raise _Abandoned from exc
                    if kind == "unavailable" or (kind == "conflict" and attempt < self.max_attempts):
                        log.warning(
                            "transient failure, retrying",
                            extra={"event_id": str(envelope.event_id), "attempt": attempt, "kind": kind, "error": repr(exc)},
                        )
                        await sleep_or_stop(stop, backoff_delay(attempt, base=self.backoff_base, cap=5.0))
                        continue
                    log.error(
                        "event dead-lettered",
                        extra={"event_id": str(envelope.event_id), "attempt": attempt, "error": repr(exc)},
                    )
                    await self._dead_letter(record, exc, attempts=attempt, stop=stop)
                    return self.record_outcome(record, "dead_lettered")
        finally:
            reset_correlation_id(token)

    async def _apply(self, session: AsyncSession, topic: str, envelope: Envelope) -> str:
        processed = self.processed_model
        claimed = await session.execute(
            insert(processed)
            .values(consumer=self.group_id, event_id=envelope.event_id, topic=topic)
            .on_conflict_do_nothing()
            .returning(processed.event_id)
        )
        if claimed.first() is None:
            return "duplicate"
        await self.handlers[(topic, envelope.event_type)](session, envelope)
        return "processed"

    async def _dead_letter(self, record, exc: BaseException, *, attempts: int, stop: asyncio.Event) -> None:
        """Publish the original record, untouched, with the failure described in headers.

        Retries until the broker acknowledges, because the offset must not move past a record
        that is neither processed nor parked; on stop it gives up and the record is redelivered.
        """
        headers = list(record.headers or []) + [
            ("dlq.error", str(exc)[:_MAX_ERROR_HEADER].encode()),
            ("dlq.error_type", type(exc).__name__.encode()),
            ("dlq.consumer", self.consumer.encode()),
            ("dlq.original_topic", record.topic.encode()),
            ("dlq.original_partition", str(record.partition).encode()),
            ("dlq.original_offset", str(record.offset).encode()),
            ("dlq.attempts", str(attempts).encode()),
            ("dlq.failed_at", utcnow().isoformat().encode()),
        ]
        value = record.value
        target = dlq_topic(record.topic, self.consumer)
        attempt = 0
        while True:
            attempt += 1
            try:
                producer = await self.dead_letters.get()
                await producer.send_and_wait(target, value=value, key=record.key, headers=headers)
                return
            except MessageSizeTooLargeError:
                # The original plus our headers no longer fits: park the coordinates and the
                # error; the value stays readable on the original topic at that offset.
                value = None
                headers.append(("dlq.value_omitted", b"too large; read it at dlq.original_offset"))
            except (KafkaError, OSError) as send_error:
                if stop.is_set():
                    raise _Abandoned from send_error
                log.warning("dead-letter publish failed, retrying", extra={"topic": target, "error": repr(send_error)})
                await self.dead_letters.reset()
                await sleep_or_stop(stop, backoff_delay(attempt, base=0.5, cap=5.0))

    def record_outcome(self, record, outcome: str) -> str:
        """Called once per record after its outcome is durable (committed or dead-lettered)."""
        CONSUMED.labels(self.consumer, record.topic, outcome).inc()
        return outcome


class _CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, owner: IdempotentConsumer):
        self.owner = owner

    async def on_partitions_revoked(self, revoked):
        # Waits for the record being applied, then commits what this member finished.
        async with self.owner._lock:
            await self.owner._commit(set(revoked))
            for tp in revoked:
                self.owner._pending.pop(tp, None)

    async def on_partitions_assigned(self, assigned):
        return None


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:limit]]
    return "; ".join(parts)
