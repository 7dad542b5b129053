"""The reports put together from the repository's aggregate rows: every creator (or campaign) that
has anything, its figures, and the totals as the sum of its lines — counts added up freely, money
only within one currency."""

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from services.attribution.campaign import service as campaigns
from services.attribution.reports import repository
from services.attribution.reports.schemas import (
    CampaignLine,
    CampaignReport,
    Clicks,
    CreatorCost,
    CreatorLine,
    CreatorReport,
    Money,
)
from shared.db import Reads
from shared.errors import NotFound

ORDER_FIELDS = ("orders", "cancelled_orders", "revenue", "revenue_before_refunds")
LEDGER_FIELDS = ("commission_pending", "commission_approved", "commission_paid", "clawbacks", "net_commission")
NO_CLICKS = Clicks(total=0, unique=0, flagged=0)


def _by(found: Iterable, key: str) -> dict:
    grouped = defaultdict(list)
    for row in found:
        grouped[getattr(row, key)].append(row)
    return grouped


def _clicks(found: Iterable) -> Clicks:
    found = list(found)
    return Clicks(total=sum(r.total for r in found), unique=sum(r.unique for r in found), flagged=sum(r.flagged for r in found))


def _money(orders: Iterable, ledger: Iterable) -> list[Money]:
    """One row per currency from order rows and ledger rows (either may lack the currency)."""
    rows: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ORDER_FIELDS + LEDGER_FIELDS, 0))
    for row in orders:
        for field in ORDER_FIELDS:
            rows[row.currency][field] += int(getattr(row, field) or 0)
    for row in ledger:
        for field in LEDGER_FIELDS:
            rows[row.currency][field] += int(getattr(row, field) or 0)
    return [Money(currency=currency, **figures) for currency, figures in sorted(rows.items())]


def _add_money(lines: Iterable[list[Money]]) -> list[Money]:
    """The lines' money added up per currency (a Money row carries both groups of fields)."""
    rows = [row for money in lines for row in money]
    return _money(rows, rows)


def _cost(currency: str, enrolment, ledger_ever: Iterable) -> CreatorCost:
    """As campaign.service.cost counts a campaign: fees + product value + net commission in the
    campaign's currency (entries in another currency are never added)."""
    fees = int(enrolment.fee_minor) if enrolment else 0
    product_value = int(enrolment.product_value_minor) if enrolment else 0
    commission = sum(int(r.net_commission) for r in ledger_ever if r.currency == currency)
    return CreatorCost(currency=currency, fees=fees, product_value=product_value, commission=commission,
                       total=fees + product_value + commission)


async def campaign_report(session: Reads, campaign_id: uuid.UUID, start: datetime | None, end: datetime | None) -> CampaignReport:
    figures_of = repository.campaign_figures(
        session, campaign_id, start or repository.EVER_START, end or repository.EVER_END, start is not None or end is not None)
    if isinstance(session, Reads):  # each read on its own connection: side by side
        # The cost's 404 (an unknown campaign, or another tenant's) wins over the figures, which are then empty.
        cost, figures = await asyncio.gather(campaigns.cost(session, campaign_id), figures_of)
    else:
        cost = await campaigns.cost(session, campaign_id)
        figures = await figures_of
    clicks, orders = _by(figures["clicks"], "creator_id"), _by(figures["orders"], "creator_id")
    ledger, ever = _by(figures["ledger"], "creator_id"), _by(figures["ledger_ever"], "creator_id")
    enrolments = {row.creator_id: row for row in figures["enrolments"]}
    creators = sorted(set(enrolments) | set(clicks) | set(orders) | set(ledger) | set(ever))
    lines = [
        CreatorLine(
            creator_id=creator_id, enrolled=creator_id in enrolments, clicks=_clicks(clicks[creator_id]),
            money=_money(orders[creator_id], ledger[creator_id]),
            cost=_cost(cost.currency, enrolments.get(creator_id), ever[creator_id]),
        )
        for creator_id in creators
    ]
    return CampaignReport(
        campaign_id=campaign_id, currency=cost.currency, from_=start, to=end, clicks=_clicks(figures["clicks"]),
        money=_add_money(line.money for line in lines), cost=cost, creators=lines,
    )


async def creator_report(session: Reads, creator_id: uuid.UUID, start: datetime | None, end: datetime | None) -> CreatorReport:
    figures = await repository.creator_figures(
        session, creator_id, start or repository.EVER_START, end or repository.EVER_END, start is not None or end is not None)
    clicks, orders = _by(figures["clicks"], "campaign_id"), _by(figures["orders"], "campaign_id")
    ledger, ever = _by(figures["ledger"], "campaign_id"), _by(figures["ledger_ever"], "campaign_id")
    enrolments = {row.campaign_id: row for row in figures["enrolments"]}
    # Only the tenant's campaigns (the statements are restricted to its rows; a ledger entry names
    # its campaign by id alone, so one naming no campaign of the tenant's is left out).
    known = await repository.campaigns(session, sorted(set(enrolments) | set(clicks) | set(orders) | set(ledger) | set(ever)))
    if not known:
        raise NotFound(f"creator {creator_id} has no campaign of yours")
    lines = [
        CampaignLine(
            campaign_id=campaign_id, name=name, currency=currency, enrolled=campaign_id in enrolments,
            clicks=_clicks(clicks[campaign_id]), money=_money(orders[campaign_id], ledger[campaign_id]),
            cost=_cost(currency, enrolments.get(campaign_id), ever[campaign_id]),
        )
        for campaign_id, (name, currency) in sorted(known.items())
    ]
    costs: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("fees", "product_value", "commission", "total"), 0))
    for line in lines:
        for field in ("fees", "product_value", "commission", "total"):
            costs[line.cost.currency][field] += getattr(line.cost, field)
    return CreatorReport(
        creator_id=creator_id, from_=start, to=end, clicks=_clicks(line.clicks for line in lines),
        money=_add_money(line.money for line in lines),
        cost=[CreatorCost(currency=currency, **figures) for currency, figures in sorted(costs.items())], campaigns=lines,
    )
