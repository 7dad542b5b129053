import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from services.discovery.creator.fields import (
    SHARE_TOLERANCE,
    AgeBand,
    Amount,
    Average,
    CountryCode,
    CurrencyCode,
    Email,
    Gender,
    LanguageCode,
    Niche,
    Observed,
    PostType,
    Share,
    Tag,
    Url,
    unique,
)
from shared.contracts.types import Platform
from shared.money import CURRENCY_CODES as MONEY_CODES, MoneyError, from_minor, parse_amount
from shared.validation import Count, FieldError, Label, PlainText, keys_as_property_names


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


def _handle_has_no_default(schema: dict) -> None:
    schema["properties"]["handle"].pop("default", None)


class AccountIn(BaseModel):
    """One platform account and its figures as read at `observed_at` (default: now)."""

    model_config = ConfigDict(extra="forbid")

    platform: Platform
    handle: Handle = Field(description="Account handle; a leading '@' is dropped and case ignored.")
    url: Url | None = None
    followers: Count | None = None
    following: Count | None = None
    posts_count: Count | None = None
    avg_likes: Average | None = None
    avg_comments: Average | None = None
    avg_views: Average | None = None
    observed_at: Observed | None = Field(
        default=None, description="When the figures were read; a follower point is kept per (account, observed_at)."
    )


class AccountRef(BaseModel):
    platform: Platform | None = Field(default=None, description="Omit (with handle) for the primary account.")
    handle: Handle | None = None


class PostIn(AccountRef):
    """A post of one of the creator's accounts; upserted by (account, external_id)."""

    model_config = ConfigDict(extra="forbid")

    external_id: Annotated[PlainText, Field(min_length=1, max_length=200)]
    url: Url | None = None
    posted_at: Observed
    type: PostType
    caption: Annotated[PlainText, Field(max_length=5000)] | None = None
    hashtags: Annotated[list[Tag], Field(max_length=60)] | None = Field(
        default=None, description="Omit to take them from the caption."
    )
    mentions: Annotated[list[Tag], Field(max_length=60)] | None = Field(
        default=None, description="Omit to take them from the caption."
    )
    likes: Count | None = None
    comments: Count | None = None
    views: Count | None = None
    paid_partnership: Annotated[bool, Strict()] = Field(default=False, description="The platform's label.")


class FollowerPointIn(AccountRef):
    """A past follower count of one of the creator's accounts (history backfill)."""

    model_config = ConfigDict(extra="forbid")

    observed_at: Observed
    followers: Count


class PriceEstimate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    deliverable: Annotated[Label, Field(max_length=50)] = Field(description="e.g. post, reel, story, video.")
    amount: Amount
    currency: CurrencyCode

    @model_validator(mode="after")
    def _places(self) -> "PriceEstimate":
        # "1.001" USD or "1.5" JPY: finer than the currency's minor unit (found by an outside probe).
        if self.currency in MONEY_CODES:
            try:
                parse_amount(self.amount, self.currency)
            except MoneyError as exc:
                raise FieldError("amount", str(exc)) from None
        return self


class Contact(BaseModel):
    """Private: returned only by GET /creators/{id}/contact, never in events or search."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    phone: Annotated[PlainText, Field(min_length=3, max_length=50)] | None = None
    agent: Annotated[PlainText, Field(min_length=1, max_length=200)] | None = None
    website: Url | None = None

    def channels(self) -> list[str]:
        return [k for k, v in self.model_dump().items() if v]


class Audience(BaseModel):
    """Audience demographics: each distribution maps a key to a share 0..1 and sums to at most 1."""

    model_config = ConfigDict(extra="forbid")

    estimated_at: Observed
    source: Annotated[Label, Field(max_length=100)] | None = None
    countries: Annotated[dict[CountryCode, Share], Field(max_length=250)] = Field(default_factory=dict)
    ages: dict[AgeBand, Share] = Field(default_factory=dict)
    genders: dict[Gender, Share] = Field(default_factory=dict)
    languages: Annotated[dict[LanguageCode, Share], Field(max_length=200)] = Field(default_factory=dict)
    interests: Annotated[dict[Niche, Share], Field(max_length=100)] = Field(
        default_factory=dict, json_schema_extra=keys_as_property_names
    )

    @model_validator(mode="after")
    def _shares_fit_in_one(self):
        for name in DISTRIBUTIONS:
            total = sum(getattr(self, name).values())
            if total > 1 + SHARE_TOLERANCE:
                raise FieldError(name, f"shares sum to {total:.4f}; a distribution sums to at most 1")
        return self


DISTRIBUTIONS = ("countries", "ages", "genders", "languages", "interests")

MAX_ACCOUNTS = 9
MAX_POSTS = 100
MAX_FOLLOWER_POINTS = 1000
PERSON_FIELDS = ("display_name", "bio", "niches", "languages", "country", "city", "contact", "price_estimates")


class _CreatorFields(BaseModel):
    """What a write may carry besides the accounts (shared by create, update and bulk lines)."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    bio: Annotated[PlainText, Field(max_length=5000)] | None = None
    niches: Annotated[list[Niche], Field(max_length=30)] | None = Field(
        default=None, description="Lower-cased, trimmed, once each."
    )
    languages: Annotated[list[LanguageCode], Field(max_length=10)] | None = None
    country: CountryCode | None = None
    city: Annotated[Label, Field(max_length=100)] | None = None
    contact: Contact | None = None
    price_estimates: Annotated[list[PriceEstimate], Field(max_length=50)] | None = None
    posts: Annotated[list[PostIn], Field(max_length=MAX_POSTS)] = Field(default_factory=list)
    follower_points: Annotated[list[FollowerPointIn], Field(max_length=MAX_FOLLOWER_POINTS)] = Field(
        default_factory=list
    )
    audience: Audience | None = Field(default=None, description="Replaces the current estimate.")

    @field_validator("niches", "languages")
    @classmethod
    def _once_each(cls, value):
        return None if value is None else unique(value)


