"""`/v1/privacy/requests` models (docs/guide/privacy.md)."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.privacy import ReceiptRead
from shared.validation import EMAIL_ADDRESS, NO_CONTROL_CHARACTERS, FieldError

# As a creator's customer key takes it (attribution's fraud/schemas.py): the orders' e-mails are
# matched as the shop recorded them, so no stricter shape is asked.
EMAIL = EMAIL_ADDRESS
OrderId = Annotated[str, Field(min_length=1, max_length=255, pattern=NO_CONTROL_CHARACTERS)]


class SubjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["customer", "creator"] = Field(
        description="customer: a shopper of your workspace (found by e-mail, partner customer id or order ids); "
        "creator: a creator of the index (operator workspace only).")
    email: str | None = Field(default=None, min_length=3, max_length=320, pattern=EMAIL,
                              description="customer: the e-mail on their orders.")
    customer_id: str | None = Field(default=None, min_length=1, max_length=255, pattern=NO_CONTROL_CHARACTERS,
                                    description="customer: the partner's customer id.")
    source: Literal["shopify", "generic"] | None = Field(default=None, description="customer: whose customer id it is.")
    order_ids: list[OrderId] = Field(default_factory=list, max_length=1000, description="customer: partner order ids.")
    creator_id: uuid.UUID | None = Field(default=None, description="creator: discovery's creator id.")

    @model_validator(mode="after")
    def _consistent(self) -> "SubjectIn":
        # Rules across fields, each naming the field at fault (tests/fuzz/hooks.py knows them).
        if self.type == "creator":
            if self.creator_id is None:
                raise FieldError("creator_id", "a creator subject needs creator_id")
            for name in ("email", "customer_id", "source"):
                if getattr(self, name) is not None:
                    raise FieldError(name, "a creator subject takes creator_id only")
            if self.order_ids:
                raise FieldError("order_ids", "a creator subject takes creator_id only")
        else:
            if self.creator_id is not None:
                raise FieldError("creator_id", "a customer subject takes email, customer_id or order_ids, not creator_id")
            if not (self.email or self.customer_id or self.order_ids):
                raise FieldError("email", "a customer subject needs an email, a customer_id or order_ids")
        return self


class PrivacyRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "erasure", "subject": {"type": "customer", "email": "ann@example.com"}},
        {"kind": "export", "subject": {"type": "creator", "creator_id": "6f1c0e8e-0d1b-4c55-9d6e-2f3f4d9a8b71"}},
    ]})

    kind: Literal["export", "erasure"]
    subject: SubjectIn


class ServiceReceipt(BaseModel):
    service: str
    status: Literal["done", "pending", "unavailable"] = Field(
        description="done: the receipt below; pending: not acted on yet; unavailable: the service did not answer now.")
    receipt: ReceiptRead | None = None


class PrivacyRequestRead(BaseModel):
    id: uuid.UUID
    kind: str
    subject_type: str
    subject_hint: str = Field(description="Masked: the request keeps no identifier of the subject.")
    requested_by: str
    created_at: datetime
    status: Literal["done", "in_progress"] | None = Field(
        default=None, description="done once every service has a receipt (only on GET of one request).")
    services: list[ServiceReceipt] | None = Field(default=None, description="Each service's receipt (GET of one request).")


class PrivacyRequestPage(BaseModel):
    items: list[PrivacyRequestRead]
    next_cursor: str | None
