import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.audit.disclosure.schemas import Jurisdictions, Sponsors

AuditStatus = Literal["pending", "running", "completed", "failed"]


class AuditCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    creator_id: uuid.UUID = Field(description="Discovery's creator id.")
    jurisdictions: Jurisdictions | None = Field(
        None, description="Disclosure rule sets to grade sponsored posts against (GET /disclosure/rules); "
                          "default: the creator's country's set plus US and UK.")
    sponsors: Sponsors | None = Field(
        None, description="Brands known to sponsor the creator: a post naming one is sponsored. Stored on the "
                          "audit, which every tenant can read.")


class SignalRead(BaseModel):
    name: str = Field(description="audience_quality, engagement_rate, likes_comments, growth, comments, pods or disclosure.")
    status: Literal["judged", "insufficient_data"]
    score: float | None = Field(description="0-100, higher is more authentic; null unless judged.")
    weight: float = Field(description="Its weight in the total (the judged signals' weights are renormalised).")
    confidence: float = Field(description="0-1: how sure the judgement is.")
    evidence: list[str] = Field(description="Plain-language sentences, each with its figures.")
    missing: list[str] = Field(description="What is missing, when the data was too thin to judge.")
    flags: list[str]
    details: dict[str, Any] = Field(description="The figures behind the evidence.")


class Window(BaseModel):
    start: datetime | None = Field(description="The oldest data point the audit read.")
    end: datetime | None = Field(description="The newest.")


class AuditRead(BaseModel):
    id: uuid.UUID
    creator_id: uuid.UUID
    status: AuditStatus
    trigger: str = Field(description="requested (the API), creator_created, creator_changed, posts_observed, ...")
    score: float | None = Field(description="Authenticity score 0-100 from the judged signals; null when none could be judged.")
    grade: str | None
    confidence: float | None = Field(description="0-1, over the judged signals and the share judged.")
    audience_quality: float | None = Field(description="Share of the follower sample that is real people or influencers.")
    flags: list[str]
    signals: list[SignalRead]
    versions: dict[str, str] = Field(description="The model, rule and benchmark versions that produced the result.")
    window: Window
    samples: dict[str, int] = Field(description="Sizes of what the audit read: followers, posts, series_points, comments.")
    jurisdictions: list[str] | None = Field(
        description="Disclosure rule sets asked for; null: the default (the disclosure signal's details list those graded).")
    sponsors: list[str] = Field(description="Brands named as sponsors when the audit was requested.")
    follower_sample_id: uuid.UUID | None = Field(description="The follower sample version the audit read.")
    model_version: str | None
    failure_reason: str | None
    attempts: int = Field(description="Runs started; more than one means a runner died and another took over.")
    run_after: datetime = Field(description="A pending audit runs no sooner than this.")
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, value: Any) -> Any:
        """An `Audit` (or a read path's Row with its columns): the window from its two columns."""
        if isinstance(value, dict):
            return value
        fields = {name: getattr(value, name) for name in cls.model_fields if name != "window"}
        return {**fields, "window": {"start": value.window_start, "end": value.window_end}}

    @classmethod
    def of(cls, audit) -> "AuditRead":
        return cls.model_validate(audit)
