"""Tracked link API models."""

import json
import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, field_validator, model_validator

from services.attribution.codes.schemas import with_time_zone
from services.attribution.links.url import CLICK_ID_PARAM, MAX_URL_LENGTH, ascii_host, problem, query_names
from shared.contracts.types import Platform
from shared.validation import datetime_text, CONTROL_CHARACTERS, SPACES, FieldError, PlainText, integral_number

DEFAULT_WINDOW_DAYS = 30
WindowDays = Annotated[
    int,
    Strict(),
    Field(ge=1, le=365, description="Days after a click an order may still be credited to it: 1 to 365, 30 when omitted."),
    BeforeValidator(integral_number),
]
UtmValue = Annotated[PlainText, Field(min_length=1, max_length=200)]

# Written out as JSON Schema's date-time, never seconds since 1970.
Expiry = Annotated[datetime, BeforeValidator(datetime_text)]


def destination_problem(value: str) -> str | None:
    """Why `value` cannot be a link's destination, or None."""
    reason = problem(value)
    if reason is None and CLICK_ID_PARAM in query_names(value):
        reason = f"must not carry {CLICK_ID_PARAM}: the redirect adds the click id itself"
    return reason


# What the rules below need at the least, published for clients (and the fuzzer): an http(s)
# scheme, an authority without whitespace, control characters or "@", then anything without them.
_NO_SPACE = f"{CONTROL_CHARACTERS}{SPACES} "
DESTINATION_PATTERN = f"^[Hh][Tt][Tt][Pp][Ss]?://[^{_NO_SPACE}@/?#]+(?:[/?#][^{_NO_SPACE}]*)?$"

_SHAPE = re.compile(DESTINATION_PATTERN)


def _shape(value: object) -> object:
    # A URL outside the published pattern is refused with our reason (http or https, no
    # credentials...) rather than the pattern's text; one inside it that breaks a rule the pattern
    # cannot state is refused by LinkCreate's model validator.
    if isinstance(value, str) and not _SHAPE.match(value):
        raise ValueError(destination_problem(value) or "must be an http or https URL with a host")
    return value


Destination = Annotated[
    str,
    Field(
        pattern=DESTINATION_PATTERN,
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="http or https, a host (not localhost nor a private or loopback address), no user:password, "
        f"no whitespace, at most {MAX_URL_LENGTH} characters.",
        examples=["https://shop.example/products/serum?utm_source=newsletter"],
    ),
    BeforeValidator(_shape),
]


class Utm(BaseModel):
    """UTM parameters for the destination. One the destination already carries is left as it is."""

    model_config = ConfigDict(extra="forbid")

    utm_source: UtmValue = Field(default="limelight", description="limelight when omitted.")
    utm_medium: UtmValue = Field(default="influencer", description="influencer when omitted.")
    utm_campaign: UtmValue | None = Field(default=None, description="The campaign's name when omitted.")
    utm_content: UtmValue | None = None
    utm_term: UtmValue | None = None


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: uuid.UUID
    creator_id: uuid.UUID = Field(description="Discovery's creator id; the creator must be enrolled in the campaign.")
    destination: Destination
    platform: Platform | None = Field(
        default=None, description="Where the creator shares it (instagram, tiktok, youtube...): the platform its clicks "
        "and orders are reported under (GET /campaigns/{id}/report/lines?by=platform); omitted: `unspecified`.")
    utm: Utm = Field(default_factory=Utm)
    window_days: WindowDays = DEFAULT_WINDOW_DAYS
    expires_at: Expiry | None = Field(default=None, description="After this instant the link answers 404.")

    @model_validator(mode="after")
    def _usable_destination(self) -> "LinkCreate":
        # A model validator raising FieldError, not a field validator: the 422 names
        # body.destination with the reason alone, and the fuzz hook knows the rules JSON Schema
        # cannot state (tests/fuzz/hooks.py).
        reason = destination_problem(self.destination)
        if reason is not None:
            raise FieldError("destination", reason)
        written = ascii_host(self.destination)
        if written != self.destination:
            reason = destination_problem(written)  # longer once written in ASCII
            if reason is not None:
                raise FieldError("destination", f"{reason} (with its host written in ASCII: {written[:80]}…)")
            self.destination = written
        return self

    @field_validator("expires_at")
    @classmethod
    def _with_time_zone(cls, value: datetime | None) -> datetime | None:
        return with_time_zone(value)


class LinkUpdate(BaseModel):
    """Send a field to change it; `expires_at: null` removes the expiry."""

    model_config = ConfigDict(extra="forbid")

    window_days: WindowDays = None
    expires_at: Expiry | None = None

    @field_validator("window_days", mode="before")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("cannot be cleared; omit the field to keep it")
        return value

    @field_validator("expires_at")
    @classmethod
    def _with_time_zone(cls, value: datetime | None) -> datetime | None:
        return with_time_zone(value)


class LinkRead(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    creator_id: uuid.UUID
    slug: str = Field(description="The short link is /r/{slug} on the gateway's public address.")
    destination: str
    platform: str | None = Field(description="Where the creator shares it; null: not said (reported as `unspecified`).")
    utm: dict[str, str]
    target: str = Field(description=f"Where the redirect sends a shopper, before it appends {CLICK_ID_PARAM}=<click id>.")
    window_days: int
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool = Field(description="Not revoked and not expired: /r/{slug} redirects.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, link, now: datetime) -> "LinkRead":
        utm = link.utm
        if isinstance(utm, str):  # a ReadSession's raw fetch hands JSONB over as text
            utm = json.loads(utm)
        return cls(
            id=link.id, campaign_id=link.campaign_id, creator_id=link.creator_id, slug=link.slug,
            destination=link.destination, platform=link.platform, utm=utm, target=link.target, window_days=link.window_days,
            expires_at=link.expires_at, revoked_at=link.revoked_at,
            active=link.revoked_at is None and (link.expires_at is None or link.expires_at > now),
            created_at=link.created_at, updated_at=link.updated_at,
        )
