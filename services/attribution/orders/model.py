"""What attribution reads from a partner's order messages, whatever the partner: an order, a
refund, a cancellation. Pure data, built by `shopify.py` and `generic.py` from a verified webhook
body (`gateway.webhook.v1`); amounts in integer minor units of the order's currency
(shared/money.py).

A customer is never kept as sent: the parsers take a `customer_key` function (a keyed hash, see
`customer_hash`) and keep only its result. A message that cannot be understood raises
`PayloadError` with the field and the reason, which the consumer dead-letters; nothing of it is
written.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from services.attribution.links.url import CLICK_ID_PARAM

CustomerKey = Callable[[str], str]
# Partners pass a tracked link's click id (CLICK_ID_PARAM, links/url.py) back in the landing URL
# or as a note/cart attribute under one of these names.
CLICK_ID_ATTRIBUTES = frozenset({CLICK_ID_PARAM, "limelight_click_id", "_ll_click"})
# The commission basis rules (orders/basis.py) an order first stored now is computed under for its
# whole life; an order stored earlier keeps the rules it was stored under.
BASIS_RULES = 2
KNOWN_BASIS_RULES = (1, 2)


class PayloadError(ValueError):
    """A partner message attribution cannot read: `field` (a dotted path into the body) and why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def customer_hash(secret: bytes) -> CustomerKey:
    """A keyed hash (HMAC-SHA256, hex) of a customer identifier: the same customer gives the same
    key under one secret, and the identifier cannot be read back or guessed from a list of
    addresses without the secret. Identifiers are normalised first (trimmed, lower case), so
    "Ann@Example.com " and "ann@example.com" are one customer."""
    if len(secret) < 16:
        raise ValueError("the customer hash secret must be at least 16 bytes")

    def key(identifier: str) -> str:
        # surrogatepass: a partner's lone surrogate (JSON "\ud800") hashes to a key that matches
        # nothing, rather than failing the message.
        return hmac.new(secret, identifier.strip().lower().encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    return key


@dataclass(frozen=True, slots=True)
class LineItem:
    """One line of an order. `discount_minor` is what the order's discounts took off this line
    (all of it: line-level and the line's share of order-level ones); `tax_minor` the tax on the
    line; `price_includes_tax` says whether `unit_price_minor` already contains it."""

    line_id: str
    quantity: int
    unit_price_minor: int
    discount_minor: int = 0
    tax_minor: int = 0
    price_includes_tax: bool = False
    product_id: str | None = None
    variant_id: str | None = None
    sku: str | None = None
    title: str | None = None
    collections: tuple[str, ...] = ()
    # A gift card sold: money paid in advance, not in the basis under basis rules 2 (orders/basis.py).
    gift_card: bool = False

    @property
    def gross_minor(self) -> int:
        return self.unit_price_minor * self.quantity


@dataclass(frozen=True, slots=True)
class Order:
    source: str  # "shopify" | "generic"
    order_id: str
    placed_at: datetime
    currency: str
    lines: tuple[LineItem, ...]
    # The totals as the partner sent them (None: not sent); never recomputed in place.
    subtotal_minor: int | None = None
    discounts_minor: int | None = None
    tax_minor: int | None = None
    shipping_minor: int | None = None
    total_minor: int | None = None
    taxes_included: bool = False
    customer_key: str | None = None  # a keyed hash, never the identifier itself
    codes: tuple[str, ...] = ()  # discount/affiliate codes used at checkout, as sent
    click_ids: tuple[str, ...] = ()  # from the landing URL's query string or the note attributes
    landing_site: str | None = None
    referring_site: str | None = None
    financial_status: str | None = None
    cancelled_at: datetime | None = None
    updated_at: datetime | None = None
    test: bool = False
    # Where it ships (the shipping address's country and ISO 3166-2 region, `US-CA`), for holdout
    # tests by region; nothing else of the address is read.
    shipping_country: str | None = None
    shipping_region: str | None = None
    refunds: tuple[Refund, ...] = ()  # refunds the order message itself carries (Shopify does)
    basis_rules: int = BASIS_RULES  # as stamped on the stored order (orders/basis.py)


@dataclass(frozen=True, slots=True)
class RefundLine:
    line_id: str
    quantity: int
    subtotal_minor: int  # what the refund returns for the line, before tax
    tax_minor: int = 0


@dataclass(frozen=True, slots=True)
class Refund:
    source: str
    order_id: str
    refund_id: str
    created_at: datetime
    currency: str
    lines: tuple[RefundLine, ...] = ()
    shipping_minor: int = 0  # shipping refunded
    # Money returned that no line or shipping explains (an "order adjustment", a goodwill
    # amount): positive when the customer got more back.
    adjustment_minor: int = 0
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Cancellation:
    source: str
    order_id: str
    cancelled_at: datetime
    reason: str | None = None


Message = Order | Refund | Cancellation


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed partner message: the order (for order messages, with `refunds` it carries), or a
    refund or cancellation standing alone, and notes on what was odd but kept as sent."""

    message: Message
    notes: tuple[str, ...] = field(default=())
