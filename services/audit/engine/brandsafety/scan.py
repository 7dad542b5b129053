"""The hits of one text under several lists, each with an excerpt of the text around it."""

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from services.audit.engine.brandsafety.matcher import Matcher
from services.audit.engine.brandsafety.normalise import fold

EXCERPT_CONTEXT = 40  # characters of the text on each side of the match
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Found:
    category: str
    term: str  # as listed
    matched: str  # as written in the text
    list: str  # the default's version, or the tenant list's name
    list_id: uuid.UUID | None
    start: int
    end: int
    excerpt: str


def excerpt(text: str, start: int, end: int, context: int = EXCERPT_CONTEXT) -> str:
    """The match with up to `context` characters either side, cut at a space where one is near,
    whitespace runs shown as one space, '…' where the text goes on."""
    begin, finish = max(0, start - context), min(len(text), end + context)
    if begin > 0:
        space = text.find(" ", begin, start)
        begin = space + 1 if space != -1 else begin
    if finish < len(text):
        space = text.rfind(" ", end, finish)
        finish = space if space != -1 else finish
    shown = _SPACES.sub(" ", text[begin:finish]).strip()
    return ("…" if begin > 0 else "") + shown + ("…" if finish < len(text) else "")


def scan(text: str | None, matchers: Sequence[Matcher]) -> list[Found]:
    """Every hit of every list in `text`, in the order of the lists, then of the text."""
    if not text:
        return []
    folded = fold(text)
    return [
        Found(
            category=m.term.category, term=m.term.text, matched=m.matched, list=matcher.list.label,
            list_id=matcher.list.list_id, start=m.start, end=m.end, excerpt=excerpt(text, m.start, m.end),
        )
        for matcher in matchers
        for m in matcher.find(text, folded)
    ]
