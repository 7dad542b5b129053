"""Projections kept on each creator: the latest audit (audit.audit.v1) and the sales record per
currency (attribution.performance.v1). Out-of-order and duplicate events change nothing."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.contracts.attribution import CreatorPerformanceUpdated
from shared.contracts.audit import AuditPayload
from shared.contracts.envelope import new_envelope
from tests.conftest import eventually, metric, publish
from tests.discovery.factory import insert_creator

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def audit_event(creator_id, sequence: int, **payload):
    envelope = new_envelope(
        event_type="AuditCompleted", producer="audit", aggregate_id=str(creator_id),
        payload=AuditPayload(audit_id=uuid.uuid4(), creator_id=creator_id, status="completed", **payload),
    )
    return envelope.model_copy(update={"sequence": sequence})


def sales_event(creator_id, as_of: datetime, revenue_minor: int, currency: str = "EUR"):
    return new_envelope(
        event_type="CreatorPerformanceUpdated", producer="attribution", aggregate_id=str(creator_id),
        payload=CreatorPerformanceUpdated(
            creator_id=creator_id, clicks=100, orders=revenue_minor // 1000, revenue_minor=revenue_minor,
            commission_minor=revenue_minor // 10, currency=currency, as_of=as_of,
        ),
    )


async def test_the_latest_audit_is_projected_and_an_older_one_arriving_late_is_ignored(gateway, producer, discovery_db):
    creator_id = await insert_creator(discovery_db)
    await publish(producer, "audit.audit.v1", audit_event(creator_id, 2, score=81.5, grade="B+", audience_quality=0.83,
                                                          flags=["engagement_low"]))

    async def projected():
        audit = (await gateway.get(f"/v1/discovery/creators/{creator_id}")).json()["audit"]
        return audit if audit["score"] == 81.5 else None

    audit = await eventually(projected)
    assert (audit["grade"], audit["audience_quality"], audit["flags"]) == ("B+", 0.83, ["engagement_low"])
    stale = audit_event(creator_id, 1, score=20.0, grade="D", audience_quality=0.2, flags=["bought_followers"])
    await publish(producer, "audit.audit.v1", stale)
    marker = audit_event(creator_id, 3, score=82.0, grade="B+", audience_quality=0.84, flags=[])
    await publish(producer, "audit.audit.v1", marker)

    async def marker_applied():
        audit = (await gateway.get(f"/v1/discovery/creators/{creator_id}")).json()["audit"]
        return audit if audit["score"] == 82.0 else None

    audit = await eventually(marker_applied)
    assert audit["audience_quality"] == 0.84 and audit["flags"] == []
    score = await discovery_db.fetchval("select audit_score from discovery.creators where id = $1", creator_id)
    assert score == 82.0


async def test_sales_records_are_kept_per_currency_and_only_newer_ones_apply(gateway, producer, discovery_db):
    creator_id = await insert_creator(discovery_db)
    await publish(producer, "attribution.performance.v1", sales_event(creator_id, T0 + timedelta(days=2), 250_000))
    newer_usd = sales_event(creator_id, T0, 9_900, currency="USD")
    await publish(producer, "attribution.performance.v1", newer_usd)
    await publish(producer, "attribution.performance.v1", newer_usd)  # a duplicate delivery
    await publish(producer, "attribution.performance.v1", sales_event(creator_id, T0 + timedelta(days=1), 1))  # late

    async def both():
        sales = (await gateway.get(f"/v1/discovery/creators/{creator_id}")).json()["sales"]
        return sales if len(sales) == 2 else None

    sales = await eventually(both)
    marker = sales_event(creator_id, T0 + timedelta(days=3), 300_000)
    await publish(producer, "attribution.performance.v1", marker)

    async def marker_applied():
        sales = (await gateway.get(f"/v1/discovery/creators/{creator_id}")).json()["sales"]
        return sales if sales[0]["revenue"] == "3000.00" else None

    sales = await eventually(marker_applied)
    assert [(s["currency"], s["revenue"], s["commission"]) for s in sales] == [
        ("EUR", "3000.00", "300.00"), ("USD", "99.00", "9.90")
    ]


async def test_sales_of_an_unknown_creator_are_ignored_and_counted(platform, producer, discovery_db):
    before = await metric(platform, "discovery", "discovery_sales_events_ignored_total")
    unknown = uuid.uuid4()
    await publish(producer, "attribution.performance.v1", sales_event(unknown, T0, 5_000))

    async def counted():
        return await metric(platform, "discovery", "discovery_sales_events_ignored_total") > before

    await eventually(counted)
    assert await discovery_db.fetchval("select count(*) from discovery.creator_sales where creator_id = $1", unknown) == 0
