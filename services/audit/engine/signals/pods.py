# Replaced at merge by the pods helper's version.
"""Engagement pods: groups of accounts that comment on each other's posts within minutes, found
across every creator by engine.pods (a minimal stand-in with the agreed signature).

No pod involving the creator scores 100; each pod involving it lowers the score (one pod 40, each
further pod 15 less). The interface passes no comments, so the share of comments written by pod
members is not computed here; compute() answers "insufficient data" itself when the creator has
no comments to find a pod in.
"""

import uuid
from collections.abc import Sequence

from services.audit.engine.scoring import WEIGHTS
from services.audit.engine.types import Pod, Signal

NAME = "pods"
ONE_POD_SCORE = 40.0
FURTHER_POD_PENALTY = 15.0


def pod_signal(creator_id: uuid.UUID, pods: Sequence[Pod]) -> Signal:
    mine = sorted((p for p in pods if creator_id in p.creators), key=lambda p: p.members)
    if not mine:
        return Signal(
            name=NAME, status="judged", score=100.0, weight=WEIGHTS[NAME], confidence=0.5,
            evidence=("No engagement pod found among the accounts commenting on this creator's posts.",),
            details={"pods": []},
        )
    score = max(0.0, ONE_POD_SCORE - FURTHER_POD_PENALTY * (len(mine) - 1))
    evidence = tuple(
        f"Engagement pod of {len(p.members)} accounts ({', '.join('@' + m for m in p.members[:5])}"
        f"{', ...' if len(p.members) > 5 else ''}) co-commenting {p.co_comments} times on {p.posts} posts "
        f"of {len(p.creators)} creators: {p.evidence}"
        for p in mine
    )
    return Signal(
        name=NAME, status="judged", score=score, weight=WEIGHTS[NAME], confidence=0.5,
        evidence=evidence, flags=("engagement_pod",),
        details={"pods": [
            {"members": list(p.members), "creators": [str(c) for c in p.creators], "co_comments": p.co_comments,
             "posts": p.posts}
            for p in mine
        ]},
    )
