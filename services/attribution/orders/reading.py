"""Small readers shared by the partner parsers: each names the field it failed on."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from services.attribution.orders.model import CLICK_ID_ATTRIBUTES, CLICK_ID_PARAM, PayloadError
from shared.money import MoneyError, exponent, parse_amount

MAX_TEXT = 2048
KEY_LIMIT = 255  # what orders.codes and orders.click_ids hold per value
# What PostgreSQL text cannot hold: NUL, and a lone UTF-16 surrogate (JSON "\ud800"), which has
# no UTF-8 form.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The times a partner's message may carry: from 2000 to a week ahead of this clock. A partner's
# clock or time zone may be off by hours, and the suite dates orders days ahead (a commission rule
# takes effect from when it is made); a year ahead, or 9999, is a mistake.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=7)


def load(body: str) -> dict:
    """The JSON object of a body, numbers with a point read as Decimal (never float)."""
    try:
        value = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("body", f"not JSON: {str(exc)[:120]}") from None
    if not isinstance(value, dict):
        raise PayloadError("body", "not a JSON object")
    return value


def need(obj: dict, key: str, path: str) -> Any:
    if obj.get(key) is None:
        raise PayloadError(f"{path}{key}", "missing")
    return obj[key]


def ident(value: Any, path: str) -> str:
    """An identifier sent as a string or an integer (Shopify's ids are integers)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PayloadError(path, "not a string or integer id")
    text = str(value).strip()
    if not text or len(text) > 255:
        raise PayloadError(path, "empty or longer than 255 characters")
    if UNSTORABLE.search(text):
        raise PayloadError(path, "contains NUL (\\u0000) or a lone surrogate, which PostgreSQL cannot store")
    return text


# Refund ids the ledger keeps for itself (crediting/settlement.py, crediting/recompute.py): the
# cancellation's claim, a re-credit's claims, and `<refund>|<creator>`, a split refund's parts. A
# partner's refund named like one would pass for it: the cancellation or the refund would claw
# nothing back.
RESERVED_REFUND_IDS = ("cancelled",)
RESERVED_REFUND_PREFIX = "limelight-"


def refund_ident(value: Any, path: str) -> str:
    """A refund's id: an identifier that is none of the ledger's own claim names."""
    text = ident(value, path)
    if text in RESERVED_REFUND_IDS or text.startswith(RESERVED_REFUND_PREFIX) or "|" in text:
        raise PayloadError(path, f"reserved: a refund id may not be {', '.join(map(repr, RESERVED_REFUND_IDS))}, "
                                 f"start with {RESERVED_REFUND_PREFIX!r} or contain '|' (the ledger's own claim names)")
    return text


def optional_ident(value: Any, path: str) -> str | None:
    return None if value is None or value == "" else ident(value, path)


def string(value: Any, path: str) -> str | None:
    """A string as sent, or None; anything else is refused."""
    if value is not None and not isinstance(value, str):
        raise PayloadError(path, "not a string")
    return value


def text(value: Any, path: str, limit: int = MAX_TEXT) -> str | None:
    """Free text (a title, a note, a URL) kept as sent, but for what PostgreSQL text cannot hold
    (NUL, lone surrogates): dropped. Never a value that is matched against ours (`keys`)."""
    value = string(value, path)
    return None if value is None else UNSTORABLE.sub("", value)[:limit]


def keys(values: Iterable[str | None], path: str, notes: list[str]) -> tuple[str, ...]:
    """Values matched against ours (discount codes, click ids, collections, SKUs) as sent, each
    once, in order, empty ones left out. One that none of ours can equal (over 255 characters, or
    holding NUL or a lone surrogate, which PostgreSQL cannot store) is left out with a note, rather than refusing the
    order or matching it altered."""
    kept = []
    for value in values:
        if not value:
            continue
        if len(value) > KEY_LIMIT or UNSTORABLE.search(value):
            why = f"longer than {KEY_LIMIT} characters" if len(value) > KEY_LIMIT else "holding NUL (\\u0000) or a lone surrogate"
            shown = repr(value[:40]) + ("..." if len(value) > 40 else "")
            notes.append(f"{path}: {shown}, {why}, is not kept: it can match nothing")
            continue
        kept.append(value)
    return tuple(dict.fromkeys(kept))


def timestamp(value: Any, path: str) -> datetime:
    """An ISO 8601 time with its offset (a time without one is read as UTC)."""
    if not isinstance(value, str):
        raise PayloadError(path, "not an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(path, f"{value[:40]!r} is not an ISO 8601 time") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    # A year 1 or 9999 broke arithmetic later (a holding period past year 9999); an order placed
    # in 2999, a mistyped year, would be credited with a commission never approved.
    if not EARLIEST <= parsed <= datetime.now(UTC) + AHEAD:
        raise PayloadError(path, f"{value[:40]!r} is not a time from 2000 to a week from now")
    return parsed


def optional_timestamp(value: Any, path: str) -> datetime | None:
    return None if value in (None, "") else timestamp(value, path)


def currency(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(path, "not an ISO 4217 currency code")
    try:
        exponent(value)
    except MoneyError as exc:
        raise PayloadError(path, str(exc)) from None
    return value


_AMOUNT_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def amount(value: Any, code: str, path: str, signed: bool = False) -> int:
    """A decimal amount (a string such as "19.99", or a JSON number) in minor units of `code`;
    negative only where `signed`."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise PayloadError(path, "not a decimal amount")
    if isinstance(value, str) and not _AMOUNT_TEXT.fullmatch(value):
        # Python's Decimal also reads "1e3", " 10.00" and full-width digits: a partner's amount
        # is plain ASCII digits, so anything else is a mistake to report, not to guess at.
        raise PayloadError(path, f"{value[:40]!r} is not a decimal amount (digits, an optional '-' and '.')")
    try:
        minor = parse_amount(value, code)
    except MoneyError as exc:
        raise PayloadError(path, str(exc)) from None
    if minor < 0 and not signed:
        raise PayloadError(path, "negative")
    return minor


def optional_amount(value: Any, code: str, path: str, signed: bool = False) -> int | None:
    return None if value is None or value == "" else amount(value, code, path, signed)


def quantity(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise PayloadError(path, "not a whole number from 0 to 1,000,000")
    return value


def objects(value: Any, path: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PayloadError(path, "not a list of objects")
    return value


def click_ids_in_url(url: str | None) -> list[str]:
    """The click ids in a landing URL's query string ("/p?utm_source=x&ll_click=abc" or a full URL)."""
    if not url:
        return []
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    return [value for name, value in parse_qsl(query) if name == CLICK_ID_PARAM and value]


def click_ids_in_attributes(attributes: list[dict]) -> list[str]:
    """Click ids passed back as note or cart attributes ({"name": "ll_click", "value": "..."})."""
    found = []
    for attribute in attributes:
        name, value = attribute.get("name") or attribute.get("key"), attribute.get("value")
        if isinstance(name, str) and name.strip().lower() in CLICK_ID_ATTRIBUTES and isinstance(value, str) and value.strip():
            found.append(value.strip())
    return found


_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SUBDIVISION = re.compile(r"^[A-Z0-9]{1,3}$")


def shipping_place(address: Any, path: str) -> tuple[str | None, str | None, list[str]]:
    """Where an order ships, from its shipping address: (ISO 3166-1 alpha-2 country, ISO 3166-2
    region such as `US-CA`, notes). Only `country_code` and `province_code` are read — never the
    street, the city, the postcode or the name. A province code is taken bare (`CA`, as Shopify
    sends it) or whole (`US-CA`); a value that is neither is not kept, and a note says so, so an
    odd address never costs the order itself."""
    if address is None:
        return None, None, []
    if not isinstance(address, dict):
        return None, None, [f"{path} is not an object; no shipping country or region kept"]
    notes: list[str] = []
    sent = address.get("country_code")
    country = sent.strip().upper() if isinstance(sent, str) else sent
    if country in (None, ""):
        country = None
    elif not isinstance(country, str) or not _COUNTRY.match(country):
        notes.append(f"{path}.country_code {sent!r} is not an ISO 3166-1 alpha-2 code; no shipping country or region kept")
        country = None
    province = address.get("province_code")
    province = province.strip().upper() if isinstance(province, str) else province
    region = None
    if province not in (None, "") and country is not None:
        if isinstance(province, str) and province.startswith(f"{country}-"):
            province = province[len(country) + 1:]
        if isinstance(province, str) and _SUBDIVISION.match(province):
            region = f"{country}-{province}"
        else:
            notes.append(f"{path}.province_code {address.get('province_code')!r} is not a subdivision code of {country}; "
                         "no shipping region kept")
    return country, region, notes
