"""Likes-to-comments ratio and the spread of likes across recent posts.

No public source in ../REFERENCE.md publishes a normal likes-per-comment range or a normal
spread of likes, so these thresholds are this project's rules (RULES_VERSION), chosen wide so
an ordinary creator is never flagged; recalibrate them on audited creators and bump the version.

- Ratio: median over posts with comments of likes / comments. Fewer than 5 likes per comment
  means comments out of proportion to likes (bought comments, pods); more than 1,000 means likes
  without conversation (bought likes). Score 100 in between, falling on a log scale to 0 at 1
  like per comment and at 100,000.
- Spread: robust coefficient of variation of likes, 1.4826 x MAD / median. Real posts vary (one
  does better, one worse); likes delivered in fixed packages do not. Below 0.05 over at least 8
  posts is flagged as too uniform; the spread score is 100 from 0.10 up, falling linearly to 0.
- The signal's score is the lower of the two: either fault is enough.
"""

import math
from collections.abc import Sequence

from services.audit.engine.scoring import WEIGHTS
from services.audit.engine.signals.common import MAD_TO_SIGMA, clip, count, insufficient, mad, median
from services.audit.engine.types import Post, Signal

NAME = "likes_comments"
MIN_POSTS = 5
RATIO_LOW = 5.0  # likes per comment below this: flagged
RATIO_HIGH = 1_000.0  # likes per comment above this: flagged
RATIO_ZERO_HIGH = 100_000.0
UNIFORM_CV = 0.05  # robust CV below this over >= UNIFORM_MIN_POSTS posts: flagged
UNIFORM_MIN_POSTS = 8
FULL_SPREAD_CV = 0.10  # spread score is 100 from this CV up


def _ratio_score(ratio: float) -> float:
    if ratio < RATIO_LOW:
        return clip(100.0 * math.log(max(ratio, 1.0)) / math.log(RATIO_LOW))
    if ratio > RATIO_HIGH:
        return clip(100.0 * (1.0 - math.log(ratio / RATIO_HIGH) / math.log(RATIO_ZERO_HIGH / RATIO_HIGH)))
    return 100.0


def likes_comments_signal(posts: Sequence[Post]) -> Signal:
    weight = WEIGHTS[NAME]
    liked = [p for p in posts if p.likes is not None]
    if len(liked) < MIN_POSTS:
        return insufficient(
            NAME, weight, ("posts with like counts",),
            (f"Insufficient data: {len(liked)} posts with a like count; at least {MIN_POSTS} are needed.",),
            posts_with_likes=len(liked), min_posts=MIN_POSTS,
        )
    likes = [float(p.likes) for p in liked]
    med = median(likes)
    spread = MAD_TO_SIGMA * mad(likes, med)
    cv = spread / med if med > 0 else None
    ratios = [p.likes / p.comments for p in liked if p.comments]
    ratio = median(ratios) if ratios else None
    no_comments = sum(1 for p in liked if p.comments == 0)

    evidence = [
        f"Likes over {len(liked)} posts: median {count(med)}, robust spread {count(spread)} "
        f"(1.4826 × MAD" + (f", coefficient of variation {cv:.2f})." if cv is not None else ").")
    ]
    flags: list[str] = []
    scores: list[float] = []
    if cv is not None:
        scores.append(clip(100.0 * cv / FULL_SPREAD_CV))
        if cv < UNIFORM_CV and len(liked) >= UNIFORM_MIN_POSTS:
            flags.append("likes_too_uniform")
            evidence.append(
                f"Likes are nearly identical from post to post (variation {cv:.3f} < {UNIFORM_CV}), "
                "as when likes are delivered in fixed packages."
            )
    if ratio is None:
        evidence.append("No post has a comment count above 0: the likes-to-comments ratio is not judged.")
    else:
        scores.append(_ratio_score(ratio))
        evidence.append(f"Median {ratio:,.1f} likes per comment over {len(ratios)} posts with comments.")
        if ratio < RATIO_LOW:
            flags.append("likes_comments_ratio_low")
            evidence.append(
                f"Fewer than {RATIO_LOW:.0f} likes per comment: comments out of proportion to likes "
                "(bought comments or engagement pods)."
            )
        elif ratio > RATIO_HIGH:
            flags.append("likes_comments_ratio_high")
            evidence.append(
                f"More than {RATIO_HIGH:,.0f} likes per comment: likes without conversation (bought likes)."
            )
    if not scores:
        return insufficient(
            NAME, weight, ("posts with likes above 0",), tuple(evidence), posts_with_likes=len(liked),
        )
    score = min(scores)
    confidence = 1.0 - 1.0 / math.sqrt(len(liked))
    return Signal(
        name=NAME, status="judged", score=round(score, 1), weight=weight, confidence=round(confidence, 3),
        evidence=tuple(evidence), flags=tuple(flags),
        details={
            "posts": len(liked), "likes_median": med, "likes_robust_spread": round(spread, 2),
            "likes_robust_cv": None if cv is None else round(cv, 4),
            "likes_per_comment_median": None if ratio is None else round(ratio, 2),
            "posts_with_comments": len(ratios), "posts_without_comments": no_comments,
            "thresholds": {"ratio_low": RATIO_LOW, "ratio_high": RATIO_HIGH, "uniform_cv": UNIFORM_CV,
                           "uniform_min_posts": UNIFORM_MIN_POSTS},
        },
    )
