"""Readiness says whether this instance can serve its API: the database decides, Kafka is
reported beside it. Writes made while Kafka is away wait in the outbox, so taking the API
out of rotation for a broker outage would refuse exactly the traffic the outbox exists for."""

import asyncio

import httpx
import pytest

from tests.conftest import ServiceIdentity, unique_handle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_service_stays_ready_and_accepts_writes_while_kafka_is_down(platform, gateway):
    await asyncio.to_thread(platform.kafka.stop)
    try:
        async with httpx.AsyncClient(base_url=platform.s.url("discovery"), timeout=15, auth=ServiceIdentity("discovery")) as discovery:
            ready = await discovery.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "up", "kafka": "down"}

        created = await gateway.post("/v1/discovery/creators", json={"platform": "twitch", "handle": unique_handle()})
        assert created.status_code == 201, created.text
    finally:
        await asyncio.to_thread(platform.kafka.start)
