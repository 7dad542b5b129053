"""Shortlist rules: one name per tenant, creators only from the shared catalogue, an entry per
creator per shortlist, outreach stages moved only as stages.py allows, each move appended to the
entry's history. The tenant is never a parameter here: the session carries it."""

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.creator import repository as creators
from services.discovery.shortlist import repository
from services.discovery.shortlist import stages
from services.discovery.shortlist.models import Shortlist, ShortlistEntry, StageChange
from services.discovery.shortlist.schemas import EntryPut, EntryUpdate, ShortlistCreate, ShortlistUpdate
from services.discovery.shortlist.stages import Stage
from shared.db import utcnow
from shared.errors import Conflict, NotFound


def _name_taken(name: str) -> Conflict:
    return Conflict([{"field": "body.name", "reason": f"you already have a shortlist named {name!r}"}])


def not_found(shortlist_id: uuid.UUID) -> NotFound:
    return NotFound(f"shortlist {shortlist_id} does not exist")


async def create(session: AsyncSession, data: ShortlistCreate) -> Shortlist:
    if await repository.find_by_name(session, data.name):
        raise _name_taken(data.name)
    shortlist = Shortlist(id=uuid.uuid4(), **data.model_dump())
    session.add(shortlist)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create took the name
        raise _name_taken(data.name) from exc
    await session.refresh(shortlist)
    return shortlist


async def owned(session: AsyncSession, shortlist_id: uuid.UUID) -> Shortlist:
    """The caller's shortlist, locked for the rest of the transaction, or 404."""
    shortlist = await repository.get(session, shortlist_id, for_update=True)
    if shortlist is None:
        raise not_found(shortlist_id)
    return shortlist


async def update(session: AsyncSession, shortlist_id: uuid.UUID, data: ShortlistUpdate) -> Shortlist:
    shortlist = await owned(session, shortlist_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(shortlist, k) != v}
    if not changes:
        return shortlist
    if "name" in changes and await repository.find_by_name(session, changes["name"]):
        raise _name_taken(changes["name"])
    for key, value in changes.items():
        setattr(shortlist, key, value)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _name_taken(changes["name"]) from exc
    await session.refresh(shortlist)
    return shortlist


async def delete(session: AsyncSession, shortlist_id: uuid.UUID) -> None:
    """The shortlist and its entries (the foreign key cascades)."""
    await session.delete(await owned(session, shortlist_id))


def entry_not_found(shortlist_id: uuid.UUID, creator_id: uuid.UUID) -> NotFound:
    return NotFound(f"creator {creator_id} is not on shortlist {shortlist_id}")


async def put_entry(
    session: AsyncSession, shortlist_id: uuid.UUID, creator_id: uuid.UUID, data: EntryPut, by: str
) -> tuple[ShortlistEntry, object, bool]:
    """Add the creator with `data`, as a prospect, or replace its note and tags (its stage stays):
    (entry, creator, created).

    The shortlist's row lock orders concurrent writes to one shortlist, so the read-then-insert
    below cannot race into a duplicate key."""
    await owned(session, shortlist_id)
    creator = await creators.get(session, creator_id)
    if creator is None:
        # The path names a creator that does not exist: a 404, as for any unknown resource.
        raise NotFound(f"creator {creator_id} is not in the index")
    found = await repository.entry(session, shortlist_id, creator_id)
    created = found is None
    if created:
        now = utcnow()
        found = ShortlistEntry(
            shortlist_id=shortlist_id, creator_id=creator_id, note=data.note, tags=data.tags,
            stage=stages.DEFAULT.value, stage_changed_at=now, created_at=now, updated_at=now,
        )
        session.add(found)
        await session.flush()  # the entry before its history (the foreign key)
        session.add(_change(found, None, stages.DEFAULT, now, by, None))
    elif (found.note, list(found.tags)) != (data.note, data.tags):
        found.note, found.tags, found.updated_at = data.note, data.tags, utcnow()
    await session.flush()
    await session.refresh(found)
    return found, creator, created


async def update_entry(
    session: AsyncSession, shortlist_id: uuid.UUID, creator_id: uuid.UUID, data: EntryUpdate, by: str
) -> tuple[ShortlistEntry, object]:
    """Change what `data` gives: the stage (a move stages.py allows, recorded in the history; the
    stage it is at already changes nothing), the note, the tags. Conflict naming both stages for
    a move that is not allowed. (entry, creator)."""
    await owned(session, shortlist_id)
    found = await repository.entry(session, shortlist_id, creator_id)
    if found is None:
        raise entry_not_found(shortlist_id, creator_id)
    given = data.model_dump(exclude_unset=True)
    changed = False
    if data.stage is not None and data.stage != found.stage:
        source = Stage(found.stage)
        if not stages.allowed(source, data.stage):
            raise Conflict([{"field": "body.stage", "reason": stages.refusal(source, data.stage)}])
        now = utcnow()
        session.add(_change(found, source, data.stage, now, by, data.change_note))
        found.stage, found.stage_changed_at = data.stage.value, now
        changed = True
    if "note" in given and given["note"] != found.note:
        found.note, changed = given["note"], True
    if "tags" in given and given["tags"] != list(found.tags):
        found.tags, changed = given["tags"], True
    if changed:
        found.updated_at = utcnow()
        await session.flush()
        await session.refresh(found)
    return found, await creators.get(session, creator_id)


def _change(entry: ShortlistEntry, source: Stage | None, target: Stage, at, by: str, note: str | None) -> StageChange:
    return StageChange(
        shortlist_id=entry.shortlist_id, creator_id=entry.creator_id, from_stage=source.value if source else None,
        to_stage=target.value, at=at, by=by, note=note,
    )


async def remove_entry(session: AsyncSession, shortlist_id: uuid.UUID, creator_id: uuid.UUID) -> None:
    """The entry and its history (the foreign key cascades)."""
    await owned(session, shortlist_id)
    found = await repository.entry(session, shortlist_id, creator_id)
    if found is None:
        raise entry_not_found(shortlist_id, creator_id)
    await session.delete(found)
