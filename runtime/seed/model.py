"""The demo world's things as data: creators, brands and their campaigns, clicks and orders (with
the commission each order must earn), and the figures every creator and campaign shares."""

from __future__ import annotations

from dataclasses import dataclass, field

POSTS = 8
SERIES_DAYS = 60
SAMPLE_SIZE = 40
PERCENT = 10  # every campaign's commission rule
HOLDING_DAYS = 30


@dataclass
class Creator:
    key: str  # "platform:handle" of the primary account: how the loader finds its id
    platform: str
    handle: str
    line: dict  # the discovery bulk line
    sample: list[dict]  # follower profiles for POST /v1/audit/followers/bulk (creator_id added by the loader)
    comments: list[dict]  # for POST /v1/audit/comments/bulk
    kinds: list[str] = field(default_factory=list)
    tier: str = ""


@dataclass
class Order:
    brand: int
    campaign: int
    number: int  # the shop's order id
    creator: str  # creator key credited (expected)
    by: str  # "code" or "click"
    email: str
    quantity: int
    unit_price: int  # minor units
    unit_discount: int
    refunded_units: int = 0
    cancelled: bool = False
    updated: bool = False
    kind: str | None = None  # a fraud kind of ORDER_KINDS, or None
    click: int | None = None  # index into World.clicks when by == "click"
    country: str = "US"

    @property
    def basis(self) -> int:
        return 0 if self.cancelled else (self.quantity - self.refunded_units) * (self.unit_price - self.unit_discount)

    @property
    def commission(self) -> int:
        """What the ledger must hold for it: 10 % of what is left of its basis (amounts chosen so it is exact)."""
        return self.basis * PERCENT // 100

    @property
    def earned(self) -> int:
        """The commission first written, before any clawback."""
        return self.quantity * (self.unit_price - self.unit_discount) * PERCENT // 100


@dataclass
class Click:
    brand: int
    campaign: int
    creator: str
    visitor: str  # source address on the loopback network
    agent: str
    bot: bool


@dataclass
class Campaign:
    name: str
    creators: list[str]
    codes: dict[str, str]  # creator key → code
    leaked: str | None = None  # creator key whose code leaks


@dataclass
class Brand:
    name: str
    handle: str
    currency: str
    shop_domain: str
    campaigns: list[Campaign]
    customer_keys: dict[str, str] = field(default_factory=dict)  # creator key → the creator's own e-mail
