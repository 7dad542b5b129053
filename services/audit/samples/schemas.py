"""The lines of audit's NDJSON bulk routes, and their answers."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator

from shared.contracts.types import Platform
from shared.validation import Count, FieldError, PlainText, UtcDateTime

HANDLE_LENGTH = 100
# Optional surrounding spaces and '@', then no whitespace or control character.
HANDLE_PATTERN = "^[\\t\\n ]*@?[^\\x00-\\x20\\x7f@][^\\x00-\\x20\\x7f]*[\\t\\n ]*$"
# Clocks drift: a comment time this far ahead of ours is taken; further is a mistake.
CLOCK_SKEW = timedelta(minutes=5)


def _handle(value: str) -> str:
    handle = value.strip().removeprefix("@").lower()
    if not handle or any(ch.isspace() for ch in handle):
        raise ValueError("must be one account handle, without spaces")
    if len(handle) > HANDLE_LENGTH:
        raise ValueError(f"must be at most {HANDLE_LENGTH} characters once lower-cased")
    return handle


Handle = Annotated[
    PlainText, Field(min_length=1, max_length=HANDLE_LENGTH, json_schema_extra={"pattern": HANDLE_PATTERN}),
    AfterValidator(_handle),
]


class FollowerLine(BaseModel):
    """One sampled follower of a creator: the raw profile fields, any unknown but the username."""

    model_config = ConfigDict(extra="forbid")

    creator_id: uuid.UUID = Field(description="Discovery's creator id: whose follower this is.")
    username: Handle = Field(description="The follower's handle; lower-cased, '@' dropped.")
    full_name: Annotated[PlainText, Field(max_length=500)] | None = None
    biography: Annotated[PlainText, Field(max_length=5000)] | None = None
    media_count: Count | None = None
    follower_count: Count | None = None
    following_count: Count | None = None
    has_profile_pic: StrictBool | None = None
    is_private: StrictBool | None = None
    is_verified: StrictBool | None = None
    external_url: Annotated[PlainText, Field(max_length=2048)] | None = None


def _no_future(value: datetime | None) -> datetime | None:
    if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("must not be in the future")
    return value


class CommentLine(BaseModel):
    """One comment on a creator's post, the post named by discovery's post id or by platform +
    the platform's post id."""

    model_config = ConfigDict(extra="forbid")

    post_id: uuid.UUID | None = Field(default=None, description="Discovery's post id.")
    platform: Platform | None = Field(default=None, description="With post_external_id, instead of post_id.")
    post_external_id: Annotated[PlainText, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The platform's id of the post, with platform."
    )
    author: Handle = Field(description="The commenting account's handle; lower-cased, '@' dropped.")
    text: Annotated[PlainText, Field(min_length=1, max_length=5000)] = Field(description="The comment as written.")
    commented_at: Annotated[UtcDateTime, AfterValidator(_no_future)] | None = Field(
        default=None, description="When it was written; pods are found from these times."
    )

    @model_validator(mode="after")
    def _one_post(self) -> "CommentLine":
        by_external = self.platform is not None or self.post_external_id is not None
        if self.post_id is not None and by_external:
            raise FieldError("post_id", "give post_id, or platform with post_external_id, not both")
        if self.post_id is None:
            if self.platform is None:
                raise FieldError("platform", "required with post_external_id, when post_id is not given")
            if self.post_external_id is None:
                raise FieldError("post_external_id", "required with platform, when post_id is not given")
        return self


class BulkError(BaseModel):
    line: int = Field(description="1-based line number in the request body.")
    field: str | None = Field(description="The field of that line, e.g. creator_id; null for the whole line.")
    reason: str


class SampleOutcome(BaseModel):
    creator_id: uuid.UUID
    sample_id: uuid.UUID = Field(description="The sample version now newest for the creator.")
    size: int
    status: Literal["created", "unchanged"] = Field(
        description="created: a new version; unchanged: the same profiles as the newest version (replay)."
    )


class FollowerBulkResult(BaseModel):
    stored: int = Field(description="Lines stored in new sample versions.")
    unchanged: int = Field(description="Lines of samples identical to the creator's newest version.")
    failed: int
    samples: list[SampleOutcome] = Field(description="One per creator the valid lines named.")
    errors: list[BulkError] = Field(description="One per failed line's problem, in line order.")


class CommentBulkResult(BaseModel):
    created: int = Field(description="Comments audit did not hold before.")
    unchanged: int = Field(description="Comments it already held (same post, author, text and time).")
    failed: int
    errors: list[BulkError] = Field(description="One per failed line's problem, in line order.")
