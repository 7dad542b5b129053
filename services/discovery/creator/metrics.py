"""Figures derived from a creator's accounts, posts and follower points on every write: the
primary account, each account's engagement rate (with the formula that made it), and follower
growth over 30 and 90 days."""

from datetime import datetime, timedelta

# How many of an account's latest posts (those with a like count) its engagement rate reads.
ER_POSTS = 12
POSTS_FORMULA = "mean(likes + comments) of the latest {n} posts / followers"
AVERAGES_FORMULA = "(avg_likes + avg_comments) / followers"

# Growth over a window compares the latest point with the point nearest to (latest - window),
# accepted only within this distance of that moment; without one the growth is unknown (null).
GROWTH_WINDOWS = {"growth_30d": (timedelta(days=30), timedelta(days=7)), "growth_90d": (timedelta(days=90), timedelta(days=21))}
# How far back the points growth may read reach, from the latest point.
GROWTH_LOOKBACK = timedelta(days=90 + 21)


def primary(accounts: list[dict]) -> dict:
    """The account with the most followers (unknown counts last); ties go to the earlier account."""
    return max(enumerate(accounts), key=lambda ia: (ia[1]["followers"] if ia[1]["followers"] is not None else -1, -ia[0]))[1]


def engagement(account: dict, recent_posts: list[dict]) -> tuple[float | None, str | None]:
    """(rate, formula): from the account's latest posts with figures when it has any, else from its
    average likes and comments; None when followers are unknown or zero."""
    followers = account["followers"]
    if not followers:
        return None, None
    # Newest first, ties by id, so the same posts give the same figure whatever order they came in.
    newest = sorted(sorted(recent_posts, key=lambda p: p["id"]), key=lambda p: p["posted_at"], reverse=True)
    counted = [p for p in newest if p["likes"] is not None]
    counted = counted[:ER_POSTS]
    if counted:
        mean = sum(p["likes"] + (p["comments"] or 0) for p in counted) / len(counted)
        return mean / followers, POSTS_FORMULA.format(n=len(counted))
    if account["avg_likes"] is not None:
        return (account["avg_likes"] + (account["avg_comments"] or 0)) / followers, AVERAGES_FORMULA
    return None, None


def growth(points: dict[datetime, int]) -> dict[str, float | None]:
    """growth_30d / growth_90d as fractions from {observed_at: followers} of one account."""
    result: dict[str, float | None] = dict.fromkeys(GROWTH_WINDOWS)
    if len(points) < 2:
        return result
    latest = max(points)
    for name, (window, tolerance) in GROWTH_WINDOWS.items():
        target = latest - window
        near = [t for t in points if t != latest and abs(t - target) <= tolerance]
        if not near:
            continue
        reference = points[min(near, key=lambda t: (abs(t - target), t))]
        if reference > 0:
            result[name] = (points[latest] - reference) / reference
    return result


# A follower count that moves by this share or more is worth a fresh authenticity audit.
FOLLOWER_SWING_FOR_REAUDIT = 0.2


def big_follower_swing(before: int | None, after: int | None) -> bool:
    if after is None:
        return False
    if not before:
        return True
    return abs(after - before) / before >= FOLLOWER_SWING_FOR_REAUDIT
