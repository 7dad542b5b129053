"""The activations CSV: one row per activation and (optionally) one snapshot of it, read into
the API's own models so a row is held to exactly the rules of POST .../activations and POST
.../snapshots. Pure: no database here (activations/service.py applies the rows).

Header (line 1), in any order: creator_id, platform, format, url, posted_at (required), then
observed_at and any of impressions, reach, views, likes, comments, shares, saves (optional). An
empty observed_at records the activation alone; an empty figure is "not reported".
"""

import csv
import io
from dataclasses import dataclass

from pydantic import ValidationError

from services.attribution.activations.models import METRICS
from services.attribution.activations.schemas import ActivationCreate, RowError, SnapshotCreate
from shared.errors import Invalid
from shared.validation import FieldError

REQUIRED = ("creator_id", "platform", "format", "url", "posted_at")
OPTIONAL = ("observed_at", *METRICS)
COLUMNS = REQUIRED + OPTIONAL
MAX_ROWS = 5_000
MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class Row:
    line: int
    activation: ActivationCreate
    snapshot: SnapshotCreate | None


def _error(line: int, exc: ValidationError, columns: tuple[str, ...]) -> RowError:
    first = exc.errors()[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):  # a model validator's finding about one field (shared.validation)
        return RowError(line=line, field=cause.field, reason=cause.reason)
    field = next((str(part) for part in first["loc"] if str(part) in columns), None)
    return RowError(line=line, field=field, reason=first["msg"].removeprefix("Value error, "))


def parse(data: bytes) -> tuple[list[Row], list[RowError]]:
    """The file's valid rows and its refused ones, each refused row with its line (the header is
    line 1). A file whose rows cannot be read at all (not UTF-8, no or a wrong header) has no row
    and one error saying why, as the NDJSON bulk routes answer a bad file; an empty body or one
    too large is a 422 naming `body` (the request itself is wrong, not a file's content)."""
    if not data:
        raise Invalid("body", f"empty; the first line is the header: {','.join(COLUMNS)}")
    if len(data) > MAX_BYTES:
        raise Invalid("body", f"at most {MAX_BYTES} bytes; split the file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return [], [RowError(line=line, field=None, reason=f"not UTF-8 text: byte {exc.start}; nothing was read")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        header = []
    except csv.Error as exc:
        return [], [RowError(line=1, field="header", reason=f"line 1 is not CSV: {exc}; nothing was read")]
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        why = (f"unknown column {unknown[0]!r}" if unknown else f"missing column {missing[0]!r}" if missing
               else "a column is named twice")
        return [], [RowError(line=1, field="header", reason=(
            f"{why}; the header is {','.join(REQUIRED)} and any of {','.join(OPTIONAL)}; nothing was read"))]
    rows: list[Row] = []
    errors: list[RowError] = []
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line=start, field=None, reason=f"not CSV: {exc}"))
            break
        line = start
        if not any(cell.strip() for cell in record):
            continue  # a blank line (a trailing newline, a spreadsheet's empty row)
        if len(rows) + len(errors) >= MAX_ROWS:
            raise Invalid("body", f"at most {MAX_ROWS} rows; split the file")
        if len(record) != len(header):
            errors.append(RowError(line=line, field=None, reason=f"{len(record)} cells for {len(header)} columns"))
            continue
        cells = {name: cell.strip() for name, cell in zip(header, record, strict=True)}
        try:
            activation = ActivationCreate.model_validate({name: cells[name] for name in REQUIRED})
        except ValidationError as exc:
            errors.append(_error(line, exc, REQUIRED))
            continue
        if not cells.get("observed_at"):
            if any(cells.get(m) for m in METRICS):
                errors.append(RowError(line=line, field="observed_at", reason="figures need the time they were observed at"))
            else:
                rows.append(Row(line, activation, None))
            continue
        # ASCII digits only ("²".isdigit() is true, and int() refuses it), and a length the snapshot's
        # bounds could take: anything else goes to the model as text, which names the field.
        figures = {m: int(cells[m]) if cells[m].isascii() and cells[m].isdigit() and len(cells[m]) <= 20 else cells[m]
                   for m in METRICS if cells.get(m)}
        try:
            snapshot = SnapshotCreate.model_validate({"observed_at": cells["observed_at"], **figures})
        except ValidationError as exc:
            errors.append(_error(line, exc, OPTIONAL))
            continue
        rows.append(Row(line, activation, snapshot))
    return rows, errors
