"""Outbox pipeline benchmark: outbox row -> OutboxRelay -> Kafka -> IdempotentConsumer, compared
with raw aiokafka produce+consume of the same messages on the same broker in the same run.

Run on purpose, never from pytest: `.venv/bin/python bench/outbox_pipeline.py [--events N]`.
Figures go to stdout, progress to stderr. bench/README.md explains every line it prints.
"""

import argparse
import asyncio
import collections
import logging
import os
import shutil
import signal
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from runtime.config import ROOT, RuntimeSettings
from runtime.platform import Platform
from runtime.postgres import Server
from services.audit.db import ProcessedEvent
from services.discovery.db import OutboxMessage, outbox
from shared.contracts.catalog import dlq_topic, topic_by_name
from shared.contracts.discovery import CreatorPayload
from shared.contracts.envelope import Envelope, new_envelope
from shared.db import make_engine, make_sessionmaker
from shared.messaging.consumer import IdempotentConsumer, Subscription
from shared.messaging.kafka import KafkaProducerHandle
from shared.messaging.relay import OutboxRelay

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import record  # noqa: E402

TOPIC = "discovery.creator.v2"
CONSUMER = "bench"
RELAY_POLL_INTERVAL = 0.05
STATE_DIR = ROOT / ".limelight" / "bench"

class Overrun(Exception):
    """The hard timeout expired during the measurements."""


class Deadline(BaseException):
    """The hard timeout expired during start-up.

    A BaseException so that no `except Exception` retry loop in the runtime can swallow it.
    """


@dataclass
class PipelineResult:
    events: int
    committed: dict[bytes, float]  # aggregate key -> monotonic time its outbox transaction committed
    completed: dict[bytes, float]  # aggregate key -> monotonic time its consumer transaction committed
    sent: dict[bytes, float]  # aggregate key -> monotonic time the relay stamped sent_at (after the broker's ack)
    max_batch: int
    outcomes: collections.Counter = field(default_factory=collections.Counter)


@dataclass
class RawResult:
    seconds: float  # first send -> last message consumed
    partitions: int
    key_size: int
    value_size: int


class TimedConsumer(IdempotentConsumer):
    """The project's consumer, unchanged, plus a stopwatch on `record_outcome()`.

    The consumer calls `record_outcome()` once per record after its transaction has committed
    (batched fast path and per-record path alike). Stamping there, rather than inside the
    handler (which runs before the commit), measures up to the consumer's commit without
    touching the code under test.
    Events are keyed by their Kafka key: every bench event has its own aggregate id, so the key
    identifies the event without parsing the value a second time.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.completed: dict[bytes, float] = {}
        self.outcomes: collections.Counter = collections.Counter()
        self._target = 0
        self._reached = asyncio.Event()

    def record_outcome(self, record, outcome: str) -> str:
        outcome = super().record_outcome(record, outcome)
        self.outcomes[outcome] += 1
        if outcome == "processed":
            self.completed[record.key] = time.monotonic()
            if len(self.completed) >= self._target:
                self._reached.set()
        return outcome

    async def wait_for_total(self, total: int) -> None:
        self._target = total
        self._reached.clear()
        if len(self.completed) < total:
            await self._reached.wait()


async def on_creator(session: AsyncSession, event: Envelope[CreatorPayload]) -> None:
    """No business rule: the bench measures the messaging mechanics, whose database work is the
    consumer's own idempotency insert in the same transaction."""


def make_envelopes(count: int) -> list[Envelope]:
    envelopes = []
    for _ in range(count):
        creator_id = uuid.uuid4()
        # Fixed-width fields: every message has the same size, so the raw baseline can match it.
        payload = CreatorPayload(
            creator_id=creator_id,
            platform="tiktok",
            handle=f"bench_{creator_id.hex[:12]}",
            display_name="Bench Creator",
            follower_count=123_456,
            audit_needed=True,
        )
        envelopes.append(
            new_envelope(
                event_type="CreatorCreated",
                producer="discovery",
                aggregate_id=str(creator_id),
                payload=payload,
                correlation_id=uuid.uuid4().hex,
            )
        )
    return envelopes


