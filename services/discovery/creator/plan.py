"""One creator write merged with the creator's stored state: the rows to write and the events of
what really changed. Pure Python over what `ingest` loaded, so a batch of thousands is planned
without a round trip per creator."""

import uuid
from datetime import UTC, datetime

from services.discovery.creator import metrics
from services.discovery.creator import text as creator_text
from services.discovery.creator.schemas import PERSON_FIELDS, CreatorCreate, CreatorUpdate
from services.discovery.creator.metrics import FOLLOWER_SWING_FOR_REAUDIT, big_follower_swing
from shared.contracts.types import Platform
from shared.contracts.discovery import (
    AccountSnapshot,
    AudienceEstimated,
    CreatorPayload,
    FollowerCountsObserved,
    FollowerPoint,
    PostSnapshot,
    PostsObserved,
)

__all__ = ["FOLLOWER_SWING_FOR_REAUDIT", "Plan", "WriteError", "plan_write"]

# Posts per PostsObserved event, so an event of long captions stays far below the outbox's limit.
POSTS_PER_EVENT = 25
ACCOUNT_FIGURES = ("url", "followers", "following", "posts_count", "avg_likes", "avg_comments", "avg_views")
POST_FIELDS = ("url", "posted_at", "type", "caption", "hashtags", "mentions", "likes", "comments", "views",
               "paid_partnership", "sponsored")
AUDIENCE = ("countries", "ages", "genders", "languages", "interests")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class WriteError(Exception):
    """A write that cannot be applied: `field` is relative to the body (or the bulk line)."""

    def __init__(self, field: str, reason: str, status: int = 422):
        super().__init__(reason)
        self.field, self.reason, self.status = field, reason, status


def _blank_creator(creator_id: uuid.UUID) -> dict:
    return {
        "id": creator_id, "display_name": None, "bio": None, "niches": [], "languages": [], "country": None,
        "city": None, "contact": {}, "contactable": False, "price_estimates": [], "last_posted_at": None,
        **{f"audience_{k}": None for k in AUDIENCE}, "audience_estimated_at": None, "audience_source": None,
        "embedding_text_hash": None, "embedding_stale": True, "platform": None, "handle": None,
        "follower_count": None, "engagement_rate": None, "growth_30d": None, "growth_90d": None, "platforms": [],
        "followers_total": None,
    }


def _person_value(data, name: str):
    value = getattr(data, name)
    if name in ("niches", "languages", "price_estimates"):
        if value is None:
            return []
        if name == "price_estimates":
            return [{**p.model_dump(mode="json", exclude={"amount"}), "amount": p.amount} for p in value]
        return list(value)
    if name == "contact":
        return {} if value is None else value.model_dump(exclude_none=True)
    return value


