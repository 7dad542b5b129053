"""Text folded for matching, with the way back to the text as written.

Folding, character by character: Unicode NFKC (full-width and stylised letters become plain
ones: "ｆｕｃｋ", "𝐟𝐮𝐜𝐤"), case folding (German "ß" becomes "ss", so "Scheiße" and "Scheisse" are
one word), then accents dropped (NFD, combining marks removed: "cocaína" is "cocaina"), plus the
few Latin letters NFD does not decompose (ø, æ, œ, ł, đ, ı). German umlauts fold to the bare vowel
("Mörder" is "morder"); the transliteration "Moerder" is another word and does not match.

Inside a hashtag a lower-case letter followed by an upper-case one starts a new word: "#GunControl"
is read "gun control". Outside hashtags case changes split nothing ("iPhone" stays one word).

`fold` returns the folded text and, for each of its characters, the index of the character of
the original it came from, so a match found in the folded text is reported as it was written.
"""

import re
import unicodedata
from functools import lru_cache

_LETTERS = {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i", "ð": "d", "þ": "th"}
# A hashtag's body: word characters after '#'.
_HASHTAG = re.compile(r"#(\w+)")
_RUNS = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", char).casefold())
    return "".join(_LETTERS.get(c, c) for c in folded if not unicodedata.combining(c))


def fold_term(text: str) -> str:
    """A listed term folded as texts are (no hashtag rule: a term is written as words)."""
    return "".join(fold_char(c) for c in text)


def _hashtag_splits(text: str) -> set[int]:
    """Indexes of the upper-case letters that start a new word inside a hashtag."""
    splits = set()
    for found in _HASHTAG.finditer(text):
        start, end = found.span(1)
        for i in range(start + 1, end):
            if text[i].isupper() and text[i - 1].islower():
                splits.add(i)
    return splits


def fold(text: str) -> tuple[str, list[int] | None]:
    """(folded text, origin of each folded character); origin None means the identity (plain
    ASCII without a camel-cased hashtag: the common case, folded by one str.lower())."""
    splits = _hashtag_splits(text) if "#" in text else set()
    if text.isascii() and not splits:
        return text.lower(), None
    out: list[str] = []
    origin: list[int] = []
    # Runs of ASCII in one str.lower() each; the rest character by character (cached).
    for run in _RUNS.finditer(text):
        start, end = run.span()
        if run.group().isascii() and not any(start <= i < end for i in splits):
            out.append(run.group().lower())
            origin.extend(range(start, end))
            continue
        for i in range(start, end):
            if i in splits:
                out.append(" ")
                origin.append(i)
            folded = fold_char(text[i])
            out.append(folded)
            origin.extend([i] * len(folded))
    return "".join(out), origin


def span_in_original(origin: list[int] | None, start: int, end: int) -> tuple[int, int]:
    """The original text's span of the folded text's [start, end)."""
    if origin is None:
        return start, end
    return origin[start], origin[end - 1] + 1
