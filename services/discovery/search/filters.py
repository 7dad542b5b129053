"""The creator filters shared by search, lookalikes and brand fit, and the SQL they become.

One flat model, so the same filters read as query parameters (`GET .../lookalikes?country=DE`)
and as a JSON object (`POST /search {"filters": {...}}`). Unknown filters, bad ranges and
contradictory filters are refused with a 422 naming the field.

Creator-level metrics (followers, tier, engagement rate, growth) are the creator's primary
account's (the one with the most followers); `platform` keeps creators with an account there.
Audience thresholds are written `KEY:PERCENT`, e.g. `audience_country=US:30` (at least 30 % of
the audience in the US); several must all hold.
"""

import re
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema, model_validator
from sqlalchemy import ColumnElement, String, and_, exists, func, literal, literal_column, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, array

from services.discovery.creator.models import COUNTRY_ARRAY_SQL, Creator, CreatorSales, Post
from services.discovery.creator.fields import CURRENCY_CODES
from shared.contracts.types import Platform
from shared.db import utcnow
from shared.money import to_minor
from shared.validation import FieldError, label

Tier = Literal["nano", "micro", "mid", "macro", "mega"]
# Lower bounds of the tiers (Later x Fohr 2021, see models.TIER_SQL).
TIER_FLOOR = {"nano": 0, "micro": 10_000, "mid": 100_000, "macro": 500_000, "mega": 1_000_000}
AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("female", "male", "other")

_COUNTRY = r"[A-Z]{2}"
_LANGUAGE = r"[a-z]{2}"
_PERCENT = r"(?:100|[0-9]{1,2})(?:\.[0-9]+)?"
_AGE = "|".join(re.escape(a) for a in AGE_BANDS)
_GENDER = "|".join(GENDERS)
# Hashtags and handles as text.hashtags()/mentions() store them: word characters (and dots in a
# handle), so a value that could never match (or that PostgreSQL could not hold) is refused.
TAG_PATTERN = r"^#?\w{1,100}$"
HANDLE_PATTERN = r"^@?\w(?:[\w.]{0,98}\w)?$"

# Audience thresholds are checked on the distributions of the rows read, with no index of their
# own: at 1M creators an index over them was slower than the other filters' plans
# (docs/decisions/0025-search-at-a-million.md).


def _threshold(key: str, name: str):
    return Annotated[
        list[Annotated[str, Field(pattern=f"^(?:{key}):{_PERCENT}$")]] | None,
        Field(
            default=None,
            max_length=10,
            description=f"`{name}:PERCENT`: at least PERCENT % of the audience (several must all hold).",
        ),
    ]


# A decimal amount as a string, as the API writes money; what the schema says is what is accepted.
_AMOUNT_SCHEMA = {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,4})?$"}

Fraction = Annotated[float, Field(ge=0, le=100)]


# The validation context of what was stored by an earlier version: a rule added later (a request
# it now refuses) does not make a stored brief unreadable.
STORED = {"stored": True}


def stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


class CreatorFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: list[Platform] | None = Field(default=None, max_length=10, description="Has an account on one of these.")
    tier: list[Tier] | None = Field(
        default=None, max_length=5, description="nano < 10k <= micro < 100k <= mid < 500k <= macro < 1M <= mega."
    )
    followers_min: int | None = Field(default=None, ge=0, le=10**12)
    followers_max: int | None = Field(default=None, ge=0, le=10**12)
    engagement_rate_min: float | None = Field(default=None, ge=0, le=100, description="Percent (3.5 is 3.5 %).")
    engagement_rate_max: float | None = Field(default=None, ge=0, le=100, description="Percent.")
    growth_30d_min: float | None = Field(default=None, ge=-100, le=10_000, description="Follower change over 30 days, percent.")
    growth_30d_max: float | None = Field(default=None, ge=-100, le=10_000)
    growth_90d_min: float | None = Field(default=None, ge=-100, le=10_000, description="Follower change over 90 days, percent.")
    growth_90d_max: float | None = Field(default=None, ge=-100, le=10_000)
    niche: list[Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9 &_-]*$")]] | None = Field(
        default=None, max_length=20, description="Any of these niches (lower-case)."
    )
    country: list[Annotated[str, Field(pattern=f"^{_COUNTRY}$")]] | None = Field(
        default=None, max_length=50, description="ISO 3166-1 alpha-2, upper-case."
    )
    # Plain text with something besides spaces: the pattern's `\S` once let one control character
    # (NUL among them, which PostgreSQL refused with a 500) through.
    city: label(min_length=1, max_length=100) | None = None
    language: list[Annotated[str, Field(pattern=f"^{_LANGUAGE}$")]] | None = Field(
        default=None, max_length=20, description="ISO 639-1, lower-case: speaks any of these."
    )
    contactable: bool | None = None
    posted_within_days: int | None = Field(default=None, ge=1, le=3650)
    authenticity_min: float | None = Field(default=None, ge=0, le=100, description="Latest audit score at least this.")
    revenue_min: Annotated[Decimal, Field(ge=0, lt=10**12), WithJsonSchema(_AMOUNT_SCHEMA)] | None = Field(
        default=None, description="Proven sellers: attributed revenue at least this, in revenue_currency (a decimal string)."
    )
    # Any three capitals in a brief stored before 2026-11-30; an ISO 4217 code in a request (STORED).
    revenue_currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", json_schema_extra={"enum": list(CURRENCY_CODES)})] | None = None
    audience_country: _threshold(_COUNTRY, "CC")
    audience_age: _threshold(_AGE, "AGE_BAND")
    audience_gender: _threshold(_GENDER, "GENDER")
    audience_language: _threshold(_LANGUAGE, "LANG")
    mentions: Annotated[str, Field(pattern=HANDLE_PATTERN)] | None = Field(
        default=None, description="Mentioned this brand handle (@ optional) in a post..."
    )
    hashtag: Annotated[str, Field(pattern=TAG_PATTERN)] | None = Field(default=None, description="...or used this hashtag.")
    mentioned_within_days: int | None = Field(
        default=None, ge=1, le=3650, description="Limits `mentions` / `hashtag` to posts this recent."
    )
    sponsored_only: bool | None = Field(default=None, description="With `mentions` / `hashtag`: only sponsored posts.")

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> "CreatorFilters":
        for low, high in (
            ("followers_min", "followers_max"),
            ("engagement_rate_min", "engagement_rate_max"),
            ("growth_30d_min", "growth_30d_max"),
            ("growth_90d_min", "growth_90d_max"),
        ):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise _invalid(low, f"must not be greater than {high} ({lo} > {hi})")
        # Refused since 2026-11-30; a brief saved before with a tier twice is read as it was (STORED).
        for name in () if stored(info) else ("tier", "platform"):
            named = getattr(self, name) or []
            twice = sorted({v for v in named if named.count(v) > 1})
            if twice:
                raise _invalid(name, f"{', '.join(twice)} named more than once")
        if self.tier and (self.followers_min is not None or self.followers_max is not None):
            lo, hi = self.followers_min or 0, self.followers_max if self.followers_max is not None else 10**13
            if not any(_tier_range(t)[0] <= hi and lo < _tier_range(t)[1] for t in self.tier):
                raise _invalid("tier", f"no tier in {self.tier} overlaps followers {lo}..{hi}")
        if self.revenue_currency is not None and not stored(info) and self.revenue_currency not in CURRENCY_CODES:
            raise _invalid("revenue_currency", f"{self.revenue_currency!r} is not an ISO 4217 currency code")
        if (self.revenue_min is None) != (self.revenue_currency is None):
            raise _invalid("revenue_currency" if self.revenue_min is not None else "revenue_min",
                           "revenue_min and revenue_currency go together")
        if (self.mentioned_within_days is not None or self.sponsored_only is not None) and not (self.mentions or self.hashtag):
            raise _invalid("mentioned_within_days" if self.mentioned_within_days is not None else "sponsored_only",
                           "applies only with `mentions` or `hashtag`")
        for name in ("audience_country", "audience_age", "audience_gender", "audience_language"):
            pairs = _pairs(getattr(self, name))
            keys = [k for k, _ in pairs]
            if len(set(keys)) != len(keys):
                raise _invalid(name, "names a key twice")
            if sum(p for _, p in pairs) > 100:
                raise _invalid(name, "thresholds add up to more than 100 %")
        return self


def follower_ceiling(f: CreatorFilters) -> int | None:
    """No creator the filters admit has this many followers or more (None: no such bound). From
    `tier` and `followers_max`; relevance skips the candidate floors at or above it."""
    bounds = []
    if f.tier:
        bounds.append(max(_tier_range(t)[1] for t in f.tier))
    if f.followers_max is not None:
        bounds.append(f.followers_max + 1)
    return min(bounds) if bounds else None


def _invalid(field: str, reason: str) -> FieldError:
    return FieldError(field, reason)


def _tier_range(tier: str) -> tuple[int, int]:
    names = list(TIER_FLOOR)
    i = names.index(tier)
    return TIER_FLOOR[tier], (TIER_FLOOR[names[i + 1]] if i + 1 < len(names) else 10**13)


