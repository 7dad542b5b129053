import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from services.audit.appeals.schemas import PublicAppealRead
from services.audit.audit.schemas import SignalRead, Window


class SharedAudit(BaseModel):
    """A completed audit as the creator sees it: the findings, nothing of how it was run."""

    id: uuid.UUID
    score: float | None = Field(description="Authenticity score 0-100; null when no signal could be judged.")
    grade: str | None
    confidence: float | None
    flags: list[str]
    signals: list[SignalRead]
    versions: dict[str, str]
    window: Window
    samples: dict[str, int]
    finished_at: datetime | None

    @classmethod
    def of(cls, audit) -> "SharedAudit":
        return cls(
            id=audit.id, score=audit.score, grade=audit.grade, confidence=audit.confidence, flags=audit.flags,
            signals=audit.signals, versions=audit.versions,
            window=Window(start=audit.window_start, end=audit.window_end), samples=audit.samples,
            finished_at=audit.finished_at,
        )


class SharedAuditView(BaseModel):
    creator_id: uuid.UUID
    platform: str | None
    handle: str | None
    audit: SharedAudit | None = Field(description="The creator's latest completed audit; null before the first.")
    appeals: list[PublicAppealRead] = Field(
        description="The appeals filed through this workspace's links about the creator's audits, newest first, "
        "each with its resolution once there is one."
    )
    expires_at: datetime = Field(description="When this link stops working.")
