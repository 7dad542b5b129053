"""NDJSON bulk ingest of follower samples and comments (the shape of discovery's bulk ingest:
docs/guide/discovery-ingest.md).

Every line is validated on its own; a bad line, or one naming a creator or post audit does not
hold, is reported with its number, field and reason, and the valid lines are committed. Sending
the same body again changes nothing: a sample identical to the creator's newest version adds no
version, and a comment is keyed by its post, author, text and time.

Follower samples are versioned (ADR 0029): the valid lines of one request that name a creator
are that creator's new sample, which replaces the previous one for the audits that follow; the
old versions stay, so a past audit still says which sample it read.
"""

import hashlib
import json
import uuid
from collections import defaultdict

from fastapi import Request
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.engine.signals.comments import normalise
from services.audit.pods.models import PodsState
from services.audit.projection.models import Creator, Post
from services.audit.samples.models import Comment, FollowerSample, SampleFollower
from services.audit.samples.schemas import (
    BulkError,
    CommentBulkResult,
    CommentLine,
    FollowerBulkResult,
    FollowerLine,
    SampleOutcome,
)
from shared.errors import LimelightError, reason_of

MAX_FOLLOWER_LINES = 5_000
MAX_COMMENT_LINES = 10_000
# A full request of either kind fits (5,000 followers or 10,000 comments of a few hundred bytes
# each); the gateway lets bodies this large through on its bulk routes (gateway_bulk_routes).
MAX_BYTES = 16 * 1024 * 1024
MAX_ERRORS = 1000
ROWS_PER_INSERT = 2_000  # under PostgreSQL's 32,767 bind parameters per statement
MEDIA_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines")
FOLLOWER_FIELDS = tuple(f for f in FollowerLine.model_fields if f != "creator_id")


def openapi_body(what: str, max_lines: int, example: str) -> dict:
    return {
        "requestBody": {
            "required": True,
            "description": (
                f"NDJSON: one {what} per line, a JSON object; blank lines are skipped. At most {max_lines} lines "
                f"and {MAX_BYTES // 1024} KiB."
            ),
            "content": {"application/x-ndjson": {"schema": {"type": "string"}, "example": example}},
        }
    }


class PayloadTooLarge(LimelightError):
    status_code = 413
    error = "payload_too_large"


class UnsupportedMediaType(LimelightError):
    status_code = 415
    error = "unsupported_media_type"


