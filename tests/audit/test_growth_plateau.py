"""A plateau in a steady trend is neither a spike nor a drop: after losing 3,000 followers a day,
five flat days were scored as bought followers ("a spike of +0", audit 0, grade F); after
gaining 3,000 a day, as a drop "of +0 (3.7 % of followers)". Found by an outside probe."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.audit.engine.signals.growth import growth_signal
from services.audit.engine.types import FollowerPoint

T0 = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def series(per_day: list[int], start: int = 100_000) -> list[FollowerPoint]:
    points, count = [FollowerPoint(T0, start)], start
    for i, change in enumerate(per_day, start=1):
        count += change
        points.append(FollowerPoint(T0 + timedelta(days=i), count))
    return points


@pytest.mark.parametrize("trend", [-3_000, 3_000])
def test_flat_days_after_a_steady_trend_are_no_anomaly(trend):
    s = growth_signal(series([trend] * 25 + [0] * 5))
    assert s.details["anomalies"] == [] and s.flags == () and s.score == 100.0, s.evidence


def test_a_real_spike_or_drop_against_the_trend_is_still_found():
    assert growth_signal(series([-3_000] * 25 + [20_000] + [-3_000] * 4)).flags == ("growth_spike_unexplained",)
    assert growth_signal(series([3_000] * 25 + [-20_000] + [3_000] * 4)).flags == ("growth_drop",)


@settings(max_examples=60, deadline=None)
@given(trend=st.integers(min_value=-5_000, max_value=5_000), flat=st.integers(min_value=1, max_value=10))
def test_no_anomaly_ever_reports_a_change_against_its_kind(trend, flat):
    """A spike gained followers and a drop lost them, whatever the trend before."""
    s = growth_signal(series([trend] * 20 + [0] * flat + [trend] * 5, start=500_000))
    for anomaly in s.details["anomalies"]:
        assert (anomaly["change"] > 0) == (anomaly["kind"] == "spike"), anomaly
