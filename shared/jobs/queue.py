"""The `jobs` table of a service and how a handler records a job inside its own transaction."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PENDING, RUNNING, SUCCEEDED, FAILED = "pending", "running", "succeeded", "failed"


def job_table(base: type[DeclarativeBase]) -> type:
    """The `jobs` table in the schema of `base`."""

    class Job(base):  # type: ignore[valid-type, misc]
        __tablename__ = "jobs"
        __table_args__ = (
            UniqueConstraint("kind", "key"),
            CheckConstraint(f"status IN ('{PENDING}', '{RUNNING}', '{SUCCEEDED}', '{FAILED}')", name="status"),
            # Workers only ever look for due pending jobs and expired leases; keep both tiny.
            Index("ix_jobs_due", "run_after", postgresql_where=f"status = '{PENDING}'"),
            Index("ix_jobs_leased", "lease_expires_at", postgresql_where=f"status = '{RUNNING}'"),
        )

        id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
        kind: Mapped[str] = mapped_column(String(100))
        key: Mapped[str] = mapped_column(
            String(255), comment="Unique per kind: recording the same job twice is a no-op."
        )
        payload: Mapped[dict] = mapped_column(JSONB)
        status: Mapped[str] = mapped_column(String(20), server_default=PENDING)
        attempts: Mapped[int] = mapped_column(Integer, server_default="0")
        run_after: Mapped[datetime] = mapped_column(
            DateTime(timezone=True), server_default=func.now(), comment="Not claimed before (retry backoff)."
        )
        lease_token: Mapped[uuid.UUID | None] = mapped_column(
            UUID(as_uuid=True), comment="Set by each claim; only its holder may finish the job."
        )
        lease_expires_at: Mapped[datetime | None] = mapped_column(
            DateTime(timezone=True), comment="A running job past this is claimable again (its worker died)."
        )
        result: Mapped[dict | None] = mapped_column(JSONB)
        last_error: Mapped[str | None] = mapped_column(Text)
        created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
        updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
        finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    return Job


class JobQueue:
    """Records jobs in a service's `jobs` table inside the caller's transaction."""

    def __init__(self, model: type):
        self.model = model

    async def enqueue(self, session: AsyncSession, kind: str, key: str, payload: dict) -> bool:
        """Record a job; False when (kind, key) was already recorded, which changes nothing.

        Called from a handler's transaction, the job exists exactly when the handler's effects do.
        """
        inserted = await session.execute(
            insert(self.model)
            .values(kind=kind, key=key, payload=payload)
            .on_conflict_do_nothing(index_elements=["kind", "key"])
            .returning(self.model.id)
        )
        return inserted.first() is not None
