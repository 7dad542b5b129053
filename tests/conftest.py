"""One real platform per test session: Kafka (KRaft, JVM), PostgreSQL 16 + pgvector, topics,
migrations and the four services as separate processes, on ports and in a state folder of
their own so a developer's `limelight up` is never touched. Nothing here is mocked.
"""

import asyncio
import contextlib
import logging
import os
import shutil
import uuid
from pathlib import Path
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from prometheus_client.parser import text_string_to_metric_families

from runtime import services
from runtime.admin import NewTenant, new_tenant
from runtime.keys import installation_keys
from runtime.dlq import read_partition
from runtime.config import ROOT, RuntimeSettings
from runtime.platform import Platform
from services.audit.db import ProcessedEvent
from shared.contracts.discovery import CreatorPayload
from shared.contracts.catalog import dlq_topic
from shared.contracts.envelope import new_envelope
from shared.db import make_engine, make_sessionmaker
from shared.messaging.consumer import IdempotentConsumer
from shared.messaging.kafka import KafkaProducerHandle
from shared.identity import IDENTITY_HEADER, SCOPES, Identity, IdentitySigner

logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

# LIMELIGHT_TEST_STATE_DIR moves it, so a run beside the developer's suite (the reliability
# suite's cross-tenant matrix) never stops that suite's platform.
TEST_STATE = Path(os.environ.get("LIMELIGHT_TEST_STATE_DIR") or ROOT / ".limelight" / "test")

# Fast relay polling keeps the suite quick; everything else runs with production defaults.
# The suite's clients all share one key and one address (127.0.0.1), so the gateway's limits are
# raised out of their way; tests/gateway/traffic/ runs gateways with small limits of their own.
SERVICE_ENV = {
    "OUTBOX_POLL_INTERVAL_MS": "50",
    # The ledger's approval worker (attribution): a second, so tests of it need not wait a minute.
    "LEDGER_APPROVAL_INTERVAL_SECONDS": "1",
    # And the sales records for discovery (attribution.performance.v1): half a second, not two.
    "PERFORMANCE_INTERVAL_SECONDS": "0.5",
    "REPORT_TOTALS_INTERVAL_SECONDS": "0.5",
    "LOG_LEVEL": "INFO",
    "GATEWAY_RATE_LIMITS": '{"standard": {"rate": 100000, "burst": 100000}}',
    "GATEWAY_ADDRESS_RATE_LIMIT": '{"rate": 100000, "burst": 100000}',
}


def suite_settings() -> RuntimeSettings:
    """Ports from LIMELIGHT_TEST_PORT_BASE (default 18000): services at base..base+3, Kafka
    at base+1092 and base+1093, so two checkouts can run their suites side by side."""
    base = int(os.environ.get("LIMELIGHT_TEST_PORT_BASE", "18000"))
    return RuntimeSettings(
        state_dir=TEST_STATE,
        database_url=os.environ.get("DATABASE_URL"),
        kafka_port=base + 1092,
        kafka_controller_port=base + 1093,
        gateway_port=base,
        discovery_port=base + 1,
        audit_port=base + 2,
        attribution_port=base + 3,
    )


@pytest.fixture(scope="session")
def platform() -> Platform:
    settings = suite_settings()
    stale = Platform(settings, say=lambda _: None)
    stale.down()
    # Every session starts from empty Kafka and PostgreSQL data: no state leaks between runs.
    for folder in ("kafka", "postgres", "run", "logs"):
        shutil.rmtree(settings.state_dir / folder, ignore_errors=True)
    platform = Platform(settings, say=lambda m: print(m, flush=True))
    try:
        platform.start_infrastructure()
        platform.start_services(SERVICE_ENV)
        yield platform
    finally:
        platform.down()


@pytest.fixture(scope="session")
def restart_service(platform: Platform) -> Callable[[str], None]:
    def restart(service: str) -> None:
        platform.start_service(service, SERVICE_ENV)
        services.wait_healthy(platform.s, service)

    return restart


