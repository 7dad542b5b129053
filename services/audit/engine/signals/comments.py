"""Comment authenticity: how much of the comment section looks written by bots or pods.

Each comment is sorted into the kinds it shows (a comment may show several):
- `generic`: nothing but a stock phrase ("nice pic", "great post", "love it", "wow", and the same
  in Spanish, Portuguese, French, German, Italian, Turkish, Indonesian: GENERIC_PHRASES), emoji
  and punctuation aside;
- `emoji_only`: emoji and punctuation only;
- `mention_only`: only @mentions;
- `very_short`: 1-3 letters or digits;
- `duplicated_across_posts`: the same text (normalised, at least 3 words) on 2 or more of this
  creator's posts;
- `duplicated_across_creators`: the same text (normalised, at least 3 words) on at least 2 other
  creators' posts (`AuditInputs.texts_elsewhere`, which the service builds with `normalise`).

Real fans also write "wow" and "🔥", so the kinds weigh differently (KIND_WEIGHT: duplicates are
strong evidence, emoji and short comments weak). The suspicion of a comment is the weight of its
strongest kind; the score falls linearly from 100 at a mean suspicion of 0.15 to 0 at 0.60. A
kind is flagged when its share passes FLAG_SHARE. These are this project's rules (RULES_VERSION),
not published figures.
"""

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence

from services.audit.engine.scoring import WEIGHTS
from services.audit.engine.signals.common import count, insufficient, pct, share_confidence
from services.audit.engine.types import Comment, Signal

NAME = "comments"
KINDS = (
    "generic", "emoji_only", "mention_only", "very_short", "duplicated_across_posts", "duplicated_across_creators",
)
KIND_WEIGHT = {
    "duplicated_across_creators": 1.0,
    "duplicated_across_posts": 1.0,
    "generic": 0.6,
    "very_short": 0.35,
    "emoji_only": 0.35,
    "mention_only": 0.25,  # tagging a friend is ordinary behaviour
}
FLAG_SHARE = {
    "generic": 0.25,
    "emoji_only": 0.50,
    "mention_only": 0.50,
    "very_short": 0.40,
    "duplicated_across_posts": 0.10,
    "duplicated_across_creators": 0.05,
}
FULL_SCORE_SUSPICION = 0.15
ZERO_SCORE_SUSPICION = 0.60
LOW_AUTHENTICITY = 50.0  # flag comments_low_authenticity below this score
MIN_COMMENTS = 10
DUPLICATE_MIN_WORDS = 3
ELSEWHERE_MIN_POSTS = 2
EXAMPLES = 5

# Stock phrases, normalised (lower case, no punctuation, no emoji). Kept short and literal: a
# phrase here must carry nothing specific to the post.
GENERIC_PHRASES = frozenset({
    # English
    "nice", "nice pic", "nice pics", "nice photo", "nice post", "nice shot", "nice one", "nice content",
    "great", "great post", "great pic", "great photo", "great content", "great shot", "great job",
    "good", "good post", "good pic", "good job", "love it", "love this", "love u", "love you", "i love it",
    "wow", "woww", "wowww", "awesome", "amazing", "so amazing", "beautiful", "so beautiful", "gorgeous",
    "cool", "so cool", "cute", "so cute", "perfect", "lovely", "stunning", "fantastic", "superb",
    "excellent", "brilliant", "incredible", "beautiful pic", "awesome pic", "amazing pic", "amazing post",
    "awesome post", "cool pic", "nice feed", "great feed", "love your feed", "love your content",
    "keep it up", "keep going", "well done", "top", "super", "wonderful", "fire", "lit", "omg", "yes",
    # Spanish / Portuguese
    "genial", "increíble", "que bonito", "qué bonito", "muy bonito", "hermoso", "hermosa", "que lindo",
    "qué lindo", "lindo", "linda", "precioso", "preciosa", "me encanta", "bello", "bella", "guapa",
    "incrível", "lindo demais", "que foto", "maravilhoso", "maravilhosa", "perfeito", "perfeita", "top demais",
    # French
    "magnifique", "trop beau", "trop belle", "j adore", "jadore", "superbe", "génial", "trop bien", "bravo",
    "très beau", "tres beau", "sublime",
    # German
    "toll", "schön", "sehr schön", "super bild", "wunderschön", "klasse", "mega", "geil", "hammer", "cool bild",
    # Italian
    "bellissimo", "bellissima", "che bello", "che bella", "stupendo", "stupenda", "fantastico", "complimenti",
    # Turkish / Indonesian
    "güzel", "çok güzel", "harika", "mükemmel", "keren", "mantap", "bagus", "cantik",
})

