"""Activation and snapshot queries. None names a tenant: shared.tenancy restricts each to the
session's."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.activations.models import Activation, Snapshot
from shared.db import Reads
from shared.pagination import PagedList, PageParams, Sorts

SORTS = Sorts(Activation.id, created_at=Activation.created_at)
DEFAULT_SORT = "created_at"
_LIST = PagedList(select(Activation), SORTS, campaign_id=Activation.campaign_id)
SNAPSHOT_SORTS = Sorts(Snapshot.id, observed_at=Snapshot.observed_at)
_SNAPSHOTS = PagedList(select(Snapshot), SNAPSHOT_SORTS, activation_id=Snapshot.activation_id)


async def get(session: AsyncSession | Reads, campaign_id: uuid.UUID, activation_id: uuid.UUID) -> Activation | None:
    """The campaign's activation, or None (also when it is another tenant's or campaign's)."""
    query = select(Activation).where(Activation.id == activation_id, Activation.campaign_id == campaign_id)
    return (await session.scalars(query)).first()


async def by_url(session: AsyncSession, campaign_id: uuid.UUID, url: str) -> Activation | None:
    query = select(Activation).where(Activation.campaign_id == campaign_id, Activation.url == url)
    return (await session.scalars(query)).first()


async def list_page(session: Reads, page: PageParams, campaign_id: uuid.UUID) -> list:
    """Up to page.limit + 1 of the campaign's activations, oldest first."""
    return await _LIST.fetch(session, page, DEFAULT_SORT, campaign_id=campaign_id)


async def snapshots_page(session: Reads, page: PageParams, activation_id: uuid.UUID) -> list:
    """Up to page.limit + 1 of the activation's snapshots, earliest observed first."""
    return await _SNAPSHOTS.fetch(session, page, "observed_at", activation_id=activation_id)


async def snapshot_at(session: AsyncSession, activation_id: uuid.UUID, observed_at) -> Snapshot | None:
    query = select(Snapshot).where(Snapshot.activation_id == activation_id, Snapshot.observed_at == observed_at)
    return (await session.scalars(query)).first()


async def of_campaign(session: AsyncSession | Reads, campaign_id: uuid.UUID) -> list[Activation]:
    query = select(Activation).where(Activation.campaign_id == campaign_id).order_by(Activation.created_at, Activation.id)
    return list((await session.scalars(query)).all())


async def latest(session: AsyncSession | Reads, activation_ids: list[uuid.UUID]) -> dict[uuid.UUID, Snapshot]:
    """Each activation's snapshot with the latest observed_at (none for one without snapshots)."""
    if not activation_ids:
        return {}
    query = (select(Snapshot).where(Snapshot.activation_id.in_(activation_ids))
             .distinct(Snapshot.activation_id).order_by(Snapshot.activation_id, Snapshot.observed_at.desc()))
    return {s.activation_id: s for s in (await session.scalars(query)).all()}
