import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.audit.appeals.schemas import AppealRead
from services.audit.audit import privacy
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
    sponsors: list[str] = Field(
        description="Brands named as sponsors when the audit was requested; only the workspace that named them sees "
        "them (for others: empty, and the names replaced in the signals' text).")
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
    def of(cls, audit, *, viewer: uuid.UUID | None) -> "AuditRead":
        """The audit as `viewer` (the reading workspace) sees it: another workspace's sponsors hidden."""
        return cls.model_validate(privacy.as_seen_by(audit, viewer))


class AuditDetail(AuditRead):
    appeals: list[AppealRead] = Field(
        description="Your workspace's appeals against this audit (filed through your share links), newest first, "
        "each with its resolution once resolved. Another workspace's appeals are never shown."
    )

    @classmethod
    def with_appeals(cls, audit, appeals: list, *, viewer: uuid.UUID | None) -> "AuditDetail":
        read = AuditRead.of(audit, viewer=viewer)
        return cls.model_construct(**dict(read), appeals=[AppealRead.of(a) for a in appeals])


# --- comparison ---------------------------------------------------------------------------------

Cause = Literal["model_version", "rules", "benchmarks", "new_data"]
Attribution = Literal["model_version", "rules", "benchmarks", "new_data", "several", "undetermined"]


class NumberChange(BaseModel):
    before: float | None
    after: float | None
    delta: float | None = Field(description="after - before; null when either is null.")


class TextChange(BaseModel):
    before: str | None
    after: str | None


class VersionChange(BaseModel):
    name: str = Field(description="model, rules, benchmarks, or another rule set's version.")
    before: str | None
    after: str | None


class DataChange(BaseModel):
    changed: bool = Field(description="Any of the below differs: the audits read different data.")
    samples: dict[str, NumberChange] = Field(
        description="Each sample size (followers, posts, series_points, comments) before, after and delta."
    )
    follower_sample: TextChange = Field(description="The follower sample versions read (a new one: new followers).")
    window_start: TextChange = Field(description="The oldest data point read, before and after (ISO 8601).")
    window_end: TextChange = Field(description="The newest data point read, before and after (ISO 8601).")
    summary: list[str] = Field(description="The differences in words, e.g. '+3 posts', 'a new follower sample'.")


class SignalChange(BaseModel):
    name: str
    changed: bool = Field(description="Status, score, confidence, evidence or flags differ.")
    status: TextChange = Field(description="judged or insufficient_data; null where the audit has no such signal.")
    score: NumberChange
    confidence: NumberChange
    evidence_added: list[str] = Field(description="Evidence sentences of the after audit that the before one lacks.")
    evidence_removed: list[str] = Field(description="Evidence sentences of the before audit gone from the after one.")
    flags_added: list[str]
    flags_removed: list[str]
    causes: list[Cause] = Field(description="What differs between the audits that this signal depends on.")
    attribution: Attribution | None = Field(
        description="The best explanation of the change: the one cause, `several` when more than one could have "
        "caused it, `undetermined` when nothing it depends on differs; null when the signal did not change."
    )
    explanation: str | None = Field(description="The attribution in words; null when the signal did not change.")


class AuditSide(BaseModel):
    id: uuid.UUID
    status: AuditStatus
    finished_at: datetime | None
    created_at: datetime


class AuditComparison(BaseModel):
    creator_id: uuid.UUID
    before: AuditSide = Field(description="The first audit in the path, whatever its date.")
    after: AuditSide = Field(description="The second audit in the path.")
    chronological: bool = Field(description="False when `before` was created after `after`: the deltas run backwards.")
    score: NumberChange
    grade: TextChange
    confidence: NumberChange
    flags_added: list[str]
    flags_removed: list[str]
    causes: list[Cause] = Field(
        description="What differs between the audits: model_version (versions.model), rules (versions.rules or "
        "another rule set's version), benchmarks (versions.benchmarks), new_data (samples, follower sample or window)."
    )
    versions: list[VersionChange] = Field(description="The versions that differ.")
    data: DataChange
    signals: list[SignalChange] = Field(description="Every signal either audit has, in the engine's order.")
