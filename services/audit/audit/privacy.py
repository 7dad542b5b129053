"""The sponsors a workspace names when it asks for an audit are its own business (a brand's
campaigns before they run): an audit is shared by every workspace, so only the workspace whose
request set them (`Audit.requested_by`) sees them. Everyone else reads the audit with its
sponsors list empty and every mention of those names in the signals (a disclosure finding's
reason, a caption quoted as evidence) replaced by `REDACTED`, matched as the grader matches them
(any case, accents off, whole words) (ADR 0053). The scores are the
same for all: they are facts about the creator's posts."""

import re
import uuid
from typing import Any

from services.audit.engine.disclosure.scan import fold
from shared import tenancy
from shared.db import Reads

REDACTED = "[a sponsor named by another workspace]"


def viewer_of(session) -> uuid.UUID | None:
    """The workspace a request's session (or ReadSession) is bound to; None: none."""
    binding = session.tenant if isinstance(session, Reads) else tenancy.bound_tenant(session)
    return binding if isinstance(binding, uuid.UUID) else None


def _names(sponsors) -> set[str]:
    """The sponsors as the grader matches them: folded (any case, no accents), words apart."""
    return {n for n in (" ".join(fold(s).strip().lstrip("@#").split()) for s in sponsors or ()) if n}


def hidden_from(audit, viewer: uuid.UUID | None) -> tuple[str, ...]:
    """The audit's sponsors `viewer` may not see (none when it named them, or none were named)."""
    sponsors = tuple(s for s in (getattr(audit, "sponsors", None) or ()) if _names([s]))
    if not sponsors or (viewer is not None and getattr(audit, "requested_by", None) == viewer):
        return ()
    return sponsors


def _pattern(sponsors: tuple[str, ...]) -> re.Pattern:
    """The grader's own expression (engine/disclosure/grade.py), on folded text: a name with its
    words apart or run together (@acmecoffee, #AcmeCoffee), never inside another word."""
    names = _names(sponsors)
    forms = names | {n.replace(" ", "") for n in names}
    alternatives = "|".join(r"\s+".join(map(re.escape, f.split())) for f in sorted(forms, key=len, reverse=True))
    return re.compile(r"(?<![\w.])[@#]?(?:" + alternatives + r")(?!\w)")


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _replace(text: str, pattern: re.Pattern) -> str:
    folded = fold(text)  # same length as text: a match's span is the original's
    if len(folded) != len(text):
        folded = text.lower()
    spans = [m.span() for m in pattern.finditer(folded)]
    for start, end in reversed(spans):
        text = text[:start] + REDACTED + text[end:]
    return text


def scrub(value: Any, sponsors: tuple[str, ...]) -> Any:
    """`value` (the signals' JSON) with the sponsors' names replaced and `sponsors` lists emptied;
    ids are left as they are (a name is never inside one: the expression needs word edges)."""
    pattern = _pattern(sponsors)

    def walk(v: Any, key: str = "") -> Any:
        if isinstance(v, str):
            if key == "id" or key.endswith("_id") or _UUID.match(v):
                return v
            return _replace(v, pattern)
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        if isinstance(v, dict):
            return {k: ([] if k == "sponsors" else walk(x, k)) for k, x in v.items()}
        return v

    return walk(value)


class _Seen:
    """An audit as a viewer that did not name its sponsors sees it (attributes read through)."""

    def __init__(self, audit, hidden: tuple[str, ...]):
        self._audit, self._hidden = audit, hidden

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._audit, name)
        if name == "sponsors":
            return []
        if name == "signals":
            return scrub(value, self._hidden)
        return value


def as_seen_by(audit, viewer: uuid.UUID | None):
    """`audit` itself when `viewer` may see all of it, else a view with its sponsors hidden."""
    hidden = hidden_from(audit, viewer)
    return _Seen(audit, hidden) if hidden else audit
