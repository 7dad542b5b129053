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
# `audience` and `both` rank this many of the creator's nearest by content (at least), or
# BLEND_CANDIDATES_FACTOR per requested row when that is more.
AUDIENCE_CANDIDATES = 500
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

    # The audience vector has no index (ADR 0024): `audience` and `both` rank exact similarities
    # over candidates: the creator's nearest by content, or, for a creator not embedded yet,
    # every creator the filters pass (an exact scan, cheap when the filters are selective).
    if embedding is not None:
        pool = max(AUDIENCE_CANDIDATES, limit * BLEND_CANDIDATES_FACTOR)
        rows = {n.row.id: n.row for n in await repository.nearest(session, Creator.embedding, embedding, where, pool, exclude=creator_id)}
        scores = await repository.similarities(session, list(rows), embedding, audience)
    else:
        found = await repository.nearest_exact(session, Creator.audience_vector, audience, where, limit, exclude=creator_id)
        rows = {n.row.id: n.row for n in found}
        scores = {n.row.id: (None, n.similarity) for n in found}
    ranked = []
    for row_id, row in rows.items():
        content, crowd = scores[row_id]
        if basis is Basis.audience:
            if crowd is not None:
                ranked.append(_item(row, crowd, content, crowd))
            continue
        # A candidate without one of the vectors scores 0 on that side.
        score = CONTENT_WEIGHT * (content or 0.0) + AUDIENCE_WEIGHT * (crowd or 0.0)
        ranked.append(_item(row, score, content, crowd))
    ranked.sort(key=lambda item: (-item.similarity, item.id))
    return ranked[:limit]


def _item(row, similarity: float, content: float | None, audience: float | None) -> Lookalike:
    return Lookalike(
        **CreatorSummary.of(row).model_dump(),
        similarity=round(similarity, 6),
        content_similarity=None if content is None else round(float(content), 6),
        audience_similarity=None if audience is None else round(float(audience), 6),
    )
