"""Crafted audit inputs with known answers: a clean creator to start from, and the pieces the
tests bend (a bought spike, a viral post, a generic flood). Seeded, so every run sees the same
creator; bench/audit_engine.py builds its creator here too.
"""

import dataclasses
import random
import uuid
from datetime import UTC, datetime, timedelta

from services.audit.engine.types import AuditInputs, Comment, FollowerPoint, FollowerProfile, Post, Profile

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
CREATOR = uuid.UUID("00000000-0000-4000-8000-00000000c0de")

_WORDS = (
    "recipe tried yesterday turned out lovely kids asked second helping where did you buy that pan "
    "does this work with oat milk instead my oven runs hot so I lowered it ten degrees thanks for "
    "the tip about resting the dough made it for my sister birthday she cried how long does it keep "
    "in the fridge could you share the playlist from the video the lighting in this one is so soft "
    "what camera do you use finally someone explains it properly saving this for the weekend"
).split()


def real_follower(rng: random.Random, i: int) -> FollowerProfile:
    followers = rng.randint(50, 2_000)
    return FollowerProfile(
        username=f"reader_{i}", full_name=f"Reader {i}", biography="cooking at home",
        media_count=rng.randint(5, 400), follower_count=followers, following_count=rng.randint(50, 1_200),
        has_profile_pic=True, is_private=rng.random() < 0.3, is_verified=False,
    )


def bot_follower(i: int) -> FollowerProfile:
    return FollowerProfile(
        username=f"user{i:08d}", media_count=0, follower_count=3, following_count=900,
        has_profile_pic=False, is_private=False, is_verified=False,
    )


def real_comment_text(rng: random.Random) -> str:
    return " ".join(rng.sample(_WORDS, rng.randint(5, 12))) + rng.choice(("", "!", "?", " :)"))


def clean_inputs(
    *, seed: int = 7, followers: int = 50_000, sample: int = 300, posts: int = 30, points: int = 90,
    comments: int = 400, platform: str = "instagram",
) -> AuditInputs:
    """A creator nothing should flag: a real audience, ~2.4 % engagement (Instagram micro's
    published range is 0.54-3.76 %), likes that vary, ~60 likes per comment, steady growth of
    ~25 a day with noise, and comments that say specific things (with the odd emoji and "wow")."""
    rng = random.Random(seed)
    post_list = []
    for i in range(posts):
        likes = int(followers * 0.024 * rng.lognormvariate(0, 0.35))
        post_list.append(Post(
            post_id=uuid.UUID(int=seed * 10_000 + i), posted_at=NOW - timedelta(days=2 * i + 1, hours=rng.randint(0, 10)),
            type="photo", caption=f"Dinner idea number {i}: roasted vegetables and lentils",
            hashtags=("cooking", "dinner"), likes=likes, comments=max(1, int(likes / rng.uniform(40, 80))),
            views=None,
        ))
    series = []
    count = followers - 25 * points
    for d in range(points):
        count += 25 + rng.randint(-15, 15)
        series.append(FollowerPoint(NOW - timedelta(days=points - 1 - d), count))
    comment_list = []
    for i in range(comments):
        post = post_list[i % len(post_list)]
        roll = rng.random()
        text = "😍🔥" if roll < 0.08 else "wow" if roll < 0.12 else real_comment_text(rng)
        comment_list.append(Comment(
            post_id=post.post_id, author=f"fan_{rng.randrange(comments * 2)}", text=text,
            commented_at=min(post.posted_at + timedelta(minutes=rng.randint(1, 3_000)), NOW - timedelta(minutes=i % 60)),
        ))
    return AuditInputs(
        profile=Profile(creator_id=CREATOR, platform=platform, handle="lentil_kitchen", followers=count,
                        following=400, posts_count=posts),
        posts=tuple(post_list), series=tuple(series),
        followers=tuple(real_follower(rng, i) for i in range(sample)),
        comments=tuple(comment_list), texts_elsewhere={}, pods=(), now=NOW,
    )


def with_spike(inputs: AuditInputs, day_index: int, gain: int) -> AuditInputs:
    """The series with `gain` extra followers arriving on one day (and kept afterwards)."""
    series = [
        FollowerPoint(p.observed_at, p.followers + (gain if i >= day_index else 0))
        for i, p in enumerate(inputs.series)
    ]
    return dataclasses.replace(inputs, series=tuple(series))


def with_posts(inputs: AuditInputs, *extra: Post) -> AuditInputs:
    return dataclasses.replace(inputs, posts=tuple(inputs.posts) + extra)
