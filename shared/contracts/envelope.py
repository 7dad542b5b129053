"""The one envelope every Kafka message carries (see docs/architecture.md, "Event backbone")."""

import functools
import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.observability import current_correlation_id

P = TypeVar("P", bound=BaseModel)


class Envelope(BaseModel, Generic[P]):
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: uuid.UUID = Field(description="Unique id of this event; consumers deduplicate on it.")
    event_type: str = Field(description="Past-tense fact, e.g. CreatorCreated.")
    schema_version: int = Field(ge=1, description="Minor version of the payload contract within the topic's major.")
    occurred_at: AwareDatetime = Field(description="When the fact happened, UTC.")
    producer: str = Field(description="Service that produced the event.")
    tenant_id: uuid.UUID | None = Field(default=None, description="Tenant the event belongs to, if any.")
    aggregate_id: str = Field(description="Aggregate the event is about; also the Kafka key.")
    correlation_id: str | None = Field(default=None, description="Follows one user action across services.")
    sequence: int | None = Field(
        default=None,
        ge=1,
        description="Position of this event among the events of its aggregate on this topic: 1, 2, 3... "
        "in commit order, assigned by the producer's outbox. Projections order by it, never by "
        "occurred_at. A gap means an event was parked by the producer. Absent on events written "
        "before it existed.",
    )
    payload: P


class RawEnvelope(Envelope[dict[str, Any]]):  # type: ignore[misc]
    """An envelope whose payload is not yet validated against its event type's model."""


@functools.cache
def envelope_of(payload_type: type[BaseModel]) -> type[Envelope]:
    """`Envelope[payload_type]`, made once per payload type and kept. Pydantic's own cache of
    parametrised models holds them weakly: once the cycle collector has freed one, the next event
    of that type builds the class again (a model class each time, ~7 % of an order's CPU)."""
    return Envelope[payload_type]  # type: ignore[valid-type]


def new_envelope(
    *,
    event_type: str,
    producer: str,
    aggregate_id: str,
    payload: BaseModel,
    tenant_id: uuid.UUID | None = None,
    schema_version: int = 1,
    correlation_id: str | None = None,
) -> Envelope:
    """A new event; its `sequence` is assigned when it is added to the outbox."""
    return envelope_of(type(payload))(
        event_id=uuid.uuid4(),
        event_type=event_type,
        schema_version=schema_version,
        occurred_at=datetime.now(UTC),
        producer=producer,
        tenant_id=tenant_id,
        aggregate_id=aggregate_id,
        correlation_id=correlation_id or current_correlation_id(),
        payload=payload,
    )
