"""The brief a brand describes its campaign with, and the ranked answer brand fit gives.

Target audience dimensions are *sets* (the countries, age bands, genders, languages you want):
a creator's audience match on a dimension is the share of its audience inside the set, so a
brand never has to invent target percentages. docs/guide/discovery-brand-fit.md.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationInfo, model_validator

from services.discovery.search.filters import AGE_BANDS, GENDERS, STORED, CreatorFilters, stored
from services.discovery.search.schemas import CreatorSummary
from shared.contracts.types import Platform
from shared.validation import NOT_BLANK, Count, FieldError, PlainText, integral_number, label

CURRENCY_CODES = sorted(c.alpha_3 for c in pycountry.currencies)
NAME_LENGTH = 200
MAX_LIMIT = 100


def _unique(values: list) -> list:
    return list(dict.fromkeys(values))


def _lower_unique(values: list[str]) -> list[str]:
    return _unique(v.lower() for v in values)


def _handles(values: list[str]) -> list[str]:
    return _unique(v.removeprefix("@").lower() for v in values)


def _iso_4217(value: str) -> str:
    if value != value.upper() or pycountry.currencies.get(alpha_3=value) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (upper case, e.g. EUR)")
    return value


Niche = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9 &_-]*$")]
Keyword = label(min_length=1, max_length=100)
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
Handle = Annotated[str, Field(pattern=r"^@?[A-Za-z0-9_.]{1,100}$")]
Currency = Annotated[
    str, Field(description="ISO 4217 code, e.g. EUR.", json_schema_extra={"enum": CURRENCY_CODES}), AfterValidator(_iso_4217)
]
# A string, never a JSON number: money is not a float (shared/money.py).
Amount = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,14}([.][0-9]{1,4})?$", description='A decimal string, e.g. "1500.00".', examples=["1500.00"]),
    AfterValidator(Decimal),
]


class TargetAudience(BaseModel):
    """The audience you want, as sets: a creator scores the share of its audience inside each set."""

    model_config = ConfigDict(extra="forbid")

    countries: Annotated[list[Country], Field(max_length=50), AfterValidator(_unique)] = Field(
        default_factory=list, description="ISO 3166-1 alpha-2, upper-case."
    )
    ages: Annotated[list[Literal[AGE_BANDS]], Field(max_length=len(AGE_BANDS)), AfterValidator(_unique)] = Field(
        default_factory=list
    )
    genders: Annotated[list[Literal[GENDERS]], Field(max_length=len(GENDERS)), AfterValidator(_unique)] = Field(
        default_factory=list
    )
    languages: Annotated[list[Language], Field(max_length=20), AfterValidator(_unique)] = Field(
        default_factory=list, description="ISO 639-1, lower-case."
    )

    def named(self) -> bool:
        return bool(self.countries or self.ages or self.genders or self.languages)


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount = Field(description="What you would pay one creator for the platform's main deliverable.")
    currency: Currency

    @model_validator(mode="after")
    def _positive(self) -> "Budget":
        if self.amount <= 0:
            raise FieldError("amount", "must be greater than 0")
        return self


class Exclusions(BaseModel):
    """Brand safety: keywords penalise a creator whose bio or recent captions use them; categories
    (niches) disqualify."""

    model_config = ConfigDict(extra="forbid")

    keywords: Annotated[list[Keyword], Field(max_length=50), AfterValidator(_lower_unique)] = Field(
        default_factory=list, description="Whole words or phrases, compared case-insensitively."
    )
    categories: Annotated[list[Niche], Field(max_length=20), AfterValidator(_unique)] = Field(
        default_factory=list, description="Niches a creator must not have."
    )


# "At least one of niches, keywords or a description that is not blank", said in JSON Schema
# too, so clients and the fuzzer know an empty brief is not one.
_SOMETHING_TO_MATCH = {
    "anyOf": [
        {"required": ["niches"], "properties": {"niches": {"minItems": 1}}},
        {"required": ["keywords"], "properties": {"keywords": {"minItems": 1}}},
        {"required": ["description"], "properties": {"description": {"type": "string", "pattern": NOT_BLANK}}},
    ]
}


class Brief(BaseModel):
    """What the brand is looking for. At least one of niches, keywords or description."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_SOMETHING_TO_MATCH)

    niches: Annotated[list[Niche], Field(max_length=20), AfterValidator(_unique)] = Field(
        default_factory=list, description="Lower-case niches; a creator with none of them can still rank."
    )
    keywords: Annotated[list[Keyword], Field(max_length=50), AfterValidator(_unique)] = Field(default_factory=list)
    description: Annotated[PlainText, Field(max_length=2000)] | None = Field(
        default=None, description='Free text, e.g. "vegan baking for busy parents".'
    )
    audience: TargetAudience | None = None
    platforms: Annotated[list[Platform], Field(max_length=9), AfterValidator(_unique)] = Field(
        default_factory=list, description="Creators with an account on one of these (all if empty)."
    )
    followers_min: Count | None = Field(default=None, description="Primary account's followers.")
    followers_max: Count | None = None
    budget: Budget | None = Field(default=None, description="Per creator.")
    exclusions: Exclusions | None = None
    competitors: Annotated[list[Handle], Field(max_length=20), AfterValidator(_handles)] = Field(
        default_factory=list, description="Competitor brand handles (@ optional)."
    )
    filters: CreatorFilters | None = Field(default=None, description="Further hard filters, as in search.")

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> "Brief":
        if not (self.niches or self.keywords or (self.description and self.description.strip())):
            raise FieldError("description", "a brief needs niches, keywords or a description to match content against")
        if self.followers_min is not None and self.followers_max is not None and self.followers_min > self.followers_max:
            raise FieldError(
                "followers_min", f"must not be greater than followers_max ({self.followers_min} > {self.followers_max})"
            )
        if self.filters is not None and not stored(info):  # refused since 2026-11-30, see STORED
            # Both ranges hold at once: one that cannot overlap the other matches no creator.
            lows = [v for v in (self.followers_min, self.filters.followers_min) if v is not None]
            highs = [v for v in (self.followers_max, self.filters.followers_max) if v is not None]
            if lows and highs and max(lows) > min(highs):
                raise FieldError("followers_min", f"the brief's followers {self.followers_min}..{self.followers_max} and "
                                 f"filters' {self.filters.followers_min}..{self.filters.followers_max} do not overlap")
        return self

    def text(self) -> str:
        """The text the brief's content embedding is made of (description, keywords, niches)."""
        parts = [self.description or "", ", ".join(self.keywords), ", ".join(self.niches)]
        return "\n".join(p.strip() for p in parts if p.strip())


