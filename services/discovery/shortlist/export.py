"""A shortlist as CSV (RFC 4180), safe to open in a spreadsheet.

Cells are written by the `csv` module with every field quoted (a comma, quote or line break in a
note stays inside its cell; quotes are doubled). Text that a spreadsheet would run as a formula
is neutralised as OWASP's "CSV Injection" page advises: a cell starting with =, +, -, @, a tab
or a carriage return gets a leading single quote, so it is shown as text and never evaluated.
Only text cells are treated: numbers are written by us from numbers (a negative number stays
a number, which it always is here).

The rows are streamed a page at a time (keyset pages of the entries list, in the order they
were added): a long shortlist never sits in memory whole. Each page is its own snapshot; an
entry added while the export runs may or may not be in it, none appears twice.
"""

import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import quote

from services.discovery.shortlist import repository
from shared.db import Reads
from shared.pagination import PageParams

PAGE = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = (
    "creator_id", "display_name", "platform", "handle", "followers", "tier", "engagement_rate", "country",
    "audit_score", "contactable", "stage", "stage_since", "note", "tags", "added_at",
)


def neutralise(text: str) -> str:
    """`text` as a spreadsheet shows it rather than runs it (OWASP, CSV Injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return neutralise(str(value))


def _row(entry) -> list[str]:
    return [
        _cell(str(entry.creator_id)), _cell(entry.display_name), _cell(entry.platform), _cell(entry.handle),
        _cell(entry.follower_count), _cell(entry.tier), _cell(entry.engagement_rate), _cell(entry.country),
        _cell(entry.audit_score), _cell(entry.contactable), _cell(entry.stage), _cell(entry.stage_changed_at),
        _cell(entry.note), _cell(", ".join(entry.tags or ())), _cell(entry.created_at),
    ]


def _lines(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


async def stream(
    reads: Reads, shortlist_id: uuid.UUID, *, stage: str | None = None, tag: str | None = None
) -> AsyncIterator[bytes]:
    """The header line, then the entries a page at a time."""
    yield _lines([list(HEADER)])
    cursor = None
    while True:
        page = PageParams(limit=PAGE, cursor=cursor)
        found = await repository.export_page(reads, shortlist_id, page, stage=stage, tag=tag)
        if found[:PAGE]:
            yield _lines([_row(entry) for entry in found[:PAGE]])
        cursor = repository.ENTRY_SORTS.next_cursor(found, PAGE, repository.DEFAULT_SORT)
        if cursor is None:
            return


# Characters that change how a name reads without being seen: bidirectional overrides and
# isolates (U+202E turns "‮vsc.exe" into what looks like "exe.csv"), zero-width ones and the BOM.
_INVISIBLE = re.compile("[\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
                        "\U000e0000-\U000e007f]")  # not U+200C/U+200D: Persian, Indic and emoji spelling need them


def filename(name: str, today: str) -> str:
    """The Content-Disposition value (RFC 6266): an ASCII name and the UTF-8 one (RFC 5987), the
    latter without the invisible characters that would let a shortlist's name spoof the saved
    file's (found by an outside probe)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:80] or "shortlist"
    shown = _INVISIBLE.sub("", name) or "shortlist"
    return (
        f'attachment; filename="shortlist-{ascii_name}-{today}.csv"; '
        f"filename*=UTF-8''{quote(f'shortlist-{shown}-{today}.csv', safe='')}"
    )
