"""A creator as audit sees it: the data held, its audit history, the pods involving it."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select
from starlette.responses import Response

from services.audit.audit import repository as audits
from services.audit.audit.endpoints import AuditPage
from services.audit.audit import privacy
from services.audit.audit.schemas import AuditRead, AuditStatus
from services.audit.pods import repository as pods
from services.audit.pods.endpoints import PodPage
from services.audit.projection.models import Creator, FollowerPoint, Post
from services.audit.projection.schemas import CreatorInputs, PodRead, SampleRead
from services.audit.samples.models import Comment, FollowerSample
from shared.app import model_response
from shared.db import ReadSession
from shared.errors import NotFound
from shared.identity import requires
from shared.openapi import error_responses
from shared.pagination import Page

router = APIRouter()


def _count(model, creator_id: uuid.UUID):
    return select(func.count()).select_from(model).where(model.creator_id == creator_id)


async def _known(session, creator_id: uuid.UUID) -> Creator:
    creator = await session.get(Creator, creator_id)
    if creator is None:
        raise NotFound(f"audit holds no creator {creator_id}")
    return creator


@router.get(
    "/{creator_id}", response_model=CreatorInputs, responses=error_responses(404), dependencies=[requires("audits:read")]
)
async def get_creator_inputs(creator_id: uuid.UUID, session: ReadSession) -> Response:
    """What audit holds about a creator (posts, follower points, comments, the newest follower
    sample): what its next audit will read. 404 until discovery's events have reached audit."""
    creator = await _known(session, creator_id)
    sample = (
        await session.execute(
            select(FollowerSample.id, FollowerSample.size, FollowerSample.created_at)
            .where(FollowerSample.creator_id == creator_id)
            .order_by(FollowerSample.created_at.desc(), FollowerSample.id)
            .limit(1)
        )
    ).first()
    return model_response(
        CreatorInputs(
            creator_id=creator_id, platform=creator.platform, handle=creator.handle, followers=creator.followers,
            posts=await session.scalar(_count(Post, creator_id)),
            series_points=await session.scalar(_count(FollowerPoint, creator_id)),
            comments=await session.scalar(_count(Comment, creator_id)),
            follower_sample=SampleRead(id=sample.id, size=sample.size, created_at=sample.created_at) if sample else None,
            updated_at=creator.updated_at,
        )
    )


@router.get(
    "/{creator_id}/audits", response_model=AuditPage, responses=error_responses(404),
    dependencies=[requires("audits:read")],
)
async def creator_audits(
    creator_id: uuid.UUID, session: ReadSession, page: Page, status: Annotated[AuditStatus | None, Query()] = None
) -> Response:
    """The creator's audit history, newest first, one cursor page at a time, optionally in one
    status (empty for a creator never audited). Compare two with GET /audits/{a}/compare/{b}.
    404 when audit holds no such creator."""
    await _known(session, creator_id)
    rows = await audits.list_page(session, page, creator_id=creator_id, status=status, sort="-created_at")
    return model_response(
        AuditPage(
            items=[AuditRead.of(a, viewer=privacy.viewer_of(session)) for a in rows[: page.limit]],
            next_cursor=audits.SORTS.next_cursor(rows, page.limit, "-created_at"),
        )
    )


@router.get("/{creator_id}/pods", response_model=PodPage, dependencies=[requires("audits:read")])
async def creator_pods(creator_id: uuid.UUID, session: ReadSession, page: Page) -> Response:
    """The engagement pods whose members co-commented on this creator's posts, largest first."""
    rows = await pods.list_page(session, page, creator_id=creator_id)
    return model_response(
        PodPage(items=[PodRead.model_validate(p, from_attributes=True) for p in rows[: page.limit]],
                next_cursor=pods.SORTS.next_cursor(rows, page.limit, pods.SORT))
    )
