import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class SampleRead(BaseModel):
    id: uuid.UUID
    size: int
    created_at: datetime


class CreatorInputs(BaseModel):
    """What audit holds about a creator: the data its next audit will read."""

    creator_id: uuid.UUID
    platform: str = Field(description="The primary account's platform, as discovery last said.")
    handle: str
    followers: int | None
    posts: int = Field(description="Posts held, every account.")
    series_points: int = Field(description="Follower-count observations held, every account.")
    comments: int = Field(description="Comments held on the creator's posts.")
    follower_sample: SampleRead | None = Field(description="The newest follower sample version, if any.")
    updated_at: datetime = Field(description="When discovery's last creator event was applied.")


class PodRead(BaseModel):
    id: uuid.UUID
    members: list[str] = Field(description="The commenting accounts, sorted.")
    creators: list[uuid.UUID] = Field(description="The creators on whose posts they co-commented.")
    co_comments: int = Field(description="Times two members commented on one post within minutes.")
    posts: int = Field(description="Distinct posts where they did.")
    evidence: str
    computed_at: datetime
