"""Splitting a credited order among its creators under the campaign's multi-touch model.

The lead touch (the one last touch, or first touch, would credit) names the order's campaign.
The touches precedence leaves that belong to that campaign are the order's path; the campaign's
model gives each of their creators an exact share (services/attribution/models), and the order's
commission — computed once, under the rule in force for the creator with the largest share — is
split by those shares to the minor unit (`split_minor`: largest remainder, deterministic ties),
so the parts always add up to the commission.

The data-driven models (`markov`, `shapley`) share an order by a fit over the campaign's paths
of the `FIT_DAYS` days before the order, in its currency (comparison/paths.py builds them), kept per
process for up to `FIT_TTL_SECONDS` and fitted again sooner once the orders this process has
credited in the campaign since exceed `REFIT_GROWTH` of the fit's converting paths (so a young
campaign is refitted at every order, a large one every few hundred): an order's shares are the fitted shares of the creators on its
path, renormalised. When the fit gives none of them any credit (a campaign's first orders), the
order is split linearly and its basis says so. The shares, their model, version, parameters and
basis are kept with the order (`credit_shares`), so the split can always be explained.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from services.attribution.comparison import paths as building
from services.attribution.comparison import repository as path_rows
from services.attribution.crediting.credit import Touch as CreditTouch
from services.attribution.models import InsufficientData, ModelResult, Touch, credit_order, fit, spec
from shared.db import planned_per_execution

FIT_DAYS = 90
FIT_TTL_SECONDS = 600.0
FIT_MAX_ORDERS = 50_000
FIT_MAX_CLICKS = 200_000
REFIT_GROWTH = 0.05
LONGEST_WINDOW = timedelta(days=365)
LEAD_LINE = "order"

# (tenant, campaign, currency, model, params) -> (when, fit, basis, converting paths)
_fits: dict[tuple, tuple[float, ModelResult | None, str, int]] = {}
# (tenant, campaign, currency) -> orders this process split since the campaign's fits were made
_since: dict[tuple, int] = {}


@dataclass(frozen=True, slots=True)
class Split:
    model: str
    version: str
    params: dict
    shares: dict[str, Fraction]  # creator id -> exact share; sums to 1
    basis: str


SHARE_DENOMINATOR = 10**18


def bounded(shares: dict[str, Fraction]) -> dict[str, Fraction]:
    """The shares with denominators of at most 18 digits, renormalised to sum to exactly 1.
    Time decay's exact weights are powers of two at 40 digits, and an old touch under a short
    half-life gives a fraction of thousands of digits: past 4,300 Python will not even print it.
    A share moved by at most 1e-18 changes no split of any commission below 10^16 minor units."""
    if all(s.denominator <= SHARE_DENOMINATOR for s in shares.values()):
        return shares
    near = {c: s.limit_denominator(SHARE_DENOMINATOR) for c, s in shares.items()}
    whole = sum(near.values(), Fraction(0))
    return {c: s / whole for c, s in near.items() if s}


def line_key(creator_id: uuid.UUID | str, lead: uuid.UUID | str) -> str:
    """The creator's commission line of a split order: the lead keeps the whole-order line."""
    return LEAD_LINE if str(creator_id) == str(lead) else f"{LEAD_LINE}:{creator_id}"


def _model_touch(t: CreditTouch) -> Touch:
    return Touch(t.creator_id, t.kind, t.at)


def lead_of(shares: dict[str, Fraction], lead_touch: CreditTouch) -> str:
    """The creator with the largest share; ties go to the lead touch's creator, then the smaller id."""
    return min(shares, key=lambda c: (-shares[c], c != lead_touch.creator_id, c))


