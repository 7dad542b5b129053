"""Contracts produced by the gateway (topic gateway.webhook.v1).

Minor versions (the envelope's `schema_version`): 1, the first; 2 adds `source_id`. The tenant
is the envelope's `tenant_id`, the Kafka key (and `aggregate_id`) the source id, so one
source's deliveries stay in order on one partition.
"""

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

SCHEMA_VERSION = 2


class WebhookReceived(BaseModel):
    delivery_id: str = Field(
        description="The partner's delivery id (X-Shopify-Webhook-Id, Limelight-Delivery-Id), or for a generic "
        "delivery without one 'sha256:' + hex SHA-256 of '<t>.<body>'. Unique per source."
    )
    partner_id: str = Field(description="Partner that sent the webhook: the Shopify shop domain, or the source's name.")
    source: Literal["shopify", "generic"]
    source_id: uuid.UUID | None = Field(
        default=None, description="The webhook source (gateway) that received it; absent before schema_version 2."
    )
    topic: str | None = Field(default=None, description="Partner's event name, e.g. orders/create.")
    received_at: AwareDatetime
    content_type: str
    body: str = Field(description="Raw request body as received (UTF-8), after signature verification. A generic "
                      "source's orders, refunds and cancellations are JSON in the generic partner format: "
                      "GenericOrder, GenericRefund and GenericCancellation in components/schemas.")
    headers: dict[str, str] = Field(default_factory=dict, description="Partner headers kept for audit.")
