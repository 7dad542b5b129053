"""Transactional outbox: state changes and the events they cause are written in one database
transaction; the relay publishes them afterwards. Never publish and commit separately.

An event is serialized once, here: the row keeps the exact bytes the relay sends, so the size
checked before commit is the size the broker sees. Each event gets the next sequence number of
its (topic, aggregate) from a counter row whose lock also makes concurrent writers of one
aggregate commit, and take outbox ids, one after the other (ADR 0003).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, LargeBinary, String, Text, func, insert, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.contracts.catalog import topic_by_name
from shared.contracts.envelope import Envelope


# Kafka's default max.message.bytes is 1 MiB; leave room for the record's key and headers.
MAX_EVENT_BYTES = 900_000
# From this many rows, `add_all` writes them with binary COPY (one stream, no statement
# parameters) instead of a multi-row INSERT; below it, the INSERT's one round trip is cheaper.
COPY_FROM_ROWS = 64
_COPIED = ("event_id", "topic", "key", "event_type", "sequence", "value", "correlation_id")


class OutboxError(ValueError):
    """An event that does not match its topic's contract: a programming error, caught before commit."""


def messaging_tables(base: type[DeclarativeBase]) -> tuple[type, type]:
    """The `outbox` and `processed_events` tables in the schema of `base` (and the outbox's
    sequence counters, reachable as `OutboxMessage.sequences`)."""

    class OutboxMessage(base):  # type: ignore[valid-type, misc]
        __tablename__ = "outbox"
        __table_args__ = (
            # The relay only ever scans publishable rows in id order; keep that index tiny.
            Index("ix_outbox_unsent", "id", postgresql_where="sent_at IS NULL AND parked_at IS NULL"),
            # Housekeeping deletes published rows by age.
            Index("ix_outbox_sent_at", "sent_at", postgresql_where="sent_at IS NOT NULL"),
            # Parked rows wait for an operator; counted for the outbox_parked_events gauge.
            Index("ix_outbox_parked", "parked_at", postgresql_where="parked_at IS NOT NULL"),
        )

        id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
        event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
        topic: Mapped[str] = mapped_column(String(249))
        key: Mapped[str] = mapped_column(String(255))
        event_type: Mapped[str] = mapped_column(String(100))
        sequence: Mapped[int | None] = mapped_column(
            BigInteger, comment="The envelope's sequence within (topic, key); null on rows older than it."
        )
        value: Mapped[bytes] = mapped_column(
            LargeBinary, comment="The record value exactly as the relay sends it: the envelope as UTF-8 JSON."
        )
        correlation_id: Mapped[str | None] = mapped_column(Text)
        created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
        sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
        parked_at: Mapped[datetime | None] = mapped_column(
            DateTime(timezone=True), comment="Set when the broker refused the row for good; last_error says why."
        )
        attempts: Mapped[int] = mapped_column(Integer, server_default="0")
        last_error: Mapped[str | None] = mapped_column(Text)

    class OutboxSequence(base):  # type: ignore[valid-type, misc]
        """The last sequence number given to an event of each (topic, aggregate key)."""

        __tablename__ = "outbox_sequences"

        topic: Mapped[str] = mapped_column(String(249), primary_key=True)
        key: Mapped[str] = mapped_column(String(255), primary_key=True)
        last_sequence: Mapped[int] = mapped_column(BigInteger)

    OutboxMessage.sequences = OutboxSequence

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


@dataclass
class Rendered:
    """Events checked and serialised by `Outbox.render`, each aggregate's numbered from 1."""

    topic: str
    envelopes: list[Envelope[BaseModel]]
    sequenced: list[Envelope[BaseModel] | None]  # None: not serialised ahead
    rows: list[dict[str, Any] | None]


