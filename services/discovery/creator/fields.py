"""Field types of a creator write: ISO codes checked against pycountry, shares, tags, figures.
Each publishes what it accepts in the JSON Schema (enum, pattern, bounds), so a client and the
fuzzer know it; what JSON Schema cannot say (a distribution summing to at most 1) is checked by
the model that holds it and named in the 422."""

import math
import time
from datetime import UTC, datetime
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict

from shared.validation import CONTROL_CHARACTERS, SPACES, Label, PlainText, datetime_text, in_utc
from shared.validation import _no_control_characters as no_control_characters

COUNTRY_CODES = tuple(sorted(c.alpha_2 for c in pycountry.countries))
LANGUAGE_CODES = tuple(sorted(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")))
CURRENCY_CODES = tuple(sorted(c.alpha_3 for c in pycountry.currencies))
AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("female", "male", "other")
POST_TYPES = ("photo", "video", "reel", "carousel", "story", "short", "live", "text")

# A distribution may leave a remainder unassigned (unknown), never exceed the whole; rounding of
# the source's percentages is forgiven up to this much.
SHARE_TOLERANCE = 0.01
# Timestamps further ahead than this are clock errors, not observations.
FUTURE_SLACK_SECONDS = 24 * 3600


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _one_of(codes: tuple[str, ...], what: str):
    allowed = frozenset(codes)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is not an {what} code")
        return value

    return check


# The schema lists the codes (an enum); the API also takes them in either case and trimmed.
CountryCode = Annotated[
    str, BeforeValidator(_upper), AfterValidator(_one_of(COUNTRY_CODES, "ISO 3166-1 alpha-2")),
    Field(json_schema_extra={"enum": list(COUNTRY_CODES)}, description="ISO 3166-1 alpha-2."),
]
LanguageCode = Annotated[
    str, BeforeValidator(_lower), AfterValidator(_one_of(LANGUAGE_CODES, "ISO 639-1")),
    Field(json_schema_extra={"enum": list(LANGUAGE_CODES)}, description="ISO 639-1."),
]
CurrencyCode = Annotated[
    str, BeforeValidator(_upper), AfterValidator(_one_of(CURRENCY_CODES, "ISO 4217")),
    Field(json_schema_extra={"enum": list(CURRENCY_CODES)}, description="ISO 4217."),
]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


# Strict: `false` is not 0 and "0.4" is not 0.4 (an integer is still a number).
Share = Annotated[float, Strict(), Field(ge=0, le=1), AfterValidator(_finite)]
Average = Annotated[float, Strict(), Field(ge=0, le=1e12), AfterValidator(_finite)]


def _not_future(value: datetime) -> datetime:
    # time.time(), not datetime.now(UTC): a bulk line holds dozens of timestamps, and a clock
    # read through datetime costs ten times more.
    if value.timestamp() - time.time() > FUTURE_SLACK_SECONDS:
        raise ValueError(FUTURE)
    return value.astimezone(UTC)


FUTURE = "must not be in the future"


Observed = Annotated[AwareDatetime, BeforeValidator(datetime_text), AfterValidator(in_utc), AfterValidator(_not_future)]


def _tag(value: str) -> str:
    value = value.strip().lstrip("#@").lower()
    if not value or any(ch.isspace() for ch in value):
        raise ValueError("must be one word, without spaces")
    return value


# Whitespace and control characters, written out: `\s` means one set in the API's validator
# (Unicode White_Space, with U+0085) and another in JSON Schema's ECMA 262 (with U+FEFF, without
# U+0085), so a client or fuzzer reading the schema would disagree with the API.
_WS = CONTROL_CHARACTERS + SPACES + "\\ufeff"
# A hashtag or mention as given (with or without '#'/'@'); stored lower-cased without them.
Tag = Annotated[
    str, Field(min_length=1, max_length=100, pattern=rf"^[ ]*[#@]?[^{_WS}#@][^{_WS}]*[ ]*$"),
    AfterValidator(no_control_characters), AfterValidator(_tag),
]
# One pattern that says it all (PlainText's own pattern would replace this one in the schema).
Email = Annotated[
    str, Field(min_length=3, max_length=320, pattern=rf"^[^@{_WS}]+@[^@{_WS}]+$"),
    AfterValidator(no_control_characters),
]


def _niche(value: str) -> str:
    return " ".join(value.split()).lower()


Niche = Annotated[Label, Field(max_length=50), AfterValidator(_niche)]
Url = Annotated[PlainText, Field(min_length=1, max_length=2048)]
# A decimal string, kept as written ("1250.00"): money is never a float (docs: STYLE.md).
Amount = Annotated[str, Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,4})?$", description='A decimal string, e.g. "1250.00".')]
PostType = Literal["photo", "video", "reel", "carousel", "story", "short", "live", "text"]
AgeBand = Literal["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
Gender = Literal["female", "male", "other"]


def unique(values: list) -> list:
    """`values` in order, once each."""
    return list(dict.fromkeys(values))
