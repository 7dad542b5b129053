"""Activation API models: a post that delivers a campaign's deliverable, the metric snapshots
read off it over time, the CSV import's outcome, and the deliverables count."""

import uuid
from datetime import date, datetime
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.attribution.activations.models import METRICS
from services.attribution.enrolment.schemas import FORMATS, Format
from services.attribution.links import url as urls
from services.attribution.reports.schemas import Instant
from shared.contracts.types import Platform
from shared.validation import Count, FieldError



def _checked_url(value: str) -> str:
    # The tracked links' rules (links/url.py): an absolute http(s) URL on a public host, without
    # credentials, whitespace or control characters.
    problem = urls.problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def format_problem(platform: str, format_: str) -> str | None:
    if format_ not in FORMATS[Platform(platform)]:
        return f"{platform} has no {format_}; one of {', '.join(sorted(FORMATS[Platform(platform)]))}"
    return None


class ActivationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "creator_id": "0b5e3d4c-2f6a-4e8b-9c1d-7a2b3c4d5e6f", "platform": "instagram", "format": "reel",
            "url": "https://www.instagram.com/reel/C0abc123/", "posted_at": "2027-03-09T18:00:00Z"}]},
    )

    creator_id: uuid.UUID = Field(description="Must be enrolled in the campaign.")
    platform: Platform
    format: Format = Field(description="One the platform publishes, as in the deliverables (a reel on Instagram, a short on YouTube).")
    url: str = Field(min_length=1, max_length=urls.MAX_URL_LENGTH, json_schema_extra={"format": "uri"},
                     description="The post's http(s) URL; unique in the campaign.")
    posted_at: Instant

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _checked_url(value)

    @model_validator(mode="after")
    def _format_fits_platform(self) -> "ActivationCreate":
        problem = format_problem(self.platform.value, self.format)
        if problem is not None:
            raise FieldError("format", problem)
        return self


class ActivationUpdate(BaseModel):
    """Every field optional, none can be cleared; the creator and the campaign cannot change
    (record a new activation instead)."""

    model_config = ConfigDict(extra="forbid")

    platform: Platform = None
    format: Format = None
    url: str = Field(default=None, min_length=1, max_length=urls.MAX_URL_LENGTH, json_schema_extra={"format": "uri"})
    posted_at: Instant = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("cannot be cleared; omit the field to keep it")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _checked_url(value)


class SnapshotCreate(BaseModel):
    """What the platform showed at `observed_at`. Any figure may be left out (not reported); none
    is negative. The same observed_at again with the same figures changes nothing (200); with
    other figures it is a 409: a reading is never rewritten."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "observed_at": "2027-03-12T09:00:00Z", "impressions": 120000, "reach": 90000, "views": 64000,
        "likes": 5100, "comments": 210, "shares": 95, "saves": 330}]})

    observed_at: Instant
    impressions: Count | None = None
    reach: Count | None = None
    views: Count | None = None
    likes: Count | None = None
    comments: Count | None = None
    shares: Count | None = None
    saves: Count | None = None


class SnapshotRead(BaseModel):
    id: uuid.UUID
    activation_id: uuid.UUID
    observed_at: datetime
    impressions: int | None
    reach: int | None
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None

    @classmethod
    def of(cls, snapshot) -> "SnapshotRead":
        return cls(id=snapshot.id, activation_id=snapshot.activation_id, observed_at=snapshot.observed_at,
                   **{m: getattr(snapshot, m) for m in METRICS})


class ActivationRead(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    creator_id: uuid.UUID
    platform: Platform
    format: str
    url: str
    posted_at: datetime
    latest: SnapshotRead | None = Field(description="The snapshot with the latest observed_at; null before the first.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, activation, latest=None) -> "ActivationRead":
        return cls(id=activation.id, campaign_id=activation.campaign_id, creator_id=activation.creator_id,
                   platform=activation.platform, format=activation.format, url=activation.url,
                   posted_at=activation.posted_at, latest=SnapshotRead.of(latest) if latest is not None else None,
                   created_at=activation.created_at, updated_at=activation.updated_at)


class RowError(BaseModel):
    line: int = Field(description="The line of the CSV file, the header being line 1.")
    field: str | None = Field(description="The column at fault, or null for the row as a whole.")
    reason: str


class ImportResult(BaseModel):
    rows: int = Field(description="Data rows read (the header excluded).")
    activations_created: int
    snapshots_created: int
    unchanged: int = Field(description="Rows that were already recorded exactly so (a replayed file counts here).")
    errors: list[RowError] = Field(description="Rows refused, each with its line and reason; every other row is committed.")


class DeliverableCount(BaseModel):
    platform: Platform
    format: str
    count: int = Field(description="Required.")
    due_on: date
    delivered: int = Field(description="Activations of the creator on this platform and format counted against it (at most `count`).")
    overdue: bool = Field(description="due_on is past (UTC) and fewer than `count` are delivered.")


class EnrolmentDeliverables(BaseModel):
    creator_id: uuid.UUID
    deliverables: list[DeliverableCount] = Field(description="As the enrolment lists them, by due_on.")
    required: int
    delivered: int
    overdue: int = Field(description="Deliverables (entries) overdue.")
    unmatched_activations: int = Field(description="Activations of the creator that no deliverable counts (extra posts, or another platform or format).")


class DeliverablesReport(BaseModel):
    campaign_id: uuid.UUID
    as_of: date = Field(description="The UTC day `overdue` is judged on.")
    creators: list[EnrolmentDeliverables] = Field(description="Every enrolled creator, by creator id.")
