"""Transactional outbox: state changes and the events they cause are written in one database
transaction; the relay publishes them afterwards. Never publish and commit separately.
"""

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.contracts.catalog import topic_by_name
from shared.contracts.envelope import Envelope


# Kafka's default max.message.bytes is 1 MiB; leave room for the record's key and headers.
MAX_EVENT_BYTES = 900_000


class OutboxError(ValueError):
    """An event that does not match its topic's contract: a programming error, caught before commit."""


def messaging_tables(base: type[DeclarativeBase]) -> tuple[type, type]:
    """The `outbox` and `processed_events` tables in the schema of `base`."""

    class OutboxMessage(base):  # type: ignore[valid-type, misc]
        __tablename__ = "outbox"
        __table_args__ = (
            # The relay only ever scans unsent rows in id order; keep that index tiny.
            Index("ix_outbox_unsent", "id", postgresql_where="sent_at IS NULL"),
            # Housekeeping deletes published rows by age.
            Index("ix_outbox_sent_at", "sent_at", postgresql_where="sent_at IS NOT NULL"),
        )

        id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
        event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
        topic: Mapped[str] = mapped_column(String(249))
        key: Mapped[str] = mapped_column(String(255))
        event_type: Mapped[str] = mapped_column(String(100))
        envelope: Mapped[dict] = mapped_column(JSONB)
        created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
        sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
        attempts: Mapped[int] = mapped_column(Integer, server_default="0")
        last_error: Mapped[str | None] = mapped_column(Text)

    class ProcessedEvent(base):  # type: ignore[valid-type, misc]
        """Events a consumer has applied; written in the same transaction as their effects."""

        __tablename__ = "processed_events"

        consumer_group: Mapped[str] = mapped_column(String(100), primary_key=True)
        event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
        topic: Mapped[str] = mapped_column(String(249))
        processed_at: Mapped[datetime] = mapped_column(
            DateTime(timezone=True), server_default=func.now(), index=True
        )

    return OutboxMessage, ProcessedEvent


class Outbox:
    """Adds events to a service's outbox inside the caller's transaction."""

    def __init__(self, model: type, producer: str):
        self.model = model
        self.producer = producer

    def add(self, session: AsyncSession, topic: str, envelope: Envelope[BaseModel]) -> None:
        contract = topic_by_name(topic)
        expected = contract.events.get(envelope.event_type)
        if expected is None:
            raise OutboxError(f"{envelope.event_type} is not an event of topic {topic}")
        if not isinstance(envelope.payload, expected):
            raise OutboxError(f"{envelope.event_type} payload must be {expected.__name__}")
        if envelope.producer != self.producer or contract.producer != self.producer:
            raise OutboxError(f"{self.producer} cannot publish to {topic}")
        body = envelope.model_dump(mode="json")
        size = len(envelope.model_dump_json())
        if size > MAX_EVENT_BYTES:
            # Refused before commit: a row the broker would reject would block the outbox.
            raise OutboxError(f"{envelope.event_type} is {size} bytes; events must stay under {MAX_EVENT_BYTES}")
        session.add(
            self.model(
                event_id=envelope.event_id,
                topic=topic,
                key=envelope.aggregate_id,
                event_type=envelope.event_type,
                envelope=body,
            )
        )
