# TEMPORARY: replaced at merge by the signals/classifier helper's version.
"""`find_pods(comments) -> list[Pod]` over every creator's comments, as the service calls it.

Placeholder: two accounts co-comment when both comment on one post within WINDOW; accounts
linked by co-comments on at least MIN_POSTS posts form a group, and groups of MIN_MEMBERS or
more are pods. Comments are `(creator_id, post_id, author, commented_at)` tuples."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import combinations

from services.audit.engine.types import Pod

WINDOW = timedelta(minutes=10)
MIN_POSTS = 2
MIN_MEMBERS = 3


def find_pods(comments: Iterable[tuple[uuid.UUID, uuid.UUID, str, datetime]]) -> list[Pod]:
    by_post: dict[uuid.UUID, list[tuple[datetime, str, uuid.UUID]]] = defaultdict(list)
    for creator_id, post_id, author, at in comments:
        if at is not None:
            by_post[post_id].append((at, author, creator_id))
    pair_posts: dict[tuple[str, str], set[uuid.UUID]] = defaultdict(set)
    post_creator: dict[uuid.UUID, uuid.UUID] = {}
    for post_id, items in by_post.items():
        items.sort()
        for (t1, a1, c), (t2, a2, _) in combinations(items, 2):
            post_creator[post_id] = c
            if a1 != a2 and abs(t2 - t1) <= WINDOW:
                pair_posts[tuple(sorted((a1, a2)))].add(post_id)
    strong = {pair: posts for pair, posts in pair_posts.items() if len(posts) >= MIN_POSTS}
    parent: dict[str, str] = {}

    def root(a: str) -> str:
        while parent.setdefault(a, a) != a:
            a = parent[a]
        return a

    for a, b in strong:
        parent[root(a)] = root(b)
    groups: dict[str, set[str]] = defaultdict(set)
    for a, b in strong:
        groups[root(a)] |= {a, b}
    pods = []
    for members in groups.values():
        if len(members) < MIN_MEMBERS:
            continue
        pairs = {p: s for p, s in strong.items() if p[0] in members}
        posts = set().union(*pairs.values())
        creators = tuple(sorted({post_creator[p] for p in posts}))
        co_comments = sum(len(s) for s in pairs.values())
        pods.append(
            Pod(
                members=tuple(sorted(members)),
                creators=creators,
                co_comments=co_comments,
                posts=len(posts),
                evidence=f"{len(members)} accounts co-commented within minutes {co_comments} times on {len(posts)} posts",
            )
        )
    return sorted(pods, key=lambda p: p.members)
