"""The sponsors a workspace names when it asks for an audit are its own business (a brand's
campaigns before they run): an audit is shared by every workspace, so only the workspace whose
request set them (`Audit.requested_by`) sees them. Everyone else reads the audit with its
sponsors list empty and every mention of those names in the signals (a disclosure finding's
reason, a caption quoted as evidence) replaced by `REDACTED` (ADR 0053). The scores are the
same for all: they are facts about the creator's posts."""

import re
import uuid
from typing import Any

from shared import tenancy
from shared.db import Reads

REDACTED = "[a sponsor named by another workspace]"


def viewer_of(session) -> uuid.UUID | None:
    """The workspace a request's session (or ReadSession) is bound to; None: none."""
    binding = session.tenant if isinstance(session, Reads) else tenancy.bound_tenant(session)
    return binding if isinstance(binding, uuid.UUID) else None


def hidden_from(audit, viewer: uuid.UUID | None) -> tuple[str, ...]:
    """The audit's sponsors `viewer` may not see (none when it named them, or none were named)."""
    sponsors = tuple(s for s in (getattr(audit, "sponsors", None) or ()) if s and s.strip())
    if not sponsors or (viewer is not None and getattr(audit, "requested_by", None) == viewer):
        return ()
    return sponsors


def _pattern(sponsors: tuple[str, ...]) -> re.Pattern:
    """Each name as written in a caption: any case, words apart or run together (@acmecoffee,
    #AcmeCoffee), an @ or # before it."""
    forms = set()
    for sponsor in sponsors:
        words = sponsor.strip().lstrip("@#").split()
        if words:
            forms.add(r"\s+".join(map(re.escape, words)))
            forms.add("".join(map(re.escape, words)))
    return re.compile(r"[@#]?(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")", re.IGNORECASE)


def scrub(value: Any, sponsors: tuple[str, ...]) -> Any:
    """`value` (the signals' JSON) with the sponsors' names replaced and `sponsors` lists emptied."""
    pattern = _pattern(sponsors)

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return pattern.sub(REDACTED, v)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: ([] if k == "sponsors" else walk(x)) for k, x in v.items()}
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
