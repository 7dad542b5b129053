"""API models of webhook sources. A secret appears in a response once: when the gateway made it
(a generic source's creation or rotation); afterwards only its last characters (`secret_hint`)."""

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from shared.validation import label

SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$")
# The same rule before normalisation (any case, surrounding spaces), for the OpenAPI document:
# JSON Schema patterns have no case-insensitive flag.
_ANY_CASE = "".join(f"[{c.upper()}{c}]" if c.isalpha() else re.escape(c) for c in ".myshopify.com")
SHOP_DOMAIN_INPUT = rf"^\s*[A-Za-z0-9][A-Za-z0-9-]{{0,99}}{_ANY_CASE}\s*$"


def _shop_domain(value: str) -> str:
    domain = value.strip().lower()
    if not SHOP_DOMAIN.match(domain):
        raise ValueError("must be the store's <shop>.myshopify.com domain, e.g. acme-store.myshopify.com")
    return domain


ShopDomain = Annotated[
    str,
    Field(
        max_length=255,
        pattern=SHOP_DOMAIN_INPUT,
        examples=["acme-store.myshopify.com"],
        description="The store's myshopify.com domain (stored lower-case).",
    ),
    AfterValidator(_shop_domain),
]
ShopifySecret = Annotated[
    str,
    Field(
        min_length=16,
        max_length=256,
        pattern=r"^[\x21-\x7e]+$",
        description="The app's client secret from the Shopify Partner dashboard (it signs every webhook). "
        "Write-only: never returned.",
    ),
]
Name = label(min_length=1, max_length=200, examples=["Acme store"])


class ShopifySourceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["shopify"]
    name: Name
    shop_domain: ShopDomain
    secret: ShopifySecret


class GenericSourceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["generic"]
    name: Name


WebhookSourceCreate = Annotated[ShopifySourceCreate | GenericSourceCreate, Field(discriminator="kind")]


class WebhookSourceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    shop_domain: ShopDomain | None = Field(default=None, description="Shopify sources only.")
    disabled: StrictBool | None = Field(default=None, description="A disabled source answers 404 to every delivery.")


class SecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: ShopifySecret | None = Field(
        default=None, description="Shopify sources: the new client secret (required). Generic sources: omit it."
    )


class WebhookSourceRead(BaseModel):
    id: uuid.UUID
    kind: Literal["shopify", "generic"]
    name: str
    shop_domain: str | None
    url: str = Field(description="Where the partner sends deliveries (path on this gateway).")
    secret_hint: str = Field(description="The last characters of the current secret, to recognise it.")
    rotated_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the secret replaced by the last rotation is still accepted."
    )
    disabled: bool
    created_at: datetime
    updated_at: datetime


class WebhookSourceWithSecret(WebhookSourceRead):
    secret: str | None = Field(
        description="Generic sources: the signing secret, shown only in this response; store it now. "
        "Shopify sources: null (the secret is the one you pasted in)."
    )


class WebhookSourcePage(BaseModel):
    items: list[WebhookSourceRead]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


class DeliveryAccepted(BaseModel):
    status: Literal["accepted", "duplicate", "ignored"] = Field(
        description="accepted: published now; duplicate: this delivery id was already accepted, nothing "
        "published again; ignored (Shopify): a topic Limelight does not use, verified and dropped."
    )
    delivery_id: str
    event_id: uuid.UUID | None = Field(description="The event's id on gateway.webhook.v1 (null when ignored).")