class CreatorCreate(_CreatorFields):
    """A creator: `accounts`, or the one-account shorthand `platform` + `handle` (+ `follower_count`)."""

    platform: Platform | None = Field(default=None, description="Shorthand for one account (with handle).")
    handle: Handle | None = Field(
        default=None, description="Shorthand: account handle; a leading '@' is dropped and case ignored."
    )
    follower_count: Count | None = Field(default=None, description="Shorthand: the account's followers.")
    accounts: Annotated[list[AccountIn], Field(min_length=1, max_length=MAX_ACCOUNTS)] | None = None

    @model_validator(mode="after")
    def _one_way_to_name_accounts(self):
        shorthand = self.platform is not None or self.handle is not None or self.follower_count is not None
        if shorthand and self.accounts is not None:
            raise FieldError("accounts", "give either accounts or the platform/handle shorthand, not both")
        if self.accounts is None:
            if self.platform is None:
                raise FieldError("platform", "a creator needs accounts, or platform and handle")
            if self.handle is None:
                raise FieldError("handle", "a creator needs accounts, or platform and handle")
        check_references(self, self.all_accounts())
        return self

    def all_accounts(self) -> list[AccountIn]:
        if self.accounts is not None:
            return self.accounts
        return [AccountIn(platform=self.platform, handle=self.handle, followers=self.follower_count)]


def check_references(write: _CreatorFields, accounts: list, *, patch: bool = False) -> None:
    """Accounts named once each; posts and points name one of them (a PATCH may also name the
    creator's stored accounts, checked by the service)."""
    seen: set[tuple[str, str]] = set()
    for i, account in enumerate(accounts):
        key = (account.platform, account.handle)
        if key in seen:
            raise FieldError(f"accounts.{i}.handle", f"{account.platform} @{account.handle} is given twice")
        seen.add(key)
    for kind, items in (("posts", write.posts), ("follower_points", write.follower_points)):
        for i, item in enumerate(items):
            if (item.platform is None) != (item.handle is None):
                missing = "handle" if item.handle is None else "platform"
                raise FieldError(f"{kind}.{i}.{missing}", "name the account by platform and handle, or neither")
            if item.handle is not None and not patch and (item.platform, item.handle) not in seen:
                raise FieldError(f"{kind}.{i}.handle", f"{item.platform} @{item.handle} is not an account of this creator")
    keys = set()
    for i, post in enumerate(write.posts):
        key = (post.platform, post.handle, post.external_id)
        if key in keys:
            raise FieldError(f"posts.{i}.external_id", "the same post is given twice")
        keys.add(key)


