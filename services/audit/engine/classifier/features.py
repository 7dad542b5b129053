"""One feature vector for a follower, whether it comes from raw `FollowerProfile`s or a CSV.

Both paths first reduce to the same *base columns* (counts, flags and the username's length,
digit count and entropy), then `derive` turns base columns into features. A CSV may carry the
raw fields (username, full_name, biography, external_url, ...) or only the derived base columns
(username_length, username_digit_count, biography_length, full_name_words, has_external_url, ...),
as the bundled SRF data does; for the same account both give the same vector.

Every feature is a float64; NaN means "unknown" (the field was absent or empty) and the model
replaces it with the training median of that feature (model.py). Work is columnar: the only
per-follower Python is reading the attributes; the username statistics are computed on one
fixed-width code-point array, so 100,000 followers take a few hundred milliseconds at most.
"""

from collections.abc import Sequence

import numpy as np

from services.audit.engine.types import FollowerProfile

# Username statistics read at most this many characters (Instagram allows 30); a pathological
# string cannot make the code-point array large.
USERNAME_CHARS = 64

# The base columns, what a CSV's derived form holds. Raw text fields reduce to these.
BASE_COLUMNS: tuple[str, ...] = (
    "media_count",
    "follower_count",
    "following_count",
    "has_profile_pic",
    "is_private",
    "is_verified",
    "has_external_url",
    "biography_length",
    "full_name_words",
    "username_length",
    "username_digit_count",
    "username_entropy",
)

# The feature vector, in order. Scale-free where the idea allows (ratios in log space, shares,
# markers); log_followers is the one size feature, on a log scale.
FEATURES: tuple[str, ...] = (
    "log_followers",  # log(1 + followers)
    "log_following_per_follower",  # log((following + 1) / (followers + 1))
    "log_media_per_follower",  # log((media + 1) / (followers + 1))
    "no_media",  # 1 when media_count is 0
    "no_profile_pic",  # 1 when the account has no profile picture
    "is_private",
    "username_digit_share",  # digits / characters of the username
    "username_length",
    "username_entropy",  # Shannon entropy of the username's characters, bits (raw username only)
    "empty_biography",  # 1 when the biography is empty
    "empty_full_name",  # 1 when the full name has no word
    "has_external_url",
    "is_verified",
)


def _counts(values: Sequence[int | None]) -> np.ndarray:
    # NumPy turns None into NaN when it builds a float array.
    counts = np.array(values, dtype=np.float64)
    # A negative count is not a count: unknown, as the CSV reader refuses it outright.
    counts[counts < 0] = np.nan
    return counts


