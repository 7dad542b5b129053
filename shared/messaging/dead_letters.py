"""Parking a record that can never be applied on `<topic>.dlq.<service>` (ADR 0001, ADR 0005)."""

import asyncio
import logging

from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from shared.contracts.catalog import dlq_topic
from shared.db import utcnow
from shared.messaging.failures import Abandoned
from shared.messaging.kafka import KafkaProducerHandle, backoff_delay, sleep_or_stop

log = logging.getLogger(__name__)

_MAX_ERROR_HEADER = 1000


class DeadLetters:
    def __init__(self, producer: KafkaProducerHandle, *, service: str, group_id: str):
        self.producer = producer
        self.service = service  # names the topic (one dead-letter topic per consuming service)
        self.group_id = group_id  # tells two groups of one service apart inside it

    async def publish(self, record, exc: BaseException, *, attempts: int, stop: asyncio.Event) -> None:
        """Publish the original record, untouched, with the failure described in headers.

        Retries until the broker acknowledges, because the offset must not move past a record
        that is neither processed nor parked; on stop it gives up and the record is redelivered.
        """
        headers = list(record.headers or []) + [
            ("dlq.error", str(exc)[:_MAX_ERROR_HEADER].encode()),
            ("dlq.error_type", type(exc).__name__.encode()),
            ("dlq.consumer", self.service.encode()),
            ("dlq.consumer_group", self.group_id.encode()),
            ("dlq.original_topic", record.topic.encode()),
            ("dlq.original_partition", str(record.partition).encode()),
            ("dlq.original_offset", str(record.offset).encode()),
            ("dlq.attempts", str(attempts).encode()),
            ("dlq.failed_at", utcnow().isoformat().encode()),
        ]
        value = record.value
        target = dlq_topic(record.topic, self.service)
        attempt = 0
        while True:
            attempt += 1
            producer = None  # the instance that failed, for the handle's reset
            try:
                producer = await self.producer.get()
                await producer.send_and_wait(target, value=value, key=record.key, headers=headers)
                return
            except MessageSizeTooLargeError:
                # The original plus our headers no longer fits: park the coordinates and the
                # error; the value stays readable on the original topic at that offset.
                value = None
                headers.append(("dlq.value_omitted", b"too large; read it at dlq.original_offset"))
            except (KafkaError, OSError) as send_error:
                if stop.is_set():
                    raise Abandoned from send_error
                log.warning("dead-letter publish failed, retrying", extra={"topic": target, "error": repr(send_error)})
                if producer is not None:
                    await self.producer.reset(producer)
                await sleep_or_stop(stop, backoff_delay(attempt, base=0.5, cap=5.0))
