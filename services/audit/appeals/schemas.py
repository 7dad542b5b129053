import re
import uuid
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.validation import Label, PlainText

AppealStatus = Literal["open", "resolved"]
Decision = Literal["upheld", "rejected"]


# Published as the schema's pattern, so clients (and fuzzers) know what is taken: http(s), a host
# name or IPv4 address, an optional port, then anything but spaces and control characters.
WEB_ADDRESS = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^\\s\\x00-\\x1f\\x7f]*)?$"

_WEB_ADDRESS = re.compile(WEB_ADDRESS)


def _web_address(value: str) -> str:
    if not _WEB_ADDRESS.fullmatch(value) or not urlsplit(value).hostname:
        raise ValueError("must be an http(s) URL with a host name, without spaces")
    return value


# PlainText, not Label: a URL is taken as written (never trimmed), so what the pattern refuses the
# API refuses.
EvidenceUrl = Annotated[
    PlainText,
    Field(max_length=2000, examples=["https://example.com/insights.png"], json_schema_extra={"pattern": WEB_ADDRESS}),
    AfterValidator(_web_address),
]


class AppealCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "audit_id": "5f0c6a52-2f4e-4c47-9d44-54c0b4a3d2a1", "flag": "audience_quality",
            "comment": "The sample was taken the week a giveaway brought in bots; they are gone now.",
            "evidence_urls": ["https://example.com/insights.png"],
        }]},
    )

    audit_id: uuid.UUID = Field(description="The audit appealed against: one of this creator's, completed.")
    flag: Annotated[Label, Field(max_length=100)] = Field(
        description="One of that audit's flags (e.g. follower_spike) or a signal's name (e.g. audience_quality)."
    )
    comment: Annotated[Label, Field(max_length=2000)] = Field(description="Why the finding is wrong (1-2000 characters).")
    evidence_urls: list[EvidenceUrl] = Field(
        default_factory=list, max_length=5, description="Up to 5 http(s) links to what shows it."
    )


class AppealResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision = Field(description="upheld: the creator is right; rejected: the finding stands.")
    note: Annotated[Label, Field(max_length=2000)] = Field(description="Why, for the creator (1-2000 characters).")


class PublicAppealRead(BaseModel):
    """An appeal as the creator sees it on the shared view."""

    id: uuid.UUID
    audit_id: uuid.UUID
    flag: str
    comment: str
    evidence_urls: list[str]
    status: AppealStatus
    decision: Decision | None = Field(description="Once resolved: upheld or rejected.")
    resolution_note: str | None = Field(description="The reviewer's note, once resolved.")
    resolved_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, appeal) -> "PublicAppealRead":
        return cls.model_validate(appeal, from_attributes=True)


class AppealRead(PublicAppealRead):
    """An appeal as the tenant's reviewers see it."""

    creator_id: uuid.UUID
    share_link_id: uuid.UUID = Field(description="The share link it was filed through.")
    resolved_by: str | None = Field(description="The credential that resolved it (`key:<id>` or a JWT subject).")
    updated_at: datetime

    @classmethod
    def of(cls, appeal) -> "AppealRead":
        return cls.model_validate(appeal, from_attributes=True)
