import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from shared.contracts.types import Platform
from shared.validation import Count, PlainText


HANDLE_LENGTH = 100
# The rule of _normalise_handle written as a JSON Schema pattern (and so ECMA 262 and Python
# alike, hence the explicit classes instead of \\s): optional surrounding whitespace, one optional
# '@', then at least one character that is neither whitespace nor a control character.
_SPACE = "\\t\\n \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_NOT_HANDLE = "\\x00-\\x20\\x7f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
HANDLE_PATTERN = f"^[{_SPACE}]*(?:@[^{_NOT_HANDLE}]+|[^{_NOT_HANDLE}@][^{_NOT_HANDLE}]*)[{_SPACE}]*$"


def _normalise_handle(value: str) -> str:
    handle = value.strip().removeprefix("@").lower()
    if not handle:
        raise ValueError("handle must not be empty")
    if any(ch.isspace() for ch in handle):
        raise ValueError("handle must not contain spaces")
    if len(handle) > HANDLE_LENGTH:
        # Lower-casing can lengthen a string ('İ' becomes two characters); the column cannot.
        raise ValueError(f"handle must be at most {HANDLE_LENGTH} characters once lower-cased")
    return handle


Handle = Annotated[
    PlainText,
    Field(min_length=1, max_length=HANDLE_LENGTH, json_schema_extra={"pattern": HANDLE_PATTERN}),
    AfterValidator(_normalise_handle),
]
DisplayName = Annotated[PlainText, Field(max_length=200)]


class CreatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    handle: Handle = Field(description="Account handle; a leading '@' is dropped and case ignored.")
    display_name: DisplayName | None = None
    follower_count: Count | None = None


def _handle_has_no_default(schema: dict) -> None:
    schema["properties"]["handle"].pop("default", None)


class CreatorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_handle_has_no_default)

    # Not nullable in the schema: a creator always has a handle, so null is refused (below) and
    # the default only marks the field as omitted, which is why it is left out of the schema.
    handle: Handle = Field(default=None, description="Omit to keep the current handle.")
    display_name: DisplayName | None = Field(default=None, description="null clears it.")
    follower_count: Count | None = Field(default=None, description="null marks it unknown.")

    @field_validator("handle", mode="before")
    @classmethod
    def _handle_cannot_be_cleared(cls, value):
        if value is None:
            raise ValueError("a creator always has a handle; omit the field to keep it")
        return value


class AuditSummary(BaseModel):
    audit_id: uuid.UUID | None
    status: str | None = Field(description="pending, completed, failed, or null if never audited.")
    score: float | None
    updated_at: datetime | None


class CreatorRead(BaseModel):
    id: uuid.UUID
    platform: Platform
    handle: str
    display_name: str | None
    follower_count: int | None
    audit: AuditSummary
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, creator) -> "CreatorRead":
        return cls(
            id=creator.id,
            platform=creator.platform,
            handle=creator.handle,
            display_name=creator.display_name,
            follower_count=creator.follower_count,
            audit=AuditSummary(
                audit_id=creator.audit_id,
                status=creator.audit_status,
                score=creator.audit_score,
                updated_at=creator.audit_updated_at,
            ),
            created_at=creator.created_at,
            updated_at=creator.updated_at,
        )
