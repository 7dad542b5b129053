"""An AsyncAPI 3.0 document of every topic, generated from the catalog and the contracts."""

from typing import Any

from shared.contracts.catalog import CATALOG
from shared.contracts.compatibility import contract_schemas


def asyncapi_document(version: str, bootstrap: str = "kafka:9092") -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in CATALOG:
        channel_messages = {}
        for event_type, schema in contract_schemas(topic).items():
            key = f"{topic.name}.{event_type}"
            messages[key] = {
                "name": event_type,
                "contentType": "application/json",
                "summary": f"{event_type} on {topic.name}, keyed by the {topic.aggregate} id.",
                "payload": schema,
            }
            channel_messages[event_type] = {"$ref": f"#/components/messages/{key}"}
        channels[topic.name] = {
            "address": topic.name,
            "description": f"{topic.description} Partitions: {topic.partitions}. "
            f"Dead letters: {', '.join(topic.dead_letter_topics()) or 'none'}.",
            "messages": channel_messages,
        }
        operations[f"{topic.producer}.publish.{topic.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic.name}"},
            "summary": f"Published by {topic.producer} through its transactional outbox.",
        }
        for consumer in topic.consumers:
            operations[f"{consumer}.consume.{topic.name}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{topic.name}"},
                "summary": f"Consumed idempotently by {consumer}; failures go to {topic.name}.dlq.{consumer}.",
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Limelight events",
            "version": version,
            "description": "Every message carries the same envelope; `payload` differs by event type. "
            "Dead-letter topics carry the original record unchanged, with the failure in dlq.* headers.",
        },
        "servers": {"kafka": {"host": bootstrap, "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
