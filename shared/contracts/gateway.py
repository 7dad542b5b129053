"""Contracts produced by the gateway (topic gateway.webhook.v1)."""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field


class WebhookReceived(BaseModel):
    delivery_id: str = Field(description="The partner's delivery id, or one the gateway assigned.")
    partner_id: str = Field(description="Partner (shop or platform) that sent the webhook.")
    source: Literal["shopify", "generic"]
    topic: str | None = Field(default=None, description="Partner's event name, e.g. orders/create.")
    received_at: AwareDatetime
    content_type: str
    body: str = Field(description="Raw request body as received (UTF-8), after signature verification.")
    headers: dict[str, str] = Field(default_factory=dict, description="Partner headers kept for audit.")
