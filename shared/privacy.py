"""What each service keeps of a data-subject request it acted on: the receipt (docs/decisions/0054).

Every service that consumes `gateway.privacy.v1` keeps one receipt per request in its own schema
(a tenant-owned `privacy_receipts` table: the requesting workspace's), written in the same
transaction as what it did and its processed-event record, so a redelivered request does nothing
twice and its receipt never claims what was not done. The service serves it at
`GET /privacy/receipts/{request_id}` (`admin` scope; through the gateway,
`/v1/<service>/privacy/receipts/{id}`), and the gateway's `GET /v1/privacy/requests/{id}` shows
every service's together.
"""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Done = Literal["deleted", "anonymised", "exported", "kept", "none held"]


class ReceiptAction(BaseModel):
    what: str = Field(description="The records, in words: 'orders', 'follower samples', 'the creator's posts'.")
    done: Done
    count: int = Field(ge=0)
    note: str | None = Field(default=None, description="Why, where it is not obvious (e.g. amounts kept for the ledger).")


class ReceiptRead(BaseModel):
    request_id: uuid.UUID
    service: str
    kind: Literal["export", "erasure"]
    subject_type: Literal["customer", "creator"]
    origin: Literal["api", "shopify"]
    actions: list[ReceiptAction]
    export: dict | None = Field(description="For an export: the data this service holds about the subject.")
    completed_at: datetime


# The receipt's columns, for each service's model and migration (one shape everywhere):
# request_id uuid PK, tenant_id uuid, kind varchar(16), subject_type varchar(16), origin varchar(16),
# actions jsonb, export jsonb null, completed_at timestamptz.
