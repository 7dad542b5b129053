"""An AsyncAPI 3.0 document of every topic, generated from the catalog and the contracts.

Every model a contract uses is one entry of `components/schemas` (pydantic names them and
keeps two different models with one name apart); messages point at their envelope there. A
model's own JSON Schema would carry its `$defs` inside the message, where `#/$defs/...` points
at the document root and resolves to nothing.
"""

from typing import Any

from pydantic.json_schema import models_json_schema

from shared.contracts.catalog import CATALOG
from shared.contracts.envelope import Envelope
from shared.contracts.partner_orders import GENERIC_MESSAGES

SCHEMAS = "#/components/schemas/"


def _contract_components() -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, Any]]:
    """Per (topic, event type), a $ref to its envelope schema; and every schema by name."""
    envelopes = {
        (topic.name, event_type): Envelope[payload]  # type: ignore[valid-type]
        for topic in CATALOG
        for event_type, payload in sorted(topic.events.items())
    }
    unique = list(dict.fromkeys(envelopes.values()))
    refs, top = models_json_schema([(m, "validation") for m in unique], ref_template=SCHEMAS + "{model}")
    return {key: refs[(model, "validation")] for key, model in envelopes.items()}, top.get("$defs", {})


def asyncapi_document(version: str) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    payloads, schemas = _contract_components()
    # The generic partner format, which a generic source's `body` carries (gateway.webhook.v1).
    _, partner = models_json_schema([(m, "validation") for m in GENERIC_MESSAGES], ref_template=SCHEMAS + "{model}")
    schemas = {**schemas, **partner.get("$defs", {})}
    for topic in CATALOG:
        channel_messages = {}
        for event_type in sorted(topic.events):
            key = f"{topic.name}.{event_type}"
            messages[key] = {
                "name": event_type,
                "contentType": "application/json",
                "summary": f"{event_type} on {topic.name}, keyed by the {topic.aggregate} id.",
                "payload": payloads[(topic.name, event_type)],
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
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
