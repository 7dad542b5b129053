"""The embedding worker: creators whose content embedding is stale get a new one, off the request
path (fits `shared.app.Worker`).

The queue is the `embedding_stale` flag itself (partial index ix_discovery_creators_embedding_stale),
so it survives restarts and needs no broker. One batch is one transaction:

1. claim up to `batch_size` stale creators `FOR NO KEY UPDATE SKIP LOCKED` (replicas take
   different rows; a creator being embedded is skipped, not waited for; NO KEY, so that posts can
   still be inserted for it meanwhile: their foreign key only takes a KEY SHARE lock) and read
   their bio, niches and latest captions;
2. encode the texts in a thread (`asyncio.to_thread`): the event loop keeps serving requests;
3. read the texts again and write `embedding`, `embedding_text_hash`, `embedded_at` and
   `embedding_stale = false` only where the text's hash is still the one encoded. Captions are
   not under the row lock: a post that arrived meanwhile leaves its creator stale for the next
   batch. A creator with no text at all gets no embedding and stops being stale.

A crash or a restart mid-batch rolls the transaction back: the rows are still stale and the
next claim takes them. The row locks are held while a batch encodes (about a second at the
default size): an ingest write to one of those creators waits that long, never more.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence

import numpy as np
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.discovery.creator import text as creator_text
from services.discovery.creator.models import Creator, Post
from services.discovery.embedding.encoder import Encoder, get_encoder
from shared.messaging.kafka import backoff_delay, sleep_or_stop

log = logging.getLogger(__name__)

EMBEDDED = Counter("discovery_embeddings_total", "Creators whose content embedding was written, by outcome", ["outcome"])
BACKLOG = Gauge("discovery_embedding_backlog", "Creators whose content embedding is stale")
BATCH_SECONDS = Histogram(
    "discovery_embedding_batch_seconds",
    "Time to claim, encode and write one batch",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)

# The texts of the claimed creators: bio, niches and the latest RECENT_CAPTIONS captions, in one
# statement (the posts index serves the lateral per creator).
TEXTS_SQL = text(
    """
    SELECT c.id, c.bio, c.niches,
           coalesce(array(
               SELECT p.caption FROM discovery.posts p
               WHERE p.creator_id = c.id AND p.caption IS NOT NULL
               ORDER BY p.posted_at DESC, p.id
               LIMIT :captions
           ), '{}') AS captions
    FROM discovery.creators c
    WHERE c.id = ANY(:ids)
    """
)


async def creator_texts(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The embedding text of each creator (text.embedding_text), by id."""
    rows = await session.execute(TEXTS_SQL, {"ids": list(ids), "captions": creator_text.RECENT_CAPTIONS})
    return {row.id: creator_text.embedding_text(row.bio, row.niches, row.captions) for row in rows}


class EmbeddingWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        batch_size: int = 32,
        poll_interval: float = 2.0,
        metrics_interval: float = 15.0,
        encoder: Encoder | None = None,
    ):
        self.sessionmaker = sessionmaker
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.metrics_interval = metrics_interval
        self._encoder = encoder

    @property
    def encoder(self) -> Encoder:
        # Loaded on the first batch, not at start-up: a replica with nothing to embed never
        # pays the ~90 MB.
        if self._encoder is None:
            self._encoder = get_encoder()
        return self._encoder

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_metrics = loop.time()
        failures = 0
        while not stop.is_set():
            try:
                if loop.time() >= next_metrics:
                    BACKLOG.set(await self.backlog())
                    next_metrics = loop.time() + self.metrics_interval
                claimed = await self.run_once()
                failures = 0
            except (DBAPIError, OSError) as exc:
                failures += 1
                log.warning("embedding worker cannot reach the database", extra={"error": repr(exc), "attempt": failures})
                await sleep_or_stop(stop, backoff_delay(failures, base=0.5, cap=10.0))
                continue
            if claimed < self.batch_size:
                await sleep_or_stop(stop, self.poll_interval)

    async def backlog(self) -> int:
        async with self.sessionmaker() as session:
            return await session.scalar(select(func.count()).select_from(Creator).where(Creator.embedding_stale))

    async def run_once(self) -> int:
        """Embed one batch of stale creators; the number claimed."""
        started = time.perf_counter()
        async with self.sessionmaker() as session, session.begin():
            ids = (
                await session.scalars(
                    select(Creator.id)
                    .where(Creator.embedding_stale)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True, key_share=True)
                )
            ).all()
            if not ids:
                return 0
            texts = await creator_texts(session, ids)
            with_text = [creator_id for creator_id in ids if texts[creator_id]]
            vectors = await asyncio.to_thread(self.encoder.encode, [texts[i] for i in with_text])
            # Again, now: captions may have changed while the batch encoded (see the module doc).
            current = await creator_texts(session, ids)
            written = await self._write(session, ids, texts, current, dict(zip(with_text, vectors, strict=True)))
        BATCH_SECONDS.observe(time.perf_counter() - started)
        log.info("embedded a batch", extra={"claimed": len(ids), **written})
        return len(ids)

    async def _write(
        self,
        session: AsyncSession,
        ids: Sequence[uuid.UUID],
        encoded: dict[uuid.UUID, str],
        current: dict[uuid.UUID, str],
        vectors: dict[uuid.UUID, np.ndarray],
    ) -> dict[str, int]:
        outcomes = {"embedded": 0, "empty": 0, "changed": 0}
        for creator_id in ids:
            if current.get(creator_id) != encoded[creator_id]:
                outcomes["changed"] += 1  # stays stale: the next batch embeds the new text
                continue
            vector = vectors.get(creator_id)
            values = {
                "embedding": None if vector is None else vector.tolist(),
                "embedding_text_hash": creator_text.text_hash(encoded[creator_id]),
                "embedded_at": func.now(),
                "embedding_stale": False,
                # Not a change of the creator: updated_at keeps meaning "the creator's data changed".
                "updated_at": Creator.updated_at,
            }
            await session.execute(update(Creator).where(Creator.id == creator_id).values(**values))
            outcomes["embedded" if vector is not None else "empty"] += 1
        for outcome, count in outcomes.items():
            if count:
                EMBEDDED.labels(outcome).inc(count)
        return outcomes
