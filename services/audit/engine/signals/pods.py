"""The engagement-pod signal of one creator, from the pods found across every creator's comments
(engine.pods.find_pods; docs/guide/audit-pods.md).

Scores, higher is more authentic:
- no pod involves the creator: 100, with a confidence from how many commenters were checked;
- a pod involves the creator: at most 50 (coordinated comments are bought engagement paid in
  kind), 4 points off for every member beyond three and 1 for every co-commented post beyond
  three, down to 10; then scaled by the share of the creator's comments that are not the pods'
  members' (when the caller counts them), so a creator whose comments all come from the pod
  scores 0.
"""

import math
import uuid
from collections.abc import Iterable, Sequence

from services.audit.engine.types import Comment, Pod, Signal

NAME = "pods"
# scoring.WEIGHTS["pods"] (ADR 0027): pods are indirect evidence; the total renormalises anyway.
WEIGHT = 0.10
FLAG = "engagement_pod"
CEILING = 50.0  # the best score of a creator in a pod
FLOOR = 10.0  # the worst before the share of pod comments is applied
PER_MEMBER = 4.0  # points off for every member beyond the smallest pod (three)
PER_POST = 1.0  # points off for every co-commented post beyond the least repetition (three)
SMALLEST = 3
Z95 = 1.959963984540054
SHOWN = 3  # pods described one by one in the evidence; the rest are counted


def pod_comment_count(creator_id: uuid.UUID, comments: Iterable[Comment], pods: Sequence[Pod]) -> int:
    """How many of the creator's comments were written by members of the pods involving it."""
    members = {m for pod in pods if creator_id in pod.creators for m in pod.members}
    return sum(1 for comment in comments if comment.author in members)


def pod_signal(
    creator_id: uuid.UUID,
    pods: Sequence[Pod],
    comments_total: int | None = None,
    pod_comments: int | None = None,
    *,
    commenters: int | None = None,
) -> Signal:
    """The pods signal. `comments_total`: comments held on the creator's posts (None or 0: no
    comments known); `pod_comments`: how many of them pod members wrote (`pod_comment_count`);
    `commenters`: distinct authors among them, for the evidence of a clean result."""
    involved = sorted(
        (p for p in pods if creator_id in p.creators), key=lambda p: (-p.posts, -p.co_comments, p.members),
    )
    if not involved:
        if not comments_total:
            return Signal(
                name=NAME, status="insufficient_data", score=None, weight=WEIGHT, confidence=0.0,
                evidence=("Insufficient data: no comments on this creator's posts, so no engagement pod can be seen.",),
                missing=("comments",), details={"comments": comments_total or 0},
            )
        return _clean(comments_total, commenters)
    return _in_pods(creator_id, involved, comments_total, pod_comments)


def _clean(comments_total: int, commenters: int | None) -> Signal:
    checked = commenters if commenters else comments_total
    who = f"{commenters:,} commenters ({comments_total:,} comments)" if commenters else f"{comments_total:,} comments"
    return Signal(
        name=NAME, status="judged", score=100.0, weight=WEIGHT,
        # Few commenters leave a pod little room to show: 1 - the 95 % margin of a share of n.
        confidence=round(max(0.0, min(1.0, 1.0 - Z95 / math.sqrt(checked))), 3),
        evidence=(f"No engagement pod among the {who} on this creator's posts, checked against the comments of "
                  "every creator held.",),
        details={"comments": comments_total, "commenters": commenters, "pods": []},
    )


def _in_pods(creator_id: uuid.UUID, pods: list[Pod], comments_total: int | None, pod_comments: int | None) -> Signal:
    members = sorted({m for p in pods for m in p.members})
    others = sorted({c for p in pods for c in p.creators if c != creator_id}, key=str)
    posts = sum(p.posts for p in pods)
    co_comments = sum(p.co_comments for p in pods)
    base = CEILING - PER_MEMBER * max(0, len(members) - SMALLEST) - PER_POST * max(0, posts - SMALLEST)
    base = max(FLOOR, base)
    share = None
    if comments_total and pod_comments is not None:
        share = min(1.0, max(0, pod_comments) / comments_total)
    score = base * (1.0 - share) if share is not None else base

    shown = ", ".join(members[:10]) + (f" and {len(members) - 10} more" if len(members) > 10 else "")
    evidence = [
        f"This creator is in {len(pods)} engagement pod{'s' if len(pods) > 1 else ''}: {len(members)} accounts "
        f"({shown}) co-commented {co_comments:,} times on {posts:,} posts, with {len(others)} other creators "
        f"({', '.join(str(c) for c in others[:5])}{' ...' if len(others) > 5 else ''})."
    ]
    evidence += [p.evidence for p in pods[:SHOWN]]
    if len(pods) > SHOWN:
        evidence.append(f"{len(pods) - SHOWN} more pods are in the details.")
    if share is not None:
        evidence.append(f"{pod_comments:,} of the {comments_total:,} comments on this creator's posts "
                        f"({share * 100:.1f} %) were written by pod members.")
    return Signal(
        name=NAME, status="judged", score=round(score, 1), weight=WEIGHT,
        # The pods passed a binomial test against chance (engine.pods); more posts, surer.
        confidence=round(min(0.95, 0.6 + 0.03 * posts), 3),
        evidence=tuple(evidence), flags=(FLAG,),
        details={
            "pods": [
                {"members": list(p.members), "creators": [str(c) for c in p.creators],
                 "co_comments": p.co_comments, "posts": p.posts}
                for p in pods
            ],
            "members": len(members), "other_creators": [str(c) for c in others], "posts": posts,
            "co_comments": co_comments, "comments": comments_total, "pod_comments": pod_comments,
            "pod_comment_share": share,
        },
    )
