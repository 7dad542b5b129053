import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from services.audit.engine.brandsafety.lists import default_list
from services.audit.engine.brandsafety.matcher import tokens
from shared.validation import Label

NAME_LENGTH = 100
TERM_LENGTH = 100
MAX_TERMS = 500
CATEGORY_PATTERN = "^[a-z][a-z0-9_]{0,39}$"


def _distinct(terms: list[str]) -> list[str]:
    """Terms that match alike ("Café", "cafe", "CAFE  ") are one: the first written is kept."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for term in terms:
        if (key := tokens(term)) not in seen:
            seen.add(key)
            kept.append(term)
    return kept


DefaultCategoryName = Literal[tuple(default_list().categories)]
Exclusions = Annotated[
    list[DefaultCategoryName],
    Field(max_length=len(default_list().categories), description="Categories of the default list that your checks "
          "skip while this list exists (a spirits brand skips `alcohol`); its own terms still apply."),
    AfterValidator(lambda values: list(dict.fromkeys(values))),
]
Name = Annotated[Label, Field(min_length=1, max_length=NAME_LENGTH)]
Category = Annotated[
    str,
    Field(
        pattern=CATEGORY_PATTERN,
        description="One of the default list's categories (GET /brand-safety/default), e.g. competitor_brands, "
        "or your own: lower-case letters, digits and '_', starting with a letter, at most 40.",
        examples=["competitor_brands"],
    ),
]
TermText = Annotated[Label, Field(min_length=1, max_length=TERM_LENGTH)]
Terms = Annotated[
    list[TermText],
    Field(min_length=1, max_length=MAX_TERMS, description=f"1 to {MAX_TERMS} words or phrases, at most "
          f"{TERM_LENGTH} characters each; matched as whole words, case and accents ignored (a term "
          "of symbols only, such as an emoji, wherever it stands)."),
    AfterValidator(_distinct),
]


class BrandSafetyListCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Competitors", "category": "competitor_brands", "terms": ["Acme Cola"]}]},
    )

    name: Name = Field(description="Unique among your lists; each hit names the list it came from.")
    category: Category
    terms: Terms
    exclude_default_categories: Exclusions = Field(default_factory=list)


def _no_null(schema: dict) -> None:
    for name in ("name", "category", "terms", "exclude_default_categories"):
        schema["properties"][name].pop("default", None)


class BrandSafetyListUpdate(BaseModel):
    """Only the fields given change; each change raises the list's revision."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_null)

    name: Name = Field(default=None, description="Omit to keep the current name.")
    category: Category = Field(default=None)
    terms: Terms = Field(default=None, description="Replaces the terms.")
    exclude_default_categories: Exclusions = Field(default=None, description="Replaces the exclusions; [] clears them.")

    @field_validator("name", "category", "terms", "exclude_default_categories", mode="before")
    @classmethod
    def _cannot_be_null(cls, value):
        if value is None:
            raise ValueError("cannot be null; omit the field to keep it")
        return value


class BrandSafetyListRead(BaseModel):
    id: uuid.UUID
    name: str
    category: str
    terms: list[str]
    exclude_default_categories: list[str]
    revision: int = Field(description="Raised by each change; a check names the revision it applied.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row) -> "BrandSafetyListRead":
        return cls(id=row.id, name=row.name, category=row.category, terms=list(row.terms),
                   exclude_default_categories=list(row.exclude_default_categories), revision=row.revision,
                   created_at=row.created_at, updated_at=row.updated_at)


class DefaultCategory(BaseModel):
    category: str
    garm: list[str] = Field(description="The GARM Brand Safety Floor + Suitability Framework categories it covers.")
    terms: list[str]
    exceptions: dict[str, list[str]] = Field(description="Per term, phrases in which it is not reported.")


class DefaultListRead(BaseModel):
    version: str = Field(examples=["brand-safety-v1"])
    source: str
    categories: list[DefaultCategory]


class HitRead(BaseModel):
    category: str
    term: str = Field(description="The term as listed.")
    matched: str = Field(description="The text as written where the term matched.")
    list: str = Field(description="The default list's version (e.g. brand-safety-v1), or the name of your list.")
    list_id: uuid.UUID | None = Field(description="Your list's id; null for the default list.")
    where: Literal["bio", "caption", "comment"]
    post_id: uuid.UUID | None = Field(description="The post of the caption or comment; null for the bio.")
    external_id: str | None = Field(description="The platform's id of that post.")
    posted_at: datetime | None
    comment_author: str | None = Field(description="Who wrote the comment; null for a bio or caption.")
    excerpt: str = Field(description="The text around the match, '…' where it was cut.")


class CategorySummary(BaseModel):
    category: str
    hits: int = Field(description="Hits in this category, all of them (also those past the `hits` bound).")


class ListVersion(BaseModel):
    list: str = Field(description="As the hits name it.")
    list_id: uuid.UUID | None = Field(description="Null for the default list.")
    version: str = Field(description="The default list's version, or `r<revision>` of your list.")
    terms: int


class Checked(BaseModel):
    bio: bool = Field(description="Whether audit holds a bio for the creator (it was read).")
    posts: int = Field(description="Captions read: the primary account's newest posts, as an audit reads them.")
    comments: int = Field(description="Comments read on those posts.")


class BrandSafetyRead(BaseModel):
    """Every hit of the default list and of your lists in what audit holds about a creator."""

    creator_id: uuid.UUID
    checked: Checked
    versions: list[ListVersion] = Field(description="The lists applied: the default first, then yours, oldest first.")
    excluded_default_categories: list[str] = Field(
        description="Default-list categories skipped because one of your lists excludes them."
    )
    summary: list[CategorySummary] = Field(
        description="Hits per category: every category of the lists applied, in their order, zero included."
    )
    hits_total: int
    truncated: bool = Field(description="Whether `hits` stops short of hits_total (at most 500 are listed).")
    hits: list[HitRead] = Field(description="The bio's, then post by post (newest first) the caption's and its comments'.")
