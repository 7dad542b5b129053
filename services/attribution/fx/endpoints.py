from typing import Annotated

from fastapi import APIRouter, Query

from services.attribution.fx import service
from services.attribution.fx.schemas import FxRateRead, FxRatesIn, FxRatesRead
from shared.db import ReadSession, Session
from shared.identity import requires
from shared.money import Currency
from shared.openapi import error_responses

# Tenant-private: attribution/api.py marks it.
router = APIRouter()


def _read(rows) -> list[FxRateRead]:
    return [FxRateRead(on=r.on_date, base=r.base, quote=r.quote, rate=format(r.rate.normalize(), "f"), source=r.source)
            for r in rows]


@router.post("", response_model=FxRatesRead, responses=error_responses(422), dependencies=[requires("attribution:write")])
async def save_rates(body: FxRatesIn, session: Session) -> FxRatesRead:
    """Your dated exchange rates (one unit of `base` in `quote` on a day), which reports use when
    asked for one currency (`?currency=EUR`): a rate holds from its day until your next one for
    the pair. A rate given again for its day and pair replaces it. Without rates, a report never
    adds amounts of different currencies."""
    saved = await service.save(session, body.rates)
    return FxRatesRead(items=[FxRateRead(on=r.on, base=r.base, quote=r.quote, rate=r.rate, source=r.source)
                              for r in body.rates], saved=saved)


@router.get("", response_model=FxRatesRead, dependencies=[requires("attribution:read")])
async def list_rates(
    session: ReadSession,
    base: Annotated[Currency | None, Query(description="Only this base currency.")] = None,
    quote: Annotated[Currency | None, Query(description="Only this quote currency.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> FxRatesRead:
    """Your rates by pair, the latest day first."""
    return FxRatesRead(items=_read(await service.listed(session, base, quote, limit)))
