"""Rate cards: the built-in default (data in this package, with its stated source and
assumptions) and a tenant's own versions. A new version is a new row numbered after the
tenant's highest; none is ever rewritten, so an EMV made with version 1 still states version 1
and can be made again with it."""

import json
from functools import cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.ratecards.models import RateCard
from services.attribution.ratecards.schemas import RateCardCreate, RateCardRead, read_of
from shared.db import Reads
from shared.errors import Conflict, NotFound

DEFAULT_FILE = Path(__file__).with_name("default_rate_card.json")


@cache
def default() -> RateCardRead:
    data = json.loads(DEFAULT_FILE.read_text())
    return RateCardRead(builtin=True, created_at=None, **data)


async def create(session: AsyncSession, data: RateCardCreate) -> RateCard:
    highest = await session.scalar(select(func.max(RateCard.version)))
    card = RateCard(version=(highest or 0) + 1, currency=data.currency, source=data.source,
                    rates={p.value: dict(rates) for p, rates in data.rates.items()})
    try:
        async with session.begin_nested():
            session.add(card)
    except IntegrityError:
        # Two versions created at once: the unique (tenant_id, version) lets one through.
        raise Conflict([{"field": "body", "reason": "another version was created at the same time; send it again"}]) from None
    await session.refresh(card)
    return card


async def chosen(session: AsyncSession | Reads, version: int | None) -> RateCardRead:
    """The tenant's `version`, or its latest when None, or the built-in default when the tenant
    has none. 404 naming `version` when the tenant has no such version."""
    query = select(RateCard)
    query = query.where(RateCard.version == version) if version is not None else query.order_by(RateCard.version.desc())
    card = (await session.scalars(query.limit(1))).first()
    if card is not None:
        return read_of(card)
    if version is not None:
        raise NotFound([{"field": "query.rate_card_version", "reason": f"you have no rate card version {version}"}])
    return default()
