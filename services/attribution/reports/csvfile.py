"""Any report as CSV (RFC 4180): its rows flattened into columns, for a spreadsheet.

Nested objects become dotted columns (`clicks.unique`, `cpm.value`), lists become JSON text, and
null an empty cell. Every cell is quoted, and a text cell a spreadsheet would run as a formula
(starting with =, +, -, @, a tab or a return, and not a number) is prefixed with ' (OWASP's
advice against CSV injection): a creator's or a campaign's name is text the tenant typed.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import Response


def _flat(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, list):
        out[prefix] = json.dumps(value, sort_keys=True, default=str)
    else:
        out[prefix] = value


def _number(text: str) -> bool:
    try:
        Decimal(text)
        return True
    except InvalidOperation:
        return False


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text):
        return "'" + text
    return text


def table(rows: list[dict]) -> str:
    flat = []
    columns: dict[str, None] = {}
    for row in rows:
        out: dict[str, Any] = {}
        _flat("", row, out)
        flat.append(out)
        columns.update(dict.fromkeys(out))
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(list(columns))
    for out in flat:
        writer.writerow([cell(out.get(c)) for c in columns])
    return buffer.getvalue()


def response(rows: list[dict], filename: str) -> Response:
    return Response(table(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
