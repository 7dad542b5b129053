"""Affiliate code rules: only for a creator enrolled in a campaign that has not ended; unique per
tenant whatever the case (a collision is a 409 naming the code); a generated code that comes out
taken gets random characters of the unambiguous alphabet added until it is free; a revoked code
is kept (and keeps its place) so that it is never credited to anyone again."""

import re
import secrets
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.campaign import repository as campaigns
from services.attribution.campaign.models import Campaign
from services.attribution.codes import repository
from services.attribution.codes.models import Code
from services.attribution.codes.schemas import ALPHABET, MAX_SUFFIX, RANDOM_LENGTH, CodeCreate, CodeUpdate
from services.attribution.enrolment import repository as enrolments
from shared.db import utcnow
from shared.errors import Conflict, NotFound

# Random characters a generated code may gain before we give up (409): at 31 characters each,
# 2 give 961 variants, 3 give 29,791, 4 give 923,521. Tried in that order, a few draws each.
SUFFIX_LENGTHS = (2, 2, 2, 3, 3, 3, 4, 4, 4, 4)
assert max(SUFFIX_LENGTHS) == MAX_SUFFIX
_PLACEHOLDER = re.compile(r"\{([A-Z]+)\}")


async def enrolled_in_open_campaign(session: AsyncSession, campaign_id: uuid.UUID, creator_id: uuid.UUID) -> Campaign:
    """The campaign, when the creator is enrolled in it and it has not ended; else a 409 naming
    the field to change. A campaign the caller cannot see is one that does not exist."""
    # Locked as enrolment/service.py locks them, the campaign first: an unenrolment waits for this
    # code or link, and then sees it.
    campaign = await campaigns.get(session, campaign_id, for_update=True)
    if campaign is None:
        raise Conflict([{"field": "body.campaign_id", "reason": f"campaign {campaign_id} does not exist"}])
    if campaign.status == "ended":
        raise Conflict([{"field": "body.campaign_id", "reason": f"campaign {campaign_id} has ended: nothing new can be tracked for it"}])
    if await enrolments.get(session, campaign_id, creator_id, for_update=True) is None:
        raise Conflict(
            [{"field": "body.creator_id", "reason": f"creator {creator_id} is not enrolled in campaign {campaign_id}; enrol them first"}]
        )
    return campaign


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def expand(pattern: str, values: dict[str, str]) -> str:
    """The pattern with its placeholders filled: given values upper-cased, {RANDOM} drawn fresh."""
    return _PLACEHOLDER.sub(lambda m: _random(RANDOM_LENGTH) if m[1] == "RANDOM" else values[m[1]].upper(), pattern)


def _taken(code: str) -> Conflict:
    return Conflict([{"field": "body.code", "reason": f"code {code} is already taken in your workspace (codes are matched whatever their case)"}])


async def _insert(session: AsyncSession, code: Code) -> bool:
    """Insert the code; False when the unique index refuses it (a concurrent create took it).
    A savepoint, so the transaction goes on for the next try."""
    try:
        async with session.begin_nested():
            session.add(code)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def create(session: AsyncSession, data: CodeCreate) -> Code:
    await enrolled_in_open_campaign(session, data.campaign_id, data.creator_id)
    columns = dict(
        campaign_id=data.campaign_id, creator_id=data.creator_id, usage_limit=data.usage_limit, expires_at=data.expires_at,
        platform=data.platform.value if data.platform else None,
    )
    if data.code is not None:
        if await repository.taken(session, [data.code]):
            raise _taken(data.code)
        code = Code(id=uuid.uuid4(), code=data.code, origin="chosen", **columns)
        if not await _insert(session, code):
            raise _taken(data.code)
    else:
        code = await _generate(session, data, columns)
    await session.refresh(code)
    return code


async def _generate(session: AsyncSession, data: CodeCreate, columns: dict) -> Code:
    # CodeCreate has checked the result's length, room for the longest suffix included.
    base = expand(data.pattern, data.values)
    # The pattern's own result first, then with random characters added ({RANDOM} drawn afresh).
    candidates = [base] + [expand(data.pattern, data.values) + _random(length) for length in SUFFIX_LENGTHS]
    taken = await repository.taken(session, candidates)
    for candidate in candidates:
        if candidate.upper() in taken:
            continue
        code = Code(id=uuid.uuid4(), code=candidate, origin="generated", pattern=data.pattern, **columns)
        if await _insert(session, code):
            return code
    raise Conflict([{"field": "body.pattern", "reason": f"every code tried from {base!r} is taken; add {{RANDOM}} or change the pattern"}])


async def owned(session: AsyncSession, code_id: uuid.UUID) -> Code:
    code = await repository.get(session, code_id, for_update=True)
    if code is None:
        raise NotFound(f"code {code_id} does not exist")
    return code


async def update(session: AsyncSession, code_id: uuid.UUID, data: CodeUpdate) -> Code:
    code = await owned(session, code_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(code, k) != v}
    if not changes:
        return code
    if code.revoked_at is not None:
        raise Conflict([{"field": "path.code_id", "reason": f"code {code.code} is revoked; a revoked code cannot change"}])
    for key, value in changes.items():
        setattr(code, key, value)
    await session.flush()
    await session.refresh(code)
    return code


async def revoke(session: AsyncSession, code_id: uuid.UUID) -> Code:
    """Revoke the code (again: nothing changes). It stays, reserved, never credited."""
    code = await owned(session, code_id)
    if code.revoked_at is None:
        code.revoked_at = utcnow()
        await session.flush()
        await session.refresh(code)
    return code
