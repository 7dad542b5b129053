"""The processed-event records: the idempotency guard, claimed in the event's own transaction,
and pruned once no redelivery can reach them any more.
"""

import logging
import uuid
from datetime import timedelta

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.contracts.catalog import topic_by_name
from shared.db import utcnow
from shared.housekeeping import delete_expired

log = logging.getLogger(__name__)

# A redelivery comes from the topic, so a record must outlive the topic's retention. The
# margin covers a consumer group that was stopped (or a replay from a dead-letter topic, which
# keeps 30 days) shortly before the oldest record would have been pruned.
DEDUPE_MARGIN = timedelta(days=7)


def dedupe_retention(topics: list[str]) -> timedelta:
    """How long a consumer of `topics` keeps its processed-event records."""
    longest = max(topic_by_name(t).retention_ms for t in topics)
    return timedelta(milliseconds=longest) + DEDUPE_MARGIN


class ProcessedEvents:
    def __init__(self, model: type, group_id: str, topics: list[str]):
        self.model = model
        self.group_id = group_id
        self.retention = dedupe_retention(topics)
        # One statement of one shape whatever the batch size: compiled and prepared once,
        # where a multi-row VALUES list is a new statement for every batch length.
        rows = select(
            bindparam("group", type_=String),
            func.unnest(bindparam("event_ids", type_=ARRAY(UUID(as_uuid=True)))),
            func.unnest(bindparam("topics", type_=ARRAY(String))),
        )
        table = model.__table__  # Core, not ORM: nothing to map back into objects
        self._claim = (
            insert(table)
            .from_select([table.c.consumer_group, table.c.event_id, table.c.topic], rows)
            .on_conflict_do_nothing()
            .returning(table.c.event_id)
        )

    async def claim(self, session: AsyncSession, events: list[tuple[uuid.UUID, str]]) -> set[uuid.UUID]:
        """Insert a record per (event_id, topic); the ids this call claimed (not seen before)."""
        params = {"group": self.group_id, "event_ids": [e for e, _ in events], "topics": [t for _, t in events]}
        return set(await session.scalars(self._claim, params))

    async def prune(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        try:
            await delete_expired(
                sessionmaker,
                self.model.__table__,
                self.model.consumer_group == self.group_id,
                self.model.processed_at < utcnow() - self.retention,
                lock=f"limelight.processed.{self.model.__table__.schema}.{self.group_id}",
            )
        except DBAPIError as exc:
            log.warning("pruning processed events failed", extra={"group": self.group_id, "error": repr(exc)})
