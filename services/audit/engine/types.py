"""What an audit reads and what it says: plain data, no database, no I/O.

The audit engine (services/audit/engine) is pure: the service loads an `AuditInputs` from its own
tables (projections of discovery's events, plus the follower samples and comments ingested
through audit's bulk API), calls `engine.audit.compute(inputs, model)` and stores the
`AuditResult`. Every signal is judged from these values alone, so an audit is reproducible from
what was stored: the same inputs and versions give the same result.

Scores are 0-100, higher is more authentic. A signal that cannot be judged says so
(`status="insufficient_data"`, `score=None`, `missing` naming what is missing) and the total is
computed from the judged signals only; it is never given a made-up value.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

# HypeAuditor's public definitions, applied in this order (docs: ../REFERENCE.md, "Audience types"):
# a follower following more than 1,500 accounts is a mass follower whatever else it is; else one
# with more than 5,000 followers is an influencer; else the classifier says suspicious or real.
AudienceType = Literal["mass_follower", "influencer", "suspicious", "real"]
AUDIENCE_TYPES: tuple[AudienceType, ...] = ("mass_follower", "influencer", "suspicious", "real")
MASS_FOLLOWING = 1_500  # follows more than this many accounts
INFLUENCER_FOLLOWERS = 5_000  # has more than this many followers

SignalStatus = Literal["judged", "insufficient_data"]


@dataclass(frozen=True, slots=True)
class FollowerProfile:
    """One follower of the creator, as sampled (raw fields; any may be unknown)."""

    username: str | None = None
    full_name: str | None = None
    biography: str | None = None
    media_count: int | None = None
    follower_count: int | None = None
    following_count: int | None = None
    has_profile_pic: bool | None = None
    is_private: bool | None = None
    is_verified: bool | None = None
    external_url: str | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """A post of the creator (discovery's PostSnapshot)."""

    post_id: uuid.UUID
    posted_at: datetime
    type: str
    caption: str | None = None
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    likes: int | None = None
    comments: int | None = None
    views: int | None = None
    paid_partnership: bool = False
    sponsored: bool = False
    external_id: str | None = None  # the platform's id of the post


@dataclass(frozen=True, slots=True)
class FollowerPoint:
    """One observation of the primary account's follower count (points may be unevenly spaced)."""

    observed_at: datetime
    followers: int


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment on one of the creator's posts."""

    post_id: uuid.UUID
    author: str  # the commenting account's handle, lower-cased, without '@'
    text: str
    commented_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """The creator's primary account as discovery last described it."""

    creator_id: uuid.UUID
    platform: str  # instagram, tiktok, youtube, x, twitch, facebook, pinterest, snapchat, linkedin
    handle: str
    followers: int | None = None
    following: int | None = None
    posts_count: int | None = None
    country: str | None = None  # ISO 3166-1 alpha-2: picks the creator's own disclosure rules


@dataclass(frozen=True, slots=True)
class Pod:
    """A group of accounts that repeatedly comment on each other's posts within minutes, found
    across every creator the service holds (engine.pods)."""

    members: tuple[str, ...]  # commenting accounts, sorted
    creators: tuple[uuid.UUID, ...]  # creators on whose posts the group co-commented, sorted
    co_comments: int  # co-comment events (two members on one post within the window) counted
    posts: int  # distinct posts where members co-commented
    evidence: str  # one plain-language sentence


@dataclass(frozen=True)
class AuditInputs:
    profile: Profile
    posts: Sequence[Post] = ()  # recent posts, any order
    series: Sequence[FollowerPoint] = ()  # follower-count time series of the primary account
    followers: Sequence[FollowerProfile] = ()  # the follower sample
    comments: Sequence[Comment] = ()  # comments on this creator's posts
    # How many *other* creators' posts carry each normalised comment text (engine.comments
    # normalises); lets the comment signal see texts duplicated across creators.
    texts_elsewhere: Mapping[str, int] = field(default_factory=dict)
    pods: Sequence[Pod] = ()  # the pods whose `creators` include this creator
    now: datetime | None = None  # the audit's clock (the data window ends here)
    # Disclosure: the jurisdictions to grade sponsored posts in (None: the creator's country's
    # set plus US and UK) and the brands the requester names as sponsors.
    jurisdictions: tuple[str, ...] | None = None
    sponsors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signal:
    name: str  # audience_quality, engagement_rate, likes_comments, growth, comments, pods, disclosure
    status: SignalStatus
    score: float | None  # 0-100, higher is more authentic; None unless judged
    weight: float  # its weight in the total (the weights of the judged signals are renormalised)
    confidence: float  # 0-1: how sure the judgement is (sample size, series length, ...)
    evidence: tuple[str, ...] = ()  # plain-language sentences, each with its figures
    missing: tuple[str, ...] = ()  # what is missing, when status is insufficient_data
    flags: tuple[str, ...] = ()  # machine-readable, e.g. growth_spike_unexplained
    details: Mapping[str, Any] = field(default_factory=dict)  # the figures behind the evidence (JSON-able)


@dataclass(frozen=True)
class AuditResult:
    score: float | None  # 0-100 from the judged signals; None when none could be judged
    grade: str | None  # A-F of the score
    confidence: float  # 0-1, weight-averaged over the judged signals and the share judged
    audience_quality: float | None  # share of the sample that is real people or influencers, 0-1
    signals: tuple[Signal, ...]
    flags: tuple[str, ...]  # every signal's flags, in signal order
    versions: Mapping[str, str]  # {"model": ..., "rules": ..., "benchmarks": ...}
    window: tuple[datetime | None, datetime | None]  # the data the audit read: oldest and newest
    samples: Mapping[str, int]  # sizes: followers, posts, series_points, comments


class FollowerModel(Protocol):
    """The follower classifier as the engine uses it (engine.classifier.model.FollowerClassifier)."""

    version: str

    def audience_types(self, followers: Sequence[FollowerProfile]) -> list[AudienceType]:
        """Each follower's audience type, in AUDIENCE_TYPES' order of precedence."""
        ...