def _flags(values: Sequence[bool | None]) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def username_stats(usernames: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Length, ASCII digit count and character entropy (bits) of each username; NaN when unknown.

    An empty username counts as unknown: no account has one, so it means the field was blank.
    Digits and entropy read the first USERNAME_CHARS characters; the length is the full length.
    """
    n = len(usernames)
    length = np.array([len(u) if u else 0 for u in usernames], dtype=np.float64)
    known = length > 0
    texts = np.array([u[:USERNAME_CHARS] if u else "" for u in usernames], dtype=np.str_)
    width = texts.dtype.itemsize // 4
    if n == 0 or width == 0:
        nan = np.full(n, np.nan)
        return nan, nan.copy(), nan.copy()
    # NumPy pads '<U' strings with NUL (code point 0), which no username holds.
    points = texts.view(np.uint32).reshape(n, width)
    digits = ((points >= 48) & (points <= 57)).sum(axis=1).astype(np.float64)
    shown = (points > 0).sum(axis=1).astype(np.float64)
    # Entropy without a per-name Counter: sort each row, so equal characters form runs and the
    # padding comes first; every run starts where a character differs from its left neighbour and
    # ends at the next start or the row's end. H = log2(n) - sum(c * log2 c) / n over the runs.
    ordered = np.sort(points, axis=1)
    starts = ordered > 0
    starts[:, 1:] &= ordered[:, 1:] != ordered[:, :-1]
    first = np.flatnonzero(starts)
    row = first // width
    following = np.append(first[1:], n * width)
    runs = (np.minimum(following, (row + 1) * width) - first).astype(np.float64)
    sum_clogc = np.bincount(row, weights=runs * np.log2(runs), minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = np.log2(shown) - sum_clogc / shown
    entropy = np.where(known, np.maximum(entropy, 0.0), np.nan)
    return np.where(known, length, np.nan), np.where(known, digits, np.nan), entropy


def text_lengths(texts: Sequence[str | None]) -> np.ndarray:
    """Characters of each text after trimming; NaN when unknown (None)."""
    return np.array([np.nan if t is None else len(t.strip()) for t in texts], dtype=np.float64)


def word_counts(texts: Sequence[str | None]) -> np.ndarray:
    """Whitespace-separated words of each text; NaN when unknown (None)."""
    return np.array([np.nan if t is None else len(t.split()) for t in texts], dtype=np.float64)


def url_present(urls: Sequence[str | None]) -> np.ndarray:
    """1 when a URL is given, 0 when it is blank, NaN when unknown (None)."""
    return np.array([np.nan if u is None else float(bool(u.strip())) for u in urls], dtype=np.float64)


def base_from_profiles(followers: Sequence[FollowerProfile]) -> dict[str, np.ndarray]:
    """The base columns of raw follower profiles (any field may be None: NaN)."""
    length, digits, entropy = username_stats([f.username for f in followers])
    return {
        "media_count": _counts([f.media_count for f in followers]),
        "follower_count": _counts([f.follower_count for f in followers]),
        "following_count": _counts([f.following_count for f in followers]),
        "has_profile_pic": _flags([f.has_profile_pic for f in followers]),
        "is_private": _flags([f.is_private for f in followers]),
        "is_verified": _flags([f.is_verified for f in followers]),
        "has_external_url": url_present([f.external_url for f in followers]),
        "biography_length": text_lengths([f.biography for f in followers]),
        "full_name_words": word_counts([f.full_name for f in followers]),
        "username_length": length,
        "username_digit_count": digits,
        "username_entropy": entropy,
    }


def derive(base: dict[str, np.ndarray]) -> np.ndarray:
    """The feature matrix (rows: followers, columns: FEATURES) from base columns.

    Arithmetic with NaN stays NaN, so an unknown input makes exactly the features that read it
    unknown. Comparisons are written as `where(isnan, nan, ...)` because NaN == 0 is False.
    """
    media, followers, following = base["media_count"], base["follower_count"], base["following_count"]

    def marker(values: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(values), np.nan, (values == 0).astype(np.float64))

    with np.errstate(divide="ignore", invalid="ignore"):
        digit_share = base["username_digit_count"] / base["username_length"]
        columns = {
            "log_followers": np.log1p(followers),
            "log_following_per_follower": np.log1p(following) - np.log1p(followers),
            "log_media_per_follower": np.log1p(media) - np.log1p(followers),
            "no_media": marker(media),
            "no_profile_pic": 1.0 - base["has_profile_pic"],
            "is_private": base["is_private"],
            "username_digit_share": np.where(base["username_length"] > 0, digit_share, np.nan),
            "username_length": base["username_length"],
            "username_entropy": base["username_entropy"],
            "empty_biography": marker(base["biography_length"]),
            "empty_full_name": marker(base["full_name_words"]),
            "has_external_url": base["has_external_url"],
            "is_verified": base["is_verified"],
        }
    matrix = np.empty((len(media), len(FEATURES)), dtype=np.float64)
    for j, name in enumerate(FEATURES):
        matrix[:, j] = columns[name]
    return matrix


def features_from_profiles(followers: Sequence[FollowerProfile]) -> np.ndarray:
    """The feature matrix of raw follower profiles."""
    return derive(base_from_profiles(followers))
