"""Lookalikes: the creators most like one creator, by content, by audience, or by both."""

import uuid

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator.models import Creator
from services.discovery.embedding import repository
from services.discovery.embedding.schemas import Basis, Lookalike
from services.discovery.search.schemas import CreatorSummary
from shared.errors import Conflict, NotFound

# `both`: what a creator posts about matters more than who follows them, but an audience in the
# wrong countries or ages makes a lookalike useless to a brand, so it weighs well above noise.
CONTENT_WEIGHT = 0.6
AUDIENCE_WEIGHT = 0.4
# `both` ranks the union of each index's nearest; this many from each per requested row.
BLEND_CANDIDATES_FACTOR = 4


async def lookalikes(
    session: AsyncSession, creator_id: uuid.UUID, basis: Basis, where: list[ColumnElement[bool]], limit: int
) -> list[Lookalike]:
    exists, embedding, audience = await repository.vectors_of(session, creator_id)
    if not exists:
        raise NotFound(f"creator {creator_id} does not exist")
    if basis in (Basis.content, Basis.both) and embedding is None:
        raise Conflict(f"creator {creator_id} is not embedded yet (its content embedding is being computed, or it has no bio or captions)")
    if basis in (Basis.audience, Basis.both) and audience is None:
        raise Conflict(f"creator {creator_id} has no audience data, so it has no audience lookalikes")

    if basis is Basis.content:
        found = await repository.nearest(session, Creator.embedding, embedding, where, limit, exclude=creator_id)
        scores = await repository.similarities(session, [n.row.id for n in found], embedding, audience) if audience is not None else {}
        return [_item(n.row, n.similarity, n.similarity, scores.get(n.row.id, (None, None))[1]) for n in found]
    if basis is Basis.audience:
        found = await repository.nearest(session, Creator.audience_vector, audience, where, limit, exclude=creator_id)
        scores = await repository.similarities(session, [n.row.id for n in found], embedding, audience) if embedding is not None else {}
        return [_item(n.row, n.similarity, scores.get(n.row.id, (None, None))[0], n.similarity) for n in found]

    pool = limit * BLEND_CANDIDATES_FACTOR
    rows = {}
    for column, vector in ((Creator.embedding, embedding), (Creator.audience_vector, audience)):
        for n in await repository.nearest(session, column, vector, where, pool, exclude=creator_id):
            rows[n.row.id] = n.row
    scores = await repository.similarities(session, list(rows), embedding, audience)
    blended = []
    for row_id, row in rows.items():
        content, crowd = scores[row_id]
        # A candidate without one of the vectors scores 0 on that side.
        score = CONTENT_WEIGHT * (content or 0.0) + AUDIENCE_WEIGHT * (crowd or 0.0)
        blended.append(_item(row, score, content, crowd))
    blended.sort(key=lambda item: (-item.similarity, item.id))
    return blended[:limit]


def _item(row, similarity: float, content: float | None, audience: float | None) -> Lookalike:
    return Lookalike(
        **CreatorSummary.of(row).model_dump(),
        similarity=round(similarity, 6),
        content_similarity=None if content is None else round(float(content), 6),
        audience_similarity=None if audience is None else round(float(audience), 6),
    )
