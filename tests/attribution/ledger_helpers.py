"""Small builders for the ledger tests: an order's commission and refunds with sensible defaults."""

import uuid
from datetime import UTC, datetime, timedelta

from services.attribution.ledger import service

EPOCH = datetime(2027, 1, 1, tzinfo=UTC)
SOURCE = "shopify:acme.myshopify.com"


def order_id() -> str:
    return f"order-{uuid.uuid4().hex[:12]}"


async def commission(session, order: str, amount: int, *, line_key: str = "order", creator_id=None, campaign_id=None,
                     currency: str = "EUR", hold_until: datetime = EPOCH + timedelta(days=30), source: str = SOURCE):
    return await service.record_commission(
        session, source=source, order_id=order, line_key=line_key,
        creator_id=creator_id or CREATOR, campaign_id=campaign_id or CAMPAIGN, currency=currency, amount=amount,
        hold_until=hold_until, reason=f"10% of order {order}'s basis; code MAYA15 used at checkout",
    )


async def refund(session, order: str, refund_id: str, amount: int | None, *, currency: str = "EUR", source: str = SOURCE):
    return await service.claw_back(
        session, source=source, order_id=order, refund_id=refund_id, currency=currency, amount=amount,
        reason=f"refund {refund_id} of order {order}" if amount is not None else f"order {order} cancelled",
    )


CREATOR = uuid.UUID("00000000-0000-4000-8000-00000000c0de")
CAMPAIGN = uuid.UUID("00000000-0000-4000-8000-0000000ca4a1")
