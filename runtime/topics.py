"""Create every topic of the event catalog, and its dead-letter topics, idempotently."""

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.contracts.catalog import CATALOG

DLQ_RETENTION_MS = 30 * 24 * 60 * 60 * 1000  # dead letters wait a month for someone to look


def planned_topics(replication_factor: int = 1) -> list[NewTopic]:
    topics = []
    for topic in CATALOG:
        config = {"retention.ms": str(topic.retention_ms), **topic.config}
        topics.append(NewTopic(topic.name, topic.partitions, replication_factor, topic_configs=config))
        for dlq in topic.dead_letter_topics():
            topics.append(NewTopic(dlq, 1, replication_factor, topic_configs={"retention.ms": str(DLQ_RETENTION_MS)}))
    return topics


async def ensure_topics(bootstrap: str, replication_factor: int = 1) -> list[str]:
    """Create the missing topics; returns the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in planned_topics(replication_factor) if t.name not in existing]
        if missing:
            await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


def ensure_topics_sync(bootstrap: str) -> list[str]:
    return asyncio.run(ensure_topics(bootstrap))