_MENTION = re.compile(r"@[\w.]+")
_ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?[\\]^_`{|}~"
_ASCII_TABLE = bytes.maketrans(_ASCII_PUNCTUATION.encode(), b" " * len(_ASCII_PUNCTUATION))
_EMOJI_JOINERS = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}


def normalise(text: str) -> str:
    """The comparable form of a comment: Unicode NFKC, case-folded, punctuation removed and
    whitespace collapsed; emoji and @mentions kept. "Nice pic!! 😍" → "nice pic 😍". The service
    keys `AuditInputs.texts_elsewhere` with it."""
    if "@" not in text:
        return _plain(text)
    # @mentions whole ("@best_friend.99" stays one): punctuation is removed around them only.
    parts, last = [], 0
    for mention in _MENTION.finditer(text):
        parts += [_plain(text[last:mention.start()]), mention.group().casefold().rstrip(".")]
        last = mention.end()
    parts.append(_plain(text[last:]))
    return " ".join(p for p in parts if p)


def _plain(text: str) -> str:
    if text.isascii():  # NFKC leaves ASCII alone and casefold is lower(): a byte table suffices
        return " ".join(text.lower().encode().translate(_ASCII_TABLE).decode().split())
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(
        "".join(" " if c in _ASCII_PUNCTUATION or unicodedata.category(c)[0] == "P" else c for c in folded).split()
    )


def _is_emoji(c: str) -> bool:
    return c in _EMOJI_JOINERS or unicodedata.category(c) in ("So", "Sk")


def _kinds_of_text(norm: str) -> tuple[str, ...]:
    """The kinds a normalised text shows by itself (duplicates are counted over all comments)."""
    if not norm:
        return ("emoji_only",)  # punctuation only ("!!!", "...") is as empty as emoji
    # Tags of friends and nothing else ("@anna @ben", "@anna 🙌"): mentions, and emoji at most.
    if "@" in norm and all(_MENTION.fullmatch(w) or all(_is_emoji(c) for c in w) for w in norm.split()):
        return ("mention_only",)
    if norm.isascii():  # already collapsed by normalise, and no emoji to remove
        plain = norm
    else:
        plain = " ".join("".join(" " if _is_emoji(c) else c for c in norm).split())
        if not plain:
            return ("emoji_only",)
    generic = plain in GENERIC_PHRASES
    # Emoji and punctuation are gone, so a text this long has more than 3 letters or digits.
    short = len(plain) <= 16 and "@" not in plain and sum(1 for c in plain if c.isalnum()) <= 3
    if generic:
        return ("generic", "very_short") if short else ("generic",)
    return ("very_short",) if short else ()


def _order(c: Comment) -> tuple:
    return (c.commented_at.timestamp() if c.commented_at else math.inf, c.post_id, c.author, c.text)


def comments_signal(comments: Sequence[Comment], texts_elsewhere: Mapping[str, int] | None = None) -> Signal:
    weight = WEIGHTS[NAME]
    # A blank comment (whitespace only) is no text to judge, nor an example to show.
    comments = [c for c in comments if not c.text.isspace() and c.text]
    n = len(comments)
    if n < MIN_COMMENTS:
        return insufficient(
            NAME, weight, ("comments",),
            (f"Insufficient data: {n} comments; at least {MIN_COMMENTS} are needed.",),
            comments=n, min_comments=MIN_COMMENTS,
        )
    elsewhere = texts_elsewhere or {}
    norm_of: dict[str, str] = {}
    first_post: dict[str, int] = {}  # normalised text -> the first post it was seen on (UUID.int: cheap ==)
    on_several_posts: set[str] = set()
    norms = []
    for c in comments:
        norm = norm_of.get(c.text)
        if norm is None:
            norm = norm_of[c.text] = normalise(c.text)
        norms.append(norm)
        post = c.post_id.int
        if first_post.setdefault(norm, post) != post:
            on_several_posts.add(norm)
    kinds_of: dict[str, tuple[str, ...]] = {}
    for norm in first_post:
        found = list(_kinds_of_text(norm))
        if norm.count(" ") >= DUPLICATE_MIN_WORDS - 1:  # normalise leaves single spaces
            if norm in on_several_posts:
                found.append("duplicated_across_posts")
            if elsewhere.get(norm, 0) >= ELSEWHERE_MIN_POSTS:
                found.append("duplicated_across_creators")
        kinds_of[norm] = tuple(found)
    counts: Counter[str] = Counter()
    strongest: Counter[str] = Counter()  # comments by their strongest kind
    flagged_comments = []
    for c, norm in zip(comments, norms):
        kinds = kinds_of[norm]
        if kinds:
            flagged_comments.append((c, kinds))
            strongest[max(kinds, key=KIND_WEIGHT.__getitem__)] += 1
            counts.update(kinds)
    flagged = len(flagged_comments)
    # Summed in a fixed order, so the comments' order cannot move a rounding.
    suspicion = sum(KIND_WEIGHT[k] * strongest[k] for k in KINDS)
    # Examples in a fixed order (time, post, author, text), so the same comments in another
    # order give the same audit.
    examples: dict[str, list[str]] = {k: [] for k in KINDS}
    for c, kinds in sorted(flagged_comments, key=lambda ck: _order(ck[0])):
        for k in kinds:
            if len(examples[k]) < EXAMPLES and c.text not in examples[k]:
                examples[k].append(c.text)
    mean_suspicion = suspicion / n
    score = 100.0 * min(1.0, max(0.0, (ZERO_SCORE_SUSPICION - mean_suspicion) / (ZERO_SCORE_SUSPICION - FULL_SCORE_SUSPICION)))
    shares = {k: counts[k] / n for k in KINDS}
    flags = [f"comments_{k}" for k in KINDS if shares[k] >= FLAG_SHARE[k]]
    if score < LOW_AUTHENTICITY:
        flags.append("comments_low_authenticity")
    evidence = [
        f"{pct(flagged / n)} of {count(n)} comments look generic, emoji-only, mention-only, very short or "
        f"duplicated (weighted suspicion {mean_suspicion:.2f}; 0.15 or less scores 100)."
    ]
    for k in KINDS:
        if counts[k]:
            shown = "; ".join(f'"{e}"' for e in examples[k])
            marker = " (flagged)" if shares[k] >= FLAG_SHARE[k] else ""
            evidence.append(f"{k.replace('_', ' ').capitalize()}: {count(counts[k])} ({pct(shares[k])}){marker}, e.g. {shown}.")
    confidence = share_confidence(n)
    return Signal(
        name=NAME, status="judged", score=round(score, 1), weight=weight, confidence=round(confidence, 3),
        evidence=tuple(evidence), flags=tuple(flags),
        details={
            "comments": n, "flagged": flagged, "flagged_share": round(flagged / n, 4),
            "mean_suspicion": round(mean_suspicion, 4),
            "kinds": {k: {"count": counts[k], "share": round(shares[k], 4), "examples": examples[k]} for k in KINDS},
            "distinct_texts": len(first_post),
            "thresholds": {"flag_share": FLAG_SHARE, "kind_weight": KIND_WEIGHT, "min_comments": MIN_COMMENTS},
        },
    )