class Outbox:
    """Adds events to a service's outbox inside the caller's transaction."""

    def __init__(self, model: type, producer: str):
        self.model = model
        self.producer = producer
        counters = model.sequences.__table__
        # One statement numbers every event of one `add_all`: each aggregate's counter moves by
        # its count of events, and its rows are locked in key order, so two writers locking the
        # same aggregates cannot deadlock on this statement.
        self._next_sequences = text(
            f"""
            insert into "{counters.schema}"."{counters.name}" as c (topic, key, last_sequence)
            select :topic, key, count(*) from unnest(cast(:keys as text[])) as k(key)
            group by key order by key
            on conflict (topic, key) do update set last_sequence = c.last_sequence + excluded.last_sequence
            returning key, last_sequence
            """
        )

    async def add(self, session: AsyncSession, topic: str, envelope: Envelope[BaseModel]) -> Envelope[BaseModel]:
        """Add `envelope` to the outbox; returns it with its sequence number.

        Takes the row lock of the aggregate's sequence counter until the caller's transaction
        ends, so a concurrent writer of the same aggregate waits for it.
        """
        return (await self.add_all(session, topic, [envelope]))[0]

    async def add_sole(self, session: AsyncSession, topic: str, envelope: Envelope[BaseModel]) -> Envelope[BaseModel]:
        """Add the one and only event its aggregate will ever have (a click: recorded once, never
        changed): sequence 1, with no counter row. Nothing is locked and nothing is left behind
        per aggregate, so writers of different aggregates never wait for each other and a hot
        stream of such events leaves no counter row each. A second event of the same aggregate
        would also be 1, so `add` is the way for any aggregate that can change."""
        row = self.sole_row(topic, envelope)
        connection = await session.connection()
        await connection.execute(insert(self.model.__table__), [row])
        return envelope.model_copy(update={"sequence": 1})

    def sole_row(self, topic: str, envelope: Envelope[BaseModel]) -> dict[str, Any]:
        """The outbox row `add_sole` writes (contract checked, serialised, size checked), for a
        writer that inserts it inside a statement of its own (the click redirect's)."""
        self._check_contract(topic, envelope)
        return self._row(topic, envelope.model_copy(update={"sequence": 1}))

    async def add_all(
        self, session: AsyncSession, topic: str, envelopes: list[Envelope[BaseModel]]
    ) -> list[Envelope[BaseModel]]:
        """Add several events of one topic in one round trip (a bulk writer's way); returns them
        numbered, each aggregate's events in list order."""
        for envelope in envelopes:
            self._check_contract(topic, envelope)
        return await self._add(session, topic, envelopes, None)

    def render(self, topic: str, envelopes: list[Envelope[BaseModel]], new: set[str]) -> "Rendered":
        """Check events now and serialise those of the aggregates in `new` (keys that have no
        event yet: a bulk writer's new creators) numbered from 1, so that the work is done while
        the database is busy with something else. `add_rendered` numbers them for real, and
        serialises there the others, and any whose aggregate turns out to have events before."""
        first: dict[str, int] = {}
        sequenced: list[Envelope[BaseModel] | None] = []
        for envelope in envelopes:
            self._check_contract(topic, envelope)
            if envelope.aggregate_id in new:
                number = first[envelope.aggregate_id] = first.get(envelope.aggregate_id, 0) + 1
                sequenced.append(envelope.model_copy(update={"sequence": number}))
            else:
                sequenced.append(None)
        rows = [None if e is None else self._row(topic, e) for e in sequenced]
        return Rendered(topic, envelopes, sequenced, rows)

    async def add_rendered(self, session: AsyncSession, rendered: "Rendered") -> list[Envelope[BaseModel]]:
        """`add_all` for events `render` prepared."""
        return await self._add(session, rendered.topic, rendered.envelopes, rendered)

    async def _add(
        self, session: AsyncSession, topic: str, envelopes: list[Envelope[BaseModel]], rendered: "Rendered | None"
    ) -> list[Envelope[BaseModel]]:
        if not envelopes:
            return []
        connection = await session.connection()
        result = await connection.execute(
            self._next_sequences, {"topic": topic, "keys": [e.aggregate_id for e in envelopes]}
        )
        counts: dict[str, int] = {}
        for envelope in envelopes:
            counts[envelope.aggregate_id] = counts.get(envelope.aggregate_id, 0) + 1
        # The counter now holds each aggregate's last number; this batch took the `count` before it.
        following = {key: last - counts[key] + 1 for key, last in result.all()}
        added, rows = [], []
        for i, envelope in enumerate(envelopes):
            number = following[envelope.aggregate_id]
            following[envelope.aggregate_id] += 1
            ahead = rendered.sequenced[i] if rendered is not None else None
            if ahead is not None and ahead.sequence == number:
                added.append(ahead)
                rows.append(rendered.rows[i])
                continue
            sequenced = envelope.model_copy(update={"sequence": number})
            added.append(sequenced)
            rows.append(self._row(topic, sequenced))
        # In list order, so outbox ids follow the sequence numbers: one multi-row INSERT (Core,
        # not the ORM's unit of work, which costs more per row than the round trip), or for a
        # bulk writer's batch one binary COPY, which takes identity values in row order too.
        if len(rows) < COPY_FROM_ROWS:
            await connection.execute(insert(self.model.__table__), rows)
        else:
            table = self.model.__table__
            driver = (await connection.get_raw_connection()).driver_connection
            await driver.copy_records_to_table(
                table.name, schema_name=table.schema, columns=_COPIED,
                records=[tuple(row[c] for c in _COPIED) for row in rows],
            )
        return added

    def _row(self, topic: str, sequenced: Envelope[BaseModel]) -> dict[str, Any]:
        value = _serialize(sequenced)
        if len(value) > MAX_EVENT_BYTES:
            # Refused before commit: a row the broker refuses would be parked, never delivered.
            raise OutboxError(
                f"{sequenced.event_type} is {len(value)} bytes; events must stay under {MAX_EVENT_BYTES}"
            )
        return {
            "event_id": sequenced.event_id,
            "topic": topic,
            "key": sequenced.aggregate_id,
            "event_type": sequenced.event_type,
            "sequence": sequenced.sequence,
            "value": value,
            "correlation_id": sequenced.correlation_id,
        }

    def _check_contract(self, topic: str, envelope: Envelope[BaseModel]) -> None:
        contract = topic_by_name(topic)
        expected = contract.events.get(envelope.event_type)
        if expected is None:
            raise OutboxError(f"{envelope.event_type} is not an event of topic {topic}")
        if not isinstance(envelope.payload, expected):
            raise OutboxError(f"{envelope.event_type} payload must be {expected.__name__}")
        if envelope.producer != self.producer or contract.producer != self.producer:
            raise OutboxError(f"{self.producer} cannot publish to {topic}")


def _serialize(envelope: Envelope[Any]) -> bytes:
    """UTF-8 JSON, non-ASCII text as is: up to 6x smaller than `json.dumps`' ASCII escapes."""
    return type(envelope).__pydantic_serializer__.to_json(envelope)
