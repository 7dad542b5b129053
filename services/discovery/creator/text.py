"""The text of a creator that search reads: hashtags and mentions of a caption, whether a post
is disclosed as sponsored, the text search configuration of a creator's languages, and the one
text its content embedding is made from (shared by ingest, which marks an embedding stale when
that text changes, and the embedding worker, which embeds it)."""

import hashlib
import re

# PostgreSQL's built-in snowball configurations by ISO 639-1 code; any other language is
# indexed with `simple` (lower-cased words, no stemming), which still matches exact words.
TEXT_CONFIGS: dict[str, str] = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "nl": "dutch", "no": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
DEFAULT_TEXT_CONFIG = "simple"

# How many of the latest captions go into the search document and the embedding.
RECENT_CAPTIONS = 12
# all-MiniLM-L6-v2 reads 256 word pieces at most (its max_seq_length); the text is cut by
# characters first so that tokenising a long caption history stays cheap.
EMBEDDING_TEXT_CHARS = 2000

_HASHTAG = re.compile(r"(?<![\w#])#(\w[\w]{0,99})", re.UNICODE)
_MENTION = re.compile(r"(?<![\w@])@([\w](?:[\w.]{0,98}[\w])?)", re.UNICODE)

# Disclosure tags that make a post count as sponsored in the index (whether the disclosure is
# *sufficient* under a jurisdiction's rules is the audit service's question, not this one).
DISCLOSURE_TAGS = frozenset({
    "ad", "ads", "advert", "advertisement", "advertising", "sponsored", "paidpartnership", "paidpartner",
    "werbung", "anzeige", "publicite", "publicité", "publicidad", "pubblicità", "pubblicita", "publi",
    "reklame", "reklama", "partenariat", "collaborationcommerciale", "gesponsert",
})


def hashtags(caption: str | None) -> list[str]:
    """The caption's hashtags, lower-cased, without '#', in order, once each."""
    return _unique(m.lower() for m in _HASHTAG.findall(caption or ""))


def mentions(caption: str | None) -> list[str]:
    """The caption's @mentions, lower-cased, without '@', in order, once each."""
    return _unique(m.lower() for m in _MENTION.findall(caption or ""))


# A disclosure tag just after one of these says the opposite ("not #ad", "kein #werbung"): the
# audit service's disclosure scan reads labels the same way (docs/guide/audit-disclosure.md).
_NEGATION = re.compile(r"(?:\bnot|\bnon|\bnicht|\bkeine?|\bpas|\bno|\bsin)[\s-]+$", re.IGNORECASE)
NEGATION_WINDOW = 8


def is_sponsored(paid_partnership: bool, tags: list[str], caption: str | None = None) -> bool:
    """The paid-partnership label, or a disclosure tag that no negation right before it in the
    caption takes back. A tag the client sent that the caption does not hold counts as sent."""
    if paid_partnership:
        return True
    disclosed = {tag for tag in tags if tag in DISCLOSURE_TAGS}
    if not disclosed:
        return False
    if not caption:
        return True
    written: set[str] = set()
    for match in _HASHTAG.finditer(caption):
        tag = match.group(1).lower()
        if tag not in disclosed:
            continue
        written.add(tag)
        if not _NEGATION.search(caption, max(0, match.start() - NEGATION_WINDOW), match.start()):
            return True
    return bool(disclosed - written)


def text_config_for(languages: list[str] | None) -> str:
    """The text search configuration of a creator's first language with one, else `simple`."""
    for language in languages or ():
        if language in TEXT_CONFIGS:
            return TEXT_CONFIGS[language]
    return DEFAULT_TEXT_CONFIG


def embedding_text(bio: str | None, niches: list[str] | None, captions: list[str | None]) -> str:
    """The one text a creator's content embedding is made from: bio, niches, latest captions."""
    parts = [bio or "", ", ".join(niches or ()), *(c for c in captions[:RECENT_CAPTIONS] if c)]
    return "\n".join(p.strip() for p in parts if p and p.strip())[:EMBEDDING_TEXT_CHARS]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _unique(items) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


# The search document, computed by PostgreSQL from three parameters ($config, $bio, $niches as
# one string, $captions as one string): bio weighs most, then niches, then the latest captions.
# Ingest and the bulk loader both use it, so a creator's document never depends on the path
# that wrote it.
DOCUMENT_SQL = (
    "setweight(to_tsvector({config}::regconfig, coalesce({bio}, '')), 'A') || "
    "setweight(to_tsvector({config}::regconfig, coalesce({niches}, '')), 'B') || "
    "setweight(to_tsvector({config}::regconfig, coalesce({captions}, '')), 'C')"
)


def document_sql(config: str, bio: str, niches: str, captions: str) -> str:
    """DOCUMENT_SQL over the given SQL expressions (bind parameters or columns)."""
    return DOCUMENT_SQL.format(config=config, bio=bio, niches=niches, captions=captions)


def captions_text(captions: list[str | None]) -> str:
    return "\n".join(c for c in captions[:RECENT_CAPTIONS] if c)