async def read_lines(request: Request, max_lines: int) -> list[tuple[int, bytes]]:
    """The body's non-blank lines, numbered from 1; 415 for another media type, 413 past the bounds."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise UnsupportedMediaType([{"field": "header.content-type", "reason": "send application/x-ndjson"}])
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise PayloadTooLarge([{"field": "body", "reason": f"at most {MAX_BYTES} bytes per request"}])
        chunks.append(chunk)
    # A byte-order mark some editors and exports put first is not part of line 1's JSON.
    lines = b"".join(chunks).removeprefix(b"\xef\xbb\xbf").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) > max_lines:
        raise PayloadTooLarge([{"field": "body", "reason": f"at most {max_lines} lines per request"}])
    return [(number, raw) for number, raw in enumerate(lines, start=1) if raw.strip()]


def _errors(line: int, exc: ValidationError) -> list[BulkError]:
    out = []
    for e in exc.errors(include_url=False):
        cause = (e.get("ctx") or {}).get("error")
        path = [str(p) for p in e["loc"]]
        if hasattr(cause, "field"):
            path.append(cause.field)
        out.append(BulkError(line=line, field=".".join(path) or None, reason=getattr(cause, "reason", None) or reason_of(e)))
    return out


def _parse(model: type[BaseModel], numbered: list[tuple[int, bytes]], errors: list[BulkError]) -> list:
    valid = []
    for number, raw in numbered:
        try:
            valid.append((number, model.model_validate_json(raw)))
        except ValidationError as exc:
            errors += _errors(number, exc)
    return valid


def _result_errors(errors: list[BulkError]) -> tuple[int, list[BulkError]]:
    errors.sort(key=lambda e: e.line)
    return len({e.line for e in errors}), errors[:MAX_ERRORS]


# --- follower samples -------------------------------------------------------------------------


def fingerprint(profiles: list[dict]) -> str:
    canonical = json.dumps(sorted(profiles, key=lambda p: p["username"]), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def ingest_followers(session: AsyncSession, numbered: list[tuple[int, bytes]]) -> FollowerBulkResult:
    errors: list[BulkError] = []
    by_creator: dict[uuid.UUID, dict[str, tuple[int, dict]]] = defaultdict(dict)
    for number, line in _parse(FollowerLine, numbered, errors):
        profiles = by_creator[line.creator_id]
        if line.username in profiles:
            first = profiles[line.username][0]
            errors.append(BulkError(line=number, field="username", reason=f"given already on line {first} for this creator"))
            continue
        profiles[line.username] = (number, line.model_dump(exclude={"creator_id"}))
    known = set(
        (await session.scalars(select(Creator.creator_id).where(Creator.creator_id.in_(list(by_creator))))).all()
    ) if by_creator else set()
    stored = unchanged = 0
    samples = []
    for creator_id, profiles in by_creator.items():
        if creator_id not in known:
            errors += [
                BulkError(line=number, field="creator_id", reason="audit holds no such creator (discovery has not announced it)")
                for number, _ in profiles.values()
            ]
            continue
        rows = [profile for _, profile in profiles.values()]
        digest = fingerprint(rows)
        newest = (
            await session.execute(
                select(FollowerSample.id, FollowerSample.fingerprint, FollowerSample.size)
                .where(FollowerSample.creator_id == creator_id)
                .order_by(FollowerSample.created_at.desc(), FollowerSample.id)
                .limit(1)
                .with_for_update()
            )
        ).first()
        if newest is not None and newest.fingerprint == digest:
            unchanged += len(rows)
            samples.append(SampleOutcome(creator_id=creator_id, sample_id=newest.id, size=newest.size, status="unchanged"))
            continue
        sample_id = uuid.uuid4()
        await session.execute(
            insert(FollowerSample).values(
                id=sample_id, creator_id=creator_id, size=len(rows), fingerprint=digest,
                # Strictly after the version it replaces, even within one clock tick.
                created_at=func.clock_timestamp(),
            )
        )
        for at in range(0, len(rows), ROWS_PER_INSERT):
            chunk = [{"sample_id": sample_id, **r} for r in rows[at:at + ROWS_PER_INSERT]]
            await session.execute(insert(SampleFollower).values(chunk))
        stored += len(rows)
        samples.append(SampleOutcome(creator_id=creator_id, sample_id=sample_id, size=len(rows), status="created"))
    failed, shown = _result_errors(errors)
    return FollowerBulkResult(stored=stored, unchanged=unchanged, failed=failed, samples=samples, errors=shown)


# --- comments ---------------------------------------------------------------------------------


def normalise_text(value: str) -> str:
    """A comment's text for comparison across posts and creators: the comment signal's own
    normalisation (engine.signals.comments.normalise), so `texts_elsewhere` matches its keys."""
    return normalise(value)


def comment_key(author: str, text_: str, commented_at) -> str:
    at = commented_at.isoformat() if commented_at is not None else ""
    return hashlib.sha256(f"{author}\x00{text_}\x00{at}".encode()).hexdigest()


_BY_EXTERNAL = text(
    """
    select p.platform, p.external_id, p.post_id, p.creator_id
    from unnest(cast(:platforms as text[]), cast(:external_ids as text[])) as k(platform, external_id)
    join audit.posts p on p.platform = k.platform and p.external_id = k.external_id
    """
)


async def ingest_comments(session: AsyncSession, numbered: list[tuple[int, bytes]]) -> CommentBulkResult:
    errors: list[BulkError] = []
    lines = _parse(CommentLine, numbered, errors)
    ids = {line.post_id for _, line in lines if line.post_id is not None}
    by_id = {}
    if ids:
        by_id = dict((await session.execute(select(Post.post_id, Post.creator_id).where(Post.post_id.in_(list(ids))))).all())
    externals = {(str(line.platform), line.post_external_id) for _, line in lines if line.post_id is None}
    by_external: dict[tuple[str, str], list[tuple[uuid.UUID, uuid.UUID]]] = defaultdict(list)
    if externals:
        platforms, external_ids = zip(*externals)
        for platform, external_id, post_id, creator_id in await session.execute(
            _BY_EXTERNAL, {"platforms": list(platforms), "external_ids": list(external_ids)}
        ):
            by_external[(platform, external_id)].append((post_id, creator_id))
    rows: dict[tuple[uuid.UUID, str], dict] = {}
    for number, line in lines:
        if line.post_id is not None:
            if line.post_id not in by_id:
                errors.append(BulkError(line=number, field="post_id", reason="audit holds no such post (discovery has not announced it)"))
                continue
            post_id, creator_id = line.post_id, by_id[line.post_id]
        else:
            found = by_external.get((str(line.platform), line.post_external_id), [])
            if len(found) != 1:
                reason = (
                    "audit holds no post with this platform and id (discovery has not announced it)"
                    if not found else "several accounts have a post with this id; send post_id instead"
                )
                errors.append(BulkError(line=number, field="post_external_id", reason=reason))
                continue
            [(post_id, creator_id)] = found
        key = comment_key(line.author, line.text, line.commented_at)
        rows.setdefault(
            (post_id, key),
            {"post_id": post_id, "key": key, "creator_id": creator_id, "author": line.author, "text": line.text,
             "text_key": normalise_text(line.text), "commented_at": line.commented_at},
        )
    created = 0
    values = list(rows.values())
    for at in range(0, len(values), ROWS_PER_INSERT):
        statement = (
            insert(Comment).values(values[at:at + ROWS_PER_INSERT]).on_conflict_do_nothing().returning(Comment.key)
        )
        created += len((await session.execute(statement)).all())
    if created:
        await mark_comments_arrived(session)
    failed, shown = _result_errors(errors)
    return CommentBulkResult(created=created, unchanged=len(lines) - failed_valid(lines, errors) - created,
                             failed=failed, errors=shown)


def failed_valid(lines, errors: list[BulkError]) -> int:
    """Lines that parsed but failed afterwards (unknown post)."""
    numbers = {number for number, _ in lines}
    return len({e.line for e in errors if e.line in numbers})


async def mark_comments_arrived(session: AsyncSession) -> None:
    """Tell the pods job new comments arrived (its debounce reads these times). Last in the
    request's transaction: the row's lock is held only until the commit just after."""
    statement = insert(PodsState).values(id=1, dirty_since=func.now(), last_ingest_at=func.now())
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[PodsState.id],
            set_={"dirty_since": func.coalesce(PodsState.dirty_since, func.now()), "last_ingest_at": func.now()},
        )
    )