async def _fitted(session, tenant_id: uuid.UUID, campaign_id: uuid.UUID, currency: str, model: str, params: dict,
                  before: datetime) -> tuple[ModelResult | None, str]:
    # The day is in the key: an order placed long ago (a late delivery, a backfill) is fitted on
    # the paths before it, not on a fit of recent paths that include later orders.
    key = (tenant_id, campaign_id, currency, model, tuple(sorted(params.items())), before.date())
    kept = _fits.get(key)
    grown = _since.get(key[:3], 0)
    if kept is not None and time.monotonic() - kept[0] < FIT_TTL_SECONDS and grown <= kept[3] * REFIT_GROWTH:
        return kept[1], kept[2]
    start, end = before - timedelta(days=FIT_DAYS), before
    # A campaign's 90 days: how much they hold decides the plan, so it is made for these values even
    # inside the order consumer's transaction, which plans generically (ADR 0063).
    async with planned_per_execution(session):
        orders = await path_rows.orders(session, campaign_id, start, end, FIT_MAX_ORDERS)
        commissions = await path_rows.commissions(session, campaign_id, start, end)
        clicks = await path_rows.clicks(session, campaign_id, start, end, FIT_MAX_CLICKS)
        # And those before the window its first orders could still take up (newest first, read apart).
        clicks = (await path_rows.clicks_before(session, campaign_id, start - LONGEST_WINDOW, start,
                                                FIT_MAX_CLICKS))[::-1] + clicks
        codes = await path_rows.codes(session, campaign_id)

    def compute() -> tuple[ModelResult | None, str, int]:
        found = building.build(orders, commissions, clicks, codes, start, end)
        paths = found.paths(currency)
        converting = len(found.conversions.get(currency, []))
        if not converting:
            return None, f"no converting path in {currency} in the campaign's {FIT_DAYS} days before the order", 0
        result = fit(paths, model, params)
        return result, (f"{result.version} fitted over the campaign's {result.paths} paths ({converting} converting) "
                        f"of the {FIT_DAYS} days before the order"), converting

    result, basis, converting = await asyncio.to_thread(compute)
    now = time.monotonic()
    for old in [k for k, kept in _fits.items() if now - kept[0] >= FIT_TTL_SECONDS]:
        del _fits[old]  # expired fits go: the key holds the day, so it would otherwise grow every day
    _fits[key] = (now, result, basis, converting)
    _since[key[:3]] = 0
    return result, basis


async def split(session, *, tenant_id: uuid.UUID, campaign_id: uuid.UUID, currency: str, model: str, params: dict,
                path: list[CreditTouch], placed_at: datetime, fit_before: datetime | None = None) -> Split:
    """Each creator's exact share of the order whose path (the lead campaign's candidate touches) is
    `path`. The data-driven models fit the campaign's paths before the order, or before
    `fit_before` (a re-computation: one fit over the paths up to now for every order)."""
    touches = [_model_touch(t) for t in path]
    s = spec(model)
    if fit_before is None:
        _since[(tenant_id, campaign_id, currency)] = _since.get((tenant_id, campaign_id, currency), 0) + 1
    if s.data_driven:
        fitted, basis = await _fitted(session, tenant_id, campaign_id, currency, model, params, fit_before or placed_at)
        if fitted is not None:
            try:
                found = credit_order(touches, model, params, placed_at=placed_at, fitted=fitted)
                return Split(found.model, found.version, found.params, bounded(found.shares), basis)
            except InsufficientData as exc:
                basis = f"{basis}; {exc.missing}"
        found = credit_order(touches, "linear", placed_at=placed_at)
        return Split(found.model, found.version, found.params, found.shares,
                     f"{model} could not share this order ({basis}), so it was split linearly")
    found = credit_order(touches, model, params, placed_at=placed_at)
    how = {"linear": "equal parts per touch", "time_decay": f"touches weighed by age, half-life {found.params.get('half_life_days')} days",
           "position_based": f"{found.params.get('first')} to the first touch, {found.params.get('last')} to the last, "
                             "the rest evenly between"}.get(found.model, found.model)
    return Split(found.model, found.version, found.params, bounded(found.shares), f"{found.version}: {how}")


def forget_fits() -> None:
    """Drop the kept fits (a re-computation reads the paths as they are now)."""
    _fits.clear()
    _since.clear()
