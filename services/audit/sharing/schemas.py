import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

from services.audit.sharing.models import ShareLink
from shared.validation import Label, integral_number

# Where the gateway serves the public view: `<gateway's public address>/shared/audits/<token>`.
PUBLIC_PATH = "/shared/audits/"

ShareLinkState = Literal["active", "expired", "revoked"]


class ShareLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"expires_in_days": 30}]})

    expires_in_days: Annotated[int, Strict(), Field(ge=1, le=90), BeforeValidator(integral_number)] = Field(
        default=30, description="The link stops working this many days from now (1-90)."
    )
    note: Annotated[Label, Field(max_length=500)] | None = Field(
        default=None, description="For your own list, e.g. whom you sent it to; the creator never sees it."
    )


class ShareLinkRead(BaseModel):
    id: uuid.UUID
    creator_id: uuid.UUID
    note: str | None
    state: ShareLinkState = Field(description="active (the link works), expired or revoked.")
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, link: ShareLink, now: datetime) -> "ShareLinkRead":
        state = "revoked" if link.revoked_at is not None else "expired" if link.expires_at <= now else "active"
        return cls(
            id=link.id, creator_id=link.creator_id, note=link.note, state=state, expires_at=link.expires_at,
            revoked_at=link.revoked_at, created_at=link.created_at,
        )


class ShareLinkCreated(ShareLinkRead):
    token: str = Field(description="The secret in the link. Shown this once: only its SHA-256 hash is kept.")
    url: str = Field(description="The link's path on the gateway's public address: /shared/audits/{token}.")