# Events are built with model_construct: every value was validated on the way in or derived
# here, and a batch of 10,000 creators makes some 40,000 models (tests/contracts checks them).
class Plan:
    def __init__(self, write, creator_id: uuid.UUID | None, state):
        self.line = write.line
        self.is_new = creator_id is None
        self.creator_id = creator_id or uuid.uuid4()
        self.now = state.now
        self.stored = _blank_creator(self.creator_id) if self.is_new else state.creators[self.creator_id]
        self.creator = dict(self.stored)
        self.stored_accounts = [] if self.is_new else state.accounts[self.creator_id]
        self.accounts = [dict(a) for a in self.stored_accounts]
        self.changed_fields: list[str] = []
        self.audit_needed = self.is_new
        self.new_account_ids: set[uuid.UUID] = set()
        self.touched_accounts: set[uuid.UUID] = set()
        self.incoming_posts: list[dict] = []
        self.incoming_points: list[tuple[uuid.UUID, datetime, int]] = []
        self.audience_changed = False
        self.account_rows: list[dict] = []
        self.post_rows: list[dict] = []
        self.point_rows: list[tuple] = []
        self.events: list[tuple[str, object]] = []
        self.status = "unchanged"
        self.captions_text = ""

    # --- phase A: merge what the write says --------------------------------------------------
    def merge(self, write, owners: dict) -> None:
        data = write.data
        given = set(PERSON_FIELDS) if self.is_new else set(data.model_fields_set) & set(PERSON_FIELDS)
        for name in PERSON_FIELDS:
            if name in given:
                value = _person_value(data, name)
                if value != self.stored[name]:
                    self.creator[name] = value
                    self.changed_fields.append(name)
        self.creator["contactable"] = bool(self.creator["contact"])
        by_key = {(a["platform"], a["handle"]): a for a in self.accounts}
        incoming = data.all_accounts() if isinstance(data, CreatorCreate) else list(data.accounts or [])
        for i, account in enumerate(incoming):
            self._merge_account(account, by_key, f"accounts.{i}")
        if isinstance(data, CreatorUpdate):
            self._shorthand(data, by_key, owners)
        primary = metrics.primary(self.accounts)
        post_keys: set[tuple[uuid.UUID, str]] = set()
        for kind, items in (("posts", data.posts), ("follower_points", data.follower_points)):
            for i, item in enumerate(items):
                account = primary if item.handle is None else by_key.get((str(item.platform), item.handle))
                if account is None:
                    raise WriteError(f"{kind}.{i}.handle", f"{item.platform} @{item.handle} is not an account of this creator")
                if kind == "posts":
                    post = self._post(item, account)
                    if (post["account_id"], post["external_id"]) in post_keys:
                        raise WriteError(f"posts.{i}.external_id", "the same post is given twice")
                    post_keys.add((post["account_id"], post["external_id"]))
                    self.incoming_posts.append(post)
                else:
                    self.incoming_points.append((account["id"], item.observed_at, item.followers))
        if data.audience is not None:
            audience = data.audience
            new = {f"audience_{k}": getattr(audience, k) for k in AUDIENCE}
            new |= {"audience_estimated_at": audience.estimated_at, "audience_source": audience.source}
            if any(self.stored[k] != v for k, v in new.items()):
                self.creator |= new
                self.audience_changed = True

    def _merge_account(self, account, by_key: dict, field: str) -> None:
        key = (str(account.platform), account.handle)
        stored = by_key.get(key)
        if stored is None:
            stored = {
                "id": uuid.uuid4(), "creator_id": self.creator_id, "platform": key[0], "handle": key[1],
                **dict.fromkeys(ACCOUNT_FIGURES), "engagement_rate": None, "engagement_formula": None,
                "metrics_at": None,
            }
            self.accounts.append(stored)
            by_key[key] = stored
            self.new_account_ids.add(stored["id"])
            self.audit_needed = True
            if not self.is_new:
                self.changed_fields.append("accounts")
        before = stored["followers"]
        changed = [f for f in ACCOUNT_FIGURES if (f in account.model_fields_set or stored["id"] in self.new_account_ids)
                   and getattr(account, f) != stored[f]]
        for f in changed:
            stored[f] = getattr(account, f)
        if changed or account.observed_at is not None:
            if changed:
                stored["metrics_at"] = account.observed_at or self.now
                self.touched_accounts.add(stored["id"])
                if not self.is_new and "accounts" not in self.changed_fields:
                    self.changed_fields.append("accounts")
            if account.followers is not None and ("followers" in changed or account.observed_at is not None):
                self.incoming_points.append((stored["id"], account.observed_at or self.now, account.followers))
        if "followers" in changed and stored["id"] not in self.new_account_ids and big_follower_swing(before, account.followers):
            self.audit_needed = True

    def _shorthand(self, data: CreatorUpdate, by_key: dict, owners: dict) -> None:
        primary = metrics.primary(self.accounts) if self.accounts else None
        if primary is None:
            return
        if data.handle is not None and data.handle != primary["handle"]:
            if (primary["platform"], data.handle) in owners or (primary["platform"], data.handle) in by_key:
                raise WriteError("handle", f"{primary['platform']} creator @{data.handle} already exists", 409)
            del by_key[(primary["platform"], primary["handle"])]
            primary["handle"] = data.handle
            by_key[(primary["platform"], data.handle)] = primary
            self.touched_accounts.add(primary["id"])
            self.changed_fields.append("handle")
            self.audit_needed = True
        if "follower_count" in data.model_fields_set and data.follower_count != primary["followers"]:
            before = primary["followers"]
            primary["followers"] = data.follower_count
            primary["metrics_at"] = self.now
            self.touched_accounts.add(primary["id"])
            self.changed_fields.append("follower_count")
            if data.follower_count is not None:
                self.incoming_points.append((primary["id"], self.now, data.follower_count))
                self.audit_needed |= big_follower_swing(before, data.follower_count)

    def _post(self, item, account: dict) -> dict:
        tags = item.hashtags if item.hashtags is not None else creator_text.hashtags(item.caption)
        mentions = item.mentions if item.mentions is not None else creator_text.mentions(item.caption)
        return {
            "id": None, "creator_id": self.creator_id, "account_id": account["id"], "platform": account["platform"],
            "external_id": item.external_id, "url": item.url, "posted_at": item.posted_at, "type": item.type,
            "caption": item.caption, "hashtags": list(dict.fromkeys(tags)), "mentions": list(dict.fromkeys(mentions)),
            "likes": item.likes, "comments": item.comments, "views": item.views,
            "paid_partnership": item.paid_partnership,
            "sponsored": creator_text.is_sponsored(item.paid_partnership, tags, item.caption),
        }

    # --- what the second read must fetch ---------------------------------------------------------
    def stored_post_keys(self) -> list[tuple[uuid.UUID, str]]:
        return [(p["account_id"], p["external_id"]) for p in self.incoming_posts if p["account_id"] not in self.new_account_ids]

    def series_wanted(self) -> dict[uuid.UUID, datetime]:
        if not self.accounts:
            return {}
        primary = metrics.primary(self.accounts)
        if primary["id"] in self.new_account_ids:
            return {}
        times = [t for a, t, _ in self.incoming_points if a == primary["id"]]
        return {primary["id"]: max(times, default=_EPOCH)}

    def new_point_keys(self) -> list[tuple[uuid.UUID, datetime]]:
        return [(a, t) for a, t, _ in self.incoming_points if a not in self.new_account_ids]

    # --- phase B: derive, diff, and say what changed --------------------------------------------
    def finish(self, state) -> None:
        recent = {(p["account_id"], p["external_id"]): p for p in state.recent_posts.get(self.creator_id, ())}
        new_posts, changed_posts = [], []
        for post in self.incoming_posts:
            key = (post["account_id"], post["external_id"])
            stored = state.posts_by_key.get(key)
            if stored is None:
                post["id"] = uuid.uuid4()
                new_posts.append(post)
            else:
                post["id"] = stored["id"]
                if all(post[f] == stored[f] for f in POST_FIELDS):
                    continue
                changed_posts.append(post)
            self.post_rows.append(post)
            recent[key] = post
        series = state.points.get(metrics.primary(self.accounts)["id"], {}) if self.accounts else {}
        new_points: dict[uuid.UUID, dict[datetime, int]] = {}
        for account_id, observed_at, followers in self.incoming_points:
            known = state.points.get(account_id, {})
            if observed_at in known or observed_at in new_points.get(account_id, {}):
                continue
            new_points.setdefault(account_id, {})[observed_at] = followers
            self.point_rows.append((account_id, observed_at, followers))
        by_account: dict[uuid.UUID, list[dict]] = {}
        for post in recent.values():
            by_account.setdefault(post["account_id"], []).append(post)
        for account in self.accounts:
            rate, formula = metrics.engagement(account, by_account.get(account["id"], []))
            if (rate, formula) != (account["engagement_rate"], account["engagement_formula"]):
                account["engagement_rate"], account["engagement_formula"] = rate, formula
                self.touched_accounts.add(account["id"])
        self.account_rows = [a for a in self.accounts if a["id"] in self.touched_accounts or a["id"] in self.new_account_ids]
        self._derive(recent, series, new_points)
        # text_config follows the languages; the document follows the fields and captions compared here.
        changed_row = any(self.creator[k] != self.stored.get(k) for k in self.creator if k != "text_config")
        if self.is_new:
            self.status = "created"
        elif changed_row or self.account_rows or self.post_rows or self.point_rows:
            self.status = "updated"
        else:
            return
        self._events(new_posts, changed_posts, new_points)

    def _derive(self, recent: dict, series: dict, new_points: dict) -> None:
        c = self.creator
        primary = metrics.primary(self.accounts)
        c["platform"], c["handle"] = primary["platform"], primary["handle"]
        c["follower_count"], c["engagement_rate"] = primary["followers"], primary["engagement_rate"]
        c |= metrics.growth({**series, **new_points.get(primary["id"], {})})
        c["platforms"] = sorted({a["platform"] for a in self.accounts})
        known = [a["followers"] for a in self.accounts if a["followers"] is not None]
        c["followers_total"] = sum(known) if known else None
        # Newest first, ties by id: the order the embedding worker reads captions in (ORDER BY
        # posted_at DESC, id), so the text hash compared below is the one the worker stored.
        latest = sorted(sorted(recent.values(), key=lambda p: p["id"]), key=lambda p: p["posted_at"], reverse=True)
        c["last_posted_at"] = latest[0]["posted_at"] if latest else None
        captions = [p["caption"] for p in latest[: creator_text.RECENT_CAPTIONS]]
        self.captions_text = creator_text.captions_text(captions)
        c["text_config"] = creator_text.text_config_for(c["languages"])
        digest = creator_text.text_hash(creator_text.embedding_text(c["bio"], c["niches"], captions))
        c["embedding_stale"] = digest != self.stored["embedding_text_hash"]

    def _events(self, new_posts: list, changed_posts: list, new_points: dict) -> None:
        c = self.creator
        if self.is_new or self.changed_fields:
            self.events.append((
                "CreatorCreated" if self.is_new else "CreatorChanged",
                CreatorPayload.model_construct(
                    creator_id=self.creator_id, platform=Platform(c["platform"]), handle=c["handle"],
                    display_name=c["display_name"], follower_count=c["follower_count"],
                    accounts=[AccountSnapshot.model_construct(account_id=a["id"], platform=Platform(a["platform"]), **{k: a[k] for k in (
                        "handle", "followers", "following", "posts_count", "avg_likes", "avg_comments",
                        "avg_views", "engagement_rate", "engagement_formula")}) for a in self.accounts],
                    bio=c["bio"], niches=c["niches"], languages=c["languages"], country=c["country"],
                    changed_fields=sorted(set(self.changed_fields)) if not self.is_new else self._given_fields(),
                    audit_needed=self.audit_needed,
                ),
            ))
        observed = new_posts + changed_posts
        fresh = {id(p) for p in new_posts}
        for start in range(0, len(observed), POSTS_PER_EVENT):
            batch = observed[start:start + POSTS_PER_EVENT]
            self.events.append(("PostsObserved", PostsObserved.model_construct(
                creator_id=self.creator_id,
                posts=[PostSnapshot.model_construct(post_id=p["id"], platform=Platform(p["platform"]), **{k: p[k] for k in (
                    "account_id", "external_id", "posted_at", "type", "caption", "hashtags", "mentions",
                    "likes", "comments", "views", "paid_partnership", "sponsored")}) for p in batch],
                audit_needed=any(id(p) in fresh for p in batch),
            )))
        accounts = {a["id"]: a for a in self.accounts}
        for account_id, points in new_points.items():
            account = accounts[account_id]
            ordered = sorted(points.items())
            self.events.append(("FollowerCountsObserved", FollowerCountsObserved.model_construct(
                creator_id=self.creator_id, account_id=account_id, platform=Platform(account["platform"]),
                handle=account["handle"], points=[FollowerPoint.model_construct(observed_at=t, followers=f) for t, f in ordered],
                audit_needed=self.audit_needed,
            )))
        if self.audience_changed:
            self.events.append(("AudienceEstimated", AudienceEstimated.model_construct(
                creator_id=self.creator_id, estimated_at=c["audience_estimated_at"], source=c["audience_source"],
                **{k: c[f"audience_{k}"] or {} for k in AUDIENCE}, audit_needed=True,
            )))

    def _given_fields(self) -> list[str]:
        fields = ["accounts", "platform", "handle"]
        fields += [k for k in PERSON_FIELDS if self.creator[k] not in (None, [], {})]
        return sorted(fields + (["follower_count"] if self.creator["follower_count"] is not None else []))


def plan_write(write, creator_id, state, owners: dict | None = None) -> Plan:
    plan = Plan(write, creator_id, state)
    plan.merge(write, owners or {})
    return plan
