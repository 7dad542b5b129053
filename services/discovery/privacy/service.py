"""Data-subject requests in discovery: the rules (what each kind does: privacy/handlers.py)."""

import uuid
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.db import SERVICE
from services.discovery.privacy import repository
from services.discovery.privacy.models import PrivacyReceipt
from shared.contracts.envelope import Envelope
from shared.contracts.privacy import PrivacyRequested
from shared.privacy import PUBLISHED_NOTE, ReceiptAction, ReceiptRead, act_on_creator_data, read_receipt

# The creator row's columns that are not the person's data but the index's machinery.
_INDEX_COLUMNS = frozenset(
    {"document", "text_config", "embedding", "embedding_text_hash", "embedding_stale", "embedded_at", "audience_vector"}
)
_AUDIENCE = {
    "audience_countries": "countries", "audience_ages": "ages", "audience_genders": "genders",
    "audience_languages": "languages", "audience_interests": "interests", "audience_estimated_at": "estimated_at",
    "audience_source": "source",
}


async def act(session: AsyncSession, event: Envelope[PrivacyRequested]) -> None:
    """Do what the request asks, unless it was done already, and write its receipt."""
    await act_on_creator_data(session, event, PrivacyReceipt, export_creator=export_creator, erase_creator=erase_creator,
                              across="a creator of the installation-wide index is exported or erased everywhere")


def _columns(row: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in inspect(type(row)).column_attrs if c.key not in skip}


def _json(value: Any) -> Any:
    """Times as ISO 8601 text, ids and decimals as strings: what JSONB and the API carry."""
    return to_jsonable_python(value)


async def export_creator(session: AsyncSession, creator_id: uuid.UUID) -> tuple[list[ReceiptAction], dict]:
    found = await repository.held(session, creator_id)
    if found is None:
        return [ReceiptAction(what="the creator", done="none held", count=0)], {}
    fields = _columns(found.creator, _INDEX_COLUMNS)
    contact = fields.pop("contact")
    prices = fields.pop("price_estimates")
    audience = {name: fields.pop(column) for column, name in _AUDIENCE.items()}
    export = {
        "creator": fields,
        "contact": contact,
        "price_estimates": prices,
        "audience": audience if audience["estimated_at"] is not None else None,
        "accounts": [_columns(a) for a in found.accounts],
        "posts": [_columns(p) for p in found.posts],
        "follower_points": [_columns(p) for p in found.points],
        "sales": [_columns(s) for s in found.sales],
        "shortlist_entries": found.shortlist_entries,
    }
    actions = [
        ReceiptAction(what="the creator: profile, contact details, price estimates, audience, audit status",
                      done="exported", count=1,
                      note="the search vectors made from the bio and captions are left out: numbers only the index reads"),
        ReceiptAction(what="accounts", done="exported", count=len(found.accounts)),
        ReceiptAction(what="posts", done="exported", count=len(found.posts)),
        ReceiptAction(what="follower points", done="exported", count=len(found.points)),
        ReceiptAction(what="sales records (attribution's figures, per currency)", done="exported", count=len(found.sales)),
        ReceiptAction(what="shortlist entries naming the creator, in every workspace", done="exported",
                      count=found.shortlist_entries, note="their number only: notes and tags are the workspaces' own"),
    ]
    return actions, _json(export)


async def erase_creator(session: AsyncSession, creator_id: uuid.UUID) -> list[ReceiptAction]:
    """Delete the creator and everything about it; the rows deleted per table (all 0 when the
    index does not hold it)."""
    await repository.lock_creator(session, creator_id)
    actions = [
        ReceiptAction(what=what, done="deleted", count=await repository.deleted(session, statement))
        for what, statement in repository.erasure(creator_id)
    ]
    outbox = await repository.deleted(session, repository.unpublished(creator_id))
    actions.append(ReceiptAction(what="unpublished events about the creator", done="deleted", count=outbox,
                                 note=PUBLISHED_NOTE))
    return actions


def read(receipt: PrivacyReceipt) -> ReceiptRead:
    return read_receipt(receipt, SERVICE)
