"""The bulk routes of what only audit uses: follower samples and comments (NDJSON)."""

from fastapi import APIRouter, Request

from services.audit.samples import bulk
from services.audit.samples.schemas import CommentBulkResult, FollowerBulkResult
from shared.db import Session
from shared.identity import requires
from shared.openapi import ErrorBody

router = APIRouter()

_BULK_ERRORS = {
    413: {"model": ErrorBody, "description": "More lines or bytes than one request may carry."},
    415: {"model": ErrorBody, "description": "The body is not application/x-ndjson."},
}


@router.post(
    "/followers/bulk",
    response_model=FollowerBulkResult,
    responses=_BULK_ERRORS,
    dependencies=[requires("audits:write")],
    openapi_extra=bulk.openapi_body(
        "sampled follower",
        bulk.MAX_FOLLOWER_LINES,
        '{"creator_id": "6f1c0e8e-0d1b-4c55-9d6e-2f3f4d9a8b71", "username": "jane.doe", "full_name": "Jane Doe", '
        '"media_count": 120, "follower_count": 340, "following_count": 410, "has_profile_pic": true, '
        '"is_private": false, "is_verified": false}\n',
    ),
)
async def ingest_followers(request: Request, session: Session) -> FollowerBulkResult:
    """Store follower samples: one sampled follower per line, naming its creator. The valid lines of a
    creator become its new sample version (the same sample again changes nothing); each bad line,
    or one naming a creator audit does not hold, is reported by number, field and reason."""
    return await bulk.ingest_followers(session, await bulk.read_lines(request, bulk.MAX_FOLLOWER_LINES))


@router.post(
    "/comments/bulk",
    response_model=CommentBulkResult,
    responses=_BULK_ERRORS,
    dependencies=[requires("audits:write")],
    openapi_extra=bulk.openapi_body(
        "comment",
        bulk.MAX_COMMENT_LINES,
        '{"post_id": "0b8d3c1e-7f4e-4a53-8f0e-6c1d2b3a4f5e", "author": "fan_01", "text": "love this!", '
        '"commented_at": "2026-11-20T10:15:00Z"}\n'
        '{"platform": "instagram", "post_external_id": "C9xYz", "author": "@fan_02", "text": "🔥🔥"}\n',
    ),
)
async def ingest_comments(request: Request, session: Session) -> CommentBulkResult:
    """Store comments on creators' posts, one per line; the post by post_id, or by platform +
    post_external_id. A comment already held (same post, author, text and time) is unchanged; each
    bad line, or one naming a post audit does not hold, is reported by number, field and reason."""
    return await bulk.ingest_comments(session, await bulk.read_lines(request, bulk.MAX_COMMENT_LINES))
