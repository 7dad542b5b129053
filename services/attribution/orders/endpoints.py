import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import bindparam, select
from starlette.responses import Response

from services.attribution.crediting.models import OrderCredit
from services.attribution.orders.models import PartnerOrder
from services.attribution.orders.schemas import OrderRead, OrderSummary, State
from services.attribution.orders.service import refunds_for
from shared.app import model_response
from shared.db import ReadSession, ReadStatement, rows
from shared.errors import NotFound
from shared.identity import requires
from shared.pagination import Page, PagedList, PageOut, Sorts

# Every route here is tenant-private (attribution/api.py marks them: shared.tenancy).
router = APIRouter()

OrderPage = PageOut[OrderSummary]
SORTS = Sorts(PartnerOrder.id, placed_at=PartnerOrder.placed_at)
DEFAULT_SORT = "placed_at"
_BY_ID = ReadStatement(select(PartnerOrder).where(PartnerOrder.id == bindparam("order_id")))
_CREDIT = ReadStatement(select(OrderCredit).where(OrderCredit.order_ref == bindparam("order_ref")))
_LIST = PagedList(select(PartnerOrder), SORTS, state=PartnerOrder.state, source=PartnerOrder.source)


@router.get("", response_model=OrderPage, dependencies=[requires("attribution:read")])
async def list_orders(
    session: ReadSession,
    page: Page,
    state: Annotated[State | None, Query(description="Only open or only cancelled orders.")] = None,
    source: Annotated[str | None, Query(pattern="^(shopify|generic)$", description="Only this partner format.")] = None,
) -> Response:
    """The orders your partners sent, oldest placed first, one cursor page at a time."""
    found = await _LIST.fetch(session, page, DEFAULT_SORT, state=state, source=source)
    return model_response(OrderPage(items=[OrderSummary.of(o) for o in found[: page.limit]],
                                    next_cursor=SORTS.next_cursor(found, page.limit, DEFAULT_SORT)))


@router.get("/{order_id}", response_model=OrderRead, dependencies=[requires("attribution:read")])
async def get_order(order_id: uuid.UUID, session: ReadSession) -> Response:
    """One order: its lines, refunds, state and commission basis with how it was computed."""
    found = await rows(session, _BY_ID, order_id=order_id)
    if not found:
        raise NotFound(f"order {order_id} does not exist")
    order = found[0]
    refunds = await refunds_for(session, order.source, order.source_id, order.order_id)
    credits = await rows(session, _CREDIT, order_ref=order.id)
    return model_response(OrderRead.of_with(order, refunds, credits[0] if credits else None))
