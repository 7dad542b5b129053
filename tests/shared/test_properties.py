"""Invariants of small mechanics, checked with generated inputs."""

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import Invalid
from shared.messaging.kafka import backoff_delay
from shared.pagination import decode_cursor, encode_cursor

aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(aware_datetimes, st.uuids())
def test_cursor_round_trips(created_at, row_id):
    assert decode_cursor(encode_cursor(created_at, row_id)) == (created_at, row_id)


@given(st.text(max_size=100))
def test_any_other_text_is_rejected_as_a_cursor_or_decodes_to_a_valid_position(text):
    try:
        created_at, row_id = decode_cursor(text)
    except Invalid as exc:
        assert exc.detail == [{"field": "query.cursor", "reason": "not a cursor returned by this API"}]
    else:
        assert created_at.tzinfo is not None and isinstance(row_id, uuid.UUID)


@given(st.integers(min_value=1, max_value=200))
def test_backoff_grows_and_is_capped(attempt):
    assert backoff_delay(attempt) <= backoff_delay(attempt + 1) <= 5.0


def test_backoff_starts_at_its_base():
    assert backoff_delay(1, base=0.2) == pytest.approx(0.2)
