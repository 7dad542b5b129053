"""Long-lived idempotent Kafka producers, started lazily so that a service can boot (and serve
reads) while the broker is down; the outbox holds events until it is back.

A handle is shared by the callers of one process (dead letters, `/readyz`); a worker whose
failures must not reach the others (the outbox relay) takes a handle of its own with
`for_worker`. After a failure a caller resets only the producer instance it was using, so a
reset never stops a producer that another caller has already replaced and is using.
"""

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)


def backoff_delay(attempt: int, *, base: float = 0.2, cap: float = 5.0) -> float:
    """Exponential backoff: base, 2*base, 4*base ... capped."""
    return min(cap, base * (2 ** max(0, attempt - 1)))


class KafkaProducerHandle:
    def __init__(self, bootstrap_servers: str, client_id: str):
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    def for_worker(self, name: str) -> "KafkaProducerHandle":
        """A separate handle (own producer, own connections) for one worker of this process."""
        return KafkaProducerHandle(self.bootstrap_servers, f"{self.client_id}.{name}")

    async def get(self) -> AIOKafkaProducer:
        """The started producer; raises KafkaError when the broker cannot be reached."""
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap_servers,
                    client_id=self.client_id,
                    # acks=all + idempotence: a broker-side retry never duplicates or reorders
                    # within a partition (KIP-98).
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=2,
                    # Idempotence allows one request in flight per partition, so what one round
                    # trip carries is the throughput: aiokafka's default batch (16 KiB) is ten
                    # 1.5 kB webhook deliveries; 512 KiB (under the broker's 1 MiB
                    # message.max.bytes) lets concurrent sends share one (ADR 0038).
                    max_batch_size=512 * 1024,
                    request_timeout_ms=10_000,
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def reset(self, failed: AIOKafkaProducer) -> None:
        """Drop and stop `failed` if it is still the current producer, so the next `get` builds a
        fresh one; a no-op when another caller has already replaced it, so one worker's failure
        never stops a producer another worker is using."""
        async with self._lock:
            if failed is not self._producer:
                return
            self._producer = None
        await _stop(failed)

    async def ping(self, timeout: float = 3.0) -> bool:
        """True when the broker answers a metadata request."""
        try:
            producer = await asyncio.wait_for(self.get(), timeout)
            await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout)
            return True
        except (KafkaError, TimeoutError, OSError):
            return False

    async def close(self) -> None:
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            await _stop(producer)


async def _stop(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    except KafkaError:
        log.warning("error while stopping kafka producer", exc_info=True)


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake at once when `stop` is set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
