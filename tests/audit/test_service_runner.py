"""The audit runner in process, against the suite's database: an engine error fails that audit
with its reason and the runner goes on; a runner whose lease was taken stores nothing."""

import uuid

import pytest
import pytest_asyncio

from services.audit.audit.runner import AuditRunner, Claim
from services.audit.config import AuditSettings
from services.audit.engine.classifier import default_model
from shared.db import make_engine, make_sessionmaker
from tests.audit.flow import creator_body, followers, ingest_creator, post_followers

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


class UnreadableModel:
    """A follower model whose file turned out corrupt: every call raises."""

    version = "unreadable-0"

    def audience_types(self, followers):
        raise RuntimeError("model weights are corrupt")


@pytest_asyncio.fixture
async def runner(platform):
    env = platform.service_env("audit")
    settings = AuditSettings(database_url=env["DATABASE_URL"], kafka_bootstrap_servers="127.0.0.1:1")
    engine = make_engine(env["DATABASE_URL"], pool_size=2)
    yield AuditRunner(make_sessionmaker(engine), settings)
    await engine.dispose()


async def held_by_us(audit_db, creator_id: str) -> Claim:
    """The creator's pending audit, marked running under a lease this test holds (so the service's
    own runner leaves it alone)."""
    token = uuid.uuid4()
    audit_id = await audit_db.fetchval(
        "update audit.audits set status = 'running', lease_token = $2, attempts = 1, started_at = now(), "
        "lease_expires_at = now() + interval '1 hour' where creator_id = $1::uuid and status = 'pending' returning id",
        creator_id, token,
    )
    assert audit_id is not None
    return Claim(audit_id, uuid.UUID(creator_id), token)


async def test_an_engine_error_fails_that_audit_and_the_runner_goes_on(gateway, audit_db, runner):
    broken, healthy = [await ingest_creator(gateway, creator_body(posts=2, points=2)) for _ in range(2)]
    for creator in (broken, healthy):
        await post_followers(gateway, followers(creator["id"], 50))

    runner.model = UnreadableModel()
    first = await held_by_us(audit_db, broken["id"])
    await runner.execute(first)
    row = await audit_db.fetchrow("select status, failure_reason, score from audit.audits where id = $1", first.audit_id)
    assert row["status"] == "failed" and row["score"] is None
    assert "RuntimeError" in row["failure_reason"] and "corrupt" in row["failure_reason"]
    assert await audit_db.fetchval(
        "select count(*) from audit.outbox where key = $1 and event_type = 'AuditFailed'", broken["id"]
    ) == 1

    runner.model = default_model()
    second = await held_by_us(audit_db, healthy["id"])
    await runner.execute(second)
    assert await audit_db.fetchval("select status from audit.audits where id = $1", second.audit_id) == "completed"


async def test_a_runner_that_lost_its_lease_stores_nothing(gateway, audit_db, runner):
    creator = await ingest_creator(gateway, creator_body(posts=1, points=1))
    claim = await held_by_us(audit_db, creator["id"])
    # Its lease ran out and another runner took the audit: a new token.
    await audit_db.execute("update audit.audits set lease_token = gen_random_uuid() where id = $1", claim.audit_id)
    runner.model = default_model()
    await runner.execute(claim)
    row = await audit_db.fetchrow("select status, finished_at from audit.audits where id = $1", claim.audit_id)
    assert (row["status"], row["finished_at"]) == ("running", None)
    assert await audit_db.fetchval(
        "select count(*) from audit.outbox where key = $1 and event_type in ('AuditCompleted', 'AuditFailed')",
        creator["id"],
    ) == 0
    await audit_db.execute("update audit.audits set status = 'failed' where id = $1", claim.audit_id)