@pytest_asyncio.fixture(scope="session")
async def tenant(platform: Platform) -> NewTenant:
    """The suite's main tenant and its first key (every scope), made as `limelight admin` makes them."""
    return await new_tenant(platform.service_env("gateway")["DATABASE_URL"], "suite tenant")


@pytest_asyncio.fixture(scope="session")
async def other_tenant(platform: Platform) -> NewTenant:
    """A second tenant, for isolation tests: it must never see the first one's data."""
    return await new_tenant(platform.service_env("gateway")["DATABASE_URL"], "other tenant")


@pytest_asyncio.fixture(scope="session")
async def operator_tenant(platform: Platform) -> NewTenant:
    """The installation's operator workspace: its admin key manages tenants."""
    return await new_tenant(platform.service_env("gateway")["DATABASE_URL"], "operator", operator=True)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest_asyncio.fixture(scope="session")
async def gateway(platform: Platform, tenant: NewTenant):
    """A client of the gateway authenticated as the suite's tenant (every scope)."""
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), timeout=15, headers=bearer(tenant.key)) as client:
        yield client


@pytest_asyncio.fixture(scope="session")
async def other_gateway(platform: Platform, other_tenant: NewTenant):
    """A client of the gateway authenticated as the second tenant (every scope)."""
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), timeout=15, headers=bearer(other_tenant.key)) as client:
        yield client


@pytest_asyncio.fixture(scope="session")
async def anonymous(platform: Platform):
    """A client of the gateway with no credentials."""
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), timeout=15) as client:
        yield client


def identity_headers(
    service: str,
    *,
    tenant_id: uuid.UUID | None = None,
    scopes: Iterable[str] = tuple(SCOPES),
    subject: str = "test",
) -> dict[str, str]:
    """The identity header the gateway would send `service`, signed with the suite's key: for
    tests that call a service directly (the gateway's own checks are tested through it)."""
    keys = installation_keys(TEST_STATE)
    signer = IdentitySigner(keys.identity_private_pem)
    identity = Identity(tenant_id=tenant_id or SUITE_TENANT, subject=subject, scopes=frozenset(scopes))
    return {IDENTITY_HEADER: signer.token(identity, audience=service)}


class ServiceIdentity(httpx.Auth):
    """httpx auth minting a fresh identity token per request (tokens live 60 s)."""

    def __init__(self, service: str, **identity):
        self.service = service
        self.identity = identity

    def auth_flow(self, request):
        request.headers.update(identity_headers(self.service, **self.identity))
        yield request


# The tenant of direct service calls that do not name one.
SUITE_TENANT = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest_asyncio.fixture(scope="session")
async def producer(platform: Platform):
    """A plain Kafka producer, for injecting messages as another service (or an attacker) would."""
    kafka = AIOKafkaProducer(bootstrap_servers=platform.s.kafka_bootstrap, acks="all", enable_idempotence=True)
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.fixture(scope="session")
def service_dsn(platform: Platform) -> Callable[[str], str]:
    """asyncpg DSN of a service's own role (the same login the service itself uses)."""

    def dsn(service: str) -> str:
        url = platform.service_env(service)["DATABASE_URL"]
        return url.replace("postgresql+asyncpg://", "postgresql://", 1)

    return dsn


