"""What a search-like answer says about each creator (search, lookalikes, brand fit, mentions)."""

import uuid

from pydantic import BaseModel, Field

from shared.contracts.types import Platform


class AuditBrief(BaseModel):
    score: float | None = Field(description="Latest authenticity score, 0-100; null if never audited.")
    grade: str | None
    audience_quality: float | None = Field(description="Share of real audience, 0..1.")


class CreatorSummary(BaseModel):
    id: uuid.UUID
    display_name: str | None
    platform: Platform = Field(description="The primary account's platform (the account with the most followers).")
    handle: str
    follower_count: int | None
    tier: str | None = Field(description="nano, micro, mid, macro or mega, from follower_count.")
    engagement_rate: float | None = Field(description="The primary account's, as a fraction.")
    growth_30d: float | None = Field(description="Follower change over 30 days, as a fraction.")
    growth_90d: float | None
    platforms: list[Platform]
    niches: list[str]
    languages: list[str]
    country: str | None
    city: str | None
    contactable: bool
    audit: AuditBrief

    @classmethod
    def of(cls, row) -> "CreatorSummary":
        """From a `creators` row (ORM object or shared.db.Row)."""
        return cls(
            id=row.id,
            display_name=row.display_name,
            platform=row.platform,
            handle=row.handle,
            follower_count=row.follower_count,
            tier=row.tier,
            engagement_rate=row.engagement_rate,
            growth_30d=row.growth_30d,
            growth_90d=row.growth_90d,
            platforms=row.platforms,
            niches=row.niches,
            languages=row.languages,
            country=row.country,
            city=row.city,
            contactable=row.contactable,
            audit=AuditBrief(score=row.audit_score, grade=row.audit_grade, audience_quality=row.audit_audience_quality),
        )


# The columns CreatorSummary reads, for queries that select only them (narrower than the row).
SUMMARY_COLUMNS = (
    "id", "display_name", "platform", "handle", "follower_count", "tier", "engagement_rate", "growth_30d",
    "growth_90d", "platforms", "niches", "languages", "country", "city", "contactable", "audit_score",
    "audit_grade", "audit_audience_quality",
)
