"""Lookalikes as the API shows them."""

import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from services.discovery.search.filters import CreatorFilters
from services.discovery.search.schemas import CreatorSummary


class Basis(StrEnum):
    content = "content"
    audience = "audience"
    both = "both"


class Lookalike(CreatorSummary):
    similarity: float = Field(description="Cosine similarity on the chosen basis (for `both`, the weighted blend), -1..1.")
    content_similarity: float | None = Field(
        description="Cosine similarity of the bio-and-captions embeddings; null when either has none."
    )
    audience_similarity: float | None = Field(
        description="Cosine similarity of the audience vectors (countries, ages, genders, languages); "
        "null when either has no audience data."
    )


class LookalikeList(BaseModel):
    creator_id: uuid.UUID
    basis: Basis
    items: list[Lookalike] = Field(description="Most similar first; never the creator itself.")


class LookalikeQuery(CreatorFilters):
    """The query string of GET /creators/{id}/lookalikes: every search filter, plus these."""

    basis: Basis = Field(
        default=Basis.content,
        description="content: bio and captions; audience: who follows them (countries, ages, genders, "
        "languages); both: 0.6 content + 0.4 audience.",
    )
    limit: int = Field(default=20, ge=1, le=100, description="How many lookalikes.")
