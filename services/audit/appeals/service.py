"""Appeals: filed by a creator through a tenant's share link, resolved by that tenant's reviewers.

Filing the same appeal again while it is open returns it (the partial unique index on the open
appeals' fingerprints says so, whichever of two concurrent requests commits first); resolving it
again the same way changes nothing, another way is a conflict: a decision shown to the creator
is not silently replaced.
"""

import hashlib
import json
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.appeals import repository
from services.audit.appeals.models import Appeal
from services.audit.appeals.schemas import AppealCreate, AppealResolve
from services.audit.audit import repository as audits
from services.audit.sharing.models import ShareLink
from shared.db import utcnow
from shared.errors import Conflict, Invalid, NotFound


MAX_OPEN_PER_LINK = 20  # appeals awaiting review through one share link: it takes no credentials


def fingerprint(body: AppealCreate) -> str:
    canonical = json.dumps([str(body.audit_id), body.flag, body.comment, body.evidence_urls], ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


async def file(session: AsyncSession, link: ShareLink, body: AppealCreate) -> tuple[Appeal, bool]:
    """The appeal, and True when it is new. The session is bound to the link's tenant."""
    audit = await audits.get(session, body.audit_id)
    if audit is None:
        raise NotFound(f"audit {body.audit_id} does not exist")
    if audit.creator_id != link.creator_id:
        raise Invalid("body.audit_id", f"audit {body.audit_id} is not an audit of the creator this link is for")
    if audit.status != "completed":
        raise Conflict(f"audit {body.audit_id} is {audit.status}: only a completed audit's findings can be appealed")
    findings = [*audit.flags, *(s["name"] for s in audit.signals)]
    if body.flag not in findings:
        raise Invalid("body.flag", f"audit {body.audit_id} has no flag or signal named {body.flag!r}; "
                                   f"it has: {', '.join(dict.fromkeys(findings))}")
    print_ = fingerprint(body)
    existing = await repository.open_with(session, print_)
    if existing is not None:
        return existing, False
    # One filing at a time per link (its row locked to the end of the transaction), so the cap
    # below holds however many arrive at once.
    await session.execute(select(ShareLink.id).where(ShareLink.id == link.id).with_for_update())
    existing = await repository.open_with(session, print_)  # filed while this one waited for the lock
    if existing is not None:
        return existing, False
    waiting = await repository.open_count(session, link.id)
    if waiting >= MAX_OPEN_PER_LINK:
        raise Conflict(f"this link already has {waiting} appeals awaiting review (at most {MAX_OPEN_PER_LINK}); "
                       "file more once the workspace has resolved some")
    appeal = Appeal(
        share_link_id=link.id, creator_id=link.creator_id, audit_id=audit.id, flag=body.flag, comment=body.comment,
        evidence_urls=list(body.evidence_urls), fingerprint=print_, status="open",
    )
    try:
        async with session.begin_nested():
            session.add(appeal)
    except IntegrityError:
        # The same appeal, sent concurrently, committed first: that one.
        existing = await repository.open_with(session, print_)
        if existing is None:
            raise
        return existing, False
    await session.refresh(appeal)
    return appeal, True


async def resolve(session: AsyncSession, appeal_id: uuid.UUID, body: AppealResolve, reviewer: str) -> Appeal:
    """The appeal resolved with `body`; unchanged when it already was, the same way."""
    appeal = (await session.execute(select(Appeal).where(Appeal.id == appeal_id).with_for_update())).scalar_one_or_none()
    if appeal is None:
        raise NotFound(f"appeal {appeal_id} does not exist")
    if appeal.status == "resolved":
        if (appeal.decision, appeal.resolution_note) == (body.decision, body.note):
            return appeal
        raise Conflict(
            f"appeal {appeal_id} was already resolved ({appeal.decision}, {appeal.resolved_at.isoformat()}) "
            "with another decision or note; a resolution is final"
        )
    appeal.status = "resolved"
    appeal.decision = body.decision
    appeal.resolution_note = body.note
    appeal.resolved_by = reviewer[:200]
    appeal.resolved_at = utcnow()
    await session.flush()
    await session.refresh(appeal)
    return appeal
