"""Contracts produced by discovery (topic discovery.creator.v2, keyed by creator id).

v2 replaced v1 when LinkedIn joined the platforms: widening an enum is a breaking change under
the rule of shared.contracts.compatibility, and the audit service needed the posts, follower
counts and audience behind a creator anyway (docs/decisions/0019-creator-index.md). Every event
is keyed by the creator, so a consumer sees one creator's events in the order they happened.
"""

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from shared.contracts.types import Platform


class AccountSnapshot(BaseModel):
    account_id: uuid.UUID
    platform: Platform
    handle: str = Field(description="Account handle on the platform, lower-cased, without '@'.")
    followers: int | None = Field(default=None, ge=0)
    following: int | None = Field(default=None, ge=0)
    posts_count: int | None = Field(default=None, ge=0)
    avg_likes: float | None = Field(default=None, ge=0)
    avg_comments: float | None = Field(default=None, ge=0)
    avg_views: float | None = Field(default=None, ge=0)
    engagement_rate: float | None = Field(default=None, ge=0, description="A fraction (0.034 is 3.4 %).")
    engagement_formula: str | None = Field(default=None, description="How engagement_rate was computed.")


class CreatorPayload(BaseModel):
    creator_id: uuid.UUID
    platform: Platform = Field(description="The primary account's platform (the account with the most followers).")
    handle: str = Field(description="The primary account's handle, without '@'.")
    display_name: str | None = None
    follower_count: int | None = Field(default=None, ge=0, description="The primary account's followers.")
    accounts: list[AccountSnapshot] = Field(default_factory=list, description="Every account of the creator.")
    bio: str | None = None
    niches: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes.")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2.")
    changed_fields: list[str] = Field(default_factory=list, description="Fields changed by this event.")
    audit_needed: bool = Field(description="True when the change calls for a new authenticity audit.")


class PostSnapshot(BaseModel):
    post_id: uuid.UUID
    account_id: uuid.UUID
    platform: Platform
    external_id: str = Field(description="The platform's id of the post.")
    posted_at: AwareDatetime
    type: str = Field(description="photo, video, reel, carousel, story, short, live or text.")
    caption: str | None = None
    hashtags: list[str] = Field(default_factory=list, description="Lower-cased, without '#'.")
    mentions: list[str] = Field(default_factory=list, description="Lower-cased, without '@'.")
    likes: int | None = Field(default=None, ge=0)
    comments: int | None = Field(default=None, ge=0)
    views: int | None = Field(default=None, ge=0)
    paid_partnership: bool = Field(description="The platform's paid-partnership label.")
    sponsored: bool = Field(description="The label, or a disclosure tag (#ad, #sponsored...) in the caption.")


class PostsObserved(BaseModel):
    """Posts of a creator that are new, or whose figures changed, in one write."""

    creator_id: uuid.UUID
    posts: list[PostSnapshot]
    audit_needed: bool


class FollowerPoint(BaseModel):
    observed_at: datetime
    followers: int = Field(ge=0)


class FollowerCountsObserved(BaseModel):
    """New points of one account's follower-count time series (one point per refresh)."""

    creator_id: uuid.UUID
    account_id: uuid.UUID
    platform: Platform
    handle: str
    points: list[FollowerPoint]
    audit_needed: bool


class AudienceEstimated(BaseModel):
    """A new estimate of a creator's audience demographics; every distribution maps a key to a
    share between 0 and 1."""

    creator_id: uuid.UUID
    estimated_at: AwareDatetime
    source: str | None = None
    countries: dict[str, float] = Field(default_factory=dict, description="ISO 3166-1 alpha-2 -> share.")
    ages: dict[str, float] = Field(default_factory=dict, description="Age band (13-17, 18-24, 25-34, 35-44, 45-54, 55-64, 65+) -> share.")
    genders: dict[str, float] = Field(default_factory=dict, description="female, male, other -> share.")
    languages: dict[str, float] = Field(default_factory=dict, description="ISO 639-1 -> share.")
    interests: dict[str, float] = Field(default_factory=dict)
    audit_needed: bool
