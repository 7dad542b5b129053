"""A rule published as a schema `pattern` is the rule the API enforces: what the pattern allows
is accepted, what it refuses is refused (else fuzzers and clients are misled either way)."""

import re
from importlib import import_module

import pytest
from hypothesis import given
from hypothesis import strategies as st
from cryptography.fernet import Fernet
from pydantic import TypeAdapter, ValidationError

from services.discovery.creator.schemas import HANDLE_PATTERN, Handle
from shared.identity import generate_keypair
from shared.validation import NO_CONTROL_CHARACTERS, NOT_BLANK, Label, PlainText

HANDLE = TypeAdapter(Handle)
PLAIN = TypeAdapter(PlainText)
LABEL = TypeAdapter(Label)
# Whitespace, control characters and '@' are where the rules live, so draw them often.
EDGY_TEXT = st.text(st.sampled_from(" \t\n\x00\x0b\x1f\x7f\x85\xa0\u2003\u3000@aZ\u0130") | st.characters(), max_size=12)


def accepts(adapter: TypeAdapter, value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


# A lone surrogate (JSON "\ud800") is refused by PlainText but no JSON Schema pattern can say so
# (ECMA 262 without the u flag matches UTF-16 code units): drawn for neither rule.
NO_SURROGATES = EDGY_TEXT.filter(lambda v: not any(0xD800 <= ord(c) <= 0xDFFF for c in v))


@given(NO_SURROGATES)
def test_handle_pattern_and_handle_validation_agree(value):
    assert accepts(HANDLE, value) == bool(re.fullmatch(HANDLE_PATTERN, value) and 1 <= len(value) <= 100)


@given(st.from_regex(HANDLE_PATTERN, fullmatch=True).filter(lambda v: len(v) <= 100))
def test_every_handle_the_pattern_allows_is_accepted(value):
    assert accepts(HANDLE, value)


@given(NO_SURROGATES)
def test_plain_text_pattern_and_validation_agree(value):
    assert accepts(PLAIN, value) == bool(re.fullmatch(NO_CONTROL_CHARACTERS, value))


@given(NO_SURROGATES)
def test_label_pattern_and_validation_agree(value):
    assert accepts(LABEL, value) == bool(re.fullmatch(NOT_BLANK, value))


# Every service's own document, built in-process (no platform): the gateway's own routes are in
# its document, the others' in theirs.
SERVICES = ("gateway", "discovery", "audit", "attribution")
# Ordinary values of the shapes the API's patterns describe: names, codes, e-mails, dates, tags.
SAMPLES = ("a", "ab", "abc", "Ab1", "a b", "ABC15", "x-1_y", "ann@example.com", "2026-01-01", "US", "en", "de-DE",
           "#tag", "@brand", "summer sale", "Berlin")


def _document(service: str) -> dict:
    config = import_module(f"services.{service}.config")
    settings = next(v for k, v in vars(config).items() if k.endswith("Settings") and k != "ServiceSettings")
    keys = {}
    if service == "gateway":  # it refuses to start without the keys it signs and seals with
        private, public = generate_keypair()
        keys = {"gateway_identity_private_key": private, "identity_public_key": public,
                "gateway_secrets_key": Fernet.generate_key().decode()}
    return import_module(f"services.{service}.main").create_app(
        settings(database_url="postgresql+asyncpg://unused/unused", **keys)).openapi()


def _patterns(document: dict, schema: dict, where: str, seen: frozenset = frozenset()):
    """(where, pattern) of every string an input schema takes, through $ref, anyOf/oneOf/allOf,
    items, properties, additionalProperties and propertyNames."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen, schema = seen | {name}, document["components"]["schemas"][name]
    if isinstance(schema.get("pattern"), str):
        yield where, schema["pattern"]
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            yield from _patterns(document, part, where, seen)
    for name, part in schema.get("properties", {}).items():
        yield from _patterns(document, part, f"{where}.{name}", seen)
    for key, suffix in (("items", "[]"), ("additionalProperties", ".*"), ("propertyNames", ".<key>")):
        if isinstance(schema.get(key), dict):
            yield from _patterns(document, schema[key], where + suffix, seen)


def _inputs(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                yield from _patterns(document, parameter.get("schema", {}),
                                     f"{method.upper()} {path} {parameter['in']}.{parameter['name']}")
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                if "json" in media:
                    yield from _patterns(document, content.get("schema", {}), f"{method.upper()} {path} body")


@pytest.mark.parametrize("service", SERVICES)
def test_no_pattern_an_input_publishes_lets_a_nul_through(service):
    """PostgreSQL text cannot hold NUL: a value with one that passed validation was a 500. A
    pattern is searched, not matched whole (JSON Schema and pydantic alike), so `\\S`, `.`, a
    negated class without NUL or a missing anchor let one through beside a good value (the city
    filter's `\\S` and the privacy e-mail's `[^@ ...]` did)."""
    leaks = set()
    for where, pattern in _inputs(_document(service)):
        search = re.compile(pattern).search
        for sample in SAMPLES:
            if search(sample) and any(search(sample[:i] + "\x00" + sample[i:]) for i in range(len(sample) + 1)):
                leaks.add((where, pattern))
    assert not leaks, sorted(leaks)
