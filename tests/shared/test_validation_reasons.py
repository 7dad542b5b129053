"""The reason a 422 gives for text that is too long or too short speaks of characters, whatever
rule the text carries besides (an outside probe read "at most 500 items" for a query string)."""

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from shared.errors import _detail
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
