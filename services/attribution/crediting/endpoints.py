import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.attribution.crediting import recompute as recomputing
from shared.db import Session
from shared.identity import requires

# Tenant-private: attribution/api.py declares it so (it writes other packages' tables too).
router = APIRouter()


class Recomputed(BaseModel):
    model: str = Field(description="The campaign's model the orders were re-credited under.")
    orders_examined: int = Field(description="Credited, not cancelled orders of the campaign looked at in this call.")
    orders_adjusted: int = Field(description="Of those, the orders whose shares changed: a new revision and ledger adjustments.")
    adjustments: int = Field(description="Ledger adjustments written: commission lines for creators owed more, clawbacks for those owed less.")
    moved_minor: dict[str, int] = Field(description="Per currency: commission moved between creators (the increases), minor units.")
    next_after: str | None = Field(description="More orders are left: call again with `after` set to this order reference.")


@router.post("/campaigns/{campaign_id}/attribution/recompute", response_model=Recomputed,
             dependencies=[requires("attribution:write")])
async def recompute(
    campaign_id: uuid.UUID, session: Session,
    after: Annotated[uuid.UUID | None, Query(description="Continue after this order reference (a previous call's next_after).")] = None,
) -> Recomputed:
    """Re-credit the campaign's credited orders under its attribution model and parameters now
    (`PATCH /campaigns/{id}` sets them), up to 2,000 orders a call. Nothing is rewritten: an order
    whose shares change gets a new revision of its shares, and the ledger records adjustments —
    a commission line for a creator owed more, a clawback for one owed less — so each creator then
    holds exactly its part of the order's net commission, the parts adding up to the cent. Calling
    it again with nothing changed writes nothing. 404: no such campaign of yours."""
    done = await recomputing.recompute(session, campaign_id, after=after)
    return Recomputed(model=done.model, orders_examined=done.orders_examined, orders_adjusted=done.orders_adjusted,
                      adjustments=done.adjustments, moved_minor=done.moved_minor, next_after=done.next_after)
