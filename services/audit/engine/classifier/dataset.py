"""Labelled follower CSVs: read, check, reduce to base columns (features.py), fingerprint.

Two shapes are accepted, mixed freely column by column:
- raw: username, full_name, biography, external_url (text) and the counts and flags below;
- derived (the bundled SRF data): username_length, username_digit_count, biography_length,
  full_name_words, has_external_url instead of the texts.
Where both a raw field and its derived column are present, the raw field wins (it carries more:
the username's entropy). Counts: media_count, follower_count, following_count (non-negative
integers). Flags: has_profile_pic, is_private, is_verified, has_external_url (0/1, true/false,
yes/no). The label column `label` is 1 (or true, fake) for a fake account and 0 (false, real)
for a real one. An empty cell is unknown; an absent column is unknown for every row.
"""

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.audit.engine.classifier.features import (
    BASE_COLUMNS,
    FEATURES,
    derive,
    text_lengths,
    url_present,
    username_stats,
    word_counts,
)

LABEL = "label"
COUNT_COLUMNS = ("media_count", "follower_count", "following_count", "biography_length", "full_name_words",
                 "username_length", "username_digit_count")
FLAG_COLUMNS = ("has_profile_pic", "is_private", "is_verified", "has_external_url")
TEXT_COLUMNS = ("username", "full_name", "biography", "external_url")
KNOWN_COLUMNS = frozenset((LABEL, *COUNT_COLUMNS, *FLAG_COLUMNS, *TEXT_COLUMNS))
_TRUE = frozenset(("1", "true", "yes", "y", "t"))
_FALSE = frozenset(("0", "false", "no", "n", "f"))
_LABEL_TRUE = _TRUE | {"fake"}
_LABEL_FALSE = _FALSE | {"real"}


class DataError(ValueError):
    """The CSV cannot be used; the message names the column and, for a bad value, the line."""


@dataclass(frozen=True)
class Dataset:
    features: np.ndarray  # rows x FEATURES
    labels: np.ndarray | None  # 1 = fake, 0 = real; None when the file has no label column
    fingerprint: str  # SHA-256 of the file's bytes, hex
    columns: tuple[str, ...]  # the CSV's recognised columns
    ignored: tuple[str, ...]  # columns the reader does not know (left alone)
    missing: tuple[str, ...]  # base columns absent, underivable or empty: unknown for every row
    path: str

    @property
    def rows(self) -> int:
        return len(self.features)

    def unknown_share(self, feature: str) -> float:
        """Share of rows where `feature` (one of FEATURES) is unknown."""
        return float(np.isnan(self.features[:, FEATURES.index(feature)]).mean())


def fingerprint(data: bytes) -> str:
    """SHA-256 of the file exactly as read, so `sha256sum FILE` verifies it."""
    return hashlib.sha256(data).hexdigest()


def _count(value: str, column: str, line: int) -> float:
    if value == "":
        return np.nan
    try:
        number = float(value)
    except ValueError:
        raise DataError(f"line {line}, column {column!r}: {value!r} is not a number") from None
    if not np.isfinite(number) or number < 0 or number != int(number):
        raise DataError(f"line {line}, column {column!r}: {value!r} is not a non-negative whole number")
    return number


def _flag(value: str, column: str, line: int, true: frozenset[str] = _TRUE, false: frozenset[str] = _FALSE) -> float:
    lowered = value.strip().lower()
    if lowered == "":
        return np.nan
    if lowered in true:
        return 1.0
    if lowered in false:
        return 0.0
    raise DataError(f"line {line}, column {column!r}: {value!r} is not one of {sorted(true | false)}")


def read_csv(path: str | Path, *, require_label: bool) -> Dataset:
    """Read a labelled (or, with require_label=False, unlabelled) follower CSV."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise DataError(f"{path} is empty: expected a header row")
    header = [h.strip().lower() for h in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise DataError(f"column {duplicated[0]!r} appears more than once in the header")
    columns = [h for h in header if h in KNOWN_COLUMNS]
    if require_label and LABEL not in columns:
        raise DataError(f"column {LABEL!r} is missing: it must hold 1 (fake) or 0 (real) for every row")
    if not set(columns) - {LABEL}:
        raise DataError(f"no follower column found; expected some of {sorted(KNOWN_COLUMNS - {LABEL})}")
    position = {name: header.index(name) for name in columns}

    raw: dict[str, list] = {name: [] for name in columns}
    lines: list[int] = []  # the file line of each row kept (blank lines are skipped)
    for line, row in enumerate(reader, start=2):
        if not row or all(cell.strip() == "" for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(f"line {line}: {len(row)} fields, the header has {len(header)}")
        lines.append(line)
        for name in columns:
            cell = row[position[name]].strip()
            if name == LABEL:
                if cell == "":
                    raise DataError(f"line {line}, column {LABEL!r}: empty; every row needs 1 (fake) or 0 (real)")
                raw[name].append(_flag(cell, name, line, _LABEL_TRUE, _LABEL_FALSE))
            elif name in COUNT_COLUMNS:
                raw[name].append(_count(cell, name, line))
            elif name in FLAG_COLUMNS:
                raw[name].append(_flag(cell, name, line))
            else:
                raw[name].append(row[position[name]])
    rows = len(lines)
    if rows == 0:
        raise DataError(f"{path} has a header and no rows")

    base: dict[str, np.ndarray] = {}
    for name in COUNT_COLUMNS + FLAG_COLUMNS:
        if name in raw:
            base[name] = np.array(raw[name], dtype=np.float64)
    # Raw text wins over the derived column it replaces. An empty username cell is unknown (no
    # account has an empty username); an empty biography, full name or URL is an empty one.
    if "username" in raw:
        length, digits, entropy = username_stats([u.strip() or None for u in raw["username"]])
        base.update(username_length=length, username_digit_count=digits, username_entropy=entropy)
    if "full_name" in raw:
        base["full_name_words"] = word_counts(raw["full_name"])
    if "biography" in raw:
        base["biography_length"] = text_lengths(raw["biography"])
    if "external_url" in raw:
        base["has_external_url"] = url_present(raw["external_url"])
    for name in BASE_COLUMNS:
        base.setdefault(name, np.full(rows, np.nan))
    missing = tuple(name for name in BASE_COLUMNS if np.isnan(base[name]).all())
    if "username" not in raw and "username_length" in base and "username_digit_count" in base:
        bad = np.flatnonzero(base["username_digit_count"] > base["username_length"])
        if bad.size:
            raise DataError(f"line {lines[bad[0]]}, column 'username_digit_count': more digits than username_length")
    labels = np.array(raw[LABEL], dtype=np.int64) if LABEL in raw else None
    return Dataset(
        features=derive(base),
        labels=labels,
        fingerprint=fingerprint(data),
        columns=tuple(columns),
        ignored=tuple(h for h in header if h not in KNOWN_COLUMNS),
        missing=missing,
        path=str(path),
    )
