"""Contracts produced by audit (topic audit.audit.v1)."""

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class AuditPayload(BaseModel):
    audit_id: uuid.UUID
    creator_id: uuid.UUID
    status: Literal["pending", "completed", "failed"]
    score: float | None = Field(default=None, ge=0, le=100, description="Audience quality score, 0-100.")
    grade: str | None = Field(default=None, max_length=5, description="Letter grade of the score, e.g. A, B+, C.")
    audience_quality: float | None = Field(
        default=None, ge=0, le=1, description="Share of the audience judged real (0..1)."
    )
    flags: list[str] = Field(default_factory=list, description="Signals that fired, e.g. growth_anomaly.")
    model_version: str | None = Field(default=None, description="Version of the model that produced the score.")
    reason: str | None = Field(default=None, description="Why the audit failed, when it did.")
