"""A rule published as a schema `pattern` is the rule the API enforces: what the pattern allows
is accepted, what it refuses is refused (else fuzzers and clients are misled either way)."""

import re

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from services.discovery.creator.schemas import HANDLE_PATTERN, Handle
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
