"""What a search-like answer says about each creator (search, lookalikes, brand fit, mentions)."""

import uuid
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.discovery.creator import repository as creator_repository
from services.discovery.search.filters import HANDLE_PATTERN, TAG_PATTERN, CreatorFilters
from shared.contracts.types import Platform
from shared.validation import FieldError, PlainText, UtcDateTime


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


# --- GET /creators: the filters as query parameters, with the list's own ---------------------


class CreatorListQuery(CreatorFilters):
    """GET /creators: every search filter, and the list's sort and page (one model, so that an
    unknown query parameter is a 422 naming it)."""

    sort: creator_repository.Sort = Field(  # type: ignore[valid-type]
        default=creator_repository.DEFAULT_SORT,
        description="A field ascending, or descending with a '-' prefix; creators without a value come "
        "last either way. Keep the same sort when passing `cursor`.",
    )
    limit: int = Field(default=50, ge=1, le=200, description="Items per page.")
    cursor: str | None = Field(
        default=None, max_length=512, description="`next_cursor` of the previous page, with the same `sort`."
    )

    def filters_given(self) -> bool:
        return bool(self.model_dump(include=set(CreatorFilters.model_fields), exclude_none=True))


# --- POST /search ------------------------------------------------------------------------------


SearchSort = Literal[
    "relevance", "followers", "-followers", "engagement", "-engagement", "authenticity", "-authenticity",
    "growth_30d", "-growth_30d", "growth_90d", "-growth_90d",
]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filters: CreatorFilters = Field(default_factory=CreatorFilters)
    q: Annotated[PlainText, Field(min_length=1, max_length=500)] | None = Field(
        default=None, description="Free text: words, \"quoted phrases\", OR, -excluded (web search syntax)."
    )
    mode: Literal["keyword", "semantic"] = Field(
        default="keyword", description="`keyword`: full text over bio, niches and captions; `semantic`: by meaning (the "
        "embedding of `q` against each creator's bio and captions), most similar first, at most 1,000 deep; "
        "creators not embedded yet are not found."
    )
    sort: SearchSort | None = Field(
        default=None,
        description="Default `relevance` with `q`, else `-followers`. A '-' prefix sorts descending; creators "
        "without a value come last either way. Keep the same sort when passing `cursor`.",
    )
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512, description="`next_cursor` of the previous page.")
    facets: bool = Field(default=False, description="Also count the matches by tier, platform, country and language.")

    @model_validator(mode="after")
    def _consistent(self) -> "SearchRequest":
        if self.q is not None and not self.q.strip():
            raise FieldError("q", "must not be blank")
        if self.sort == "relevance" and self.q is None:
            raise FieldError("sort", "`relevance` needs a query `q`")
        if self.mode == "semantic":
            if self.q is None:
                raise FieldError("q", "semantic search needs a query `q`")
            if self.sort not in (None, "relevance"):
                raise FieldError("sort", "semantic search ranks by similarity to `q`: leave `sort` out or use `relevance`")
            if self.facets:
                raise FieldError("facets", "semantic search ranks all creators by meaning, so there is no match set to count")
        return self

    @property
    def chosen_sort(self) -> str:
        return self.sort or ("relevance" if self.q is not None else "-followers")


class SearchHit(CreatorSummary):
    score: float | None = Field(description="Relevance to `q` (higher is closer); null without `q`.")


class Facets(BaseModel):
    exact: bool = Field(description="False when the match exceeds `counted`: the counts then cover only a sample.")
    counted: int = Field(
        description="How many matching creators were counted: all of them, or the first FACET_LIMIT found."
    )
    tier: dict[str, int]
    platform: dict[str, int]
    country: dict[str, int] = Field(description="The most frequent countries, at most 20.")
    language: dict[str, int] = Field(description="The most frequent languages, at most 20.")


class SearchResult(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None = Field(description="Pass as `cursor` (with the same request) for the next page.")
    facets: Facets | None = Field(description="Only when asked for (`facets: true`).")


# --- GET /mentions -----------------------------------------------------------------------------


class MentionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand: Annotated[str, Field(pattern=HANDLE_PATTERN)] | None = Field(default=None, description="A brand handle (@ optional).")
    hashtag: Annotated[str, Field(pattern=TAG_PATTERN)] | None = Field(default=None, description="A hashtag (# optional).")
    since: UtcDateTime | None = Field(default=None, description="Posts at or after this time.")
    until: UtcDateTime | None = Field(
        default=None, description="Posts before this time; default: the time of the first page, kept by the cursor."
    )
    sponsored: bool | None = Field(
        default=None, description="true: only sponsored posts (label or disclosure tag); false: only organic ones."
    )
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512, description="`next_cursor` of the previous page.")

    @model_validator(mode="after")
    def _consistent(self) -> "MentionsQuery":
        if self.brand is None and self.hashtag is None:
            raise FieldError("brand", "give `brand` or `hashtag` (or both)")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise FieldError("since", "must not be after `until`")
        return self


class MentionPost(BaseModel):
    platform: Platform
    url: str | None
    posted_at: AwareDatetime
    caption: str | None
    sponsored: bool = Field(description="Paid-partnership label or a disclosure tag such as #ad.")
    paid_partnership: bool = Field(description="The platform's paid-partnership label.")


class MentionRead(BaseModel):
    creator: CreatorSummary
    posts: int = Field(description="Matching posts in the period.")
    sponsored_posts: int = Field(description="Of which sponsored.")
    latest_posted_at: AwareDatetime
    latest_posts: list[MentionPost] = Field(description="The latest matching posts, newest first (at most 3).")


class MentionPage(BaseModel):
    items: list[MentionRead]
    next_cursor: str | None = Field(description="Pass as `cursor` (with the same parameters) for the next page.")