class BrandFitRequest(Brief):
    limit: Annotated[int, Strict(), Field(ge=1, le=MAX_LIMIT), BeforeValidator(integral_number)] = Field(
        default=20, description="How many creators to return."
    )


FactorName = Literal[
    "audience_match", "content_similarity", "authenticity", "engagement", "price", "brand_safety", "competitors"
]


class Factor(BaseModel):
    factor: FactorName
    score: float = Field(ge=0, le=1, description="0 (worst) to 1 (best) on this factor.")
    weight: float = Field(ge=0, le=1, description="This factor's share of the total (0 when the brief leaves it out).")
    confidence: Literal["high", "low"] = Field(description="low: the data was missing and the score is neutral.")
    explanation: str


class FitCreator(CreatorSummary):
    score: float = Field(ge=0, le=100, description="Brand fit, 0-100: the weighted factors, halved on a brand-safety hit.")
    factors: list[Factor]


class BrandFitResult(BaseModel):
    items: list[FitCreator] = Field(description="Best fit first.")
    weights: dict[str, float] = Field(description="Each factor's weight in this answer (they add up to 1).")
    candidates: int = Field(description="How many creators passed the hard filters and were scored exactly.")


class BriefRunResult(BrandFitResult):
    brief_id: uuid.UUID


class BriefCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: label(min_length=1, max_length=NAME_LENGTH) = Field(description="Unique among your briefs.")
    brief: Brief


def _no_defaults(schema: dict) -> None:
    for prop in schema["properties"].values():
        prop.pop("default", None)


class BriefUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_defaults)

    name: label(min_length=1, max_length=NAME_LENGTH) = Field(
        default=None, description="Omit to keep the current name."
    )
    brief: Brief = Field(default=None, description="The whole brief, replacing the saved one; omit to keep it.")

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data):
        if isinstance(data, dict):
            for key in ("name", "brief"):
                if key in data and data[key] is None:
                    raise FieldError(key, "cannot be null; omit the field to keep it")
        return data


class BriefRead(BaseModel):
    id: uuid.UUID
    name: str
    brief: Brief
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row) -> "BriefRead":
        return cls.model_validate(
            {"id": row.id, "name": row.name, "brief": row.brief, "created_at": row.created_at,
             "updated_at": row.updated_at}, context=STORED)