def wire_message(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and headers as OutboxRelay.publish_batch puts them on the wire."""
    value = envelope.model_copy(update={"sequence": 1}).model_dump_json().encode()
    headers = [("event_type", envelope.event_type.encode()), ("correlation_id", envelope.correlation_id.encode())]
    return envelope.aggregate_id.encode(), value, headers


async def write_outbox(
    sessionmaker: async_sessionmaker[AsyncSession], envelopes: list[Envelope], tx_size: int, rate: float
) -> dict[bytes, float]:
    """Commit the events `tx_size` per transaction; returns each event's commit time."""
    committed: dict[bytes, float] = {}
    started = time.monotonic()
    for start in range(0, len(envelopes), tx_size):
        if rate > 0:
            await asyncio.sleep(max(0.0, started + start / rate - time.monotonic()))
        chunk = envelopes[start : start + tx_size]
        async with sessionmaker() as session, session.begin():
            await outbox.add_all(session, TOPIC, chunk)
        now = time.monotonic()
        for envelope in chunk:
            committed[envelope.aggregate_id.encode()] = now
    return committed


async def relay_sent_times(sessionmaker: async_sessionmaker[AsyncSession], wall_offset: float) -> dict[bytes, float]:
    """When the relay marked each row sent, on the monotonic clock (sent_at is wall-clock UTC)."""
    async with sessionmaker() as session:
        rows = await session.execute(select(OutboxMessage.key, OutboxMessage.sent_at))
        return {key.encode(): sent_at.timestamp() - wall_offset for key, sent_at in rows if sent_at is not None}


async def watch(main: asyncio.Future, workers: list[asyncio.Task], helpers: tuple[asyncio.Task, ...] = ()):
    """Await `main`; fail at once if a worker ends (they run until stopped) or a helper fails,
    instead of waiting for the timeout to notice."""
    pending = {main, *workers, *helpers}
    try:
        while True:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if main in done:
                return main.result()
            for task in done:
                if task in workers or task.exception() is not None:
                    raise RuntimeError(f"{task.get_name()} stopped during the run") from task.exception()
    finally:
        main.cancel()


async def run_pipeline(platform: Platform, args: argparse.Namespace) -> PipelineResult:
    bootstrap = platform.s.kafka_bootstrap
    discovery_url = platform.service_env("discovery")["DATABASE_URL"]
    discovery_engine = make_engine(discovery_url, application_name="bench-discovery")
    audit_engine = make_engine(platform.service_env("audit")["DATABASE_URL"], application_name="bench-audit")
    discovery_sessions = make_sessionmaker(discovery_engine)
    relay_kafka = KafkaProducerHandle(bootstrap, "bench")
    dead_letters = KafkaProducerHandle(bootstrap, "bench-dlq")
    relay = OutboxRelay(
        service="discovery",
        sessionmaker=discovery_sessions,
        model=OutboxMessage,
        kafka=relay_kafka,
        poll_interval=RELAY_POLL_INTERVAL,
        batch_size=args.relay_batch,
    )
    # The audit role: the consumer records processed events in its own schema, as audit does.
    consumer = TimedConsumer(
        consumer=CONSUMER,
        group_id=f"{CONSUMER}.pipeline-{uuid.uuid4().hex[:8]}",
        subscriptions=[Subscription(TOPIC, "CreatorCreated", on_creator)],
        sessionmaker=make_sessionmaker(audit_engine),
        processed_model=ProcessedEvent,
        bootstrap_servers=bootstrap,
        dead_letters=dead_letters,
    )
    warmup = make_envelopes(args.warmup)
    timed = make_envelopes(args.events)
    # sent_at is stamped on the wall clock; this offset puts it on the monotonic one.
    wall_offset = time.time() - time.monotonic()
    stop = asyncio.Event()
    writer: asyncio.Task | None = None
    workers = [
        asyncio.create_task(relay.run(stop), name="outbox relay"),
        asyncio.create_task(consumer.run(stop), name="consumer"),
    ]
    try:
        try:
            # Warm-up: the consumer joins its group, the relay's producer connects and both
            # pools open before the clock starts, so none of that lands in the timed figures.
            progress(f"  warm-up: {args.warmup} events through the pipeline…")
            await write_outbox(discovery_sessions, warmup, args.tx_size, 0)
            await watch(asyncio.ensure_future(consumer.wait_for_total(args.warmup)), workers)
            progress(f"  timed: {args.events} events…")
            writer = asyncio.create_task(
                write_outbox(discovery_sessions, timed, args.tx_size, args.rate), name="outbox writer"
            )
            await watch(asyncio.ensure_future(consumer.wait_for_total(args.warmup + args.events)), workers, (writer,))
            committed = await writer
        finally:
            progress(f"  consumer committed {len(consumer.completed)} of {args.warmup + args.events} events")
            if writer is not None:
                writer.cancel()
            stop.set()
            await asyncio.wait_for(asyncio.gather(*workers, return_exceptions=True), 30)
            await relay_kafka.close()
            await dead_letters.close()
        sent = await relay_sent_times(discovery_sessions, wall_offset)
    finally:
        await audit_engine.dispose()
        await discovery_engine.dispose()
    return PipelineResult(
        events=args.events,
        committed=committed,
        completed={k: consumer.completed[k] for k in committed},
        sent={k: sent[k] for k in committed if k in sent},
        max_batch=consumer.max_batch,
        outcomes=consumer.outcomes,
    )


async def run_raw(bootstrap: str, topic: str, partitions: int, messages: list[tuple[bytes, bytes, list]]) -> float:
    """Seconds from the first send to the last message consumed, producer and consumer concurrent."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-raw",
        acks="all",
        enable_idempotence=True,
        linger_ms=2,  # as KafkaProducerHandle, so (c) isolates the outbox and database work
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await producer.start()
    try:
        await consumer.start()
        try:
            assigned = [TopicPartition(topic, p) for p in range(partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            for tp in assigned:
                await consumer.position(tp)
            await producer.partitions_for(topic)

            async def consume() -> float:
                received = 0
                while received < len(messages):
                    batch = await consumer.getmany(timeout_ms=200)
                    received += sum(len(records) for records in batch.values())
                return time.monotonic()

            consuming = asyncio.create_task(consume())
            started = time.monotonic()
            acks = [
                await producer.send(topic, value=value, key=key, headers=headers)
                for key, value, headers in messages
            ]
            await asyncio.gather(*acks)
            return await consuming - started
        finally:
            await consumer.stop()
    finally:
        await producer.stop()


async def create_topics(bootstrap: str, topics: list[NewTopic]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        await admin.create_topics(topics)
    finally:
        await admin.close()


async def bench(platform: Platform, args: argparse.Namespace, budget: float) -> tuple[PipelineResult, RawResult]:
    bootstrap = platform.s.kafka_bootstrap
    partitions = topic_by_name(TOPIC).partitions
    raw_topic = f"bench.raw-{uuid.uuid4().hex[:8]}"
    limit = asyncio.timeout(budget)
    try:
        async with limit:
            # The catalog creates dead-letter topics for declared consumers only; without this
            # one a dead-lettered bench event would be retried against a missing topic forever.
            await create_topics(
                bootstrap, [NewTopic(dlq_topic(TOPIC, CONSUMER), 1, 1), NewTopic(raw_topic, partitions, 1)]
            )
            pipeline = await run_pipeline(platform, args)
            progress(f"  raw aiokafka: {args.events} messages…")
            messages = [wire_message(e) for e in make_envelopes(args.events)]
            raw_seconds = await run_raw(bootstrap, raw_topic, partitions, messages)
    except TimeoutError:
        if limit.expired():
            raise Overrun(f"not finished within --timeout {args.timeout:g} s") from None
        raise
    key, value, _ = messages[0]
    return pipeline, RawResult(raw_seconds, partitions, len(key), len(value))


def p50_p99(values_ms: list[float]) -> str:
    cuts = statistics.quantiles(values_ms, n=100, method="inclusive")
    return f"p50 {cuts[49]:,.1f} / p99 {cuts[98]:,.1f} ms"


def row(label: str, value: str) -> None:
    print(f"  {label:<34}{value}")


def report(
    platform: Platform,
    server: Server,
    args: argparse.Namespace,
    pipeline: PipelineResult,
    raw: RawResult,
    load: tuple[float, float, float],
) -> None:
    committed, completed, sent = pipeline.committed, pipeline.completed, pipeline.sent
    first_commit = min(committed.values())
    pipeline_seconds = max(completed.values()) - first_commit
    writer_seconds = max(committed.values()) - first_commit
    pipeline_rate = pipeline.events / pipeline_seconds
    raw_rate = pipeline.events / raw.seconds
    versions = " / ".join(version(d) for d in ("aiokafka", "sqlalchemy", "asyncpg"))
    pacing = f"paced at {args.rate:g} events/s" if args.rate > 0 else "unpaced"
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(pipeline.outcomes.items()))

    print("Limelight outbox pipeline benchmark")
    print("environment")
    row("cores", f"{os.cpu_count()} logical ({len(os.sched_getaffinity(0))} usable), {cpu_model()}")
    row("load average at start", " ".join(f"{x:.2f}" for x in load))
    row("python / event loop", f"{sys.version.split()[0]} / {args.loop}")
    row("aiokafka / sqlalchemy / asyncpg", versions)
    kafka, postgres = platform.kafka.version(), platform.postgres.version(server)
    row("kafka / postgresql", f"{kafka} / {postgres}, one node each, loopback")
    row("events", f"{pipeline.events} timed (+{args.warmup} warm-up)")
    row("message", f"value {raw.value_size} B, key {raw.key_size} B, 2 headers; {TOPIC}, {raw.partitions} partitions")
    row("outbox writer", f"{args.tx_size} events per transaction (one add_all), {pacing}")
    row("relay", f"batch_size {args.relay_batch}, poll_interval {RELAY_POLL_INTERVAL} s")
    row("consumer", f"max_batch {pipeline.max_batch}, one transaction per partition batch, no-op handler")
    print("(a) outbox -> relay -> Kafka -> idempotent consumer")
    row("throughput", f"{pipeline_rate:,.0f} events/s ({pipeline.events} events in {pipeline_seconds:.2f} s)")
    end_to_end = [(completed[k] - t) * 1000 for k, t in committed.items()]
    row("latency", f"{p50_p99(end_to_end)} (outbox commit -> consumer commit)")
    writer_rate = pipeline.events / max(writer_seconds, 1e-9)
    row("outbox writes", f"{writer_rate:,.0f} events/s committed in {writer_seconds:.2f} s")
    if sent:
        relay_seconds = max(sent.values()) - first_commit
        to_kafka = [(sent[k] - committed[k]) * 1000 for k in sent]
        row("stage commit -> Kafka ack", f"{p50_p99(to_kafka)}; relay done after {relay_seconds:.2f} s")
        row("stage ack -> consumer", p50_p99([(completed[k] - sent[k]) * 1000 for k in sent]))
    row("consumer outcomes", f"{outcomes} (warm-up included)")
    print("(b) raw aiokafka produce+consume, same messages, same broker")
    row("throughput", f"{raw_rate:,.0f} events/s ({pipeline.events} messages in {raw.seconds:.2f} s)")
    print(f"{'(c) ratio (a)/(b)':<36}{pipeline_rate / raw_rate:.3f}")
    queueing = args.rate <= 0 and writer_seconds < pipeline_seconds / 2
    if queueing:
        print("note: the unpaced writer outran the pipeline, so the latency above is mostly queueing;")
        print("      pass --rate below the throughput in (a) for the latency of an unsaturated pipeline")
    note = f"{pipeline.events} events, {pacing}" + ("; the writer outran the pipeline: latency is queueing" if queueing else "")
    record("pipeline throughput", pipeline_rate, "events/s", better="higher", baseline="raw aiokafka",
           baseline_value=raw_rate, note=note)
    cuts = statistics.quantiles(end_to_end, n=100, method="inclusive")
    record("pipeline latency p50", cuts[49], "ms", note=note)
    record("pipeline latency p99", cuts[98], "ms", note=note)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="timed events (default 20000)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed events sent first (default 200)")
    parser.add_argument("--tx-size", type=int, default=100, help="events per outbox transaction (default 100)")
    parser.add_argument("--relay-batch", type=int, default=500, help="OutboxRelay batch_size (default 500)")
    parser.add_argument("--rate", type=float, default=0, help="pace the outbox writer, events/s (default: unpaced)")
    parser.add_argument(
        "--timeout", type=float, default=300, help="hard limit for start-up and measurements, s (default 300)"
    )
    parser.add_argument(
        "--loop", choices=("uvloop", "asyncio"), default="uvloop",
        help="event loop; uvicorn runs the services on uvloop (default uvloop)",
    )
    args = parser.parse_args(argv)
    if args.events < 2 or args.warmup < 1 or args.tx_size < 1 or args.relay_batch < 1:
        parser.error("--events must be at least 2; --warmup, --tx-size and --relay-batch at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    # aiokafka logs every reconnect attempt at ERROR; the relay and consumer report outcomes.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    deadline = time.monotonic() + args.timeout
    load = os.getloadavg()
    settings = RuntimeSettings(
        state_dir=STATE_DIR,
        kafka_port=29092,
        kafka_controller_port=29093,
        gateway_port=28000,
        discovery_port=28001,
        audit_port=28002,
        attribution_port=28003,
    )
    # A run killed half-way may have left its broker and database up: stop them before wiping.
    Platform(settings, say=lambda _: None).down()
    for folder in ("kafka", "postgres", "run", "logs"):
        shutil.rmtree(settings.state_dir / folder, ignore_errors=True)
    platform = Platform(settings, say=progress)

    def expire(signum, frame):
        raise Deadline(f"start-up took longer than --timeout {args.timeout:g} s")

    signal.signal(signal.SIGALRM, expire)
    try:
        progress(f"starting Kafka and PostgreSQL in {settings.state_dir}")
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
        server = platform.start_infrastructure()
        # From here asyncio.timeout bounds the run: a signal raised inside the event loop would
        # land in whichever task happens to be running.
        signal.setitimer(signal.ITIMER_REAL, 0)
        runner = uvloop.run if args.loop == "uvloop" else asyncio.run
        pipeline, raw = runner(bench(platform, args, deadline - time.monotonic()))
        report(platform, server, args, pipeline, raw, load)
        return 0
    except (Deadline, Overrun) as exc:
        progress(f"bench: {exc} (logs in {settings.logs_dir})")
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        progress("stopping Kafka and PostgreSQL")
        platform.down()


if __name__ == "__main__":
    sys.exit(main())
