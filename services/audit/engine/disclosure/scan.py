"""One pass over a caption: every label term of every rule set, hashtag, mention, link and
discount code, with its position.

Matching is case-, accent- and word-boundary-aware: the caption is folded once with one
`str.translate` (upper case and accented Latin letters to their lower-case base letter, one
character for one, so positions in the folded text are positions in the caption), then one
compiled regular expression, an alternation of every term the rulebook knows, walks it. "#AD",
"#ad" and "#Ad" are one term; "#adventure" is not "#ad"; "PUBLICITÉ" is "publicité".
"""

import re
import unicodedata
from dataclasses import dataclass

from services.audit.engine.disclosure.rulebook import Rule, Rulebook


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x0250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[:1]
        if base.isascii() and base.isalpha():
            lowered = base.lower()
            if lowered != char:
                table[code] = lowered
    for char, plain in {"ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "’": "'", "‘": "'",
                        "\u00a0": " ", "＃": "#", "＠": "@"}.items():
        table[ord(char)] = plain
    # Full-width letters and digits ("#ａｄ", found by an outside probe), one for one: what they
    # read as is what they say.
    for code in range(0xFF10, 0xFF5B):
        plain = chr(code - 0xFEE0).lower()
        if plain.isalnum():
            table[code] = plain
    return table


FOLD = _fold_table()
# After str.lower(), only these non-ASCII characters still need mapping; one scan for them is far
# cheaper than str.translate with a dict, which looks every character up in Python's dict.
_LOWER_FOLD = {chr(code): plain for code, plain in FOLD.items() if code > 127 and chr(code) == chr(code).lower()}
_ACCENTED = re.compile("[" + "".join(re.escape(c) for c in _LOWER_FOLD) + "]")


def _plain(match: re.Match) -> str:
    return _LOWER_FOLD[match.group()]


def fold(text: str) -> str:
    """Lower case, accents off, the same length (a position in it is a position in `text`)."""
    if text.isascii():
        return text.lower()
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer ("İ"): the table, one for one
        return text.translate(FOLD)
    return _ACCENTED.sub(_plain, lowered)


MENTION = "\x01"  # "{mention}" inside the trie


def _trie_pattern(keys) -> str:
    """Folded terms as one regular expression shaped like a trie ("ad(?:vert(?:ising)?)?"...), so
    at each place the engine follows one branch instead of trying every term in turn; greedy, so
    the longest term is tried first. A space is any run of spaces, {mention} any @account."""
    root: dict = {}
    for key in keys:
        node = root
        for char in key.replace("{mention}", MENTION):
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = []
        for char in sorted(c for c in node if c):
            symbol = r"\s+" if char == " " else r"@[\w.]*\w" if char == MENTION else re.escape(char)
            branches.append(symbol + emit(node[char]))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


_MENTION_IN_TERM = re.compile(r"@[\w.]*\w")


def _key(term: str) -> str:
    return " ".join(fold(term).split())


_WORD = re.compile(r"\w")
_TAG = re.compile(r"(?<![\w#@])#\w+")
_SCHEME = re.compile(r"^(?:https?://)?(?:www\.)?")
# A label just after one of these says the opposite ("not sponsored", "kein Werbung"...).
_NEGATION = re.compile(r"(?:\bnot|\bnon|\bnicht|\bkeine?|\bpas|\bno|\bsin)[\s-]+$")
NEGATION_WINDOW = 8


@dataclass(frozen=True, slots=True)
class Role:
    """What a term means to one jurisdiction: a label rule it belongs to."""

    jurisdiction: str
    rule: Rule
    start_only: bool  # counts only as the caption's first word


@dataclass(frozen=True, slots=True)
class Term:
    text: str  # folded
    hashtag: bool
    roles: tuple[Role, ...]
    gifted: bool
    affiliate: bool
    link: bool
    admission: bool  # says on its own that the post is sponsored (some role of it does)


@dataclass(frozen=True, slots=True)
class Occurrence:
    term: Term
    label: str  # as written in the caption
    start: int  # 0-based character offset
    end: int
    at_start: bool  # nothing but spaces and punctuation before it
    tag_index: int  # its index among the caption's hashtags, -1 when not a hashtag


@dataclass(frozen=True, slots=True)
class Scan:
    text: str  # the folded caption
    occurrences: tuple[Occurrence, ...]
    # Counted only when the caption has a hashtag label (0 otherwise): hashtags in the caption, and
    # the index of the first of the trailing group (== tags when there is none).
    tags: int
    cluster_start: int
    mentions: tuple[str, ...]  # folded, without '@'
    codes: tuple[tuple[str, int], ...]  # (code as written, offset)
    links: tuple[tuple[str, int, bool], ...]  # (text, offset, affiliate host)

    @property
    def cluster(self) -> int:
        return self.tags - self.cluster_start


