"""Invariants of small mechanics, checked with generated inputs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.messaging.kafka import backoff_delay


@given(st.integers(min_value=1, max_value=200))
def test_backoff_grows_and_is_capped(attempt):
    assert backoff_delay(attempt) <= backoff_delay(attempt + 1) <= 5.0


def test_backoff_starts_at_its_base():
    assert backoff_delay(1, base=0.2) == pytest.approx(0.2)
