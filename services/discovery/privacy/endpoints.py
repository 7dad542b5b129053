import uuid

from fastapi import APIRouter
from starlette.responses import Response

from services.discovery.privacy import repository, service
from shared.app import model_response
from shared.db import ReadSession
from shared.errors import NotFound
from shared.identity import requires
from shared.openapi import error_responses
from shared.privacy import ReceiptRead

# Every route here is tenant-private (discovery/api.py marks them: shared.tenancy).
router = APIRouter()


@router.get(
    "/receipts/{request_id}", response_model=ReceiptRead, responses=error_responses(404),
    dependencies=[requires("admin")],
)
async def get_receipt(request_id: uuid.UUID, session: ReadSession) -> Response:
    """What discovery did for one of your workspace's data-subject requests, with the data for an
    export. 404 until discovery has acted on it."""
    receipt = await repository.receipt(session, request_id)
    if receipt is None:
        raise NotFound(f"discovery holds no receipt of privacy request {request_id}")
    return model_response(service.read(receipt))
