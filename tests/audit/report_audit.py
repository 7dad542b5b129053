"""A stored audit as `GET /audits/{id}` returns it, computed by the engine from crafted inputs:
what the report renderer's tests and bench/audit_report.py render. The signals go through the
runner's own serialisation (runner._signal), so the details are what the database would hold."""

import dataclasses
import uuid
from datetime import timedelta

from services.audit.audit.runner import _signal
from services.audit.audit.schemas import AuditRead
from services.audit.engine.audit import compute
from services.audit.engine.types import AuditInputs, Comment, Pod, Post
from tests.audit.follower_double import RulesFollowerModel
from tests.audit.signal_inputs import CREATOR, NOW, bot_follower, clean_inputs, with_posts, with_spike


def spiked_inputs(*, seed: int = 7, sample: int = 300, posts: int = 30, points: int = 90,
                  comments: int = 400, bots: int = 60) -> AuditInputs:
    """A creator with an unexplained spike of 4,800 followers 30 days before the end, a giveaway
    spike 10 days before it, `bots` bot followers in the sample, generic comments and a pod."""
    inputs = clean_inputs(seed=seed, sample=sample, posts=posts, points=points, comments=comments)
    inputs = with_spike(inputs, points - 30, 4_800)
    inputs = with_spike(inputs, points - 10, 2_500)
    giveaway = Post(
        post_id=uuid.UUID(int=seed * 10_000 + 9_999), posted_at=NOW - timedelta(days=10, hours=12), type="photo",
        caption="GIVEAWAY time! Follow and tag 3 friends #giveaway", hashtags=("giveaway",), likes=2_000, comments=300,
    )
    inputs = with_posts(inputs, giveaway)
    followers = tuple(inputs.followers[: max(0, sample - bots)]) + tuple(bot_follower(i) for i in range(bots))
    first = inputs.posts[0]
    generic = tuple(
        Comment(post_id=inputs.posts[i % len(inputs.posts)].post_id, author=f"bot_{i}", text=text,
                commented_at=first.posted_at + timedelta(minutes=i))
        for i, text in enumerate(["nice pic", "great post", "🔥🔥", "wow", "amazing"] * 12)
    )
    pod = Pod(members=("pod_a", "pod_b", "pod_c"), creators=(CREATOR, uuid.UUID(int=99)), co_comments=14, posts=6,
              evidence="pod_a, pod_b and pod_c co-commented 14 times within 10 minutes on 6 posts.")
    return dataclasses.replace(inputs, followers=followers, comments=tuple(inputs.comments) + generic, pods=(pod,))


def stored_audit(inputs: AuditInputs | None = None, **signals_extra) -> dict:
    """`AuditRead` (JSON mode) of a completed audit of `inputs` (default: spiked_inputs());
    `signals_extra`: further signals by name (as stored dicts), e.g. a disclosure signal."""
    inputs = inputs or spiked_inputs()
    result = compute(inputs, RulesFollowerModel())
    # An extra signal replaces the engine's of the same name (e.g. a crafted disclosure table).
    stored = [_signal(s) for s in result.signals if s.name not in signals_extra]
    stored += [{"name": n, **s} for n, s in signals_extra.items()]
    audit_id = uuid.uuid5(uuid.NAMESPACE_URL, f"audit-report-{inputs.profile.creator_id}")
    return AuditRead.model_validate({
        "id": audit_id, "creator_id": inputs.profile.creator_id, "status": "completed", "trigger": "requested",
        "score": result.score, "grade": result.grade, "confidence": result.confidence,
        "audience_quality": result.audience_quality, "flags": list(result.flags), "signals": stored,
        "versions": dict(result.versions), "window": {"start": result.window[0], "end": result.window[1]},
        "samples": dict(result.samples), "follower_sample_id": None, "model_version": result.versions.get("model"),
        "jurisdictions": None if inputs.jurisdictions is None else list(inputs.jurisdictions), "sponsors": list(inputs.sponsors or ()),
        "failure_reason": None, "attempts": 1, "run_after": NOW, "started_at": NOW, "finished_at": NOW,
        "created_at": NOW, "updated_at": NOW,
    }).model_dump(mode="json")
