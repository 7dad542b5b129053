"""Saving a tenant's rates, and converting an amount on a day with them.

A rate holds from its day until the tenant's next rate for the pair. Converting C to T on day d
takes the latest C/T rate on or before d, or the inverse of the latest T/C one (whichever is the
later day; the direct one when both are of the same day); never a rate of a later day, never a
cross through a third currency. Money stays integer minor units: the converted amount is rounded
half to even to the minor unit of T once, after summing in exact decimals."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert

from services.attribution.fx.models import FxRate
from services.attribution.fx.schemas import FxRateIn
from shared import tenancy
from shared.errors import Invalid
from shared.money import exponent


async def save(session, rates: list[FxRateIn]) -> int:
    tenant = tenancy.raw_tenant(tenancy.bound_tenant(session))
    statement = insert(FxRate)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[FxRate.tenant_id, FxRate.base, FxRate.quote, FxRate.on_date],
        set_={"rate": statement.excluded.rate, "source": statement.excluded.source, "updated_at": statement.excluded.updated_at}),
        [{"tenant_id": tenant, "base": r.base, "quote": r.quote, "on_date": r.on, "rate": Decimal(r.rate), "source": r.source}
         for r in rates])
    return len(rates)


async def listed(session, base: str | None, quote: str | None, limit: int) -> list[FxRate]:
    query = select(FxRate)
    if base:
        query = query.where(FxRate.base == base)
    if quote:
        query = query.where(FxRate.quote == quote)
    query = query.order_by(FxRate.base, FxRate.quote, FxRate.on_date.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class Used:
    base: str
    quote: str
    on: date
    rate: str
    inverted: bool


class Converter:
    """Converts into `target` with the rates loaded for the currencies asked (`load`)."""

    def __init__(self, target: str, field: str):
        self.target = target
        self.field = field
        self._direct: dict[str, tuple[list[date], list[FxRate]]] = {}
        self._inverse: dict[str, tuple[list[date], list[FxRate]]] = {}
        self.used: dict[tuple, Used] = {}

    async def load(self, session, currencies: set[str]) -> None:
        others = sorted(currencies - {self.target})
        if not others:
            return
        found = (await session.execute(select(FxRate).where(or_(
            (FxRate.base.in_(others)) & (FxRate.quote == self.target),
            (FxRate.quote.in_(others)) & (FxRate.base == self.target))).order_by(FxRate.on_date))).scalars()
        direct: dict[str, list[FxRate]] = {}
        inverse: dict[str, list[FxRate]] = {}
        for r in found:
            if r.quote == self.target:
                direct.setdefault(r.base, []).append(r)
            else:
                inverse.setdefault(r.quote, []).append(r)
        self._direct = {c: ([r.on_date for r in rs], rs) for c, rs in direct.items()}
        self._inverse = {c: ([r.on_date for r in rs], rs) for c, rs in inverse.items()}

    @staticmethod
    def _latest(table: dict, currency: str, day: date) -> FxRate | None:
        days, rows = table.get(currency, ([], []))
        i = bisect_right(days, day)
        return rows[i - 1] if i else None

    def factor(self, currency: str, day: date) -> Decimal:
        """What one **minor** unit of `currency` is in minor units of the target on `day` (the rate,
        scaled by the two currencies' ISO 4217 exponents: 1 JPY cent-less unit at 0.0062 EUR is
        0.62 euro cents); 422 naming the field when no rate holds."""
        if currency == self.target:
            return Decimal(1)
        return self._rate(currency, day) * Decimal(10) ** (exponent(self.target) - exponent(currency))

    def _rate(self, currency: str, day: date) -> Decimal:
        """One major unit of `currency` in major units of the target on `day`."""
        d, i = self._latest(self._direct, currency, day), self._latest(self._inverse, currency, day)
        if d is None and i is None:
            raise Invalid(self.field, f"no {currency}/{self.target} rate on or before {day.isoformat()}: add one with "
                                      "POST /v1/attribution/fx-rates, or leave the currency out to see amounts per currency")
        if d is not None and (i is None or d.on_date >= i.on_date):
            self.used[(d.base, d.quote, d.on_date)] = Used(d.base, d.quote, d.on_date, format(d.rate.normalize(), "f"), False)
            return d.rate
        self.used[(i.base, i.quote, i.on_date)] = Used(i.base, i.quote, i.on_date, format(i.rate.normalize(), "f"), True)
        return Decimal(1) / i.rate
