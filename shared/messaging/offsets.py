"""Offsets a consumer has finished, committed only for partitions it still owns, and the lag
they leave behind (`consumer_lag_messages`), read from what the fetcher already knows.
"""

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from prometheus_client import Gauge

log = logging.getLogger(__name__)

LAG = Gauge(
    "consumer_lag_messages",
    "Records on a partition this member has not applied yet: high watermark minus next offset",
    ["group", "topic", "partition"],
)


class Offsets:
    def __init__(self, group_id: str):
        self.group_id = group_id
        self.kafka: AIOKafkaConsumer | None = None
        self._pending: dict[TopicPartition, int] = {}
        self._lagging: set[TopicPartition] = set()
        # Held while records are applied and while partitions are revoked, so an offset is
        # never recorded for a partition this member no longer owns.
        self.lock = asyncio.Lock()

    def done(self, tp: TopicPartition, next_offset: int) -> None:
        self._pending[tp] = next_offset

    async def commit(self, partitions: set[TopicPartition] | None = None) -> None:
        """Commit finished offsets of partitions still assigned (caller holds the lock)."""
        if self.kafka is None or not self._pending:
            return
        assigned = self.kafka.assignment()
        for tp in [tp for tp in self._pending if tp not in assigned]:
            del self._pending[tp]  # its new owner re-reads from the last commit; dedupe absorbs it
        offsets = {tp: off for tp, off in self._pending.items() if partitions is None or tp in partitions}
        if not offsets:
            return
        try:
            await self.kafka.commit(offsets)
        except (CommitFailedError, IllegalStateError):
            # The group rebalanced under us: the new owner re-reads these records and the
            # processed-event record turns them into no-ops.
            log.warning("offset commit lost to a rebalance", extra={"group": self.group_id})
        except KafkaError as exc:
            log.warning("offset commit failed, will retry", extra={"group": self.group_id, "error": repr(exc)})
            return
        for tp, offset in offsets.items():
            if self._pending.get(tp) == offset:
                del self._pending[tp]

    async def revoke(self, revoked: set[TopicPartition]) -> None:
        async with self.lock:
            await self.commit(revoked)
            for tp in revoked:
                self._pending.pop(tp, None)
            self.forget_lag(revoked)

    async def refresh_lag(self, unapplied: dict[TopicPartition, int]) -> None:
        """Set the lag of every assigned partition the fetcher has seen.

        `unapplied` maps a partition to the first offset fetched but not applied yet; elsewhere
        the fetch position is the next offset to apply. Both figures are local: no round trip.
        """
        kafka = self.kafka
        if kafka is None:
            return
        for tp in kafka.assignment():
            high = kafka.highwater(tp)
            if high is None:
                continue  # no fetch answered yet: nothing known, nothing claimed
            try:
                position = unapplied[tp] if tp in unapplied else await kafka.position(tp)
            except IllegalStateError:
                continue  # revoked meanwhile
            LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(max(0, high - position))
            self._lagging.add(tp)

    def forget_lag(self, partitions: set[TopicPartition] | None = None) -> None:
        """Drop the gauges of partitions this member no longer owns: their owner reports them."""
        for tp in list(self._lagging if partitions is None else partitions & self._lagging):
            LAG.remove(self.group_id, tp.topic, str(tp.partition))
            self._lagging.discard(tp)


class CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, offsets: Offsets):
        self.offsets = offsets

    async def on_partitions_revoked(self, revoked):
        # Waits for the records being applied, then commits what this member finished.
        await self.offsets.revoke(set(revoked))

    async def on_partitions_assigned(self, assigned):
        return None
