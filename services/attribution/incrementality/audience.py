"""Audience holdouts: a randomised experiment on a creator's tracked links.

While a holdout runs, the click redirect puts each visitor (its keyed address hash) in the control
group with the holdout's share, by a stable hash (clicks/service.py `group_of`): a control visitor
is sent to the control destination and its clicks are never credited; the others go to the
link's destination as usual. The result compares the groups over the clicks so far:

- **conversion**: the share of each group's visitors with an order that carried one of their
  click ids (not cancelled, not a test order, placed from the start up to 30 days after the end);
  the difference with **Newcombe's hybrid score interval** (method 10 of Newcombe 1998: Wilson
  score intervals of each proportion, combined), which stays sound at small counts and rates
  near 0 where the textbook Wald interval fails;
- **revenue per visitor**, per currency: the mean of each visitor's revenue (0 for one who did
  not buy), the difference with **Welch's t interval** (unequal variances);
- `incremental`: the difference times the treatment group's visitors — what the creator's
  content added among them — beside what crediting attributed to the campaign from them.

A result whose interval contains 0 is `significant: false`. Flagged clicks (bots, previews) and
clicks with no address are in neither group. Because assignment is random, no pre-period is
needed; the groups differ only by the holdout.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from scipy import stats
from sqlalchemy import cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.campaign import repository as campaigns
from services.attribution.clicks.models import Click
from services.attribution.crediting.models import OrderCredit
from services.attribution.incrementality.models import AudienceHoldout
from services.attribution.incrementality.schemas import (
    AttributedRead, AudienceHoldoutCreate, AudienceHoldoutRead, AudienceResultRead, DifferenceRead, GroupRead,
)
from services.attribution.links.models import Link
from services.attribution.orders.models import PartnerOrder
from shared.errors import Conflict, NotFound

CONFIDENCE = 0.95
METHOD = ("randomised holdout of a share of the links' visitors; conversion: difference of proportions with Newcombe's "
          "hybrid score interval; revenue per visitor: Welch's t interval")
ORDER_WINDOW = timedelta(days=30)


async def create(session: AsyncSession, data: AudienceHoldoutCreate, today: date) -> AudienceHoldout:
    if await campaigns.get(session, data.campaign_id) is None:
        raise Conflict([{"field": "body.campaign_id", "reason": f"campaign {data.campaign_id} does not exist"}])
    if data.starts_on < today:
        raise Conflict([{"field": "body.starts_on", "reason": f"{data.starts_on} is past: visitors already sent cannot be "
                         f"split again; start today ({today}) or later"}])
    found = {row.id: row for row in (await session.execute(
        select(Link.id, Link.campaign_id).where(Link.id.in_(data.link_ids)))).all()}
    for i, link_id in enumerate(data.link_ids):
        if link_id not in found or found[link_id].campaign_id != data.campaign_id:
            raise Conflict([{"field": f"body.link_ids.{i}", "reason": f"link {link_id} is not a link of campaign {data.campaign_id}"}])
    overlapping = (await session.execute(select(AudienceHoldout.id).where(
        AudienceHoldout.link_ids.op("&&")(cast(list(data.link_ids), AudienceHoldout.link_ids.type)), AudienceHoldout.starts_on <= data.ends_on,
        AudienceHoldout.ends_on >= data.starts_on).limit(1))).scalar_one_or_none()
    if overlapping is not None:
        raise Conflict([{"field": "body.link_ids", "reason": f"a link is in audience holdout {overlapping} over some of "
                         "these days: a visitor can be in one holdout only"}])
    holdout = AudienceHoldout(
        id=uuid.uuid4(), name=data.name, campaign_id=data.campaign_id, link_ids=list(data.link_ids),
        holdout_share=Decimal(data.holdout_share), control_destination=data.control_destination,
        starts_on=data.starts_on, ends_on=data.ends_on)
    session.add(holdout)
    await session.flush()
    await session.refresh(holdout)
    return holdout


async def get(session, holdout_id: uuid.UUID) -> AudienceHoldout:
    found = (await session.execute(select(AudienceHoldout).where(AudienceHoldout.id == holdout_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"audience holdout {holdout_id} does not exist")
    return found


def _wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(x1: int, n1: int, x2: int, n2: int, confidence: float = CONFIDENCE) -> tuple[float, tuple[float, float]]:
    """p1 − p2 and its hybrid score interval (Newcombe 1998, method 10)."""
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson(x1, n1, z)
    l2, u2 = _wilson(x2, n2, z)
    d = p1 - p2
    return d, (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def welch(a: list[float], b: list[float], confidence: float = CONFIDENCE) -> tuple[float, tuple[float, float]] | None:
    """mean(a) − mean(b) and Welch's t interval; None when either group has fewer than 2 values
    or neither varies."""
    n1, n2 = len(a), len(b)
    if n1 < 2 or n2 < 2:
        return None
    m1, m2 = sum(a) / n1, sum(b) / n2
    v1 = sum((x - m1) ** 2 for x in a) / (n1 - 1)
    v2 = sum((x - m2) ** 2 for x in b) / (n2 - 1)
    se2 = v1 / n1 + v2 / n2
    if se2 == 0:
        return None
    df = se2 ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    t = float(stats.t.ppf(0.5 + confidence / 2, df))
    d = m1 - m2
    half = t * math.sqrt(se2)
    return d, (d - half, d + half)


def _insufficient(*missing: str) -> DifferenceRead:
    return DifferenceRead(status="insufficient_data", missing=list(missing), difference=None, interval=None,
                          relative=None, significant=None, incremental=None)


def _difference(d: float, interval: tuple[float, float], control: float, visitors: int, places: int) -> DifferenceRead:
    low, high = interval
    return DifferenceRead(
        status="estimated", missing=[], difference=round(d, places), interval=(round(low, places), round(high, places)),
        relative=round(d / control, 4) if control else None, significant=low > 0 or high < 0,
        incremental=round(d * visitors, 2))


async def result(session: AsyncSession, holdout_id: uuid.UUID, now: datetime) -> AudienceResultRead:
    holdout = await get(session, holdout_id)
    start = datetime.combine(holdout.starts_on, time.min, tzinfo=UTC)
    clicks_end = min(now, datetime.combine(holdout.ends_on + timedelta(days=1), time.min, tzinfo=UTC))
    orders_end = clicks_end + ORDER_WINDOW  # not capped at now: a partner's clock may run ahead
    counted = (await session.execute(
        select(Click.id, Click.visitor_hash, Click.holdout_group)
        .where(Click.holdout_id == holdout.id, Click.flagged.is_(False), Click.visitor_hash.is_not(None),
               Click.holdout_group.is_not(None), Click.clicked_at >= start, Click.clicked_at < clicks_end))).all()
    group_of_click = {str(c.id): (c.holdout_group, c.visitor_hash) for c in counted}
    visitors: dict[str, set[str]] = {"treatment": set(), "control": set()}
    for _, visitor, group in counted:
        visitors[group].add(visitor)
    bought = []
    if counted:
        ids = [str(c.id) for c in counted]
        bought = (await session.execute(
            select(PartnerOrder.id, PartnerOrder.currency, PartnerOrder.basis_minor, PartnerOrder.click_ids,
                   OrderCredit.outcome, OrderCredit.campaign_id)
            .outerjoin(OrderCredit, OrderCredit.order_ref == PartnerOrder.id)
            .where(PartnerOrder.click_ids.op("&&")(cast(ids, PartnerOrder.click_ids.type)),
                   PartnerOrder.placed_at >= start, PartnerOrder.placed_at < orders_end,
                   PartnerOrder.state == "open", PartnerOrder.test.is_(False)))).all()
    revenue: dict[str, dict[str, dict[str, int]]] = {"treatment": defaultdict(dict), "control": defaultdict(dict)}
    orders = {"treatment": 0, "control": 0}
    attributed: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in bought:
        mine = [group_of_click[c] for c in order.click_ids if c in group_of_click]
        if not mine:
            continue
        group, visitor = mine[0]  # an order is its first counted click's visitor's
        orders[group] += 1
        per_visitor = revenue[group][order.currency]
        per_visitor[visitor] = per_visitor.get(visitor, 0) + int(order.basis_minor)
        if group == "treatment" and order.outcome == "credited" and order.campaign_id == holdout.campaign_id:
            attributed[order.currency][0] += 1
            attributed[order.currency][1] += int(order.basis_minor)
    converted = {g: len({v for per in revenue[g].values() for v in per}) for g in visitors}
    groups = {g: GroupRead(visitors=len(visitors[g]), converted=converted[g], orders=orders[g],
                           conversion_rate=round(converted[g] / len(visitors[g]), 6) if visitors[g] else None,
                           revenue={c: sum(per.values()) for c, per in sorted(revenue[g].items())})
              for g in visitors}
    n1, n2 = len(visitors["treatment"]), len(visitors["control"])
    missing = [f"no visitor in the {g} group yet" for g, n in (("treatment", n1), ("control", n2)) if not n]
    if missing:
        conversion = _insufficient(*missing)
    else:
        d, interval = newcombe(converted["treatment"], n1, converted["control"], n2)
        conversion = _difference(d, interval, converted["control"] / n2, n1, 6)
    per_visitor: dict[str, DifferenceRead] = {}
    for currency in sorted(set(revenue["treatment"]) | set(revenue["control"])):
        a = list(revenue["treatment"][currency].values()) + [0.0] * (n1 - len(revenue["treatment"][currency]))
        b = list(revenue["control"][currency].values()) + [0.0] * (n2 - len(revenue["control"][currency]))
        found = welch([float(x) for x in a], [float(x) for x in b])
        if found is None:
            per_visitor[currency] = _insufficient(
                f"revenue in {currency} needs at least 2 visitors in each group and some variation between visitors")
        else:
            d, interval = found
            per_visitor[currency] = _difference(d, interval, (sum(b) / n2) if n2 else 0.0, n1, 2)
    return AudienceResultRead(
        holdout=AudienceHoldoutRead.of(holdout), method=METHOD, confidence=CONFIDENCE,
        counted_through=min(holdout.ends_on, now.date()) if now >= start else None,
        treatment=groups["treatment"], control=groups["control"], conversion=conversion,
        revenue_per_visitor=per_visitor,
        attributed=[AttributedRead(currency=c, orders=n, revenue=r) for c, (n, r) in sorted(attributed.items())])
