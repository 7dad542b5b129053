"""The embedding worker: stale creators get the embedding of their text, a changed text makes them
stale and they are embedded again, a worker that dies mid-batch loses nothing, and a text that
changes while its batch encodes is not overwritten by the old one's embedding."""

import asyncio
import threading
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import pytest_asyncio

from runtime import services
from services.discovery.creator import text
from services.discovery.embedding.encoder import get_encoder
from services.discovery.embedding.worker import EmbeddingWorker
from shared.db import make_engine, make_sessionmaker
from tests.conftest import SERVICE_ENV, eventually
from tests.discovery.factory import insert_creator

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def embedding_row(db, creator_id: uuid.UUID):
    return await db.fetchrow(
        "SELECT embedding::text AS embedding, embedding_text_hash, embedding_stale, embedded_at"
        " FROM discovery.creators WHERE id = $1",
        creator_id,
    )


def vector(row) -> np.ndarray:
    return np.array([float(x) for x in row["embedding"].strip("[]").split(",")], dtype=np.float32)


# The worker drains one queue for the whole suite, in no order: behind this test's creator may be
# thousands that other tests left stale, embedded at the model's pace on a shared 2-core machine
# (a CI run under load took more than 30 s). What is tested is that it happens, not how fast
# (bench/README.md measures the rate).
EMBEDDED_WITHIN = 180


async def embedded(db, creator_id: uuid.UUID, expected_text: str):
    row = await embedding_row(db, creator_id)
    if row["embedding_stale"] or row["embedding_text_hash"] != text.text_hash(expected_text):
        return None
    return row


async def test_stale_creator_gets_the_embedding_of_its_text(discovery_db):
    now = datetime.now(UTC)
    posts = [
        {"caption": "Sourdough focaccia with rosemary #baking", "posted_at": now - timedelta(days=2)},
        {"caption": "Weeknight vegan lasagna", "posted_at": now - timedelta(days=1)},
    ]
    creator = await insert_creator(discovery_db, bio="Home baker in Leeds", niches=["food"], posts=posts)
    # Latest caption first.
    expected = text.embedding_text("Home baker in Leeds", ["food"], ["Weeknight vegan lasagna", posts[0]["caption"]])

    row = await eventually(lambda: embedded(discovery_db, creator, expected), timeout=EMBEDDED_WITHIN)

    assert row["embedded_at"] is not None
    reference = get_encoder().encode([expected])[0]
    assert float(vector(row) @ reference) > 0.9999


async def test_a_bio_change_makes_it_stale_and_it_is_embedded_again(discovery_db):
    creator = await insert_creator(discovery_db, bio="Trail running and ultramarathons", niches=["fitness"])
    first = await eventually(lambda: embedded(discovery_db, creator, "Trail running and ultramarathons\nfitness"), timeout=EMBEDDED_WITHIN)

    # What ingest does when the text of the embedding changes.
    await discovery_db.execute(
        "UPDATE discovery.creators SET bio = 'Knitting patterns and yarn reviews', embedding_stale = true WHERE id = $1",
        creator,
    )
    second = await eventually(lambda: embedded(discovery_db, creator, "Knitting patterns and yarn reviews\nfitness"), timeout=EMBEDDED_WITHIN)

    assert second["embedded_at"] > first["embedded_at"]
    assert float(vector(first) @ vector(second)) < 0.9


async def test_creator_without_text_gets_no_embedding_and_leaves_the_queue(discovery_db):
    creator = await insert_creator(discovery_db, bio=None, niches=[], posts=[])

    row = await eventually(lambda: embedded(discovery_db, creator, ""), timeout=EMBEDDED_WITHIN)

    assert row["embedding"] is None


class GatedEncoder:
    """The real encoder, held at the start of encode() until the test opens the gate: a batch
    caught mid-flight."""

    def __init__(self):
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.texts: list[str] = []

    def encode(self, texts):
        self.texts += texts
        self.entered.set()
        self.gate.wait(30)
        return get_encoder().encode(texts)


