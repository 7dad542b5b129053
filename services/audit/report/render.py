"""The audit report as one self-contained HTML page: Jinja2 with autoescape, charts inline.

Captions, comments, handles and reasons are untrusted text: every value goes through Jinja2's
autoescape; only the charts (markupsafe.Markup built from matplotlib's SVG, whose text is
escaped by matplotlib and by charts._svg) are inserted as markup. The page has no script, loads
nothing (no font, image, stylesheet or link to fetch) and prints as it shows.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from services.audit.report import view
from services.audit.report.view import CreatorHeader, PostRef

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _pct(share: float | None, digits: int = 1) -> str:
    return "–" if share is None else f"{share * 100:.{digits}f} %"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{round(value):,}"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{round(value):+,}"


def _when(value: str | datetime | None) -> str:
    """An ISO time as "2026-03-10 14:05 UTC" (the audit stores aware UTC times)."""
    if value is None:
        return "–"
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:  # a section another part fills may hold a bare date or free text: shown as given
            return value
    else:
        moment = value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _day(value: str | datetime | None) -> str:
    return "–" if value is None else _when(value)[:10]


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=_pct, num=_num, signed=_signed, when=_when, day=_day)
    return env


# Built once: the loader caches the compiled template (thread-safe for rendering).
_ENV = _environment()


def render_html(
    audit: Mapping[str, Any],
    *,
    creator: CreatorHeader | None = None,
    posts: Mapping[str, PostRef] | None = None,
    brand_safety: Mapping[str, Any] | None = None,
    appeals: Sequence[Mapping[str, Any]] | None = None,
    generated_at: datetime | None = None,
    **sections: Any,
) -> str:
    """The report page of a completed or failed audit (`AuditRead` as a JSON-mode dict).

    Optional: `creator` (the header), `posts` (by post id, the posts the growth anomalies name),
    `brand_safety` ({"hits": [...], "counts": {category: n}}; else a `brand_safety` signal's
    details; else "not assessed"), `appeals` (each: flag, comment, status, resolution_note,
    resolved_at), and `sections` for sections added later (given to the template as `extra`)."""
    report = view.build(audit, creator=creator, posts=posts, brand_safety=brand_safety, appeals=appeals, **sections)
    return _ENV.get_template("report.html.j2").render(
        r=report, a=report.audit, generated_at=generated_at or datetime.now(UTC),
    )
