"""Contracts produced by discovery (topic discovery.creator.v1)."""

import uuid

from pydantic import BaseModel, Field

from shared.contracts.types import Platform


class CreatorPayload(BaseModel):
    creator_id: uuid.UUID
    platform: Platform
    handle: str = Field(description="Account handle on the platform, without '@'.")
    display_name: str | None = None
    follower_count: int | None = Field(default=None, ge=0)
    changed_fields: list[str] = Field(default_factory=list, description="Fields changed by this event.")
    audit_needed: bool = Field(description="True when the change calls for a new authenticity audit.")
