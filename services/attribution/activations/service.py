"""Activation rules: a post of a creator enrolled in the campaign (422 naming creator_id
otherwise), in a format its platform publishes, once per campaign by URL (409); snapshots are
readings never rewritten (the same observed_at again: unchanged when the figures agree, 409
when they differ); the CSV import applies each valid row on its own savepoint so one bad row
never takes the others with it, and a replayed file finds every row already recorded."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.activations import csvfile, deliverables, repository
from services.attribution.activations.models import METRICS, Activation, Snapshot
from services.attribution.activations.schemas import (
    ActivationCreate,
    ActivationUpdate,
    DeliverablesReport,
    ImportResult,
    RowError,
    SnapshotCreate,
    format_problem,
)
from services.attribution.campaign import repository as campaigns
from services.attribution.enrolment import repository as enrolments
from services.attribution.enrolment.models import Enrolment
from shared.db import Reads
from shared.errors import Conflict, Invalid, NotFound


async def campaign_of(session: AsyncSession | Reads, campaign_id: uuid.UUID):
    campaign = await campaigns.get(session, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    return campaign


async def activation_of(session: AsyncSession | Reads, campaign_id: uuid.UUID, activation_id: uuid.UUID) -> Activation:
    await campaign_of(session, campaign_id)
    activation = await repository.get(session, campaign_id, activation_id)
    if activation is None:
        raise NotFound(f"activation {activation_id} does not exist in campaign {campaign_id}")
    return activation


def _url_taken(url: str) -> Conflict:
    return Conflict([{"field": "body.url", "reason": f"{url} is already an activation of this campaign"}])


async def create(session: AsyncSession, campaign_id: uuid.UUID, data: ActivationCreate) -> Activation:
    await campaign_of(session, campaign_id)
    if await enrolments.get(session, campaign_id, data.creator_id) is None:
        # As commission overrides answer it: the campaign's state, not a malformed body.
        raise Conflict([{"field": "body.creator_id",
                         "reason": f"creator {data.creator_id} is not enrolled in campaign {campaign_id}"}])
    if await repository.by_url(session, campaign_id, data.url) is not None:
        raise _url_taken(data.url)
    activation = Activation(campaign_id=campaign_id, creator_id=data.creator_id, platform=data.platform.value,
                            format=data.format, url=data.url, posted_at=data.posted_at)
    try:
        async with session.begin_nested():
            session.add(activation)
    except IntegrityError:  # the same URL recorded concurrently
        raise _url_taken(data.url) from None
    await session.refresh(activation)
    return activation


async def update(session: AsyncSession, campaign_id: uuid.UUID, activation_id: uuid.UUID, data: ActivationUpdate) -> Activation:
    activation = await activation_of(session, campaign_id, activation_id)
    changes = data.model_dump(exclude_unset=True)
    platform = changes.get("platform", activation.platform)
    problem = format_problem(str(platform), changes.get("format", activation.format))
    if problem is not None:
        raise Invalid("format", problem)
    if "url" in changes and changes["url"] != activation.url and await repository.by_url(session, campaign_id, changes["url"]):
        raise _url_taken(changes["url"])
    for name, value in changes.items():
        setattr(activation, name, str(value) if name == "platform" else value)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise _url_taken(changes["url"]) from None
    await session.refresh(activation)
    return activation


async def delete(session: AsyncSession, campaign_id: uuid.UUID, activation_id: uuid.UUID) -> None:
    """The activation and its snapshots (ON DELETE CASCADE)."""
    activation = await activation_of(session, campaign_id, activation_id)
    await session.delete(activation)
    await session.flush()


def _figures(snapshot: Snapshot | SnapshotCreate) -> dict:
    return {m: getattr(snapshot, m) for m in METRICS}


async def add_snapshot(session: AsyncSession, activation: Activation, data: SnapshotCreate) -> tuple[Snapshot, bool]:
    """(snapshot, created). The same observed_at with the same figures is the snapshot already
    recorded (created False); with other figures a 409."""
    existing = await repository.snapshot_at(session, activation.id, data.observed_at)
    if existing is not None:
        if _figures(existing) != _figures(data):
            raise Conflict([{"field": "body.observed_at", "reason": f"a snapshot observed at {data.observed_at.isoformat()} "
                             "is already recorded with other figures; a reading is never rewritten"}])
        return existing, False
    snapshot = Snapshot(activation_id=activation.id, observed_at=data.observed_at, **_figures(data))
    try:
        async with session.begin_nested():
            session.add(snapshot)
    except IntegrityError:
        raise Conflict([{"field": "body.observed_at", "reason": "recorded concurrently; send it again"}]) from None
    return snapshot, True


async def _import_row(session: AsyncSession, campaign_id: uuid.UUID, row: csvfile.Row, enrolled: set) -> tuple[int, int]:
    """(activations created, snapshots created) for one row; raises Invalid/Conflict for a bad one."""
    data = row.activation
    if data.creator_id not in enrolled:
        raise Invalid("creator_id", f"creator {data.creator_id} is not enrolled in this campaign")
    activation = await repository.by_url(session, campaign_id, data.url)
    created = 0
    if activation is None:
        activation = Activation(campaign_id=campaign_id, creator_id=data.creator_id, platform=data.platform.value,
                                format=data.format, url=data.url, posted_at=data.posted_at)
        session.add(activation)
        await session.flush()
        created = 1
    else:
        recorded = (activation.creator_id, activation.platform, activation.format, activation.posted_at)
        if recorded != (data.creator_id, data.platform.value, data.format, data.posted_at):
            raise Invalid("url", "already recorded with another creator_id, platform, format or posted_at; "
                          "change it with PATCH, not the import")
    if row.snapshot is None:
        return created, 0
    _, added = await add_snapshot(session, activation, row.snapshot)
    return created, int(added)


async def import_csv(session: AsyncSession, campaign_id: uuid.UUID, data: bytes) -> ImportResult:
    await campaign_of(session, campaign_id)
    rows, errors = csvfile.parse(data)
    read = len(rows) + len(errors)
    enrolled = set((await session.scalars(select(Enrolment.creator_id).where(Enrolment.campaign_id == campaign_id))).all())
    activations = snapshots = unchanged = 0
    for row in rows:
        try:
            async with session.begin_nested():
                created, added = await _import_row(session, campaign_id, row, enrolled)
        except (Invalid, Conflict, IntegrityError) as exc:
            errors.append(_row_error(row.line, exc))
            continue
        activations, snapshots = activations + created, snapshots + added
        unchanged += int(not created and not added)
    errors.sort(key=lambda e: e.line)
    return ImportResult(rows=read, activations_created=activations, snapshots_created=snapshots,
                        unchanged=unchanged, errors=errors)


def _row_error(line: int, exc: Exception) -> RowError:
    if isinstance(exc, IntegrityError):
        return RowError(line=line, field=None, reason="written concurrently by another request; send the row again")
    [detail] = exc.detail
    return RowError(line=line, field=detail["field"].removeprefix("body."), reason=detail["reason"])


async def deliverables_report(session: Reads, campaign_id: uuid.UUID, today=None) -> DeliverablesReport:
    await campaign_of(session, campaign_id)
    today = today or datetime.now(UTC).date()
    found = await session.scalars(select(Enrolment).where(Enrolment.campaign_id == campaign_id).order_by(Enrolment.creator_id))
    posts: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for activation in await repository.of_campaign(session, campaign_id):
        posts.setdefault(activation.creator_id, []).append((activation.platform, activation.format))
    creators = [deliverables.count(e.creator_id, e.deliverables or [], posts.get(e.creator_id, []), today) for e in found.all()]
    return DeliverablesReport(campaign_id=campaign_id, as_of=today, creators=creators)
