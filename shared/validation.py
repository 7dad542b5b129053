"""Field types for API input: what PostgreSQL would otherwise reject with a 500, and JSON
Schema's meaning of the types the OpenAPI document publishes."""

import re
from datetime import UTC, date, datetime
from typing import Any, Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict

# Every character code PostgreSQL text cannot hold (NUL) or that no name should carry; tab and
# newline stay allowed. Published as the schema's `pattern` so clients (and fuzzers) know it.
CONTROL_CHARACTERS = "\\x00-\\x08\\x0b-\\x1f\\x7f"
NO_CONTROL_CHARACTERS = f"^[^{CONTROL_CHARACTERS}]*$"


# One regular expression scan instead of a Python loop per character: bulk ingest validates
# megabytes of captions.
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    if _SURROGATE.search(value):
        # A lone surrogate (JSON "\ud800") has no UTF-8 encoding: the database would refuse it.
        raise ValueError("must be valid Unicode (no lone surrogates)")
    return value


PlainText = Annotated[
    str, AfterValidator(_no_control_characters), Field(json_schema_extra={"pattern": NO_CONTROL_CHARACTERS})
]


# An e-mail address as a shop records it: something, "@", something, without spaces or control
# characters (NUL among them, which PostgreSQL text cannot hold). Written out: `\s` would mean more
# in Python than in JSON Schema.
EMAIL_ADDRESS = r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+$"


# What str.strip() removes besides the control characters above (Python's str.isspace), written
# out for JSON Schema, whose `\s` means something else in ECMA 262.
SPACES = "\\t\\n \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
NOT_BLANK = f"^[^{CONTROL_CHARACTERS}]*[^{CONTROL_CHARACTERS}{SPACES}][^{CONTROL_CHARACTERS}]*$"


def _stripped_not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


# A name or a label: plain text, trimmed, and something left once trimmed (the pattern says so).
Label = Annotated[
    str,
    AfterValidator(_no_control_characters),
    AfterValidator(_stripped_not_blank),
    Field(json_schema_extra={"pattern": NOT_BLANK}),
]



def label(**field: Any) -> Any:
    """A Label with length bounds (`min_length`, `max_length`, and any other Field arguments) that
    apply to the text as sent, as its JSON Schema says, before it is trimmed: `Annotated[Label,
    Field(max_length=...)]` would measure the trimmed text and take a longer one."""
    return Annotated[
        str, Field(**field), AfterValidator(_no_control_characters), AfterValidator(_stripped_not_blank),
        Field(json_schema_extra={"pattern": NOT_BLANK}),
    ]


def integral_number(value: object) -> object:
    # JSON Schema counts 1000.0 as an integer (draft 2020-12, section 6.1.1 of the validation
    # vocabulary), so the API must take it; a boolean or a numeric string is not one.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Strict: `false` is not 0 and "5" is not 5. A BIGINT column holds up to 2**63-1; no real count
# comes near 10**12.
# The bounds sit before the BeforeValidator so pydantic still publishes them as minimum/maximum.
Count = Annotated[int, Strict(), Field(ge=0, le=10**12), BeforeValidator(integral_number)]


def _date_text(value: object) -> object:
    # JSON Schema's `format: date` is a string; pydantic would also take 0 (the epoch) or 1.7e9.
    if isinstance(value, (int, float)):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


# A calendar day as JSON carries it: "2027-03-31", never a number.
IsoDate = Annotated[date, BeforeValidator(_date_text)]

_NUMBER = re.compile(r"\s*[-+]?[0-9.eE+-]+\s*")


def datetime_text(value: object) -> object:
    """A date-time as JSON Schema's `format: date-time` has it (`2026-11-26T08:00:00Z`): pydantic
    would also read 0, 1.7e9 or "1700000000" as seconds since 1970."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be a date-time written like 2026-11-26T08:00:00Z")
    return value


def in_utc(value: datetime | None) -> datetime | None:
    """The instant in UTC. Python (and so the driver, which sends it to PostgreSQL in UTC) holds
    years 1 to 9999 only: 9999-12-31T23:59:59-14:00 is in year 10000 in UTC, and was a 500."""
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must fall between the years 1 and 9999 in UTC") from None


# An instant with its offset, in UTC once read.
UtcDateTime = Annotated[AwareDatetime, AfterValidator(in_utc)]
# An instant with its offset, as JSON carries it; never a number of seconds.
DateTimeText = Annotated[AwareDatetime, BeforeValidator(datetime_text), AfterValidator(in_utc)]


class FieldError(ValueError):
    """Raised by a model validator about one of the model's fields: the 422 then names that
    field (`body.filters.followers_min`), not the model, and gives `reason` alone."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def keys_as_property_names(schema: dict) -> None:
    """A field's `json_schema_extra` for a dict whose key type carries a pattern. Pydantic writes
    such a dict as `patternProperties`, under which a key that misses the pattern is allowed with
    any value; the API rejects it, so the schema says what the API does: every key matches
    (`propertyNames`) and every value is the value type (`additionalProperties`)."""
    patterns = schema.pop("patternProperties", None)
    if not patterns:
        return
    [(pattern, values)] = patterns.items()
    schema["propertyNames"] = {**schema.get("propertyNames", {}), "pattern": pattern}
    schema["additionalProperties"] = values