@pytest_asyncio.fixture
async def worker_off(platform):
    def restart_service(env):
        platform.start_service("discovery", env)
        services.wait_healthy(platform.s, "discovery")

    """The discovery service without its embedding worker, so the test's own worker is the only
    one claiming; the service is restarted as the suite runs it afterwards."""
    await asyncio.to_thread(restart_service, {**SERVICE_ENV, "EMBEDDING_WORKER_ENABLED": "false"})
    engine = make_engine(platform.service_env("discovery")["DATABASE_URL"])
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()
        await asyncio.to_thread(restart_service, SERVICE_ENV)


async def drain(sessionmaker) -> None:
    """Embed whatever other tests left stale, so the next claim takes this test's creators."""
    worker = EmbeddingWorker(sessionmaker, batch_size=64, encoder=get_encoder())
    for _ in range(100):
        if await worker.run_once() == 0:
            return


async def unlocked_stale(db, ids) -> set[uuid.UUID]:
    """Which of `ids` are stale and claimable right now (not locked by a worker)."""
    async with db.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT id FROM discovery.creators WHERE id = ANY($1) AND embedding_stale FOR NO KEY UPDATE SKIP LOCKED",
            list(ids),
        )
    return {r["id"] for r in rows}


async def test_a_worker_dying_mid_batch_loses_nothing(discovery_db, worker_off):
    await drain(worker_off)
    ids = {await insert_creator(discovery_db, bio=f"Street photography, roll {i}", niches=["photo"]) for i in range(3)}
    gated = GatedEncoder()
    task = asyncio.create_task(EmbeddingWorker(worker_off, batch_size=10, encoder=gated).run_once())
    assert await asyncio.to_thread(gated.entered.wait, 30)
    assert await unlocked_stale(discovery_db, ids) == set()  # claimed: another replica skips them

    task.cancel()  # the worker dies while the batch encodes
    gated.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await unlocked_stale(discovery_db, ids) == ids  # still stale, free for the next claim
    await EmbeddingWorker(worker_off, batch_size=10, encoder=get_encoder()).run_once()
    for creator in ids:
        row = await embedding_row(discovery_db, creator)
        assert not row["embedding_stale"] and row["embedding"] is not None


async def test_captions_changed_during_the_batch_keep_the_creator_stale(discovery_db, worker_off):
    await drain(worker_off)
    creator = await insert_creator(discovery_db, bio="Coffee roasting at home", niches=["coffee"],
                                   posts=[{"caption": "Light roast Ethiopian beans", "posted_at": datetime.now(UTC) - timedelta(days=1)}])
    gated = GatedEncoder()
    task = asyncio.create_task(EmbeddingWorker(worker_off, batch_size=10, encoder=gated).run_once())
    assert await asyncio.to_thread(gated.entered.wait, 30)

    # A post arrives while the batch encodes (its foreign key does not wait for the claim).
    account = await discovery_db.fetchval("SELECT id FROM discovery.accounts WHERE creator_id = $1", creator)
    await discovery_db.execute(
        "INSERT INTO discovery.posts (id, creator_id, account_id, platform, external_id, posted_at, type, caption)"
        " VALUES ($1, $2, $3, 'instagram', $4, $5, 'photo', 'Espresso machine teardown')",
        uuid.uuid4(), creator, account, uuid.uuid4().hex, datetime.now(UTC),
    )
    gated.gate.set()
    await task

    row = await embedding_row(discovery_db, creator)
    assert row["embedding_stale"] and row["embedding"] is None
    await EmbeddingWorker(worker_off, batch_size=10, encoder=get_encoder()).run_once()
    expected = "Coffee roasting at home\ncoffee\nEspresso machine teardown\nLight roast Ethiopian beans"
    assert await embedded(discovery_db, creator, expected)
