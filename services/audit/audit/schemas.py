import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

AuditStatus = Literal["pending", "completed", "failed"]


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    creator_id: uuid.UUID
    status: AuditStatus
    trigger: str
    score: float | None
    flags: list[str]
    model_version: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
