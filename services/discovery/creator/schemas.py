import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.contracts.types import Platform


def _normalise_handle(value: str) -> str:
    handle = value.strip().removeprefix("@").lower()
    if not handle:
        raise ValueError("handle must not be empty")
    if any(ch.isspace() for ch in handle):
        raise ValueError("handle must not contain spaces")
    return handle


Handle = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_normalise_handle)]


class CreatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    handle: Handle = Field(description="Account handle; a leading '@' is dropped and case ignored.")
    display_name: str | None = Field(default=None, max_length=200)
    follower_count: int | None = Field(default=None, ge=0)


class CreatorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: Handle | None = None
    display_name: str | None = Field(default=None, max_length=200)
    follower_count: int | None = Field(default=None, ge=0)


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
