"""`consumer_lag_messages{group,topic,partition}`: what a member has fetched or could fetch
but not applied yet, measured on the real broker."""

import asyncio

import pytest
from prometheus_client import REGISTRY

from shared.messaging.consumer import Subscription
from tests.conftest import creator_created, eventually, running_consumer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TOPIC = "discovery.creator.v2"


def _lag(group: str, partition: int) -> float | None:
    return REGISTRY.get_sample_value(
        "consumer_lag_messages", {"group": group, "topic": TOPIC, "partition": str(partition)}
    )


async def test_lag_grows_while_a_partition_is_stuck_and_returns_to_zero(platform, producer):
    gate = asyncio.Event()
    stuck = creator_created()

    async def handler(session, envelope):
        if envelope.event_id == stuck.event_id:
            await gate.wait()

    async with running_consumer(platform, "lag-test", [Subscription(TOPIC, "CreatorCreated", handler)]) as consumer:
        try:
            sent = await producer.send_and_wait(TOPIC, stuck.model_dump_json().encode(), key=stuck.aggregate_id.encode())
            for follower in [creator_created(stuck.payload.creator_id) for _ in range(5)]:
                await producer.send_and_wait(TOPIC, follower.model_dump_json().encode(), key=follower.aggregate_id.encode())

            async def lagging():
                return (_lag(consumer.group_id, sent.partition) or 0) >= 1

            await eventually(lagging, timeout=60)
        finally:
            gate.set()

        async def caught_up():
            return _lag(consumer.group_id, sent.partition) == 0

        await eventually(caught_up, timeout=60)
