"""Consumers keep the tenant of the events they apply: while a handler runs, its session is
bound to the envelope's tenant_id (shared.messaging.applying), so a row it derives from a
tenant's event belongs to that tenant without the handler copying anything.

No service consumes a tenant's events yet (attribution.campaign.v1 is new), so the consumer
here is built in the test: the project's IdempotentConsumer, on discovery's own schema, reading
the real topic that attribution's outbox feeds."""

import asyncio
import contextlib
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from services.discovery.db import ProcessedEvent
from services.discovery.shortlist.models import Shortlist
from shared import tenancy
from shared.contracts.attribution import CampaignPayload
from shared.contracts.catalog import dlq_topic
from shared.contracts.envelope import Envelope, new_envelope
from shared.db import make_engine, make_sessionmaker
from shared.messaging.applying import apply_events
from shared.messaging.consumer import IdempotentConsumer, Subscription
from shared.messaging.processed import ProcessedEvents
from shared.messaging.routing import Router
from shared.messaging.kafka import KafkaProducerHandle
from tests.conftest import ensure_topic, eventually
from tests.tenancy.test_cross_tenant_matrix import every_page

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TOPIC = "attribution.campaign.v1"


async def shortlist_for_campaign(session, event: Envelope[CampaignPayload]) -> None:
    """A handler as a real one would be written: it never mentions the tenant."""
    session.add(Shortlist(name=f"campaign {event.payload.campaign_id}", description=event.payload.name))


@contextlib.asynccontextmanager
async def consumer_on_discovery(platform):
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"])
    name = "tenancy-test"
    dead_letters = KafkaProducerHandle(platform.s.kafka_bootstrap, name)
    consumer = IdempotentConsumer(
        consumer=name,
        group_id=f"test.{name}-{uuid.uuid4().hex[:8]}",
        subscriptions=[Subscription(TOPIC, "CampaignCreated", shortlist_for_campaign)],
        sessionmaker=make_sessionmaker(engine),
        processed_model=ProcessedEvent,
        bootstrap_servers=platform.s.kafka_bootstrap,
        dead_letters=dead_letters,
    )
    await ensure_topic(platform, dlq_topic(TOPIC, name))
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield engine
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await dead_letters.close()
        await engine.dispose()


async def test_a_row_derived_from_a_tenants_event_belongs_to_that_tenant(platform, gateway, other, tenant):
    async with consumer_on_discovery(platform) as engine:
        campaign = await gateway.post(
            "/v1/attribution/campaigns",
            json={"name": "derived", "brand": "A", "starts_on": "2027-05-01", "ends_on": "2027-05-02",
                  "budget": 100, "currency": "GBP"},
        )
        assert campaign.status_code == 201, campaign.text
        name = f"campaign {campaign.json()['id']}"

        async def stored():
            async with make_sessionmaker(engine)() as session:
                tenancy.across_tenants(session, "the test looks for the row whatever its tenant")
                return (await session.execute(select(Shortlist).where(Shortlist.name == name))).scalar_one_or_none()

        row = await eventually(stored)
    assert row.tenant_id == tenant.tenant_id
    # Every page: the suite's tenants make many shortlists.
    mine = await every_page(gateway, "/v1/discovery/shortlists")
    theirs = await every_page(other, "/v1/discovery/shortlists")
    assert str(row.id) in mine and str(row.id) not in theirs


def campaign_event(tenant_id: uuid.UUID | None) -> Envelope:
    campaign_id = uuid.uuid4()
    payload = CampaignPayload(
        campaign_id=campaign_id, name="batch", brand="B", starts_on=date(2027, 1, 1), ends_on=date(2027, 1, 2),
        budget=Decimal("1"), currency="EUR", status="draft",
    )
    return new_envelope(
        event_type="CampaignCreated", producer="attribution", aggregate_id=str(campaign_id), payload=payload,
        tenant_id=tenant_id,
    )


async def test_one_batch_of_several_tenants_events_keeps_each_events_tenant(engine):
    router = Router([Subscription(TOPIC, "CampaignCreated", shortlist_for_campaign)])
    processed = ProcessedEvents(ProcessedEvent, f"test.batch-{uuid.uuid4().hex[:8]}", [TOPIC])
    first, second = uuid.uuid4(), uuid.uuid4()
    events = [(TOPIC, campaign_event(first)), (TOPIC, campaign_event(second))]
    async with make_sessionmaker(engine)() as session, session.begin():
        await apply_events(session, processed, router, events)
    async with make_sessionmaker(engine)() as session:
        tenancy.across_tenants(session, "the test reads both tenants' rows")
        names = {f"campaign {e.payload.campaign_id}": e.tenant_id for _, e in events}
        rows = (await session.execute(select(Shortlist).where(Shortlist.name.in_(names)))).scalars().all()
    assert {row.name: row.tenant_id for row in rows} == names


async def test_an_event_of_no_tenant_cannot_write_a_tenants_row(engine):
    router = Router([Subscription(TOPIC, "CampaignCreated", shortlist_for_campaign)])
    processed = ProcessedEvents(ProcessedEvent, f"test.batch-{uuid.uuid4().hex[:8]}", [TOPIC])
    with pytest.raises(tenancy.TenantNotBound):
        async with make_sessionmaker(engine)() as session, session.begin():
            await apply_events(session, processed, router, [(TOPIC, campaign_event(None))])