def _pairs(values: list[str] | None) -> list[tuple[str, float]]:
    out = []
    for value in values or ():
        key, _, pct = value.rpartition(":")
        out.append((key, float(pct)))
    return out


def _audience(column, values: list[str] | None) -> list[ColumnElement[bool]]:
    """The checks of some audience thresholds: (audience_countries ->> 'US')::float >= 0.30 (the
    share is stored as a fraction; a key that is not there is a share of 0)."""
    return [func.coalesce(column[key].as_float(), 0.0) >= pct / 100 for key, pct in _pairs(values)]


def _tier_ranges(tiers: list[str]) -> ColumnElement[bool]:
    # As follower_count ranges (the tier column is generated from it), so the follower_count
    # index serves a tier filter and the follower sort together.
    ranges = []
    for tier in sorted(set(tiers), key=list(TIER_FLOOR).index):
        low, high = _tier_range(tier)
        if ranges and ranges[-1][1] == low:  # adjacent tiers: one range
            ranges[-1] = (ranges[-1][0], high)
        else:
            ranges.append((low, high))
    c = Creator.follower_count
    clauses = [and_(c >= low, c < high) if high < 10**13 else c >= low for low, high in ranges]
    return clauses[0] if len(clauses) == 1 else or_(*clauses)


def conditions(f: CreatorFilters, *, text_query: bool = False) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the filters, over `Creator` (and correlated subqueries). With
    `text_query` (the request has a `q`), the country is also written as the full-text GIN index
    holds it (`ARRAY[country] && ...`, models.SEARCH_INDEX_COLUMNS), so the index intersects it
    with the query's matches; the plain `IN` stays for the planner's estimate and the sorts."""
    c = Creator
    where: list[ColumnElement[bool]] = []
    if text_query and f.country:
        where.append(literal_column(COUNTRY_ARRAY_SQL, ARRAY(String(2))).overlap(array(list(f.country), type_=String(2))))
    if f.platform:
        where.append(c.platforms.overlap([p.value for p in f.platform]))
    if f.tier:
        where.append(_tier_ranges(f.tier))
    if f.followers_min is not None:
        where.append(c.follower_count >= f.followers_min)
    if f.followers_max is not None:
        where.append(c.follower_count <= f.followers_max)
    if f.engagement_rate_min is not None:
        where.append(c.engagement_rate >= f.engagement_rate_min / 100)
    if f.engagement_rate_max is not None:
        where.append(c.engagement_rate <= f.engagement_rate_max / 100)
    for column, low, high in (
        (c.growth_30d, f.growth_30d_min, f.growth_30d_max),
        (c.growth_90d, f.growth_90d_min, f.growth_90d_max),
    ):
        if low is not None:
            where.append(column >= low / 100)
        if high is not None:
            where.append(column <= high / 100)
    if f.niche:
        where.append(c.niches.overlap(f.niche))
    if f.country:
        where.append(c.country.in_(f.country))
    if f.city:
        where.append(func.lower(c.city) == f.city.strip().lower())
    if f.language:
        where.append(c.languages.overlap(f.language))
    if f.contactable is not None:
        where.append(c.contactable.is_(f.contactable))
    if f.posted_within_days is not None:
        where.append(c.last_posted_at >= utcnow() - timedelta(days=f.posted_within_days))
    if f.authenticity_min is not None:
        where.append(c.audit_score >= f.authenticity_min)
    if f.revenue_min is not None:
        where.append(
            exists().where(
                CreatorSales.creator_id == c.id,
                CreatorSales.currency == f.revenue_currency,
                CreatorSales.revenue_minor >= to_minor(f.revenue_min, f.revenue_currency),
            )
        )
    for column, values in (
        (c.audience_countries, f.audience_country),
        (c.audience_ages, f.audience_age),
        (c.audience_genders, f.audience_gender),
        (c.audience_languages, f.audience_language),
    ):
        where += _audience(column, values)
    if f.mentions or f.hashtag:
        post = [Post.creator_id == c.id]
        brand = []
        if f.mentions:
            brand.append(Post.mentions.contains([f.mentions.removeprefix("@").lower()]))
        if f.hashtag:
            brand.append(Post.hashtags.contains([f.hashtag.removeprefix("#").lower()]))
        post.append(or_(*brand) if len(brand) > 1 else brand[0])
        if f.mentioned_within_days is not None:
            post.append(Post.posted_at >= utcnow() - timedelta(days=f.mentioned_within_days))
        if f.sponsored_only:
            post.append(Post.sponsored.is_(True))
        where.append(exists(select(literal(1)).where(and_(*post))))
    return where

