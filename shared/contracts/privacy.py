"""Contracts of data-subject requests (topic gateway.privacy.v1), docs/decisions/0054.

The gateway publishes `PrivacyRequested` once a workspace (or, for a creator of the installation-
wide index, the operator workspace) asks to export or erase what the platform holds about one
person; discovery, audit and attribution each act on it in their own schema and keep a receipt of
what they did, which the gateway reads back (`GET /v1/privacy/requests/{id}`). The envelope's
`tenant_id` is the requesting workspace, the key the request id. Minor version 1.

The subject's identifiers (an e-mail, a partner's customer id) travel in the event: this topic
keeps them for its retention (1 day) and no longer; the services keep only keyed hashes.
"""

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

SCHEMA_VERSION = 1


class PrivacySubject(BaseModel):
    type: Literal["customer", "creator"] = Field(
        description="customer: a shopper of the requesting workspace (its orders); creator: a creator of the index.")
    email: str | None = Field(default=None, description="customer: the e-mail their orders carried.")
    customer_id: str | None = Field(default=None, description="customer: the partner's customer id.")
    source: Literal["shopify", "generic"] | None = Field(
        default=None, description="customer: the partner kind the customer_id belongs to.")
    source_id: uuid.UUID | None = Field(
        default=None, description="customer: limit to one webhook source (a Shopify store); shop: the store itself.")
    order_ids: list[str] = Field(default_factory=list, description="customer: partner order ids to include as well.")
    creator_id: uuid.UUID | None = Field(default=None, description="creator: discovery's creator id.")
    whole_source: bool = Field(
        default=False, description="Every customer of `source_id` (Shopify's shop/redact after an uninstall).")


class PrivacyRequested(BaseModel):
    request_id: uuid.UUID
    kind: Literal["export", "erasure"]
    subject: PrivacySubject
    requested_at: AwareDatetime
    origin: Literal["api", "shopify"] = Field(
        default="api", description="api: POST /v1/privacy/requests; shopify: a customers/redact, shop/redact or "
        "customers/data_request webhook of the workspace's store.")
