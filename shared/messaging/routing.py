"""Which handler gets a record: subscriptions checked against the catalog once, at
construction, and each record parsed into a typed envelope or a reason to skip it.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.catalog import Topic, topic_by_name
from shared.contracts.envelope import Envelope
from shared.messaging.failures import PoisonMessage

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
# Called once per transaction with the events its handler is about to apply, in order, before the
# first of them: to read for the whole batch what the handler would otherwise ask per event. It
# must change nothing the handler would not (what it learns goes in shared.db.transaction_memo).
Prepare = Callable[[AsyncSession, list[Envelope]], Awaitable[None]]
# Called once per transaction after its handler applied every event `prepare` was given, before the
# commit: to write what the handler deferred for the whole batch (a failure rolls the batch back).
Finish = Callable[[AsyncSession], Awaitable[None]]

# Outcomes of a record that is legitimately not applied (ADR 0005).
TOMBSTONE = "tombstone"  # a null value: a compaction marker, not an event
IGNORED = "ignored"  # an event its topic declares, that this consumer does not subscribe to


@dataclass(frozen=True)
class Subscription:
    topic: str
    event_type: str
    handler: Handler
    prepare: Prepare | None = None
    finish: Finish | None = None


class Router:
    def __init__(self, subscriptions: list[Subscription]):
        if not subscriptions:
            raise ValueError("a consumer needs at least one subscription")
        self.contracts: dict[str, Topic] = {}
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.prepares: dict[tuple[str, str], Prepare] = {}
        self.finishes: dict[tuple[str, str], Finish] = {}
        # Parametrised once: pydantic caches them too, but the lookup is on the hot path.
        self._models: dict[tuple[str, str], type[Envelope]] = {}
        for s in subscriptions:
            # Fail at start-up, not in a crash loop against the broker (ADR 0005).
            try:
                contract = topic_by_name(s.topic)
            except KeyError:
                raise ValueError(f"subscription to {s.topic!r}: no such topic in shared/contracts/catalog.py") from None
            if s.event_type not in contract.events:
                raise ValueError(
                    f"subscription to {s.topic!r}: {s.event_type!r} is not one of its events {sorted(contract.events)}"
                )
            self.contracts[s.topic] = contract
            self.handlers[(s.topic, s.event_type)] = s.handler
            if s.prepare is not None:
                self.prepares[(s.topic, s.event_type)] = s.prepare
            if s.finish is not None:
                if s.prepare is None:
                    raise ValueError(f"subscription to {s.topic!r}: a finish needs a prepare")
                self.finishes[(s.topic, s.event_type)] = s.finish
        for topic, contract in self.contracts.items():
            for event_type, payload in contract.events.items():
                self._models[(topic, event_type)] = Envelope[payload]  # type: ignore[valid-type]

    @property
    def topics(self) -> list[str]:
        return sorted(self.contracts)

    def parse(self, topic: str, value: bytes | None) -> Envelope | str:
        """The typed envelope, or TOMBSTONE / IGNORED; raises PoisonMessage for the rest."""
        if value is None:
            return TOMBSTONE
        try:
            data = json.loads(value)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PoisonMessage(f"not a valid envelope: not JSON ({exc})") from exc
        event_type = data.get("event_type") if isinstance(data, dict) else None
        if not isinstance(event_type, str):
            raise PoisonMessage("not a valid envelope: event_type: missing or not a string")
        model: type[BaseModel] | None = self._models.get((topic, event_type))
        if model is None:
            # Unknown to the catalog: a misspelling or a producer off-contract; parked, not lost.
            raise PoisonMessage(f"{event_type!r} is not an event of {topic} (see shared/contracts/catalog.py)")
        if (topic, event_type) not in self.handlers:
            return IGNORED
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise PoisonMessage(f"breaks the {event_type} contract: {_first_errors(exc)}") from exc

    def handler(self, topic: str, event_type: str) -> Handler:
        return self.handlers[(topic, event_type)]


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:limit]]
    return "; ".join(parts)