# Pools rather than single connections: a pool replaces a connection that a test restarting
# PostgreSQL closed, so the tests after it still have theirs.
@pytest_asyncio.fixture(scope="session")
async def audit_db(service_dsn):
    pool = await asyncpg.create_pool(service_dsn("audit"), min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest_asyncio.fixture(scope="session")
async def discovery_db(service_dsn):
    pool = await asyncpg.create_pool(service_dsn("discovery"), min_size=1, max_size=2)
    yield pool
    await pool.close()


async def eventually(check: Callable[[], Awaitable[object]], *, timeout: float = 30, interval: float = 0.1):
    """Poll `check` until it returns a truthy value; fail with the last value after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while True:
        last = await check()
        if last:
            return last
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {timeout}s (last value: {last!r})")
        await asyncio.sleep(interval)


def unique_handle(prefix: str = "creator") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def creator_created(creator_id: uuid.UUID | None = None, *, event_id: uuid.UUID | None = None, handle: str | None = None):
    """A discovery.creator.v2 CreatorCreated envelope, as discovery's relay would publish it."""
    creator_id = creator_id or uuid.uuid4()
    envelope = new_envelope(
        event_type="CreatorCreated",
        producer="discovery",
        aggregate_id=str(creator_id),
        payload=CreatorPayload(
            creator_id=creator_id, platform="tiktok", handle=handle or unique_handle(), audit_needed=True
        ),
    )
    if event_id is not None:
        envelope = envelope.model_copy(update={"event_id": event_id})
    return envelope


async def publish(producer: AIOKafkaProducer, topic: str, envelope) -> None:
    await producer.send_and_wait(topic, envelope.model_dump_json().encode(), key=envelope.aggregate_id.encode())


async def metric(platform: Platform, service: str, name: str, **labels: str) -> float:
    """Current value of a Prometheus sample on a service's /metrics (0 when absent)."""
    # The gateway serves /metrics on its operator listener only.
    base = f"http://127.0.0.1:{platform.s.operator_port}" if service == "gateway" else platform.s.url(service)
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{base}/metrics")
    assert response.status_code == 200, response.text
    text = response.text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


AUDIT_GROUP = "audit.creator-audits"


async def processed_count(audit_db, event_ids, group: str = AUDIT_GROUP) -> int:
    """How many of `event_ids` the consumer group has applied (its processed-event records)."""
    return await audit_db.fetchval(
        "select count(*) from audit.processed_events where consumer_group = $1 and event_id = any($2::uuid[])",
        group,
        list(event_ids),
    )


async def insert_processed(audit_db, group: str, event_id: uuid.UUID, age_days: float = 0) -> None:
    """A processed-event record of `group`, as if it had been applied `age_days` ago."""
    await audit_db.execute(
        "insert into audit.processed_events (consumer_group, event_id, topic, processed_at) "
        "values ($1, $2, 'test', now() - make_interval(secs => $3))",
        group,
        event_id,
        age_days * 86400,
    )


async def at_least(count: Awaitable[int], n: int) -> bool:
    return await count >= n


async def exactly(count: Awaitable[int], n: int) -> bool:
    return await count == n


async def ensure_topic(platform: Platform, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.s.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def running_consumer(platform: Platform, name: str, subscriptions: list, **options) -> AsyncIterator:
    """A consumer built in the test against audit's schema (a group of its own), running until
    the block ends; its dead letters go to `<topic>.dlq.<name>`."""
    engine = make_engine(platform.service_env("audit")["DATABASE_URL"])
    dead_letters = KafkaProducerHandle(platform.s.kafka_bootstrap, name)
    consumer = IdempotentConsumer(
        consumer=name,
        group_id=f"test.{name}-{uuid.uuid4().hex[:8]}",
        subscriptions=subscriptions,
        sessionmaker=make_sessionmaker(engine),
        processed_model=ProcessedEvent,
        bootstrap_servers=platform.s.kafka_bootstrap,
        dead_letters=dead_letters,
        **options,
    )
    for topic in {s.topic for s in subscriptions}:
        await ensure_topic(platform, dlq_topic(topic, name))
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield consumer
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await dead_letters.close()
        await engine.dispose()


async def records_on(platform: Platform, topic: str, key: bytes | None = None) -> list:
    """Every record on a one-partition topic (a dead-letter topic), optionally only `key`'s."""
    return [r for r in await read_partition(platform.s.kafka_bootstrap, topic) if key is None or r.key == key]
