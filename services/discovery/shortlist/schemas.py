import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from services.discovery.shortlist.stages import Stage

from shared.contracts.types import Platform
from shared.validation import PlainText, label

NAME_LENGTH = 200
TEXT_LENGTH = 2000
TAG_LENGTH = 50
MAX_TAGS = 20


def _tags(values: list[str]) -> list[str]:
    """Lower-cased, first occurrence kept: tags are labels, `Nano` and `nano` are one."""
    return list(dict.fromkeys(v.lower() for v in values))


Name = label(min_length=1, max_length=NAME_LENGTH)
Text = Annotated[PlainText, Field(max_length=TEXT_LENGTH)]
Tag = label(min_length=1, max_length=TAG_LENGTH)
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_tags)]


class ShortlistCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="Unique among your shortlists.")
    description: Text | None = None


def _name_has_no_default(schema: dict) -> None:
    schema["properties"]["name"].pop("default", None)


class ShortlistUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_name_has_no_default)

    name: Name = Field(default=None, description="Omit to keep the current name.")
    description: Text | None = Field(default=None, description="null clears it.")

    @field_validator("name", mode="before")
    @classmethod
    def _name_cannot_be_cleared(cls, value):
        if value is None:
            raise ValueError("a shortlist always has a name; omit the field to keep it")
        return value


class ShortlistRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, shortlist) -> "ShortlistRead":
        return cls(
            id=shortlist.id,
            name=shortlist.name,
            description=shortlist.description,
            created_at=shortlist.created_at,
            updated_at=shortlist.updated_at,
        )


class EntryPut(BaseModel):
    """The whole entry: a field left out is cleared (PUT replaces)."""

    model_config = ConfigDict(extra="forbid")

    note: Text | None = Field(default=None, description="Why this creator is on the list.")
    tags: Tags = Field(default_factory=list, description=f"Up to {MAX_TAGS} labels, compared case-insensitively.")


def _no_null(schema: dict) -> None:
    for name in ("stage", "tags"):
        schema["properties"][name].pop("default", None)


class EntryUpdate(BaseModel):
    """Only the fields given change. A stage change is recorded in the entry's history."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_null)

    stage: Stage = Field(default=None, description="Move the entry to this outreach stage (see the guide for the moves allowed).")
    change_note: Text | None = Field(
        default=None,
        description="Kept in the history with the stage change this request makes (e.g. 'DM sent'); "
        "without one (no `stage`, or the stage the entry is at) nothing is recorded.",
    )
    note: Text | None = Field(default=None, description="The entry's note; null clears it.")
    tags: Tags = Field(default=None, description=f"Replace the tags: up to {MAX_TAGS} labels, compared case-insensitively.")

    @field_validator("stage", "tags", mode="before")
    @classmethod
    def _cannot_be_null(cls, value):
        if value is None:
            raise ValueError("cannot be null; omit the field to keep it")
        return value


class EntryRead(BaseModel):
    shortlist_id: uuid.UUID
    creator_id: uuid.UUID
    platform: Platform
    handle: str
    note: str | None
    tags: list[str]
    stage: Stage = Field(description="The entry's outreach stage.")
    stage_since: datetime = Field(description="When the entry reached its stage.")
    added_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, entry, platform: str, handle: str) -> "EntryRead":
        return cls(
            shortlist_id=entry.shortlist_id,
            creator_id=entry.creator_id,
            platform=platform,
            handle=handle,
            note=entry.note,
            tags=list(entry.tags or ()),
            stage=entry.stage,
            stage_since=entry.stage_changed_at,
            added_at=entry.created_at,
            updated_at=entry.updated_at,
        )


class StageChangeRead(BaseModel):
    from_stage: Stage | None = Field(description="Null for the entry's arrival on the shortlist.")
    to_stage: Stage
    at: datetime
    by: str = Field(description="Who made the change: `key:<id>` for an API key, else the user's subject.")
    note: str | None

    @classmethod
    def of(cls, change) -> "StageChangeRead":
        return cls(from_stage=change.from_stage, to_stage=change.to_stage, at=change.at, by=change.by, note=change.note)


class Durations(BaseModel):
    samples: int = Field(description="How many completed intervals the figures are made of.")
    median_seconds: float | None = Field(description="Null without samples.")
    mean_seconds: float | None = Field(description="Null without samples.")


class StageFigures(BaseModel):
    stage: Stage
    now: int = Field(description="Entries at this stage now.")
    reached: int = Field(
        description="Entries that ever reached this stage. In the funnel (prospect to contracted) an entry that "
        "reached a later stage counts as having passed through the ones it skipped; for declined, entries that "
        "were ever declined."
    )
    conversion_from_previous: float | None = Field(
        description="reached / reached of the previous funnel stage, 0..1; null for prospect and declined, "
        "and when the previous stage was never reached."
    )
    time_in_stage: Durations = Field(
        description="Time entries spent at this stage before moving on: one sample per completed stay "
        "(an entry still at the stage is not counted)."
    )


class ShortlistReport(BaseModel):
    """The outreach pipeline of a shortlist, computed from the history of its entries' stage changes."""

    shortlist_id: uuid.UUID
    entries: int = Field(description="Entries on the shortlist.")
    stages: list[StageFigures] = Field(description="prospect, contacted, replied, negotiating, contracted, declined.")
    time_to_reply: Durations = Field(
        description="From reaching contacted to the move out of it towards replied, negotiating or contracted: "
        "one sample per such move."
    )
    contracted_rate: float | None = Field(description="Entries contracted / entries, 0..1; null without entries.")
