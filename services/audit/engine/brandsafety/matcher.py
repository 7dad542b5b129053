"""A keyword list compiled once into one regular expression, and the matches of a text.

How a term matches (docs/guide/audit-brand-safety.md has the table):
- Whole words only: a term is not found inside a longer word ("ass" not in "class", "gun" not in
  "begun" nor in "#guncontrol"); letters and digits make words, anything else (space,
  punctuation, '#', '@', '_') separates them. "#guns" is the word "guns".
- Case, accents and compatibility forms are folded on both sides first (normalise.py).
- The words of a phrase may be separated by any run of non-letters, or by nothing: "hate speech"
  matches "hate-speech", "hate  speech" and "#hatespeech".
- Stretched letters: a letter written once in the term also matches three or more times
  ("fuuuck"), a doubled one two or more times; not exactly twice, which is where real words
  differ ("bet" must not match the German "Bett").
- Simple leetspeak: 4 and @ for a, 3 for e, 1 for i, 0 for o, 5 and $ for s, 7 for t. A match
  that used such digits must have more letters than digits ("455 likes" is not "ass").
- Where two terms start at one place the longer wins ("gun control" over "gun").
- A term without letters or digits (an emoji: "🔫") matches its symbols wherever they stand.

The expression is a trie of the terms (one alternative per distinct next token), so each
position costs a few character tests whatever the list's length; each term ends in an empty
named group, whose name says which term matched.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby

from services.audit.engine.brandsafety.lists import Term, TermList
from services.audit.engine.brandsafety.normalise import fold, fold_term, span_in_original

LEET = {"a": "4@", "e": "3", "i": "1", "o": "0", "s": "5$", "t": "7"}
SEPARATOR = r"[\W_]*"
# Not preceded / followed by a letter or digit (`\w` without the underscore).
START = r"(?<![^\W_])"
END = r"(?![^\W_])"
_WORD = re.compile(r"[^\W_]+")


def _run_token(char: str, count: int) -> str:
    # Stretching repeats the letter itself, never a leetspeak sign: a class that repeats "$" or
    # "@" would let a comment of 5,000 "@" cost seconds (each sign a word start, each start a
    # scan to the end of the run).
    letter = re.escape(char)
    cls = f"[{letter}{re.escape(LEET[char])}]" if char in LEET else letter
    if count == 1:
        return f"{cls}(?:{letter}{letter}+)?"
    return f"{cls}{{{count}}}{letter}*"


def tokens(term: str) -> tuple[str, ...]:
    """The term's pattern as a sequence of tokens: the word boundaries, one token per run of a
    letter, the separators between words. A term with no letter or digit ("🔫", "💊") is its
    symbols, matched as written wherever they stand; empty only for a term that folds to nothing."""
    folded = fold_term(term)
    words = _WORD.findall(folded)
    if not words:
        return tuple(re.escape(char) for char in folded if not char.isspace())
    out: list[str] = [START]
    for k, word in enumerate(words):
        if k:
            out.append(SEPARATOR)
        out.extend(_run_token(char, len(list(run))) for char, run in groupby(word))
    out.append(END)
    return tuple(out)


@dataclass
class _Node:
    children: dict[str, "_Node"] = field(default_factory=dict)
    terminal: int | None = None


def _trie_pattern(paths: list[tuple[str, ...]]) -> str:
    """One expression matching any of `paths` (token sequences); path i ends in group `t<i>`.
    At each node the continuations come before the end, so the longest path is tried first."""
    root = _Node()
    for index, path in enumerate(paths):
        node = root
        for token in path:
            node = node.children.setdefault(token, _Node())
        node.terminal = index

    def emit(node: _Node) -> str:
        # A word's end last: a longer phrase sharing the prefix is tried first.
        ordered = sorted(node.children.items(), key=lambda item: item[0] == END)
        alternatives = [token + emit(child) for token, child in ordered]
        if node.terminal is not None:
            alternatives.append(f"(?P<t{node.terminal}>)")
        return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"

    return emit(root)


@dataclass(frozen=True)
class Match:
    term: Term
    start: int
    end: int
    matched: str


class Matcher:
    """A TermList compiled. Build through `compile_list` (cached), not per text."""

    def __init__(self, term_list: TermList):
        self.list = term_list
        paths: list[tuple[str, ...]] = []
        self._terms: list[list[Term]] = []
        self._has_digits: list[bool] = []
        index_of: dict[tuple[str, ...], int] = {}
        exception_paths: list[tuple[str, ...]] = []
        self._protects: list[set[int]] = []
        exception_index: dict[tuple[str, ...], int] = {}
        for term in term_list.terms:
            path = tokens(term.text)
            if not path:
                continue
            if path not in index_of:
                index_of[path] = len(paths)
                paths.append(path)
                self._terms.append([])
                self._has_digits.append(any(c.isdigit() for c in fold_term(term.text)))
            index = index_of[path]
            # One hit per category where words fold alike ("cocaine", French "cocaïne"): the first listed.
            if all(t.category != term.category for t in self._terms[index]):
                self._terms[index].append(term)
            for phrase in term.exceptions:
                exception = tokens(phrase)
                if not exception:
                    continue
                if exception not in exception_index:
                    exception_index[exception] = len(exception_paths)
                    exception_paths.append(exception)
                    self._protects.append(set())
                self._protects[exception_index[exception]].add(index)
        self._pattern = re.compile(_trie_pattern(paths)) if paths else None
        self._exceptions = re.compile(_trie_pattern(exception_paths)) if exception_paths else None

    def _plausible(self, index: int, folded: str) -> bool:
        """A match that used digits for letters must read mostly as letters."""
        if self._has_digits[index]:
            return True
        digits = sum(c.isdigit() for c in folded)
        return digits == 0 or sum(c.isalpha() for c in folded) > digits

    def find(self, text: str, folded: tuple[str, list[int] | None] | None = None) -> list[Match]:
        """Every match in `text`, in order; spans and `matched` refer to `text` as written.
        `folded`: normalise.fold(text), when the caller has it already (several lists, one text)."""
        if self._pattern is None or not text:
            return []
        folded, origin = folded or fold(text)
        found = []
        for m in self._pattern.finditer(folded):
            index = int(m.lastgroup[1:])
            start, end = m.span()
            if self._plausible(index, folded[start:end]):
                found.append((index, start, end))
        if found and self._exceptions is not None:
            shields = [
                (m.start(), m.end(), self._protects[int(m.lastgroup[1:])]) for m in self._exceptions.finditer(folded)
            ]
            found = [
                (index, start, end) for index, start, end in found
                if not any(s <= start and end <= e and index in protects for s, e, protects in shields)
            ]
        out = []
        for index, start, end in found:
            begin, finish = span_in_original(origin, start, end)
            out.extend(Match(term, begin, finish, text[begin:finish]) for term in self._terms[index])
        return out


@lru_cache(maxsize=256)
def compile_list(term_list: TermList) -> Matcher:
    """The matcher of a list, compiled once per distinct list (a tenant list's revision is part
    of its TermList, so an edited list is compiled again)."""
    return Matcher(term_list)
