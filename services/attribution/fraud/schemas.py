"""The fraud API's models: thresholds, creators' customer keys, reviews and decisions."""

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StrictBool, model_validator

from shared.validation import EMAIL_ADDRESS, NO_CONTROL_CHARACTERS, FieldError, integral_number

# Strict: `false` is not 0 and "5" is not 5; 5.0 is 5 (JSON Schema counts it an integer).
Count = Annotated[int, Strict(), BeforeValidator(integral_number)]
Ratio = Annotated[float, Strict()]

# Something besides spaces, and no NUL (PostgreSQL text cannot hold it); line breaks are fine.
NOTE = r"^[^\x00]*[^\s\x00][^\x00]*$"


class FraudSettingsBody(BaseModel):
    """Thresholds to set; those left out keep their value. Defaults in docs/guide/attribution-fraud.md."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"burst_clicks": 8, "injection_seconds": 5}]})

    self_referral: StrictBool = Field(None, description="Hold orders by a customer the creator registered.")
    burst_clicks: Count = Field(None, ge=1, le=100_000, description="Click burst: more than this many clicks ...")
    burst_minutes: Count = Field(None, ge=1, le=1440, description="... this many minutes around the click.")
    injection_seconds: Count = Field(None, ge=0, le=3600, description="Click injection: click to order below this.")
    leaked_lookback_days: Count = Field(None, ge=1, le=365, description="Leaked code: the code's history read.")
    leaked_min_orders: Count = Field(None, ge=1, le=1_000_000, description="No-click share from this many orders.")
    leaked_no_click_share: Ratio = Field(None, ge=0, le=1, description="Orders with no creator click, 0-1.")
    velocity_factor: Ratio = Field(None, gt=0, le=10_000, description="Last hour over the normal hourly rate.")
    velocity_min_orders: Count = Field(None, ge=1, le=1_000_000, description="Velocity from this many an hour.")
    new_customer_excess: Ratio = Field(None, ge=0, le=1, description="Leaked code: new-customer share above the campaign's by more than this.")
    unusual_country_share: Ratio = Field(None, ge=0, le=1, description="Leaked code: share of orders shipped to unusual countries.")
    country_floor: Ratio = Field(None, ge=0, le=1, description="A country under this share of the campaign's other orders is unusual.")
    bot_clicks: Count = Field(None, ge=1, le=100_000, description="Flagged clicks of the visitor or network.")
    bot_lookback_hours: Count = Field(None, ge=1, le=720, description="Bot traffic: hours before the order.")


class FraudSettingsRead(BaseModel):
    thresholds: dict = Field(description="Every threshold in force.")
    defaults: dict = Field(description="The defaults, for comparison.")


EMAIL = EMAIL_ADDRESS  # as the shop records it: no spaces or control characters (shared/validation.py)


class CustomerKeyCreate(BaseModel):
    """Exactly one of `email` (as the shop records it) or `customer_id` (the shop's customer id)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"email": "maya@example.com"}]})

    email: str | None = Field(None, min_length=3, max_length=320, pattern=EMAIL)
    customer_id: str | None = Field(None, min_length=1, max_length=255, pattern=NO_CONTROL_CHARACTERS)
    source: Literal["shopify", "generic"] = Field("shopify", description="Whose customer id it is (with customer_id).")

    @model_validator(mode="after")
    def _one(self):
        if (self.email is None) == (self.customer_id is None):
            raise FieldError("email", "give exactly one of email or customer_id")
        return self

    def identifier(self) -> str:
        """As the order parsers name the customer before hashing (orders/shopify.py, orders/generic.py)."""
        if self.email is not None:
            return f"email:{self.email}"
        return f"{'shopify-customer' if self.source == 'shopify' else 'partner-customer'}:{self.customer_id.strip()}"


class CustomerKeyRead(BaseModel):
    creator_id: uuid.UUID
    customer_key: str = Field(description="The keyed hash stored; the e-mail or id itself is never kept.")
    created: bool = Field(description="False when the key was already registered.")


class Finding(BaseModel):
    rule: str
    reason: str
    evidence: dict


class ReviewRead(BaseModel):
    id: uuid.UUID
    order_ref: uuid.UUID = Field(description="The order (GET /v1/attribution/orders/{id}).")
    source: str
    order_id: str
    creator_id: uuid.UUID
    campaign_id: uuid.UUID
    status: Literal["held", "approved", "rejected"]
    findings: list[Finding]
    thresholds: dict = Field(description="The thresholds the order was judged by.")
    decided_by: str | None
    decided_at: str | None
    note: str | None
    created_at: str

    @classmethod
    def of(cls, r) -> "ReviewRead":
        return cls(id=r.id, order_ref=r.order_ref, source=r.source, order_id=r.order_id, creator_id=r.creator_id,
                   campaign_id=r.campaign_id, status=r.status, findings=[Finding(**f) for f in r.findings],
                   thresholds=r.thresholds, decided_by=r.decided_by,
                   decided_at=r.decided_at.isoformat() if r.decided_at else None, note=r.note,
                   created_at=r.created_at.isoformat())


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"decision": "reject", "note": "clicks injected by an app on the buyer's phone"}]})

    decision: Literal["approve", "reject"]
    note: str = Field(min_length=1, max_length=2000, pattern=NOTE,
                      description="Why, in plain language; kept with the decision.")
