"""Media metrics, pure: EMV from the latest snapshots and a rate card, and the cost ratios (CPM,
CPE, cost per view, EMV to cost) with a reason instead of a figure whenever a denominator is
zero or the two sides are in different currencies. Decimal throughout; money rounded half-even.

Definitions (docs/guide/attribution-activations.md):
  engagements   = likes + comments + shares + saves (those reported); reach and views are not engagements
  CPM           = cost x 1000 / impressions
  CPE           = cost / engagements
  cost per view = cost / views
  EMV           = sum over activations of round(sum over engagement types of latest figure x rate)
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from services.attribution.media.schemas import Emv, Figures, Metric
from services.attribution.ratecards.schemas import ENGAGEMENTS, METRIC_OF, RateCardRef

ENGAGEMENT_FIGURES = ("likes", "comments", "shares", "saves")
CENT = Decimal("0.01")
RATIO = Decimal("0.0001")


@dataclass(frozen=True)
class Post:
    """One activation and its latest snapshot's figures (None: no snapshot yet)."""

    platform: str
    latest: dict[str, int | None] | None


def engagements(latest: dict[str, int | None]) -> int | None:
    reported = [latest[f] for f in ENGAGEMENT_FIGURES if latest.get(f) is not None]
    return sum(reported) if reported else None


def emv_of(post: Post, rates: dict[str, dict[str, Decimal]]) -> tuple[int, list[str]]:
    """(EMV in minor units, `platform.engagement` figures reported but unpriced)."""
    if post.latest is None:
        return 0, []
    total, unpriced = Decimal(0), []
    card = rates.get(post.platform, {})
    for engagement in ENGAGEMENTS:
        figure = post.latest.get(METRIC_OF[engagement])
        if figure is None:
            continue
        if engagement not in card:
            if figure:
                unpriced.append(f"{post.platform}.{engagement}")
            continue
        total += figure * card[engagement]
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)), unpriced


def figures(posts: Iterable[Post]) -> Figures:
    posts = list(posts)
    seen = [p.latest for p in posts if p.latest is not None]
    missing = {"impressions": 0, "views": 0, "engagements": 0}
    sums = {"impressions": 0, "views": 0, "reach": 0, "engagements": 0}
    for latest in seen:
        for name in ("impressions", "views", "reach"):
            if latest.get(name) is not None:
                sums[name] += latest[name]
            elif name in missing:
                missing[name] += 1
        engaged = engagements(latest)
        if engaged is None:
            missing["engagements"] += 1
        else:
            sums["engagements"] += engaged
    return Figures(activations=len(posts), with_snapshot=len(seen), missing=missing, **sums)


def emv(posts: Iterable[Post], rates: dict[str, dict[str, Decimal]], card: RateCardRef) -> Emv:
    amount, unpriced = 0, set()
    for post in posts:
        value, missed = emv_of(post, rates)
        amount += value
        unpriced.update(missed)
    return Emv(amount=amount, currency=card.currency, rate_card=card, unpriced=sorted(unpriced))


def null(reason: str) -> Metric:
    return Metric(value=None, currency=None, reason=reason)


def money(amount: int, currency: str) -> Metric:
    return Metric(value=str(amount), currency=currency, reason=None)


def per(cost: Metric, denominator: int, what: str, scale: int = 1) -> Metric:
    """cost x scale / denominator, in minor units to 2 places; null without a cost or a denominator."""
    if cost.value is None:
        return null(cost.reason)
    if denominator == 0:
        return null(f"no {what} reported: the latest snapshots report none (or there are no snapshots)")
    value = (Decimal(cost.value) * scale / denominator).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return Metric(value=str(value), currency=cost.currency, reason=None)


def emv_to_cost(value: Emv, cost: Metric) -> Metric:
    if cost.value is None:
        return null(cost.reason)
    if value.currency != cost.currency:
        return null(f"EMV is in {value.currency} (the rate card's currency) and cost in {cost.currency}: "
                    "amounts in different currencies are never divided or added, and FX rates are not supported")
    if Decimal(cost.value) == 0:
        return null("the cost is 0")
    return Metric(value=str((Decimal(value.amount) / Decimal(cost.value)).quantize(RATIO, rounding=ROUND_HALF_EVEN)),
                  currency=None, reason=None)
