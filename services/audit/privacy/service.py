"""Data-subject requests in audit: the rules (what each kind does: privacy/handlers.py)."""

import uuid
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.db import SERVICE
from services.audit.pods.job import hold_off as hold_off_pods
from services.audit.privacy import repository
from services.audit.privacy.models import PrivacyReceipt
from services.audit.samples.bulk import mark_comments_arrived
from shared.contracts.envelope import Envelope
from shared.contracts.privacy import PrivacyRequested
from shared.privacy import PUBLISHED_NOTE, ReceiptAction, ReceiptRead, act_on_creator_data, read_receipt

# Columns of audit's copy of the creator that are the projection's bookkeeping, not data about them.
_CREATOR_BOOKKEEPING = frozenset({"sequence"})


async def act(session: AsyncSession, event: Envelope[PrivacyRequested]) -> None:
    """Do what the request asks, unless it was done already, and write its receipt."""
    await act_on_creator_data(session, event, PrivacyReceipt, export_creator=export_creator, erase_creator=erase_creator,
                              across="a creator's audit data is exported or erased in every workspace")


def _json(value: Any) -> Any:
    """Times as ISO 8601 text, ids as strings: what JSONB and the API carry."""
    return to_jsonable_python(value)


async def export_creator(session: AsyncSession, creator_id: uuid.UUID) -> tuple[list[ReceiptAction], dict]:
    found = await repository.held(session, creator_id)
    if not found.anything:
        return [ReceiptAction(what="the creator", done="none held", count=0)], {}
    counts = found.counts
    creator = found.creator
    export = {
        "creator": None if creator is None else {
            column: getattr(creator, column) for column in creator.__table__.columns.keys()
            if column not in _CREATOR_BOOKKEEPING
        },
        "posts": counts["posts"],
        "follower_points": counts["follower_points"],
        "audits": [
            {"id": a.id, "created_at": a.created_at, "finished_at": a.finished_at, "status": a.status,
             "score": a.score, "grade": a.grade, "flags": a.flags}
            for a in found.audits
        ],
        "follower_samples": counts["follower_samples"],
        "sampled_followers": counts["sampled_followers"],
        "comments_on_their_posts": counts["comments_on_their_posts"],
        "comments_they_wrote": counts["comments_they_wrote"],
        # Other accounts and creators in a pod are other people: counted, not named.
        "pods": [
            {"id": p.id, "members": len(p.members), "creators": len(p.creators), "co_comments": p.co_comments,
             "posts": p.posts, "computed_at": p.computed_at}
            for p in found.pods
        ],
        "share_links": counts["share_links"],
        # The creator's own words; how a workspace resolved them is the workspace's.
        "appeals": [
            {"id": a.id, "audit_id": a.audit_id, "flag": a.flag, "comment": a.comment,
             "evidence_urls": a.evidence_urls, "status": a.status, "decision": a.decision, "created_at": a.created_at}
            for a in found.appeals
        ],
    }
    actions = [
        ReceiptAction(what="the creator: audit's copy of its profile and accounts", done="exported",
                      count=int(creator is not None)),
        ReceiptAction(what="posts", done="exported", count=counts["posts"],
                      note="a copy of discovery's: their number here, the posts in discovery's export"),
        ReceiptAction(what="follower points", done="exported", count=counts["follower_points"],
                      note="a copy of discovery's: their number here"),
        ReceiptAction(what="audits", done="exported", count=len(found.audits)),
        ReceiptAction(what="follower sample versions", done="exported", count=counts["follower_samples"],
                      note="their number: the sampled followers are other people"),
        ReceiptAction(what="sampled followers", done="exported", count=counts["sampled_followers"],
                      note="their number only"),
        ReceiptAction(what="comments on the creator's posts", done="exported", count=counts["comments_on_their_posts"],
                      note="their number: their authors are other people"),
        ReceiptAction(what="comments the creator's accounts wrote on other creators' posts", done="exported",
                      count=counts["comments_they_wrote"], note="their number only"),
        ReceiptAction(what="engagement pods naming the creator", done="exported", count=len(found.pods),
                      note="the other accounts and creators in them are counted, not named"),
        ReceiptAction(what="share links, in every workspace", done="exported", count=counts["share_links"],
                      note="their number only"),
        ReceiptAction(what="appeals, in every workspace", done="exported", count=len(found.appeals)),
    ]
    return actions, _json(export)


async def erase_creator(session: AsyncSession, creator_id: uuid.UUID) -> list[ReceiptAction]:
    """Delete the creator and everything about it, counted per table (0 where audit holds
    nothing), and remember the creator as erased."""
    creator = await repository.lock_for_erasure(session, creator_id)
    # A pods run reading comments before this commits would store the pods deleted here.
    await hold_off_pods(session)
    by_platform = repository.handles(creator)
    actions = []

    async def remove(what: str, statement, note: str | None = None) -> int:
        count = await repository.deleted(session, statement)
        actions.append(ReceiptAction(what=what, done="deleted", count=count, note=note))
        return count

    comments = [await remove(what, statement) for what, statement in repository.comments(creator_id, by_platform)]
    for what, statement in repository.erasure(creator_id):
        await remove(what, statement)
    pods = await remove("engagement pods naming the creator", repository.pods(creator_id, by_platform),
                        "the pods job finds the other accounts' pods again, without the creator")
    if pods or any(comments):
        await mark_comments_arrived(session)  # the comments changed: the pods job runs again
    await remove("the creator: audit's copy of its profile and accounts", repository.creator(creator_id),
                 "its id is kept, so that discovery's events still on their way about it are ignored")
    await repository.mark_erased(session, creator_id)
    await remove("unpublished events about the creator", repository.unpublished(creator_id), PUBLISHED_NOTE)
    return actions


def read(receipt: PrivacyReceipt) -> ReceiptRead:
    return read_receipt(receipt, SERVICE)
