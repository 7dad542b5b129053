"""The media report put together: the campaign's activations and their latest snapshots, the
rate card chosen (reports/ and ratecards/ own their parts), the campaign's cost and its
creators' (as GET .../cost and the campaign report count them) and its attributed sales."""

import uuid
from collections import defaultdict

from services.attribution.activations import repository as activations
from services.attribution.activations.models import METRICS
from services.attribution.media import metrics
from services.attribution.media.schemas import ActivationMedia, CreatorMedia, MediaLine, MediaReport, Metric, PlatformMedia, Sales
from services.attribution.ratecards import service as ratecards
from services.attribution.ratecards.schemas import rates_of
from services.attribution.reports import service as reports
from shared.db import Reads

NOT_SPLIT = "a creator's cost (fee, products, commission) is not split between platforms"


def _line(posts: list[metrics.Post], cost: Metric, rates, card, sales: list[Sales] | None) -> dict:
    figures = metrics.figures(posts)
    value = metrics.emv(posts, rates, card)
    return {
        "figures": figures, "cost": cost, "emv": value, "sales": sales,
        "cpm": metrics.per(cost, figures.impressions, "impressions", 1000),
        "cpe": metrics.per(cost, figures.engagements, "engagements (likes, comments, shares, saves)"),
        "cost_per_view": metrics.per(cost, figures.views, "views"),
        "emv_to_cost": metrics.emv_to_cost(value, cost),
    }


def _sales(money) -> list[Sales]:
    return [Sales(currency=m.currency, orders=m.orders, revenue=m.revenue) for m in money]


async def media_report(session: Reads, campaign_id: uuid.UUID, rate_card_version: int | None) -> MediaReport:
    report = await reports.campaign_report(session, campaign_id, None, None)  # 404 for an unknown campaign
    card = await ratecards.chosen(session, rate_card_version)
    ref, rates = card.ref(), rates_of(card)
    found = await activations.of_campaign(session, campaign_id)
    latest = await activations.latest(session, [a.id for a in found])
    posts = {a.id: metrics.Post(a.platform, {m: getattr(latest[a.id], m) for m in METRICS} if a.id in latest else None)
             for a in found}
    by_creator, by_platform = defaultdict(list), defaultdict(list)
    for a in found:
        by_creator[a.creator_id].append(posts[a.id])
        by_platform[a.platform].append(posts[a.id])
    creator_lines = {line.creator_id: line for line in report.creators}
    creators = []
    for creator_id in sorted(set(by_creator) | {c for c, line in creator_lines.items() if line.enrolled}):
        line = creator_lines.get(creator_id)
        cost = metrics.money(line.cost.total, report.currency) if line else metrics.money(0, report.currency)
        creators.append(CreatorMedia(creator_id=creator_id, **_line(
            by_creator[creator_id], cost, rates, ref, _sales(line.money) if line else [])))
    platforms = [PlatformMedia(platform=p, **_line(by_platform[p], metrics.null(NOT_SPLIT), rates, ref, None))
                 for p in sorted(by_platform)]
    return MediaReport(
        campaign_id=campaign_id, currency=report.currency, rate_card=ref,
        totals=MediaLine(**_line(list(posts.values()), metrics.money(report.cost.total, report.currency), rates, ref,
                                 _sales(report.money))),
        creators=creators, platforms=platforms,
        activations=[ActivationMedia(id=a.id, creator_id=a.creator_id, platform=a.platform, format=a.format, url=a.url,
                                     observed_at=latest[a.id].observed_at if a.id in latest else None,
                                     emv=metrics.emv_of(posts[a.id], rates)[0]) for a in found],
    )
