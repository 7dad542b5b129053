import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from shared.contracts.types import Platform
from shared.validation import Label, PlainText

NAME_LENGTH = 200
TEXT_LENGTH = 2000
TAG_LENGTH = 50
MAX_TAGS = 20


def _tags(values: list[str]) -> list[str]:
    """Lower-cased, first occurrence kept: tags are labels, `Nano` and `nano` are one."""
    return list(dict.fromkeys(v.lower() for v in values))


Name = Annotated[Label, Field(min_length=1, max_length=NAME_LENGTH)]
Text = Annotated[PlainText, Field(max_length=TEXT_LENGTH)]
Tag = Annotated[Label, Field(min_length=1, max_length=TAG_LENGTH)]
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


class EntryRead(BaseModel):
    shortlist_id: uuid.UUID
    creator_id: uuid.UUID
    platform: Platform
    handle: str
    note: str | None
    tags: list[str]
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
            added_at=entry.created_at,
            updated_at=entry.updated_at,
        )
