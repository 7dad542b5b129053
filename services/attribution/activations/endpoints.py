import uuid

from fastapi import APIRouter, Request, status
from starlette.responses import Response

from services.attribution.activations import repository, service
from services.attribution.activations.csvfile import COLUMNS
from services.attribution.activations.schemas import (
    ActivationCreate,
    ActivationRead,
    ActivationUpdate,
    DeliverablesReport,
    ImportResult,
    SnapshotCreate,
    SnapshotRead,
)
from shared.app import model_response
from shared.db import ReadSession, Session
from shared.errors import Invalid
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page, PageOut

# Every route here is tenant-private (attribution/api.py marks them: shared.tenancy).
router = APIRouter()

ActivationPage = PageOut[ActivationRead]
SnapshotPage = PageOut[SnapshotRead]
CSV_TEXT = (f"text/csv, UTF-8, header on line 1: {','.join(COLUMNS[:5])} (required) and any of "
            f"{','.join(COLUMNS[5:])}. One row per activation and snapshot.")


@router.post("/{campaign_id}/activations", status_code=status.HTTP_201_CREATED, response_model=ActivationRead,
             responses=error_responses(409), dependencies=[requires("attribution:write")])
async def create_activation(campaign_id: uuid.UUID, body: ActivationCreate, session: Session) -> ActivationRead:
    """Record a post that delivers the campaign's content. 409 naming body.creator_id when the
    creator is not enrolled, body.url when the URL is already an activation of the campaign."""
    activation = await service.create(session, campaign_id, body)
    return ActivationRead.of(activation)


@router.get("/{campaign_id}/activations", response_model=ActivationPage, dependencies=[requires("attribution:read")])
async def list_activations(campaign_id: uuid.UUID, session: ReadSession, page: Page) -> Response:
    """The campaign's activations, first recorded first, each with its latest snapshot."""
    await service.campaign_of(session, campaign_id)
    found = await repository.list_page(session, page, campaign_id)
    items = found[: page.limit]
    latest = await repository.latest(session, [a.id for a in items])
    return model_response(ActivationPage(
        items=[ActivationRead.of(a, latest.get(a.id)) for a in items],
        next_cursor=repository.SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT)))


@router.get("/{campaign_id}/activations/{activation_id}", response_model=ActivationRead,
            dependencies=[requires("attribution:read")])
async def get_activation(campaign_id: uuid.UUID, activation_id: uuid.UUID, session: ReadSession) -> Response:
    """One activation with its latest snapshot."""
    activation = await service.activation_of(session, campaign_id, activation_id)
    latest = await repository.latest(session, [activation.id])
    return model_response(ActivationRead.of(activation, latest.get(activation.id)))


@router.patch("/{campaign_id}/activations/{activation_id}", response_model=ActivationRead,
              responses=error_responses(409), dependencies=[requires("attribution:write")])
async def update_activation(campaign_id: uuid.UUID, activation_id: uuid.UUID, body: ActivationUpdate,
                            session: Session) -> ActivationRead:
    """Correct an activation's platform, format, URL or posted_at. 409 when the new URL is taken."""
    activation = await service.update(session, campaign_id, activation_id, body)
    latest = await repository.latest(session, [activation.id])
    return ActivationRead.of(activation, latest.get(activation.id))


@router.delete("/{campaign_id}/activations/{activation_id}", status_code=status.HTTP_204_NO_CONTENT,
               dependencies=[requires("attribution:write")])
async def delete_activation(campaign_id: uuid.UUID, activation_id: uuid.UUID, session: Session) -> Response:
    """Remove an activation and its snapshots (recorded by mistake)."""
    await service.delete(session, campaign_id, activation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{campaign_id}/activations/{activation_id}/snapshots", status_code=status.HTTP_201_CREATED,
             response_model=SnapshotRead, responses=error_responses(409), dependencies=[requires("attribution:write")])
async def add_snapshot(campaign_id: uuid.UUID, activation_id: uuid.UUID, body: SnapshotCreate, session: Session) -> Response:
    """Record the post's figures at observed_at (older ones are kept as history). The same
    observed_at with the same figures: 200, nothing changes; with other figures: 409."""
    activation = await service.activation_of(session, campaign_id, activation_id)
    snapshot, created = await service.add_snapshot(session, activation, body)
    await session.flush()
    return model_response(SnapshotRead.of(snapshot), status_code=201 if created else 200)


@router.get("/{campaign_id}/activations/{activation_id}/snapshots", response_model=SnapshotPage,
            dependencies=[requires("attribution:read")])
async def list_snapshots(campaign_id: uuid.UUID, activation_id: uuid.UUID, session: ReadSession, page: Page) -> Response:
    """The activation's snapshots, earliest observed first."""
    await service.activation_of(session, campaign_id, activation_id)
    found = await repository.snapshots_page(session, page, activation_id)
    return model_response(SnapshotPage(
        items=[SnapshotRead.of(s) for s in found[: page.limit]],
        next_cursor=repository.SNAPSHOT_SORTS.next_cursor(found, page.limit, "observed_at")))


@router.post("/{campaign_id}/activation-imports", response_model=ImportResult, dependencies=[requires("attribution:write")],
             openapi_extra={"requestBody": {"required": True, "description": CSV_TEXT,
                                            "content": {"text/csv": {"schema": {"type": "string", "minLength": 1}}}}})
async def import_activations(campaign_id: uuid.UUID, request: Request, session: Session) -> ImportResult:
    """Record activations and snapshots from a CSV file. Each bad row is reported with its line and
    reason, every other row is committed; a file imported again changes nothing."""
    await service.campaign_of(session, campaign_id)  # 404 before anything is said about the body
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "text/csv":
        raise Invalid("header.content-type", "must be text/csv")
    return await service.import_csv(session, campaign_id, await request.body())


@router.get("/{campaign_id}/deliverables", response_model=DeliverablesReport, dependencies=[requires("attribution:read")])
async def deliverables(campaign_id: uuid.UUID, session: ReadSession) -> Response:
    """Per enrolled creator and deliverable: required, delivered (activations of its platform and
    format, earliest due first) and overdue (past due_on, UTC, not all delivered)."""
    return model_response(await service.deliverables_report(session, campaign_id))
