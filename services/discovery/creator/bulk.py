"""Bulk NDJSON ingest: one creator per line, upserted by platform + handle.

Every line is validated on its own; the valid ones are applied `CHUNK_LINES` at a time through
the set-based write path (`ingest.apply`), each chunk inside a savepoint. Should a chunk fail in
the database (an account written concurrently by another request), it is rolled back and its
lines applied one by one, so only the line at fault fails. Nothing of a bad line is written.
The next chunk's lines are validated while the database writes the current one, with the
cyclic garbage collector paused (docs/decisions/0024-bulk-ingest-throughput.md).
"""

import asyncio
import gc
from contextlib import contextmanager

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

import asyncpg

from services.discovery.creator import ingest
from services.discovery.creator.plan import WriteError
from services.discovery.creator.schemas import BulkError, BulkLine, BulkResult, CreatorCreate
from shared.errors import LimelightError

MAX_LINES = 10_000
MAX_BYTES = 32 * 1024 * 1024  # the gateway lets this much through on this route only
CHUNK_LINES = 500
MAX_ERRORS = 1000
VALIDATE_SLICE = 20  # lines validated between two looks at the database's answers
MEDIA_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines")

OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            f"NDJSON: one creator per line, each a JSON object in the shape of POST /creators; blank lines are "
            f"skipped. At most {MAX_LINES} lines and {MAX_BYTES // (1024 * 1024)} MiB."
        ),
        "content": {
            "application/x-ndjson": {
                "schema": {"type": "string"},
                "example": '{"platform": "instagram", "handle": "anna.bakes", "follower_count": 52000}\n'
                '{"accounts": [{"platform": "tiktok", "handle": "leo", "followers": 9100}], "niches": ["gaming"]}\n',
            }
        },
    }
}


class PayloadTooLarge(LimelightError):
    status_code = 413
    error = "payload_too_large"


class UnsupportedMediaType(LimelightError):
    status_code = 415
    error = "unsupported_media_type"


def _field(loc: tuple, cause: object) -> str | None:
    path = [str(p) for p in loc]
    if isinstance(cause, ValueError) and hasattr(cause, "field"):
        path.append(cause.field)
    return ".".join(path) or None


def _errors(line: int, exc: ValidationError) -> list[BulkError]:
    out = []
    for e in exc.errors(include_url=False, include_input=False):
        cause = (e.get("ctx") or {}).get("error")
        reason = getattr(cause, "reason", None) or e["msg"]
        out.append(BulkError(line=line, field=_field(tuple(e["loc"]), cause), reason=reason))
    return out


async def _body(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType([{"field": "header.content-type", "reason": "send application/x-ndjson"}])
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise PayloadTooLarge([{"field": "body", "reason": f"at most {MAX_BYTES} bytes per request"}])
        chunks.append(chunk)
    return b"".join(chunks)


async def ingest_lines(session: AsyncSession, body: bytes, *, with_ids: bool = False) -> BulkResult:
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) > MAX_LINES:
        raise PayloadTooLarge([{"field": "body", "reason": f"at most {MAX_LINES} lines per request"}])
    numbered = [(number, raw) for number, raw in enumerate(lines, start=1) if raw.strip()]
    errors: list[BulkError] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    failed: set[int] = set()
    applied: list[BulkLine] = []
    conn = await ingest.driver_connection(session)
    with _collector_paused():
        writes = _validate(numbered[:CHUNK_LINES], errors)
        for start in range(CHUNK_LINES, len(numbered) + CHUNK_LINES, CHUNK_LINES):
            # The database writes this chunk while the next one is validated: two cores, both busy.
            task = asyncio.ensure_future(_apply_chunk(session, conn, writes))
            try:
                writes = []
                rest = numbered[start:start + CHUNK_LINES]
                for at in range(0, len(rest), VALIDATE_SLICE):
                    writes += _validate(rest[at:at + VALIDATE_SLICE], errors)
                    await asyncio.sleep(0)
            finally:
                outcomes = await task
            for outcome in outcomes:
                if outcome.error is None:
                    counts[outcome.status] += 1
                    if with_ids:
                        applied.append(BulkLine(line=outcome.line, id=outcome.creator_id, status=outcome.status))
                else:
                    failed.add(outcome.line)
                    errors.append(BulkError(line=outcome.line, field=outcome.error.field or None, reason=outcome.error.reason))
    failed |= {e.line for e in errors}
    errors.sort(key=lambda e: e.line)
    applied.sort(key=lambda a: a.line)
    return BulkResult(**counts, failed=len(failed), errors=errors[:MAX_ERRORS], lines=applied if with_ids else None)


def _validate(numbered: list[tuple[int, bytes]], errors: list[BulkError]) -> list[ingest.Write]:
    writes = []
    for number, raw in numbered:
        try:
            writes.append(ingest.Write(line=number, data=CreatorCreate.model_validate_json(raw), upsert=True))
        except ValidationError as exc:
            errors += _errors(number, exc)
    return writes


async def _apply_chunk(session: AsyncSession, conn, writes: list[ingest.Write]) -> list[ingest.Outcome]:
    if not writes:
        return []
    try:
        async with conn.transaction():
            return await ingest.apply(session, writes)
    except asyncpg.PostgresError:
        return [await _alone(session, conn, write) for write in writes]


_paused = 0
_was_enabled = True


@contextmanager
def _collector_paused():
    """The cyclic garbage collector off while a request's lines are parsed and planned: they make
    millions of objects that all live until the answer, so every full collection it would run
    meanwhile walks them all again for nothing. Reference counting still frees as it goes; the
    collector resumes when the last bulk request in the process ends."""
    global _paused, _was_enabled
    if _paused == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1
        if _paused == 0 and _was_enabled:
            gc.enable()


async def _alone(session: AsyncSession, conn, write: ingest.Write) -> ingest.Outcome:
    try:
        async with conn.transaction():
            [outcome] = await ingest.apply(session, [write])
            return outcome
    except asyncpg.PostgresError:
        # The database's message can quote values of the line; its kind is enough to act on.
        return ingest.Outcome(write.line, error=WriteError("", "written concurrently by another request; send it again", 409))


async def ingest_request(request: Request, session: AsyncSession, *, with_ids: bool = False) -> BulkResult:
    return await ingest_lines(session, await _body(request), with_ids=with_ids)
