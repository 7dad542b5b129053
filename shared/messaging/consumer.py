"""Idempotent Kafka consumer.

For each message: parse the envelope against the topic's contract, then in ONE database
transaction record `(consumer, event_id)` and apply the handler's effects. Offsets are
committed only after that transaction commits, so a crash anywhere means redelivery, and
redelivery is a no-op. Transient failures retry with bounded backoff; a message that cannot
succeed goes to `<topic>.dlq.<consumer>` with the error in its headers, and the consumer moves on.
"""

import asyncio

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.contracts.catalog import dlq_topic, topic_by_name
from shared.contracts.envelope import Envelope, RawEnvelope
from shared.db import utcnow
from shared.messaging.kafka import KafkaProducerHandle, backoff_delay, sleep_or_stop
from shared.observability import reset_correlation_id, set_correlation_id

log = logging.getLogger(__name__)

CONSUMED = Counter("consumer_events_total", "Events handled by consumers", ["consumer", "topic", "outcome"])

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]

# SQLSTATEs worth another attempt: serialization failure, deadlock, too many connections,
# admin shutdown / crash recovery, cannot connect now.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "53300", "57P01", "57P02", "57P03"}


class TransientError(Exception):
    """Raise from a handler when a later attempt may succeed (e.g. a dependency is down)."""


