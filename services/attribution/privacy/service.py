"""Data-subject requests in attribution: what it holds about a shopper or a creator, exported or
erased, with a receipt (docs/decisions/0054-privacy-requests.md, docs/guide/privacy.md).

A **customer** (a shopper of the requesting workspace) is found by the keyed hashes of the
identifiers the request gives, computed exactly as the order parsers compute them (an e-mail, a
Shopify customer id, a generic partner's customer id, which may itself be an e-mail), by the
partner order ids it lists, or — Shopify's `shop/redact` — by the whole store:
- export: the orders (partner id, time, amounts, state, codes, country), and whether the customer
  is registered as one of the workspace's creators' own (self-referral rule);
- erasure: the orders keep every amount, line and state (the ledger and the reports stay exact),
  and lose what identifies or locates the person: the customer key, the landing and referring
  URLs, the shipping region (the country stays: holdout tests count orders by country); the
  clicks those orders were credited to lose their visitor and network hashes, user agent and
  referrer; the registrations of the customer as a creator's own are deleted.

A **creator** (the operator workspace's request, for the installation-wide index) is found by
its id in every workspace:
- export: per workspace, its enrolments, codes, links, clicks, ledger totals and payouts;
- erasure: the registrations of the creator's own e-mails and customer ids (self-referral) are
  deleted in every workspace; codes, links, clicks, ledger entries and payouts are the brands'
  commercial and accounting records and keep the creator's id, which names nobody once discovery
  and audit have erased the creator (they act on the same request).

Events attribution published before the request (conversions, clicks, sales records) are not
rewritten: they expire with their topics' retention.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.attribution.clicks.models import Click
from services.attribution.codes.models import Code
from services.attribution.enrolment.models import Enrolment
from services.attribution.fraud.models import CreatorCustomerKey
from services.attribution.ledger.models import LedgerEntry, Payout
from services.attribution.links.models import Link
from services.attribution.orders.model import CustomerKey
from services.attribution.orders.models import PartnerOrder as Order, PartnerRefund as OrderRefund
from services.attribution.privacy.models import PrivacyReceipt
from shared.contracts.privacy import PrivacyRequested, PrivacySubject
from shared.db import utcnow
from shared.pagination import PageParams, Sorts
from shared.tenancy import TENANT_KEY, acting_for, across_tenants, bound_tenant

SERVICE = "attribution"
EXPIRED_EVENTS = "events already published expire with their topic's retention; they are not rewritten"


def customer_keys(subject: PrivacySubject, key: CustomerKey) -> set[str]:
    """Every keyed hash an order of this customer could carry (orders/shopify.py, generic.py)."""
    keys: set[str] = set()
    if subject.email:
        email = subject.email.strip()
        keys.add(key(f"email:{email}"))
        keys.add(key(f"partner-customer:{email}"))  # a generic partner naming its customers by e-mail
    if subject.customer_id:
        ident = subject.customer_id.strip()
        if subject.source in (None, "shopify"):
            keys.add(key(f"shopify-customer:{ident}"))
        if subject.source in (None, "generic"):
            keys.add(key(f"partner-customer:{ident}"))
    return keys


async def act(session: AsyncSession, tenant_id: uuid.UUID, request: PrivacyRequested, key: CustomerKey) -> bool:
    """Do what the request asks, and write its receipt; False (nothing done) when the receipt
    exists already: a request is acted on once, however often it is delivered."""
    with acting_for(session, tenant_id):
        if await session.get(PrivacyReceipt, request.request_id) is not None:
            return False
    if request.subject.type == "customer":
        with acting_for(session, tenant_id):
            actions, export = await _customer(session, request, key)
    else:
        before = bound_tenant(session)
        across_tenants(session, "a creator's data-subject request covers every workspace that holds the creator")
        try:
            actions, export = await _creator(session, request)
        finally:
            session.info[TENANT_KEY] = before
    with acting_for(session, tenant_id):
        session.add(PrivacyReceipt(
            request_id=request.request_id, kind=request.kind, subject_type=request.subject.type, origin=request.origin,
            actions=actions, export=export if request.kind == "export" else None, completed_at=utcnow()))
        await session.flush()
    return True


def _action(what: str, done: str, count: int, note: str | None = None) -> dict:
    return {"what": what, "done": done, "count": count, "note": note}


async def _customer(session: AsyncSession, request: PrivacyRequested, key: CustomerKey) -> tuple[list[dict], dict]:
    subject = request.subject
    keys = customer_keys(subject, key)
    conditions = []
    if keys:
        conditions.append(Order.customer_key.in_(keys))
    if subject.order_ids:
        by_id = Order.order_id.in_([str(o) for o in subject.order_ids])
        conditions.append(by_id & (Order.source_id == subject.source_id) if subject.source_id else by_id)
    if subject.whole_source and subject.source_id:
        conditions.append(Order.source_id == subject.source_id)
    orders = list((await session.execute(
        select(Order).where(or_(*conditions)).order_by(Order.placed_at, Order.id))).scalars()) if conditions else []
    own = list((await session.execute(
        select(CreatorCustomerKey).where(CreatorCustomerKey.customer_key.in_(keys)))).scalars()) if keys else []
    order_ids = [o.id for o in orders]
    click_ids = sorted({c for o in orders for c in (_uuid(x) for x in o.click_ids) if c is not None})
    if request.kind == "export":
        refunds = {}
        if orders:
            rows = await session.execute(
                select(OrderRefund.source_id, OrderRefund.order_id, func.count())
                .where(OrderRefund.order_id.in_([o.order_id for o in orders])).group_by(OrderRefund.source_id, OrderRefund.order_id))
            refunds = {(s, o): n for s, o, n in rows}
        export = {
            "orders": [{
                "source": o.source, "source_id": str(o.source_id), "order_id": o.order_id, "placed_at": o.placed_at.isoformat(),
                "currency": o.currency, "total_minor": o.total_minor, "basis_minor": o.basis_minor, "state": o.state,
                "codes": list(o.codes), "shipping_country": o.shipping_country, "shipping_region": o.shipping_region,
                "landing_site": o.landing_site, "referring_site": o.referring_site,
                "refunds": refunds.get((o.source_id, o.order_id), 0),
            } for o in orders],
            "registered_as_creators_own": sorted({str(k.creator_id) for k in own}),
            "clicks": len(click_ids),
        }
        return [_action("orders", "exported", len(orders)), _action("clicks credited on those orders", "exported", len(click_ids)),
                _action("registrations as a creator's own customer", "exported", len(own))], export
    if order_ids:
        await session.execute(
            update(Order).where(Order.id.in_(order_ids))
            .values(customer_key=None, landing_site=None, referring_site=None, shipping_region=None)
            .execution_options(synchronize_session=False))
    if click_ids:
        await session.execute(
            update(Click).where(Click.id.in_(click_ids))
            .values(visitor_hash=None, network_hash=None, user_agent=None, referrer=None)
            .execution_options(synchronize_session=False))
    if own:
        await session.execute(delete(CreatorCustomerKey).where(CreatorCustomerKey.id.in_([k.id for k in own]))
                              .execution_options(synchronize_session=False))
    entries = 0
    if orders:
        # A ledger entry names its order as crediting writes it: "<source>:<source id>" and the partner's id.
        entries = (await session.execute(
            select(func.count()).select_from(LedgerEntry).where(
                tuple_(LedgerEntry.source, LedgerEntry.order_id).in_([(f"{o.source}:{o.source_id}", o.order_id) for o in orders]))
        )).scalar_one()
    return [
        _action("orders", "anonymised", len(orders),
                "customer key, landing and referring URLs and shipping region removed; amounts, lines, state and "
                "country kept for the ledger and reports"),
        _action("clicks credited on those orders", "anonymised", len(click_ids),
                "visitor and network hashes, user agent and referrer removed"),
        _action("registrations as a creator's own customer", "deleted", len(own)),
        _action("commission ledger entries of those orders", "kept", entries,
                "amounts only, append-only accounting records; they name no customer"),
        _action("events", "kept", 0, EXPIRED_EVENTS),
    ], {}


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def _creator(session: AsyncSession, request: PrivacyRequested) -> tuple[list[dict], dict]:
    creator_id = request.subject.creator_id
    own = list((await session.execute(
        select(CreatorCustomerKey).where(CreatorCustomerKey.creator_id == creator_id))).scalars())
    counts = {}
    for name, model in (("enrolments", Enrolment), ("codes", Code), ("links", Link), ("clicks", Click),
                        ("ledger entries", LedgerEntry), ("payouts", Payout)):
        counts[name] = (await session.execute(
            select(func.count()).select_from(model).where(model.creator_id == creator_id))).scalar_one()
    if request.kind == "export":
        per_tenant: dict[str, dict] = {}
        for row in (await session.execute(select(Enrolment.tenant_id, Enrolment.campaign_id, Enrolment.deal_type)
                                          .where(Enrolment.creator_id == creator_id))).all():
            per_tenant.setdefault(str(row.tenant_id), {}).setdefault("enrolments", []).append(
                {"campaign_id": str(row.campaign_id), "deal_type": row.deal_type})
        for row in (await session.execute(select(Code.tenant_id, Code.code).where(Code.creator_id == creator_id))).all():
            per_tenant.setdefault(str(row.tenant_id), {}).setdefault("codes", []).append(row.code)
        for row in (await session.execute(select(Link.tenant_id, Link.slug).where(Link.creator_id == creator_id))).all():
            per_tenant.setdefault(str(row.tenant_id), {}).setdefault("links", []).append(row.slug)
        for row in (await session.execute(
                select(LedgerEntry.tenant_id, LedgerEntry.currency, func.sum(LedgerEntry.amount), func.count())
                .where(LedgerEntry.creator_id == creator_id).group_by(LedgerEntry.tenant_id, LedgerEntry.currency))).all():
            per_tenant.setdefault(str(row[0]), {}).setdefault("ledger", []).append(
                {"currency": row[1], "net_minor": int(row[2]), "entries": row[3]})
        return ([_action(name, "exported", n) for name, n in counts.items()]
                + [_action("registrations of the creator's own customer identifiers", "exported", len(own))],
                {"workspaces": per_tenant, "own_customer_registrations": len(own)})
    if own:
        await session.execute(delete(CreatorCustomerKey).where(CreatorCustomerKey.creator_id == creator_id)
                              .execution_options(synchronize_session=False))
    kept = "the brands' commercial and accounting records; they keep only the creator's id, which names nobody " \
           "once discovery and audit have erased the creator"
    return ([_action("registrations of the creator's own customer identifiers", "deleted", len(own))]
            + [_action(name, "kept", n, kept) for name, n in counts.items()]
            + [_action("events", "kept", 0, EXPIRED_EVENTS)]), {}


async def receipt(session: AsyncSession, request_id: uuid.UUID) -> PrivacyReceipt | None:
    return await session.get(PrivacyReceipt, request_id)


RECEIPT_SORTS = Sorts(PrivacyReceipt.request_id, completed_at=PrivacyReceipt.completed_at)


async def receipts(session: AsyncSession, page: PageParams) -> list[PrivacyReceipt]:
    """Up to page.limit + 1 receipts of the workspace, newest first."""
    query = RECEIPT_SORTS.apply(select(PrivacyReceipt), page, "-completed_at")
    return list((await session.execute(query)).scalars())
