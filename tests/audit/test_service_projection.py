"""Discovery's events projected into audit's tables: duplicates and events older than what a row
holds change nothing, whatever order they arrive in. Events are published straight to Kafka, as
discovery's relay would, with the sequences of their aggregate."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.contracts.discovery import (
    AccountSnapshot,
    CreatorPayload,
    FollowerCountsObserved,
    FollowerPoint,
    PostSnapshot,
    PostsObserved,
)
from shared.contracts.envelope import new_envelope
from tests.conftest import eventually, exactly, processed_count, publish

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TOPIC = "discovery.creator.v2"


def event(event_type: str, creator_id: uuid.UUID, payload, sequence: int):
    envelope = new_envelope(event_type=event_type, producer="discovery", aggregate_id=str(creator_id), payload=payload)
    return envelope.model_copy(update={"sequence": sequence})


def creator(creator_id, account_id, handle: str, followers: int, *, audit_needed=False, **more) -> CreatorPayload:
    return CreatorPayload(
        creator_id=creator_id, platform="instagram", handle=handle, follower_count=followers, **more,
        accounts=[AccountSnapshot(account_id=account_id, platform="instagram", handle=handle, followers=followers,
                                  following=120)],
        audit_needed=audit_needed,
    )


def post(post_id, account_id, likes: int) -> PostSnapshot:
    return PostSnapshot(
        post_id=post_id, account_id=account_id, platform="instagram", external_id=f"x{post_id.hex[:8]}",
        posted_at=datetime.now(UTC) - timedelta(days=1), type="photo", likes=likes, comments=3,
        paid_partnership=False, sponsored=False,
    )


async def applied(audit_db, *events) -> None:
    await eventually(lambda: exactly(processed_count(audit_db, [e.event_id for e in events]), len(events)))


async def test_an_older_creator_event_arriving_late_changes_nothing(producer, audit_db):
    creator_id, account_id = uuid.uuid4(), uuid.uuid4()
    created = event("CreatorCreated", creator_id, creator(creator_id, account_id, "first", 100), 1)
    newest = event("CreatorChanged", creator_id, creator(creator_id, account_id, "third", 300), 3)
    stale = event("CreatorChanged", creator_id, creator(creator_id, account_id, "second", 200), 2)
    for e in (created, newest, stale):
        await publish(producer, TOPIC, e)
    await applied(audit_db, created, newest, stale)
    row = await audit_db.fetchrow("select handle, followers, sequence from audit.creators where creator_id = $1", creator_id)
    assert (row["handle"], row["followers"], row["sequence"]) == ("third", 300, 3)


async def test_bio_country_and_languages_are_kept_for_brand_safety_and_disclosure_rules(producer, audit_db):
    creator_id, account_id = uuid.uuid4(), uuid.uuid4()
    created = event("CreatorCreated", creator_id, creator(
        creator_id, account_id, "bio", 100, bio="Baking and bikes", country="gb", languages=["en", "cy"]), 1)
    await publish(producer, TOPIC, created)
    await applied(audit_db, created)
    row = await audit_db.fetchrow("select bio, country, languages from audit.creators where creator_id = $1", creator_id)
    assert (row["bio"], row["country"], row["languages"]) == ("Baking and bikes", "GB", ["en", "cy"])


async def test_a_duplicate_delivery_is_applied_once(producer, audit_db):
    creator_id, account_id = uuid.uuid4(), uuid.uuid4()
    created = event("CreatorCreated", creator_id, creator(creator_id, account_id, "dup", 100), 1)
    await publish(producer, TOPIC, created)
    await publish(producer, TOPIC, created)
    await applied(audit_db, created)
    # One creator, one automatic audit, one AuditScheduled for it.
    assert await audit_db.fetchval("select count(*) from audit.audits where creator_id = $1", creator_id) == 1
    assert await audit_db.fetchval(
        "select count(*) from audit.outbox where key = $1 and event_type = 'AuditScheduled'", str(creator_id)
    ) == 1


async def test_posts_and_points_keep_the_newest_figures(producer, audit_db):
    creator_id, account_id, post_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 11, 1, 8, tzinfo=UTC)
    created = event("CreatorCreated", creator_id, creator(creator_id, account_id, "posts", 100), 1)
    newer_posts = event("PostsObserved", creator_id,
                        PostsObserved(creator_id=creator_id, posts=[post(post_id, account_id, 900)], audit_needed=False), 3)
    older_posts = event("PostsObserved", creator_id,
                        PostsObserved(creator_id=creator_id, posts=[post(post_id, account_id, 10)], audit_needed=False), 2)
    counts = FollowerCountsObserved(
        creator_id=creator_id, account_id=account_id, platform="instagram", handle="posts",
        points=[FollowerPoint(observed_at=at, followers=5000), FollowerPoint(observed_at=at + timedelta(days=1), followers=5100)],
        audit_needed=False,
    )
    points = event("FollowerCountsObserved", creator_id, counts, 4)
    replayed_points = event("FollowerCountsObserved", creator_id, counts, 4)  # another event id, same facts
    for e in (created, newer_posts, older_posts, points, replayed_points):
        await publish(producer, TOPIC, e)
    await applied(audit_db, created, newer_posts, older_posts, points, replayed_points)
    assert await audit_db.fetchval("select likes from audit.posts where post_id = $1", post_id) == 900
    rows = await audit_db.fetch(
        "select observed_at, followers from audit.follower_points where account_id = $1 order by observed_at", account_id
    )
    assert [(r["observed_at"], r["followers"]) for r in rows] == [(at, 5000), (at + timedelta(days=1), 5100)]


async def test_posts_before_their_creator_are_kept(producer, audit_db):
    creator_id, account_id, post_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    posts = event("PostsObserved", creator_id,
                  PostsObserved(creator_id=creator_id, posts=[post(post_id, account_id, 50)], audit_needed=False), 2)
    await publish(producer, TOPIC, posts)
    await applied(audit_db, posts)
    assert await audit_db.fetchval("select creator_id from audit.posts where post_id = $1", post_id) == creator_id
    # No creator yet: nothing to audit, and no audit of it.
    assert await audit_db.fetchval("select count(*) from audit.audits where creator_id = $1", creator_id) == 0


async def test_changes_while_an_automatic_audit_waits_add_no_second_audit(producer, audit_db):
    creator_id, account_id = uuid.uuid4(), uuid.uuid4()
    created = event("CreatorCreated", creator_id, creator(creator_id, account_id, "waits", 100, audit_needed=True), 1)
    await publish(producer, TOPIC, created)
    await applied(audit_db, created)
    first = await audit_db.fetchrow("select id, run_after from audit.audits where creator_id = $1", creator_id)
    changed = event("CreatorChanged", creator_id, creator(creator_id, account_id, "waits", 500, audit_needed=True), 2)
    await publish(producer, TOPIC, changed)
    await applied(audit_db, changed)
    rows = await audit_db.fetch("select id, run_after, status from audit.audits where creator_id = $1", creator_id)
    assert [r["id"] for r in rows] == [first["id"]] and rows[0]["status"] == "pending"
    assert rows[0]["run_after"] >= first["run_after"]  # debounced: pushed back, never brought forward
