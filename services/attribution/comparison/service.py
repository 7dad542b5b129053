"""The model comparison of one campaign: its customer paths (paths.py) fitted by each model asked
for, per currency, and each order's revenue and commission split by every model's shares.

Per order, each model's shares (exact fractions summing to 1; the data-driven models' restricted to
the order's creators, registry.restrict) split the order's basis and its net commission with
`split_minor` (largest remainder), so a model's revenue and commission add up to the orders' to
the minor unit. A model that cannot answer says what is missing (`insufficient_data`), never a
figure. Bounded: at most MAX_ORDERS orders and MAX_CLICKS clicks are read; past either, the
period is cut at the first order or click left out, and `truncated` says so.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Context, Decimal
from typing import Any

from services.attribution import models
from services.attribution.campaign import repository as campaigns
from services.attribution.comparison import paths as building, repository
from services.attribution.comparison.schemas import (
    ORDERS_PLACES, CampaignAttribution, ComparisonQuery, CreatorLine, Credit, CurrencyComparison, ModelLine, PathCounts,
)
from services.attribution.models import InsufficientData, InvalidParams, UnknownModel
from services.attribution.models.params import as_dict
from services.attribution.reports.repository import EVER_END, EVER_START
from shared.db import Reads
from shared.errors import Invalid, NotFound

# The gateway gives attribution 10 s: at these caps the paths and all seven models take a few
# seconds of CPU (bench/attribution_comparison.py, figures in bench/README.md), off the event loop.
MAX_ORDERS = 5_000
MAX_CLICKS = 100_000
LONGEST_WINDOW = timedelta(days=365)  # links.window_days is at most 365 (a check constraint)

# Query parameter → (model, parameter): one flat query string, each name saying its model.
QUERY_PARAMS: dict[str, tuple[str, str]] = {
    "half_life_days": ("time_decay", "half_life_days"),
    "position_first": ("position_based", "first"),
    "position_last": ("position_based", "last"),
    "markov_order": ("markov", "order"),
    "shapley_value": ("shapley", "value"),
    "shapley_exact_max": ("shapley", "exact_max"),
    "shapley_samples": ("shapley", "samples"),
    "shapley_seed": ("shapley", "seed"),
}
_UNIT = Decimal(10) ** ORDERS_PLACES
_SUMS = Context(prec=40)


def chosen(query: ComparisonQuery) -> dict[str, Any]:
    """The models asked for (all when none) and their parameters, validated: an unknown model is a
    422 on `query.models` listing the valid ones, a bad parameter a 422 naming it."""
    try:
        names = list(models.MODEL_NAMES) if query.models is None else models.parse_models(query.models)
    except UnknownModel as exc:
        raise Invalid("query.models", f"unknown model {exc.name!r}; valid models: {', '.join(exc.valid)}") from None
    raw: dict[str, dict[str, object]] = defaultdict(dict)
    for name, (model, param) in QUERY_PARAMS.items():
        value = getattr(query, name)
        if value is not None:
            raw[model][param] = value
    out = {}
    for model in models.MODEL_NAMES:
        try:
            params = models.parameters(model, raw.get(model))
        except InvalidParams as exc:
            field = next(q for q, (m, p) in QUERY_PARAMS.items() if m == model and f"params.{p}" == exc.field)
            raise Invalid(f"query.{field}", exc.reason) from None
        if model in names:
            out[model] = params
    return {m: out[m] for m in names}


def _orders(amounts: dict[str, Decimal], converting: int) -> dict[str, str]:
    """Credited orders to 6 places, by largest remainder over the engine's 40-digit sums, so they
    add up to exactly the converting paths."""
    units = models.split_minor(converting * int(_UNIT), amounts) if amounts else {}
    return {c: _places(Decimal(u) / _UNIT) for c, u in units.items()}


def _places(orders: Decimal | int) -> str:
    return str(Decimal(orders).quantize(1 / _UNIT))


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float | int | str) or value is None:
        return value
    return str(value)


def _currency(currency: str, found: building.PathSet, chosen_models: dict[str, Any]) -> CurrencyComparison:
    conversions = found.conversions.get(currency, [])
    path_set = found.paths(currency)
    lines: list[ModelLine] = []
    credit: dict[str, dict[str, Credit]] = defaultdict(dict)
    for model, params in chosen_models.items():
        spec = models.spec(model)
        try:
            # The data-driven models need their fit over the paths; a rule-based one is computed
            # once per order below (fit would compute every order's shares a second time), and
            # fit is asked only to say what is missing when there is no order.
            result = models.fit(path_set, model, params) if spec.data_driven or not conversions else None
        except InsufficientData as exc:
            lines.append(ModelLine(model=model, version=spec.version, params=as_dict(params),
                                   paths=len(path_set), converting_paths=len(conversions), insufficient_data=exc.missing,
                                   orders=_places(0), revenue=0, commission=0))
            continue
        credited: dict[str, Decimal] = defaultdict(Decimal)
        revenue: dict[str, int] = defaultdict(int)
        commission: dict[str, int] = defaultdict(int)
        for conversion in conversions:
            p = conversion.path
            shares = models.shares(p.touches, model, params, placed_at=p.order_time, fitted=result)
            for c, share in shares.items():
                # 40 digits, as the engine sums them: thousands of orders' fractions would grow without bound.
                credited[c] = _SUMS.add(credited[c], _SUMS.divide(share.numerator, share.denominator))
            for c, part in models.split_minor(conversion.revenue_minor, shares).items():
                revenue[c] += part
            for c, part in models.split_minor(conversion.commission_minor, shares).items():
                commission[c] += part
        orders = _orders(dict(credited), len(conversions))
        shapley = result.fitted if result is not None and isinstance(result.fitted, models.ShapleyFit) else None
        lines.append(ModelLine(
            model=model, version=spec.version, params=as_dict(params), paths=len(path_set),
            converting_paths=len(conversions), method=shapley.method if shapley else None,
            samples=shapley.samples if shapley else None, orders=_places(len(conversions)),
            revenue=sum(revenue.values()), commission=sum(commission.values())))
        details = result.detail if result is not None else {}
        for c in set(orders) | set(revenue) | set(commission):
            detail = {k: _plain(v) for k, v in details.get(c, {}).items()}
            credit[c][model] = Credit(orders=orders.get(c, _places(0)), revenue=revenue.get(c, 0),
                                      commission=commission.get(c, 0), detail=detail)
    counts = PathCounts(total=len(path_set), converting=len(conversions), non_converting=len(found.non_converting),
                        orders_without_touch=found.orders_without_touch.get(currency, 0))
    return CurrencyComparison(currency=currency, paths=counts, models=lines,
                              creators=[CreatorLine(creator_id=uuid.UUID(c), credit=credit[c]) for c in sorted(credit)])


async def compare_campaign(session: Reads, campaign_id: uuid.UUID, query: ComparisonQuery) -> CampaignAttribution:
    """The campaign's paths over the period, and each chosen model's credit per creator and currency."""
    chosen_models = chosen(query)
    campaign = await campaigns.get(session, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    start, end = query.from_ or EVER_START, query.to or EVER_END
    order_rows = await repository.orders(session, campaign_id, start, end, MAX_ORDERS + 1)
    order_rows, end, truncated = cut(order_rows, MAX_ORDERS, "placed_at", end, "orders")
    lookback = start - LONGEST_WINDOW if start - EVER_START > LONGEST_WINDOW else EVER_START
    click_rows = await repository.clicks(session, campaign_id, start, end, MAX_CLICKS + 1)
    click_rows, end, clicks_cut = cut(click_rows, MAX_CLICKS, "clicked_at", end, "clicks")
    if clicks_cut:
        truncated = clicks_cut
        order_rows = [o for o in order_rows if o.placed_at < end]
    before = await repository.clicks_before(session, campaign_id, lookback, start, MAX_CLICKS + 1)
    before, reach = cut_back(before, MAX_CLICKS, "clicked_at")
    click_rows = before[::-1] + click_rows
    if reach is not None:
        truncated = "; ".join(filter(None, (truncated, reach)))
    commission_rows = await repository.commissions(session, campaign_id, start, end)
    code_rows = await repository.codes(session, campaign_id)
    # Seconds of CPU at the caps: in a worker thread, so the service's event loop (the click
    # redirect among others) keeps answering meanwhile.
    groups = await asyncio.to_thread(_compute, campaign.currency, order_rows, commission_rows, click_rows, code_rows,
                                     start, end, chosen_models)
    return CampaignAttribution(
        campaign_id=campaign_id, from_=query.from_, to=end if truncated else query.to, truncated=truncated,
        currencies=groups)


def cut_back(found: list, cap: int, at: str) -> tuple[list, str | None]:
    """`found` (newest first, at most cap + 1 rows, all before the period) within `cap`: past it,
    the paths reach back only to the newest row left out, exclusive (rows of one instant kept or
    left out together), and a note says so; the period itself is whole."""
    if len(found) <= cap:
        return found, None
    edge = getattr(found[cap], at)
    note = (f"more than {cap} clicks in the attribution windows before the period: paths reach back to "
            f"{edge.isoformat()} only (clicks at or before it are left out)")
    return [r for r in found[:cap] if getattr(r, at) > edge], note


def cut(found: list, cap: int, at: str, end: datetime, what: str) -> tuple[list, datetime, str | None]:
    """`found` (oldest first, at most cap + 1 rows) within `cap`: past it, the period ends at the
    first row left out, and every row from that instant on is left out too (rows of one instant
    are all in or all out), with a note saying so."""
    if len(found) <= cap:
        return found, end, None
    end = getattr(found[cap], at)
    note = (f"more than {cap} {what}: the period ends at the first one left out ({end.isoformat()}); "
            "ask for the rest with a later from")
    return [r for r in found[:cap] if getattr(r, at) < end], end, note


def _compute(campaign_currency: str, order_rows: list, commission_rows: list, click_rows: list, code_rows: list,
             start: datetime, end: datetime, chosen_models: dict[str, Any]) -> list[CurrencyComparison]:
    """The paths from the rows, and each currency group's comparison."""
    found = building.build(order_rows, commission_rows, click_rows, code_rows, start, end)
    currencies = sorted({campaign_currency} | set(found.conversions) | set(found.orders_without_touch))
    return [_currency(c, found, chosen_models) for c in currencies]
