"""Every time the API takes is read in UTC, and one Python cannot hold there (before year 1 or
after 9999 in UTC, though valid as written) is a validation error, never an OverflowError (a 500)."""

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from services.attribution.codes.schemas import CodeCreate
from services.audit.samples.schemas import CommentLine
from services.discovery.creator.fields import Observed
from shared.validation import DateTimeText, UtcDateTime

EDGES = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]


@pytest.mark.parametrize("kind", [DateTimeText, UtcDateTime, Observed])
@pytest.mark.parametrize("when", EDGES)
def test_a_time_outside_the_utc_years_is_refused_as_a_value_error(kind, when):
    with pytest.raises(ValidationError) as raised:
        TypeAdapter(kind).validate_python(when)
    assert "between the years 1 and 9999 in UTC" in str(raised.value)


@pytest.mark.parametrize("kind", [DateTimeText, UtcDateTime, Observed])
def test_a_time_is_read_in_utc(kind):
    assert TypeAdapter(kind).validate_python("2026-01-01T10:00:00+02:00") == datetime(2026, 1, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize("when", EDGES)
def test_models_with_their_own_time_types_refuse_it_naming_the_field(when):
    with pytest.raises(ValidationError) as raised:
        CodeCreate(campaign_id="00000000-0000-0000-0000-000000000001", creator_id="00000000-0000-0000-0000-000000000002",
                   code="EDGE10", expires_at=when)
    assert raised.value.errors()[0]["loc"] == ("expires_at",)
    with pytest.raises(ValidationError) as raised:
        CommentLine(post_id="00000000-0000-0000-0000-000000000003", author="ann", text="nice", commented_at=when)
    assert raised.value.errors()[0]["loc"][0] == "commented_at"
