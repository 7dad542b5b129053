"""Affiliate code API models. A code is chosen (`code`) or generated from a `pattern` whose
placeholders take their values from `values`: attribution keeps no creator data, so the caller
says what {HANDLE} is."""

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, field_validator, model_validator

from shared.contracts.types import Platform
from shared.validation import FieldError, datetime_text, in_utc, integral_number

State = Literal["active", "expired", "exhausted", "revoked"]

# Letters, digits, - and _: what every checkout we read takes in a discount code, and nothing a
# shopper has to guess how to type.
CODE_PATTERN = r"^[A-Za-z0-9_-]{3,32}$"
CODE_LENGTH = (3, 32)
# Crockford's base 32 leaves out I, L, O and U; we keep U and also leave out 0 and 1 (read as
# O, I or L): 31 characters a shopper cannot misread from a story overlay or a podcast.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PLACEHOLDERS = {
    "HANDLE": "the creator's handle, letters and digits only, upper-cased (given in `values`)",
    "NAME": "the creator's first name, letters and digits only, upper-cased (given in `values`)",
    "PERCENT": "the discount percent, 1 to 100 (given in `values`)",
    "CAMPAIGN": "a short campaign word, letters and digits only, upper-cased (given in `values`)",
    "RANDOM": "4 random characters of the unambiguous alphabet (generated)",
}
# What {RANDOM} draws, and the most random characters added to a taken result (codes/service.py).
RANDOM_LENGTH = 4
MAX_SUFFIX = 4
_PLACEHOLDER = re.compile(r"\{([A-Z]+)\}")
_PATTERN_TEXT = re.compile(r"^(?:[A-Za-z0-9_-]|\{[A-Z]+\})+$")
UsageLimit = Annotated[int, Strict(), Field(ge=1, le=10**9), BeforeValidator(integral_number)]

# Written out as JSON Schema's date-time, never seconds since 1970.
Expiry = Annotated[datetime, BeforeValidator(datetime_text)]


def with_time_zone(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must carry a time zone (2027-03-31T23:59:59Z)")
    return in_utc(value)


class CodeCreate(BaseModel):
    """Either `code` (chosen) or `pattern` (generated), not both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"campaign_id": "0b9f4c1e-8f43-4f56-9a56-6f0e1c0f2d11", "creator_id": "7d1f5c1e-2a43-4b56-8a56-1f0e1c0f2d22",
                 "pattern": "{HANDLE}{PERCENT}", "values": {"HANDLE": "maya", "PERCENT": "15"}, "usage_limit": 500}
            ]
        },
    )

    campaign_id: uuid.UUID
    creator_id: uuid.UUID = Field(description="Discovery's creator id; the creator must be enrolled in the campaign.")
    platform: Platform | None = Field(
        default=None, description="Where the creator shares it (instagram, tiktok, youtube...): the platform its clicks "
        "and orders are reported under (GET /campaigns/{id}/report/lines?by=platform); omitted: `unspecified`.")
    code: str | None = Field(
        default=None, pattern=CODE_PATTERN, description="A chosen (vanity) code: 3 to 32 letters, digits, - or _."
    )
    pattern: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=_PATTERN_TEXT.pattern,
        description="Generate the code: literal letters, digits, - and _, and placeholders "
        + "; ".join(f"{{{k}}}: {v}" for k, v in PLACEHOLDERS.items())
        + ". When the result is taken, random characters of the unambiguous alphabet are added.",
    )
    values: dict[str, Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$")]] = Field(
        default_factory=dict, max_length=5, description="The pattern's placeholder values by name (HANDLE, NAME, PERCENT, CAMPAIGN)."
    )
    usage_limit: UsageLimit | None = Field(default=None, description="Orders the code may be credited on; omit for no limit.")
    expires_at: Expiry | None = Field(default=None, description="After this instant orders carrying the code are not credited.")

    @field_validator("expires_at")
    @classmethod
    def _with_time_zone(cls, value: datetime | None) -> datetime | None:
        return with_time_zone(value)

    @model_validator(mode="after")
    def _one_source(self) -> "CodeCreate":
        if (self.code is None) == (self.pattern is None):
            raise FieldError("code", "send either `code` (a chosen code) or `pattern` (a generated one), not both and not neither")
        if self.code is not None and self.values:
            raise FieldError("values", "values fill a pattern's placeholders; a chosen code takes none")
        if self.pattern is not None:
            used = _PLACEHOLDER.findall(self.pattern)
            for name in used:
                if name not in PLACEHOLDERS:
                    raise FieldError("pattern", f"unknown placeholder {{{name}}}; known: " + ", ".join(PLACEHOLDERS))
                if name != "RANDOM" and name not in self.values:
                    raise FieldError("values", f"the pattern uses {{{name}}}: give its value in values.{name}")
            for name in self.values:
                if name not in used:
                    raise FieldError(f"values.{name}", f"the pattern has no {{{name}}}")
            if "PERCENT" in self.values and not (self.values["PERCENT"].isdigit() and 1 <= int(self.values["PERCENT"]) <= 100):
                raise FieldError("values.PERCENT", "a whole percent from 1 to 100")
            length = len(_PLACEHOLDER.sub("", self.pattern)) + sum(
                RANDOM_LENGTH if name == "RANDOM" else len(self.values[name]) for name in used
            )
            longest = CODE_LENGTH[1] - MAX_SUFFIX
            if not CODE_LENGTH[0] <= length <= longest:
                raise FieldError(
                    "pattern",
                    f"gives a code of {length} characters; a generated code needs {CODE_LENGTH[0]} to {longest}, "
                    f"to leave room for the {MAX_SUFFIX} random ones added when it is taken",
                )
        return self


class CodeUpdate(BaseModel):
    """Send a field to change it; null clears it (no limit, no expiry)."""

    model_config = ConfigDict(extra="forbid")

    usage_limit: UsageLimit | None = None
    expires_at: Expiry | None = None

    @field_validator("expires_at")
    @classmethod
    def _with_time_zone(cls, value: datetime | None) -> datetime | None:
        return with_time_zone(value)


class CodeRead(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    creator_id: uuid.UUID
    code: str = Field(description="Matched case-insensitively at checkout.")
    origin: Literal["chosen", "generated"]
    pattern: str | None
    platform: str | None = Field(description="Where the creator shares it; null: not said (reported as `unspecified`).")
    usage_limit: int | None
    uses: int = Field(description="Orders credited through the code so far.")
    expires_at: datetime | None
    revoked_at: datetime | None
    state: State = Field(
        description="revoked (kept, never credited, never reissued), expired, exhausted (uses reached the limit), or active."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, code, now: datetime) -> "CodeRead":
        return cls(
            id=code.id, campaign_id=code.campaign_id, creator_id=code.creator_id, code=code.code, origin=code.origin,
            pattern=code.pattern, platform=code.platform, usage_limit=code.usage_limit, uses=code.uses, expires_at=code.expires_at,
            revoked_at=code.revoked_at, state=state_of(code, now), created_at=code.created_at, updated_at=code.updated_at,
        )


def state_of(code, now: datetime) -> State:
    """The same rule as repository.STATE, for one loaded code."""
    if code.revoked_at is not None:
        return "revoked"
    if code.expires_at is not None and code.expires_at <= now:
        return "expired"
    if code.usage_limit is not None and code.uses >= code.usage_limit:
        return "exhausted"
    return "active"
