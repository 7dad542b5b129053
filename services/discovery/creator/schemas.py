import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from shared.contracts.types import Platform
from shared.validation import Count, PlainText


def _normalise_handle(value: str) -> str:
    handle = value.strip().removeprefix("@").lower()
    if not handle:
        raise ValueError("handle must not be empty")
    if any(ch.isspace() for ch in handle):
        raise ValueError("handle must not contain spaces")
    return handle


Handle = Annotated[PlainText, Field(min_length=1, max_length=100), AfterValidator(_normalise_handle)]
DisplayName = Annotated[PlainText, Field(max_length=200)]


class CreatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    handle: Handle = Field(description="Account handle; a leading '@' is dropped and case ignored.")
    display_name: DisplayName | None = None
    follower_count: Count | None = None


class CreatorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: Handle | None = Field(default=None, description="Omit to keep the current handle.")
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