class Scanner:
    """Every term of a rulebook compiled into one expression, once per rulebook."""

    def __init__(self, rulebook: Rulebook):
        roles: dict[str, list[Role]] = {}
        for code, rule_set in rulebook.sets.items():
            for rule in rule_set.rules:
                for term, start_only in [(t, False) for t in rule.terms] + [(t, True) for t in rule.start_terms]:
                    roles.setdefault(_key(term), []).append(Role(code, rule, start_only))
        common = rulebook.common
        gifted = {_key(t) for t in common.gifted_terms}
        affiliate = {_key(t) for t in common.affiliate_terms}
        links = {_key(t) for t in common.link_phrases}
        keys = set(roles) | gifted | affiliate | links
        # A longer term found is also each shorter term it contains ("sponsored by" is
        # "sponsored" to a set that names only that): one match, every set's reading.
        terms: list[Term] = []
        for key in keys:
            words = key.split()
            found = list(roles.get(key, ()))
            for other, other_roles in roles.items():
                inner = other.split()
                if other != key and len(inner) < len(words) and any(
                    words[i:i + len(inner)] == inner for i in range(len(words) - len(inner) + 1)
                ):
                    found.extend(r for r in other_roles if not r.start_only)
            terms.append(Term(
                text=key, hashtag=key.startswith("#"), roles=tuple(found), gifted=key in gifted,
                affiliate=key in affiliate, link=key in links,
                admission=key in gifted or key in affiliate or any(r.rule.admission for r in found),
            ))
        self.terms = tuple(sorted(terms, key=lambda t: t.text))
        self.by_key = {t.text: t for t in terms}
        code_words = {_key(w) for w in common.code_words}
        hosts = [h.lower() for h in common.affiliate_hosts]
        # Everything starts where a token starts: after a character that is not a letter, '#' or
        # '@'. The expression consumes that character (scan() puts a space before the caption, and
        # takes one off every offset) rather than looking behind for it, because an expression
        # that starts with a character class lets the engine skip to candidate places in C; at a
        # token start each branch then fails on its first letter.
        alternatives = [
            r"(?P<url>(?:https?://|www\.)\S+)",
            (r"(?P<host>(?:" + _trie_pattern(hosts) + r")/\S*)") if hosts else None,
            r"(?P<code>(?P<codeword>" + _trie_pattern(code_words)
            + r")\s*[:\-]?\s*(?P<codeval>[a-z0-9][\w-]{2,24})(?!\w))",
            r"(?P<discount>\d{1,2}\s?%\s?(?:off|rabatt|de descuento|de reduction|de remise)(?!\w))",
            r"(?P<term>" + _trie_pattern(self.by_key) + r")(?!\w)",
            # Any other hashtag is not matched here: most captions carry several, and only one
            # with a hashtag label needs their positions (found then by _TAG). Inside a hashtag
            # nothing starts (the character before is a letter or '#'), so "#adventure" never
            # reads as "ad".
            r"(?P<mention>@[\w.]*\w)",
        ]
        self.pattern = re.compile(r"[^\w#@](?:" + "|".join(a for a in alternatives if a) + ")")
        self._single_code_words = {w for w in code_words if " " not in w}
        self._hosts = tuple(hosts)

    def _affiliate_url(self, url: str) -> bool:
        host = _SCHEME.sub("", url).split("/", 1)[0]
        return any(host == h or host.endswith("." + h) for h in self._hosts)

    def scan(self, caption: str) -> Scan:
        text = fold(caption)
        occurrences: list[tuple[Term, int, int]] = []
        mentions: list[str] = []
        codes: list[tuple[str, int]] = []
        links: list[tuple[str, int, bool]] = []
        by_key = self.by_key
        # Offsets in " " + text: a match starts at the character before its token, so a match's
        # (start, end) there is (token start, token end + 1) here.
        for match in self.pattern.finditer(" " + text):
            group = match.lastgroup
            if group == "term":
                start, end = match.span()
                end -= 1
                matched = text[start:end]
                key = " ".join(matched.split())
                if "@" in key:
                    key = _MENTION_IN_TERM.sub("{mention}", key)
                    mentions.append(text[start + matched.rfind("@") + 1:end])
                term = by_key[key]
                if _NEGATION.search(text, max(0, start - NEGATION_WINDOW), start):
                    continue
                occurrences.append((term, start, end))
            elif group == "mention":
                start, end = match.span()
                end -= 1
                mentions.append(text[start + 1:end])
            elif group == "url":
                start, end = match.span()
                end -= 1
                links.append((caption[start:end], start, self._affiliate_url(text[start:end])))
            elif group == "host":
                start, end = match.span()
                end -= 1
                links.append((caption[start:end], start, True))
            elif group == "code":
                value_start, value_end = match.span("codeval")
                value_start -= 1
                value_end -= 1
                value = caption[value_start:value_end]
                # A bare "code"/"coupon" takes only what looks like a code (upper case or digits),
                # so "the code is easy" is no code; "promo code summer" is one.
                if match.group("codeword") in self._single_code_words and not (
                    value.isupper() or any(ch.isdigit() for ch in value)
                ):
                    continue
                codes.append((value, value_start))
            else:  # discount
                start, end = match.span()
                end -= 1
                codes.append((caption[start:end], start))
        tags = cluster_start = 0
        index_of: dict[int, int] = {}
        if any(term.hashtag for term, _, _ in occurrences):
            # The trailing group: hashtags at the very end, with nothing but spaces, punctuation
            # or emoji between them and after the last.
            spans = [m.span() for m in _TAG.finditer(text)]
            tags = cluster_start = len(spans)
            if tags and not _WORD.search(text, spans[-1][1]):
                cluster_start = tags - 1
                while cluster_start > 0 and not _WORD.search(text, spans[cluster_start - 1][1], spans[cluster_start][0]):
                    cluster_start -= 1
            index_of = {s: i for i, (s, _) in enumerate(spans)}
        found = tuple(
            Occurrence(
                term=term, label=caption[start:end], start=start, end=end,
                at_start=_WORD.search(text, 0, start) is None,
                tag_index=index_of.get(start, -1) if term.hashtag else -1,
            )
            for term, start, end in occurrences
        )
        return Scan(
            text=text, occurrences=found, tags=tags, cluster_start=cluster_start,
            mentions=tuple(mentions), codes=tuple(codes), links=tuple(links),
        )