class PoisonMessage(Exception):
    """A message that can never be processed: not JSON, not an envelope, or off-contract."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (TransientError, OperationalError, InterfaceError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return sqlstate in _TRANSIENT_SQLSTATES
    return False


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
    ):
        self.consumer = consumer
        self.group_id = group_id
        self.topics = sorted({s.topic for s in subscriptions})
        self.handlers = {(s.topic, s.event_type): s.handler for s in subscriptions}
        self.sessionmaker = sessionmaker
        self.processed_model = processed_model
        self.bootstrap_servers = bootstrap_servers
        self.dead_letters = dead_letters
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_batch = max_batch
        self._kafka: AIOKafkaConsumer | None = None
        self._pending: dict[TopicPartition, int] = {}

    async def run(self, stop: asyncio.Event) -> None:
        self._kafka = await self._start(stop)
        if self._kafka is None:
            return
        try:
            while not stop.is_set():
                batch = await self._kafka.getmany(timeout_ms=200, max_records=self.max_batch)
                for tp, messages in batch.items():
                    for message in messages:
                        if stop.is_set():
                            break
                        await self.handle(message, stop)
                        self._pending[tp] = message.offset + 1
                await self._commit()
        finally:
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
                client_id=f"{self.group_id}",
                enable_auto_commit=False,  # offsets move only after our DB commit
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
        if self._kafka is None or not self._pending:
            return
        offsets = {tp: off for tp, off in self._pending.items() if partitions is None or tp in partitions}
        if not offsets:
            return
        try:
            await self._kafka.commit(offsets)
        except CommitFailedError:
            # The group rebalanced; the new owner re-reads these messages and the
            # processed-event record turns them into no-ops.
            log.warning("offset commit lost to a rebalance", extra={"group": self.group_id})
        except KafkaError as exc:
            log.warning("offset commit failed, will retry", extra={"group": self.group_id, "error": repr(exc)})
            return
        for tp in offsets:
            if self._pending.get(tp) == offsets[tp]:
                del self._pending[tp]

    def parse(self, topic: str, value: bytes | None) -> Envelope | None:
        """The typed envelope, None for an event type this consumer does not handle."""
        try:
            raw = RawEnvelope.model_validate_json(value or b"")
        except ValidationError as exc:
            raise PoisonMessage(f"not a valid envelope: {_first_errors(exc)}") from exc
        if (topic, raw.event_type) not in self.handlers:
            return None
        payload_model: type[BaseModel] | None = topic_by_name(topic).events.get(raw.event_type)
        if payload_model is None:
            raise PoisonMessage(f"{raw.event_type} is not an event of {topic}")
        try:
            return Envelope[payload_model].model_validate(raw.model_dump())  # type: ignore[valid-type]
        except ValidationError as exc:
            raise PoisonMessage(f"payload breaks the {raw.event_type} contract: {_first_errors(exc)}") from exc

    async def handle(self, message, stop: asyncio.Event | None = None) -> str:
        """Process one Kafka record; returns the outcome (for metrics and tests)."""
        try:
            envelope = self.parse(message.topic, message.value)
        except PoisonMessage as exc:
            await self._dead_letter(message, exc, attempts=1)
            return self._count(message.topic, "dead_lettered")
        if envelope is None:
            return self._count(message.topic, "ignored")

        handler = self.handlers[(message.topic, envelope.event_type)]
        token = set_correlation_id(envelope.correlation_id)
        try:
            attempt = 0
            while True:
                attempt += 1
                try:
                    return self._count(message.topic, await self._apply(message.topic, envelope, handler))
                except Exception as exc:
                    if is_transient(exc) and attempt < self.max_attempts and not (stop and stop.is_set()):
                        log.warning(
                            "transient failure, retrying",
                            extra={"event_id": str(envelope.event_id), "attempt": attempt, "error": repr(exc)},
                        )
                        await asyncio.sleep(backoff_delay(attempt, base=self.backoff_base))
                        continue
                    log.error(
                        "event dead-lettered",
                        extra={"event_id": str(envelope.event_id), "attempt": attempt, "error": repr(exc)},
                    )
                    await self._dead_letter(message, exc, attempts=attempt)
                    return self._count(message.topic, "dead_lettered")
        finally:
            reset_correlation_id(token)

    async def _apply(self, topic: str, envelope: Envelope, handler: Handler) -> str:
        processed = self.processed_model
        async with self.sessionmaker() as session, session.begin():
            claimed = await session.execute(
                insert(processed)
                .values(consumer=self.consumer, event_id=envelope.event_id, topic=topic)
                .on_conflict_do_nothing()
                .returning(processed.event_id)
            )
            if claimed.first() is None:
                return "duplicate"
            await handler(session, envelope)
        return "processed"

    async def _dead_letter(self, message, exc: BaseException, *, attempts: int) -> None:
        """Publish the original record, untouched, with the failure described in headers.

        Retries until the broker acknowledges: the offset must not move past a message that is
        neither processed nor safely parked.
        """
        headers = list(message.headers or []) + [
            ("dlq.error", str(exc)[:2000].encode()),
            ("dlq.error_type", type(exc).__name__.encode()),
            ("dlq.consumer", self.consumer.encode()),
            ("dlq.original_topic", message.topic.encode()),
            ("dlq.original_partition", str(message.partition).encode()),
            ("dlq.original_offset", str(message.offset).encode()),
            ("dlq.attempts", str(attempts).encode()),
            ("dlq.failed_at", utcnow().isoformat().encode()),
        ]
        target = dlq_topic(message.topic, self.consumer)
        attempt = 0
        while True:
            attempt += 1
            try:
                producer = await self.dead_letters.get()
                await producer.send_and_wait(target, value=message.value, key=message.key, headers=headers)
                return
            except (KafkaError, OSError) as exc_send:
                log.warning("dead-letter publish failed, retrying", extra={"topic": target, "error": repr(exc_send)})
                await self.dead_letters.reset()
                await asyncio.sleep(backoff_delay(attempt, base=0.5, cap=5.0))

    def _count(self, topic: str, outcome: str) -> str:
        CONSUMED.labels(self.consumer, topic, outcome).inc()
        return outcome


class _CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, owner: IdempotentConsumer):
        self.owner = owner

    async def on_partitions_revoked(self, revoked):
        await self.owner._commit(set(revoked))
        for tp in revoked:
            self.owner._pending.pop(tp, None)

    async def on_partitions_assigned(self, assigned):
        return None


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:limit]]
    return "; ".join(parts)



