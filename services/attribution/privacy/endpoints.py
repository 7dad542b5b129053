"""`/v1/attribution/privacy/receipts`: what attribution did for each data-subject request of the
workspace — those made through the gateway's `/v1/privacy/requests` and those its Shopify stores
sent (customers/redact, shop/redact, customers/data_request). `admin` scope: an export carries the
subject's orders."""

import uuid

from fastapi import APIRouter

from services.attribution.privacy import service
from services.attribution.privacy.models import PrivacyReceipt
from shared.db import ReadSession
from shared.errors import NotFound
from shared.identity import requires
from shared.pagination import Page, PageOut
from shared.privacy import ReceiptRead, read_receipt

router = APIRouter(dependencies=[requires("admin")])


def read(row: PrivacyReceipt) -> ReceiptRead:
    return read_receipt(row, service.SERVICE)


class ReceiptPage(PageOut[ReceiptRead]):
    pass


@router.get("/receipts", response_model=ReceiptPage)
async def list_receipts(session: ReadSession, page: Page) -> ReceiptPage:
    """The workspace's receipts, newest first, one cursor page at a time."""
    rows = await service.receipts(session, page)
    return ReceiptPage(items=[read(r) for r in rows[: page.limit]],
                       next_cursor=service.RECEIPT_SORTS.next_cursor(rows, page.limit, "-completed_at"))


@router.get("/receipts/{request_id}", response_model=ReceiptRead, responses={404: {"description": "No such receipt (yet)."}})
async def get_receipt(request_id: uuid.UUID, session: ReadSession) -> ReceiptRead:
    """What attribution did for one request; 404 until it has acted on it (or for another workspace's)."""
    row = await service.receipt(session, request_id)
    if row is None:
        raise NotFound(f"attribution holds no receipt of privacy request {request_id} (not acted on yet, or not yours)")
    return read(row)