class CreatorUpdate(_CreatorFields):
    """Fields to change; omitted ones stay. Accounts are upserted by platform + handle, posts by
    account + external_id, follower points appended, the audience replaced."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_handle_has_no_default)

    # Not nullable in the schema: a creator always has a handle, so null is refused (below) and
    # the default only marks the field as omitted, which is why it is left out of the schema.
    handle: Handle = Field(default=None, description="Renames the primary account. Omit to keep it.")
    follower_count: Count | None = Field(default=None, description="The primary account's followers.")
    accounts: Annotated[list[AccountIn], Field(max_length=MAX_ACCOUNTS)] | None = None

    @field_validator("handle", mode="before")
    @classmethod
    def _handle_cannot_be_cleared(cls, value):
        if value is None:
            raise ValueError("a creator always has a handle; omit the field to keep it")
        return value

    @model_validator(mode="after")
    def _references(self):
        check_references(self, self.accounts or [], patch=True)
        return self


class AuditSummary(BaseModel):
    audit_id: uuid.UUID | None
    status: str | None = Field(description="pending, completed, failed, or null if never audited.")
    score: float | None
    updated_at: datetime | None


class AuditProjection(AuditSummary):
    grade: str | None
    audience_quality: float | None = Field(description="Share of the audience judged real, 0..1.")
    flags: list[str]


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


class AccountRead(BaseModel):
    id: uuid.UUID
    platform: Platform
    handle: str
    url: str | None
    followers: int | None
    following: int | None
    posts_count: int | None
    avg_likes: float | None
    avg_comments: float | None
    avg_views: float | None
    engagement_rate: float | None = Field(description="A fraction (0.034 is 3.4 %), made by engagement_formula.")
    engagement_formula: str | None
    metrics_at: datetime | None = Field(description="When the figures were read.")


class PostRead(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    platform: Platform
    external_id: str
    url: str | None
    posted_at: datetime
    type: str
    caption: str | None
    hashtags: list[str]
    mentions: list[str]
    likes: int | None
    comments: int | None
    views: int | None
    paid_partnership: bool
    sponsored: bool = Field(description="The paid-partnership label, or a disclosure tag (#ad...) in the caption not right after a negation (\"not #ad\").")


class AudienceRead(BaseModel):
    estimated_at: datetime
    source: str | None
    countries: dict[str, float]
    ages: dict[str, float]
    genders: dict[str, float]
    languages: dict[str, float]
    interests: dict[str, float]


class SalesRead(BaseModel):
    currency: str
    clicks: int
    orders: int
    revenue: str = Field(description="Attributed revenue, a decimal string in `currency`.")
    commission: str
    as_of: datetime


RECENT_POSTS = 12


class CreatorDetail(CreatorRead):
    """The whole creator, except its contact details (GET /creators/{id}/contact)."""

    audit: AuditProjection
    accounts: list[AccountRead]
    platforms: list[str]
    followers_total: int | None
    tier: str | None = Field(description="nano < 10k <= micro < 100k <= mid < 500k <= macro < 1M <= mega.")
    engagement_rate: float | None = Field(description="The primary account's.")
    growth_30d: float | None = Field(description="Primary account follower change over ~30 days, a fraction.")
    growth_90d: float | None
    bio: str | None
    niches: list[str]
    languages: list[str]
    country: str | None
    city: str | None
    contactable: bool
    contact_channels: list[str] = Field(description="The kinds of contact details held (email, phone, agent, website).")
    price_estimates: list[dict]
    last_posted_at: datetime | None
    audience: AudienceRead | None
    sales: list[SalesRead]
    recent_posts: list[PostRead] = Field(description=f"The latest {RECENT_POSTS} posts, newest first.")

    @classmethod
    def of_detail(cls, creator, accounts, posts, sales) -> "CreatorDetail":
        base = CreatorRead.of(creator).model_dump(exclude={"audit"})
        audience = None
        if creator.audience_estimated_at is not None:
            audience = AudienceRead(
                estimated_at=creator.audience_estimated_at,
                source=creator.audience_source,
                **{k: getattr(creator, f"audience_{k}") or {} for k in DISTRIBUTIONS},
            )
        return cls(
            **base,
            audit=AuditProjection(
                audit_id=creator.audit_id, status=creator.audit_status, score=creator.audit_score,
                updated_at=creator.audit_updated_at, grade=creator.audit_grade,
                audience_quality=creator.audit_audience_quality, flags=list(creator.audit_flags or []),
            ),
            accounts=[AccountRead.model_validate(a, from_attributes=True) for a in accounts],
            platforms=list(creator.platforms or []), followers_total=creator.followers_total, tier=creator.tier,
            engagement_rate=creator.engagement_rate, growth_30d=creator.growth_30d, growth_90d=creator.growth_90d,
            bio=creator.bio, niches=list(creator.niches or []), languages=list(creator.languages or []),
            country=creator.country, city=creator.city, contactable=creator.contactable,
            contact_channels=[k for k in ("email", "phone", "agent", "website") if (creator.contact or {}).get(k)],
            price_estimates=list(creator.price_estimates or []), last_posted_at=creator.last_posted_at,
            audience=audience,
            sales=[
                SalesRead(
                    currency=s.currency, clicks=s.clicks, orders=s.orders,
                    revenue=str(from_minor(s.revenue_minor, s.currency)),
                    commission=str(from_minor(s.commission_minor, s.currency)), as_of=s.as_of,
                )
                for s in sales
            ],
            recent_posts=[PostRead.model_validate(p, from_attributes=True) for p in posts],
        )


class ContactRead(Contact):
    """A creator's private contact details."""


class FollowerSeries(BaseModel):
    account_id: uuid.UUID
    platform: Platform
    handle: str
    points: list[dict] = Field(description="[{observed_at, followers}], oldest first.")


class FollowerHistory(BaseModel):
    accounts: list[FollowerSeries]


class BulkError(BaseModel):
    line: int = Field(description="1-based line number in the request body.")
    field: str | None = Field(description="The field of that line, e.g. posts.3.posted_at; null for the whole line.")
    reason: str


class BulkLine(BaseModel):
    line: int = Field(description="1-based line number in the request body.")
    id: uuid.UUID = Field(description="The creator the line created, updated or left unchanged.")
    status: Literal["created", "updated", "unchanged"]


class BulkResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[BulkError] = Field(description="One per failed line, in line order.")
    lines: list[BulkLine] | None = Field(
        default=None, description="With `?ids=true`: each applied line's creator id and status, in line order."
    )
