"""Migration 0018 on a database of its own: the stored posts that a tag after a negation ("not
#ad") marked sponsored are judged again; others, and the paid-partnership label, stay as stored;
the downgrade gives the earlier rule back."""

import asyncio

import asyncpg
import pytest
from alembic import command

from shared.migrations import alembic_config
from tests.attribution.test_campaign_money_migration import scratch_database_of
from tests.discovery.factory import insert_creator

pytestmark = pytest.mark.integration

# caption, paid-partnership label, sponsored after 0018
POSTS = [
    ("Not #ad, I bought these myself", False, False),
    ("kein #Werbung - selbst gekauft", False, False),
    ("not #ad... ok, it is #ad", False, True),
    ("Thanks @brand #ad", False, True),
    ("not #ad", True, True),
    ("no #spon here, just #running", False, False),  # no disclosure tag: not sponsored before either
    ("no\u00a0#ad, paid for it myself", False, False),  # a no-break space, which Python's \s holds
]


@pytest.fixture
def discovery_scratch(platform):
    yield from scratch_database_of(platform, "discovery")


async def _sponsored(dsn: str) -> dict[str, bool]:
    conn = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return {r["caption"]: r["sponsored"] for r in await conn.fetch("SELECT caption, sponsored FROM discovery.posts")}
    finally:
        await conn.close()


async def _stored_as_0017_judged(dsn: str) -> None:
    """The posts as the rule before 0018 stored them: any disclosure tag made a post sponsored."""
    pool = await asyncpg.create_pool(dsn.replace("postgresql+asyncpg://", "postgresql://", 1), min_size=1, max_size=1)
    try:
        await insert_creator(pool, posts=[{"caption": c, "paid_partnership": paid} for c, paid, _ in POSTS])
        await pool.execute(
            "UPDATE discovery.posts SET sponsored = paid_partnership OR hashtags && ARRAY['ad', 'werbung']::varchar[]"
        )
    finally:
        await pool.close()


def test_0018_takes_back_the_disclosures_a_negation_took_back(discovery_scratch):
    config = alembic_config("discovery", discovery_scratch)
    command.upgrade(config, "0017")
    asyncio.run(_stored_as_0017_judged(discovery_scratch))
    before = asyncio.run(_sponsored(discovery_scratch))
    assert before["Not #ad, I bought these myself"] and before["kein #Werbung - selbst gekauft"]

    command.upgrade(config, "0018")
    assert asyncio.run(_sponsored(discovery_scratch)) == {caption: after for caption, _, after in POSTS}

    command.downgrade(config, "0017")
    assert asyncio.run(_sponsored(discovery_scratch)) == before
