"""Field types for API input that PostgreSQL would otherwise reject with a 500."""

from typing import Annotated

from pydantic import AfterValidator, Field


def _no_control_characters(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no other control character belongs in a name.
    if any(ord(ch) < 0x20 and ch not in "\t\n" or ord(ch) == 0x7F for ch in value):
        raise ValueError("must not contain control characters")
    return value


PlainText = Annotated[str, AfterValidator(_no_control_characters)]

# A BIGINT column holds up to 2**63-1; no real count comes near 10**12.
Count = Annotated[int, Field(ge=0, le=10**12)]
