"""The reason a 422 gives for text that is too long or too short speaks of characters, whatever
rule the text carries besides (an outside probe read "at most 500 items" for a query string)."""

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from shared.errors import _detail, reason_of
from shared.validation import PlainText


class Body(BaseModel):
    q: Annotated[PlainText, Field(min_length=2, max_length=3)]
    tags: Annotated[list[str], Field(max_length=1)] = []


@pytest.mark.parametrize("sent, reason", [
    ({"q": "abcdef"}, "String should have at most 3 characters"),
    ({"q": "a"}, "String should have at least 2 characters"),
    ({"q": "ab", "tags": ["x", "y"]}, "List should have at most 1 item after validation, not 2"),
])
def test_length_reasons_name_characters_for_text_and_items_for_lists(sent, reason):
    with pytest.raises(ValidationError) as raised:
        Body(**sent)
    assert [_detail(e)["reason"] for e in raised.value.errors()] == [reason]


class Bounded(BaseModel):
    rate: Annotated[float, Field(ge=0, le=100)]


@pytest.mark.parametrize("sent", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity", "-inf"])
def test_a_number_that_is_not_finite_is_said_to_be_so_not_out_of_a_bound(sent):
    """An outside probe read "less than or equal to 100" for NaN, which is no more above 100 than below."""
    with pytest.raises(ValidationError) as raised:
        Bounded(rate=sent)
    assert [_detail(e)["reason"] for e in raised.value.errors()] == ["Input should be a finite number"]
    assert [reason_of(e) for e in raised.value.errors()] == ["Input should be a finite number"]
