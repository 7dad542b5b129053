"""Per-credential limits: a plan's bucket trips with 429 and its headers, refills, and is one
bucket however many gateway replicas serve the key (docs/decisions/0014)."""

import asyncio
import math
import time
import uuid

import asyncpg
import httpx
import pytest

from services.gateway.traffic.limits import PlanLimit
from services.gateway.traffic.policy import MAX_KEY_LENGTH, bucket_key
from shared.identity import Identity
from tests.conftest import bearer
from tests.gateway.fakes import FakeUpstream
from tests.gateway.traffic.helpers import ROOMY, replica, settings_for, tenant_on_plan

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

PATH = "/v1/discovery/creators"


async def test_a_key_over_its_plan_gets_429_with_headers_and_recovers_after_the_refill(platform):
    tiny = PlanLimit(rate=1, burst=3)
    tenant = await tenant_on_plan(platform, "tiny")
    async with FakeUpstream() as upstream:
        settings = settings_for(platform, upstream.url, gateway_rate_limits={"standard": ROOMY, "tiny": tiny})
        async with replica(settings, key=tenant.key) as client:
            accepted = [await client.get(PATH) for _ in range(3)]
            refused = await client.get(PATH)
            assert refused.status_code == 429
            await asyncio.sleep(int(refused.headers["Retry-After"]) + 0.1)
            recovered = await client.get(PATH)

    assert [r.status_code for r in accepted] == [200, 200, 200]
    assert [r.headers["RateLimit-Limit"] for r in accepted] == ["3", "3", "3"]
    assert [int(r.headers["RateLimit-Remaining"]) for r in accepted] == [2, 1, 0]
    assert all(int(r.headers["RateLimit-Reset"]) >= 1 for r in accepted)
    assert refused.json()["error"] == "rate_limited"
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["Retry-After"]) == 1
    assert 1 <= int(refused.headers["RateLimit-Reset"]) <= 3
    assert recovered.status_code == 200


async def test_a_key_of_an_unlisted_plan_gets_the_standard_plan(platform):
    tenant = await tenant_on_plan(platform, "made-up-plan")
    async with FakeUpstream() as upstream:
        settings = settings_for(platform, upstream.url, gateway_rate_limits={"standard": PlanLimit(rate=1, burst=2)})
        async with replica(settings, key=tenant.key) as client:
            statuses = [(await client.get(PATH)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


async def test_two_replicas_share_one_limit_within_the_documented_bound(platform, service_dsn):
    """From a full bucket, replicas together accept at most burst + rate × elapsed, and they leave
    unused at most one lease each (ADR 0014)."""
    plan = PlanLimit(rate=2, burst=24)
    lease_seconds = 2.0  # a lease of 4 tokens: the replicas really do take batches
    tenant = await tenant_on_plan(platform, "tiny")
    async with FakeUpstream() as upstream:
        settings = settings_for(
            platform, upstream.url,
            gateway_rate_limits={"standard": ROOMY, "tiny": plan},
            gateway_rate_limit_lease_seconds=lease_seconds,
            # A slow lease on a busy machine must not look like an outage (per-replica limits):
            # this test is about sharing; test_database_outage.py is about outages.
            gateway_rate_limit_db_timeout_seconds=10,
        )
        async with replica(settings, key=tenant.key) as first, replica(settings, key=tenant.key) as second:
            lease = first.app.state.traffic.keys.lease_size(plan)
            assert lease == 4
            started = time.monotonic()
            answers = await asyncio.gather(*(client.get(PATH) for _ in range(40) for client in (first, second)))
            elapsed = time.monotonic() - started
            round_trips = first.app.state.traffic.keys.round_trips + second.app.state.traffic.keys.round_trips

    statuses = [r.status_code for r in answers]
    accepted = statuses.count(200)
    assert set(statuses) == {200, 429}
    assert accepted <= plan.burst + math.ceil(plan.rate * elapsed)
    assert accepted >= plan.burst - 2 * lease
    by_replica = [statuses[0::2].count(200), statuses[1::2].count(200)]
    assert min(by_replica) >= 1, by_replica
    # Leases, not a query per request.
    assert round_trips < len(answers) / 2
    connection = await asyncpg.connect(service_dsn("gateway"))
    try:
        row = await connection.fetchrow("select tokens from gateway.rate_buckets where key = $1", f"key:{tenant.key_id}")
    finally:
        await connection.close()
    assert row is not None and row["tokens"] < 1 + plan.rate * elapsed


async def test_each_credential_has_its_own_bucket(platform):
    tiny = PlanLimit(rate=0.5, burst=1)
    first, second = await tenant_on_plan(platform, "tiny"), await tenant_on_plan(platform, "tiny")
    async with FakeUpstream() as upstream:
        settings = settings_for(platform, upstream.url, gateway_rate_limits={"standard": ROOMY, "tiny": tiny})
        async with replica(settings) as client:
            one = [(await client.get(PATH, headers={"Authorization": f"Bearer {first.key}"})).status_code for _ in range(2)]
            other = (await client.get(PATH, headers={"Authorization": f"Bearer {second.key}"})).status_code
    assert one == [200, 429]
    assert other == 200


async def test_a_jwt_caller_is_limited_per_tenant_and_subject_and_long_subjects_fit_the_key_column():
    tenant_id = uuid.uuid4()
    short = Identity(tenant_id=tenant_id, subject="user-42", scopes=frozenset())
    long = Identity(tenant_id=tenant_id, subject="u" * 500, scopes=frozenset())
    keyed = Identity(tenant_id=tenant_id, subject="key:abc", scopes=frozenset(), key_id="abc")
    assert bucket_key(short) == f"tenant:{tenant_id}:sub:user-42"
    assert bucket_key(keyed) == "key:abc"
    assert len(bucket_key(long)) <= MAX_KEY_LENGTH
    assert bucket_key(long) != bucket_key(Identity(tenant_id=tenant_id, subject="u" * 499, scopes=frozenset()))


async def test_more_keys_do_not_multiply_a_tenants_limit(platform):
    """Every key of a tenant also takes from the tenant's bucket (the plan times
    GATEWAY_TENANT_RATE_MULTIPLIER): making keys is no way round the plan."""
    tiny = PlanLimit(rate=0.01, burst=2)
    tenant = await tenant_on_plan(platform, "tiny")
    # Three more keys, made through the suite's own gateway (not the limited replica below).
    async with httpx.AsyncClient(base_url=platform.s.url("gateway"), headers=bearer(tenant.key), timeout=15) as own:
        keys = []
        for n in range(3):
            made = await own.post("/v1/keys", json={"name": f"extra {n}", "scopes": ["discovery:read"]})
            assert made.status_code == 201, made.text
            keys.append(made.json()["key"])
    async with FakeUpstream() as upstream:
        settings = settings_for(
            platform, upstream.url, gateway_rate_limits={"standard": ROOMY, "tiny": tiny}, gateway_tenant_rate_multiplier=2
        )
        async with replica(settings) as client:
            # Each key alone could take 2 (6 in all); the tenant's bucket holds 2 x 2 = 4.
            answers = [(await client.get(PATH, headers=bearer(key))).status_code for key in keys for _ in range(2)]
    assert answers.count(200) == 4, answers
    assert answers[4:] == [429, 429], answers
