"""Bulk NDJSON ingest: one creator per line, upserted by platform + handle.

Every line is validated on its own; the valid ones are applied `CHUNK_LINES` at a time through
the set-based write path (`ingest.prepare`, `finish`, `send`), each chunk's writes inside a
savepoint. Should a chunk fail in the database (an account written concurrently by another
request), it is rolled back and its lines applied one by one, so only the line at fault fails.
Nothing of a bad line is written. A chunk is read and planned before the chunk ahead of it is
written, and finished while the database writes that one, when the two share no account and no
creator (docs/decisions/0058-bulk-ingest-read-ahead.md); the next chunk's lines are validated
meanwhile, with the cyclic garbage collector paused (docs/decisions/0024-bulk-ingest-throughput.md).
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
from shared.errors import LimelightError, reason_of

MAX_LINES = 10_000
BLANK_TOLERANCE = 10  # lines in all, blank ones included, per line a request may hold
MAX_BYTES = 32 * 1024 * 1024  # the gateway lets this much through on this route only
CHUNK_LINES = 500
MAX_ERRORS = 1000
VALIDATE_SLICE = 20  # lines validated between two looks at the database's answers
UTF8_BOM = b"\xef\xbb\xbf"
MEDIA_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines")

OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            f"NDJSON: one creator per line, each a JSON object in the shape of POST /creators; blank lines are "
            f"skipped. At most {MAX_LINES} lines with a creator ({BLANK_TOLERANCE * MAX_LINES} in all) and "
            f"{MAX_BYTES // (1024 * 1024)} MiB."
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
    for e in exc.errors(include_url=False):
        cause = (e.get("ctx") or {}).get("error")
        reason = getattr(cause, "reason", None) or reason_of(e)
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
    # A byte-order mark some editors and exports put first is not part of line 1's JSON.
    lines = body.removeprefix(UTF8_BOM).split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) > BLANK_TOLERANCE * MAX_LINES:  # before reading each one: a body of blank lines
        raise PayloadTooLarge([{"field": "body", "reason": f"at most {BLANK_TOLERANCE * MAX_LINES} lines in all"}])
    numbered = [(number, raw) for number, raw in enumerate(lines, start=1) if raw.strip()]
    if len(numbered) > MAX_LINES:  # blank lines are skipped, so they do not count
        raise PayloadTooLarge([{"field": "body", "reason": f"at most {MAX_LINES} lines with a creator per request"}])
    errors: list[BulkError] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    failed: set[int] = set()
    applied: list[BulkLine] = []
    conn = await ingest.driver_connection(session)

    def record(outcomes: list[ingest.Outcome]) -> None:
        for outcome in outcomes:
            if outcome.error is None:
                counts[outcome.status] += 1
                if with_ids:
                    applied.append(BulkLine(line=outcome.line, id=outcome.creator_id, status=outcome.status))
            else:
                failed.add(outcome.line)
                errors.append(BulkError(line=outcome.line, field=outcome.error.field or None, reason=outcome.error.reason))

    async def validate(rest: list[tuple[int, bytes]]) -> list[ingest.Write]:
        writes: list[ingest.Write] = []
        for at in range(0, len(rest), VALIDATE_SLICE):
            writes += _validate(rest[at:at + VALIDATE_SLICE], errors)
            await asyncio.sleep(0)
        return writes

    with _collector_paused():
        writes = _validate(numbered[:CHUNK_LINES], errors)
        ahead: ingest.Prepared | None = None  # a chunk read and planned, its rows not yet sent
        for start in range(CHUNK_LINES, len(numbered) + CHUNK_LINES, CHUNK_LINES):
            rest = numbered[start:start + CHUNK_LINES]
            prepared = await _prepare(conn, writes, ahead) if writes else None
            if prepared is None:
                # Not read ahead (two lines of one creator, a creator of the chunk ahead, or an
                # error while reading): the chunk ahead is written first, then this one as a whole.
                if ahead is not None:
                    record((await _send_chunk(session, conn, ahead))[0])
                    ahead = None
                task = asyncio.ensure_future(_apply_chunk(session, conn, writes))
                try:
                    writes = await validate(rest)
                finally:
                    record(await task)
                continue
            # The database writes the chunk ahead while this one is planned and the next one
            # validated: two cores, both busy (docs/decisions/0058-bulk-ingest-read-ahead.md).
            sending = asyncio.ensure_future(_send_chunk(session, conn, ahead)) if ahead is not None else None
            as_planned = True
            try:
                await ingest.finish(prepared)
                writes = await validate(rest)
            finally:
                if sending is not None:
                    outcomes, as_planned = await sending
                    record(outcomes)
            if as_planned:
                ahead = prepared
            else:
                # The chunk ahead was retried line by line against what the database holds now,
                # which can include another request's writes that this chunk's reads did not
                # see: this chunk is read again.
                record(await _apply_chunk(session, conn, prepared.writes))
                ahead = None
        if ahead is not None:
            record((await _send_chunk(session, conn, ahead))[0])
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


async def _prepare(conn, writes: list[ingest.Write], ahead: ingest.Prepared | None) -> ingest.Prepared | None:
    """`writes` read and planned as one round inside a savepoint (released: the locks it took
    stay until the request's commit), or None: see ingest.prepare; an error while reading too."""
    try:
        async with conn.transaction():
            return await ingest.prepare(conn, writes, keep_clear_of=ahead)
    except asyncpg.PostgresError:
        return None


async def _send_chunk(session: AsyncSession, conn, prepared: ingest.Prepared) -> tuple[list[ingest.Outcome], bool]:
    """The rows of a prepared chunk, inside a savepoint, and whether they were written as
    planned; should the database refuse them, the chunk is rolled back and its lines applied
    one by one (False)."""
    try:
        async with conn.transaction():
            await ingest.send(session, conn, prepared)
        return prepared.outcomes, True
    except asyncpg.PostgresError:
        return [await _alone(session, conn, write) for write in prepared.writes], False


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
