"""API models of the credential routes. A key's secret appears in exactly one model,
`KeyCreated`, returned once by create and rotate; nothing else ever holds it or its hash."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, StrictBool

from shared.identity import SCOPES
from shared.validation import datetime_text, integral_number, label

Scope = Literal[tuple(SCOPES)]  # type: ignore[valid-type]
# Plans name a rate-limit tier; the set of plans is the traffic policy's to define.
PLAN_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("must carry a timezone, e.g. 2027-01-31T00:00:00Z")
    try:
        # In UTC, which the database can hold: 9999-12-31T23:59:59-14:00 is past year 9999.
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("must be a date before the year 10000 in UTC") from exc


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
# Written out as JSON Schema's date-time, never seconds since 1970.
Expiry = Annotated[datetime, BeforeValidator(datetime_text), AfterValidator(_aware)]
Name = label(min_length=1, max_length=200)
# As shared.validation.Count: 3600.0 is an integer to JSON Schema; a boolean or "3600" is not one.
GraceSeconds = Annotated[int, Strict(), Field(ge=0, le=30 * 86400), BeforeValidator(integral_number)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeyCreate(_Strict):
    name: Name = Field(description="What the key is for, e.g. 'storefront backend'.")
    scopes: list[Scope] = Field(min_length=1, max_length=len(SCOPES), description="What the key may do.")
    environment: Literal["live", "test"] = Field(default="live", description="`ll_live_` or `ll_test_` key.")
    expires_at: Expiry | None = Field(default=None, description="After this instant the key is refused.")


class KeyRotate(_Strict):
    grace_seconds: GraceSeconds | None = Field(
        default=None,
        description="How long the old key keeps working; default GATEWAY_KEY_ROTATION_GRACE_SECONDS (24 h). "
        "0 ends it now.",
    )
    expires_at: Expiry | None = Field(default=None, description="Expiry of the new key (default: none).")


class KeyRead(BaseModel):
    """A key as listings show it: its visible prefix, never the key or its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The visible start of the key, e.g. ll_live_3fQ9xK2a.")
    scopes: list[str]
    environment: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated about once a second while the key is in use.")
    expires_at: datetime | None
    revoked_at: datetime | None
    rotated_to: uuid.UUID | None = Field(description="The key that replaced this one, if it was rotated.")


class KeyCreated(KeyRead):
    key: str = Field(description="The API key itself. Shown this once: it is stored only as a hash.")


class TenantCreate(_Strict):
    name: Name
    plan: str = Field(default="standard", pattern=PLAN_PATTERN, description="Rate-limit plan of its keys.")


class TenantUpdate(_Strict):
    name: Name | None = None
    plan: str | None = Field(default=None, pattern=PLAN_PATTERN)
    disabled: StrictBool | None = Field(default=None, description="true: every key and JWT of the tenant is refused.")


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    plan: str
    operator: bool
    created_at: datetime
    disabled_at: datetime | None
    updated_at: datetime


class TenantCreated(TenantRead):
    first_key: KeyCreated = Field(description="The tenant's first key, holding every scope. Shown this once.")
