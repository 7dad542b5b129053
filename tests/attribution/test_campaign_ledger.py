"""The ledger and the campaign meet: the first commission for an enrolled creator locks the
enrolment (no unenrolling, no currency change), and the campaign's cost counts the net
commission — commissions less clawbacks, in the campaign's currency only."""

import uuid

import pytest

from tests.attribution.conftest import unit_of_work
from tests.attribution.ledger_helpers import commission, order_id, refund
from tests.attribution.test_campaign_deals import CAMPAIGNS, campaign, enrol, fields

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def test_a_commission_locks_the_enrolment_and_counts_in_the_cost(gateway, sessions, tenant):
    made = await campaign(gateway, budget=1_000_000)
    kept = await enrol(gateway, made["id"], fee=150_000, product_value=0)
    other = await enrol(gateway, made["id"], fee=100_000, product_value=0)
    campaign_id, creator_id = uuid.UUID(made["id"]), uuid.UUID(kept["creator_id"])
    first, second = order_id(), order_id()
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await commission(session, first, 1_200, creator_id=creator_id, campaign_id=campaign_id)
        await commission(session, second, 800, creator_id=creator_id, campaign_id=campaign_id)
        # A commission of this campaign in another currency is the ledger's, never added to the cost.
        await commission(session, order_id(), 999, creator_id=creator_id, campaign_id=campaign_id, currency="USD")
    async with unit_of_work(sessions, tenant.tenant_id) as session:
        await refund(session, first, f"r-{uuid.uuid4().hex[:6]}", 300)

    url = f"{CAMPAIGNS}/{made['id']}/creators"
    assert (await gateway.get(f"{url}/{kept['creator_id']}")).json()["money_recorded"] is True
    refused = await gateway.delete(f"{url}/{kept['creator_id']}")
    assert refused.status_code == 409 and fields(refused) == ["path.creator_id"], refused.text
    # The other creator has no money recorded: it can still be removed.
    assert (await gateway.get(f"{url}/{other['creator_id']}")).json()["money_recorded"] is False

    cost = (await gateway.get(f"{CAMPAIGNS}/{made['id']}/cost")).json()
    assert cost["commission"] == 1_200 + 800 - 300
    assert cost["total"] == 250_000 + 1_700 and cost["budget_remaining"] == 1_000_000 - 251_700
    changed = await gateway.patch(f"{CAMPAIGNS}/{made['id']}", json={"currency": "USD", "budget": 1_000_000})
    assert changed.status_code == 409 and fields(changed) == ["body.currency"], changed.text
