"""The ledger's side of a fraud hold, through its service functions on the real database: the
approval worker (across tenants) and a payout skip every entry of a held order, a refund of it
included; an approval releases them to the normal path; a rejection appends a clawback of all
that is left, so the order nets to zero and nothing written before changes."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.attribution.fraud import review as reviews
from services.attribution.fraud.models import FraudReview
from services.attribution.ledger import service
from services.attribution.ledger.models import LedgerEntry
from shared import tenancy
from shared.db import utcnow
from shared.errors import Conflict
from tests.attribution.conftest import unit_of_work
from tests.attribution.ledger_helpers import SOURCE, commission, order_id, refund

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def held(session, order: str, creator: uuid.UUID) -> FraudReview:
    review = FraudReview(id=uuid.uuid4(), order_ref=uuid.uuid4(), source=SOURCE, order_id=order, creator_id=creator,
                         campaign_id=uuid.uuid4(), findings=[{"rule": "click_injection", "reason": "r", "evidence": {}}],
                         thresholds={}, status="held")
    session.add(review)
    await session.flush()
    return review


async def states(sessions, tenant, order: str) -> list[tuple[str, int, str]]:
    async with unit_of_work(sessions, tenant) as session:
        found = (await session.execute(select(LedgerEntry).where(LedgerEntry.order_id == order)
                                       .order_by(LedgerEntry.created_at))).scalars()
        return [(e.kind, e.amount, e.state) for e in found]


async def approve_everything_due(sessions) -> None:
    async with sessions() as session, session.begin():
        tenancy.across_tenants(session, "the approval worker")
        while await service.approve_due(session, utcnow()) == service.APPROVAL_BATCH:
            pass


async def test_a_held_orders_entries_are_never_approved_nor_paid_until_approved(sessions):
    tenant, creator, order = uuid.uuid4(), uuid.uuid4(), order_id()
    past = utcnow() - timedelta(days=1)
    async with unit_of_work(sessions, tenant) as session:
        review = await held(session, order, creator)
        await commission(session, order, 1000, creator_id=creator, hold_until=past)
        await refund(session, order, "r1", 300)
    await approve_everything_due(sessions)
    assert await states(sessions, tenant, order) == [("commission", 1000, "pending"), ("clawback", -300, "pending")]
    with pytest.raises(Conflict):
        async with unit_of_work(sessions, tenant) as session:
            await service.create_payout(session, creator, "EUR", utcnow())

    async with unit_of_work(sessions, tenant) as session:
        await reviews.decide(session, review.id, "approve", "checked with the shop", "key:ops", utcnow())
    await approve_everything_due(sessions)
    assert await states(sessions, tenant, order) == [("commission", 1000, "approved"), ("clawback", -300, "approved")]
    async with unit_of_work(sessions, tenant) as session:
        payout = await service.create_payout(session, creator, "EUR", utcnow())
    assert payout.amount == 700


async def test_a_rejection_appends_a_clawback_of_what_is_left_and_the_order_nets_to_zero(sessions):
    tenant, creator, order = uuid.uuid4(), uuid.uuid4(), order_id()
    async with unit_of_work(sessions, tenant) as session:
        review = await held(session, order, creator)
        await commission(session, order, 1000, creator_id=creator, hold_until=utcnow() - timedelta(days=1))
        await refund(session, order, "r1", 300)
    async with unit_of_work(sessions, tenant) as session:
        await reviews.decide(session, review.id, "reject", "an app injected the click", "key:ops", utcnow())
    await approve_everything_due(sessions)
    entries = await states(sessions, tenant, order)
    assert entries[:2] == [("commission", 1000, "approved"), ("clawback", -300, "approved")]
    assert entries[2:] == [("clawback", -700, "approved")] and sum(a for _, a, _ in entries) == 0
    async with unit_of_work(sessions, tenant) as session:
        with pytest.raises(Conflict):
            await reviews.decide(session, review.id, "approve", "changed my mind", "key:ops", utcnow())
