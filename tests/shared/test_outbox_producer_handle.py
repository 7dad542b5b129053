"""A producer reset after a failure stops only the producer that failed, never one that another
caller (the relay, the dead-letter path, /readyz) has already replaced and is using."""

import pytest

from shared.messaging.kafka import KafkaProducerHandle

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TOPIC = "discovery.creator.v2"


async def test_reset_of_a_producer_already_replaced_leaves_the_current_one_running(platform):
    handle = KafkaProducerHandle(platform.s.kafka_bootstrap, "test-handle")
    try:
        failed = await handle.get()
        await handle.reset(failed)
        current = await handle.get()
        assert current is not failed

        # A second caller that also held `failed` resets it late: nothing happens to `current`.
        await handle.reset(failed)

        assert await handle.get() is current
        await current.send_and_wait(TOPIC, b"{}", key=b"test-handle")
    finally:
        await handle.close()


async def test_the_relay_publishes_through_a_producer_of_its_own(platform):
    shared = KafkaProducerHandle(platform.s.kafka_bootstrap, "test-shared")
    relay_handle = shared.for_worker("outbox-relay")
    try:
        relay_producer = await relay_handle.get()
        await shared.reset(await shared.get())

        assert await relay_handle.get() is relay_producer
        await relay_producer.send_and_wait(TOPIC, b"{}", key=b"test-relay")
    finally:
        await relay_handle.close()
        await shared.close()
